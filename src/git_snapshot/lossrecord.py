"""The loss log and the unseen reports, split out of losses.py.

The loss log is a small JSON-lines file per worktree in the store's losses folder, keyed by
the repository's identity (identity.py): a moved repository keeps its reports, a new one at a
deleted one's path starts without them (RED30; they were keyed by paths). It holds every
report (record, append), the notes of undone restores (note_undone) and the snapshot last
checked (note_checked). Unseen reports are lines a hook could not show (hold,
hold_everywhere) that the next command prints (take_unseen, take_everywhere).

Called by hooks (held lines, records, note_checked), gitwrote (_exact), stopped, identity (a
moved repository's log), snapids, the watcher (bursts, gap, salvage), the commands (losses,
undo, prune, forget, run, common) and loststash and lostnested (history: what was reported
since).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections import namedtuple
from collections.abc import Mapping
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot import whichstore
from git_snapshot.hooks import EVERYWHERE as EVERYWHERE  # hooks look for them without
from git_snapshot.hooks import UNSEEN as UNSEEN  # this module
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import losslog
from git_snapshot.store.safewrite import atomic_write
from git_snapshot.words import first_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from typing import Any
    from typing import NamedTuple

    from git_snapshot.lossreport import Report


# --------------------------------------------------------------------------- the record


def _path(store: Store, repo: gitrepo.Repo, suffix: str) -> str:
    """This worktree's file in the store's losses folder, keyed by its paths (.checked;
    its loss log before RED30: _log_path)."""
    return _path_of(store, repo.common_dir, repo.toplevel, suffix)


def _path_of(store: Store, common_dir: str, toplevel: str, suffix: str) -> str:
    """The file of the worktree *toplevel* of the repository *common_dir* (which may no
    longer exist) in the store's losses folder: keyed by paths (a repository deleted whole:
    append_at; a loss log written before logs followed the repository's identity)."""
    key = hashlib.sha256(f"{common_dir}\0{toplevel}".encode("utf-8", "surrogateescape"))
    return os.path.join(store.losses_dir, key.hexdigest()[:32] + suffix)


def _source(store: Store, repo: gitrepo.Repo) -> str | None:
    """*repo*'s source key in the store (identity.known_source: a moved repository's
    history taken over), None when it has none yet."""
    from git_snapshot import identity

    return identity.known_source(store, repo)


def _ident(repo: gitrepo.Repo, key: str) -> str:
    """What a loss log is kept under: the repository's id (``<common dir>#<id>``: a move
    keeps it, a new repository at the path has another), or the path a legacy key is."""
    prefix = repo.common_dir + "#"
    return key[len(prefix) :] if key.startswith(prefix) else key


def _log_path(store: Store, repo: gitrepo.Repo, key: str | None = None) -> str:
    """The file this worktree's reports go to: keyed as its repository's snapshots are, by
    its identity (*key*, its source key; found when None), and for a linked worktree by its
    path too (a main worktree moves with its repository); the path-keyed file when the
    repository has no history in the store. A copy of the repository (same id) shares the
    file: each line names its source key, and _mine tells them apart."""
    key = _source(store, repo) if key is None else key
    if key is None:
        return _path(store, repo, ".jsonl")
    main = os.path.realpath(repo.git_dir) == os.path.realpath(repo.common_dir)
    where = "" if main else repo.toplevel
    name = hashlib.sha256(f"id\0{_ident(repo, key)}\0{where}".encode("utf-8", "surrogateescape"))
    return os.path.join(store.losses_dir, name.hexdigest()[:32] + ".jsonl")


if TYPE_CHECKING:

    class _Checked(NamedTuple):
        snapshot: int
        when: float
        trigger: str

else:  # no typing import at run time (the hook path)
    _Checked = namedtuple("Checked", "snapshot when trigger")


class Checked(_Checked):
    __slots__ = ()


def note_checked(store: Store, repo: gitrepo.Repo, snapshot: int, trigger: str) -> None:
    """Remember that snapshot *snapshot* matched the worktree just now. A snapshot reused as
    "unchanged since N" keeps N's creation time, so that time cannot say it is recent."""
    path = _path(store, repo, ".checked")
    with contextlib.suppress(OSError):
        os.makedirs(store.losses_dir, mode=0o700, exist_ok=True)
        atomic_write(path, json.dumps([snapshot, time.time(), trigger]).encode(), durable=False)


def last_checked(store: Store, repo: gitrepo.Repo) -> Checked | None:
    try:
        with open(_path(store, repo, ".checked"), encoding="utf-8") as f:
            sid, when, trigger = json.load(f)
        return Checked(int(sid), float(when), str(trigger))
    except (OSError, ValueError, TypeError):
        return None


def record(store: Store, repo: gitrepo.Repo, report: Report) -> None:
    append(store, repo, report.as_json())


def append(store: Store, repo: gitrepo.Repo, entry: dict[str, Any]) -> None:
    """Append *entry* to this worktree's loss log (one line; an append is atomic enough:
    a torn last line is skipped when read), with the worktree and the repository's source
    key it was written for."""
    key = _source(store, repo)
    if key is None:
        append_at(store, repo.common_dir, repo.toplevel, entry)
        return
    _append_line(_log_path(store, repo, key), {**entry, "worktree": repo.toplevel, "key": key})


def append_at(store: Store, common_dir: str, toplevel: str, entry: dict[str, Any]) -> None:
    """:func:`append` to the path-keyed log of the worktree *toplevel* of repository
    *common_dir*, also once both are gone (an rm -rf of the whole repository:
    :func:`gone_reports`)."""
    path = _path_of(store, common_dir, toplevel, ".jsonl")
    _append_line(path, {**entry, "worktree": toplevel})


def _append_line(path: str, entry: dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    line = json.dumps(entry) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8", "surrogateescape"))
    finally:
        os.close(fd)


def history(store: Store, repo: gitrepo.Repo, moved: bool = False) -> list[dict[str, Any]]:
    """This worktree's loss reports, oldest first (*moved*: with those a log written before
    logs followed the repository's identity kept at its old place, once: _migrate)."""
    return reports(log_lines(store, repo, moved))


def reports(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The loss reports among a log's *lines* (log_lines), oldest first: those well formed
    (is_report); another is left out, and log_damage counts it."""
    return [e for e in lines if is_report(e)]


def _text(v: object) -> bool:
    """A string as the program writes them, a name's bytes decoded as os.fsdecode does: a
    lone surrogate it never gives (one flipped bit makes "\\udc80" "\\udb80") is neither
    a name nor printable, and was an internal error of losses (UnicodeEncodeError)."""
    if not isinstance(v, str):
        return False
    try:
        os.fsencode(v)
    except UnicodeEncodeError:
        return False
    return True


_number = losslog.number


def _texts(v: object) -> bool:
    """A list of text (a report's "restore", "maybe_older"; a note's "not_undone")."""
    return isinstance(v, list) and all(_text(x) for x in v)


def _paths(v: object) -> bool:
    """A report's "lost" or "unsaved": a list of {"path": str, ...}."""
    return isinstance(v, list) and all(isinstance(x, dict) and _text(x.get("path")) for x in v)


def is_report(e: Mapping[str, Any]) -> bool:
    """Whether a loss-log line is a loss report `losses` and `undo` can read: every field
    they index has its type (a flipped byte in a key made undo an internal error, KeyError:
    RED34 D6)."""
    sid = e.get("snapshot")
    return (
        isinstance(sid, int)
        and not isinstance(sid, bool)
        and _text(e.get("when"))
        and _number(e.get("time"))
        and _text(e.get("command"))
        and _paths(e.get("lost"))
        and _paths(e.get("unsaved", []))
        and _paths(e.get("also_gone", []))
        and _texts(e.get("restore") or [])
        and _texts(e.get("maybe_older") or [])
        and all(_text(e[k]) for k in ("to", "removed_worktree", "repo", "source") if e.get(k))
        and (e.get("saved_time") is None or _number(e.get("saved_time")))
    )


def is_note(e: Mapping[str, Any]) -> bool:
    """Whether a loss-log line is an undo note (note_undone) that can be read: every field
    `losses` and `undo` index has its type, as is_report's (a "not_undone" of null made
    both an internal error)."""
    return (
        _number(e.get("undone"))
        and _number(e.get("time"))
        and _text(e.get("when"))
        and _texts(e.get("not_undone", []))
    )


def log_damage(store: Store, repo: gitrepo.Repo) -> list[tuple[str, int, float | None]]:
    """The lines of this worktree's loss logs (the files log_lines reads) that cannot be
    read: not JSON, torn, or neither a report nor an undo note that is_report/is_note
    accepts. Per file: (its path, how many, the time of the first good line after the last
    bad one: None when none follows, so a bad one may be the newest entry)."""
    key = _source(store, repo)
    files = [_path(store, repo, ".jsonl")]
    if key is not None:
        files.append(_log_path(store, repo, key))
    out = []
    for path in dict.fromkeys(files):
        bad, after = _bad_lines(path)
        if bad:
            out.append((path, bad, after))
    return out


def _bad_lines(path: str) -> tuple[int, float | None]:
    """(how many lines of the loss log at *path* cannot be read, the time of the first good
    line after the last of them, None if none)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError:
        return 0, None
    bad, after = 0, None
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            e = json.loads(line.decode("utf-8", "surrogateescape"))
        except ValueError:
            e = None
        if isinstance(e, dict) and (is_report(e) or is_note(e)):
            if after is None and bad:
                after = float(e["time"])
        else:
            bad, after = bad + 1, None
    return bad, after


def damage_lines(damage: Sequence[tuple[str, int, float | None]]) -> list[str]:
    """What `losses` and `undo` say of log_damage's files: a line each."""
    return [
        f"{n} entr{'y' if n == 1 else 'ies'} of the loss log {output.display(os.fsencode(p))} "
        f"cannot be read (damaged) and {'is' if n == 1 else 'are'} left out"
        for p, n, _ in damage
    ]


def log_lines(store: Store, repo: gitrepo.Repo, moved: bool = False) -> list[dict[str, Any]]:
    """This worktree's loss log, oldest first: its repository's lines of _log_path, and of the
    path-keyed log written before RED30 those that are not another repository's (one deleted
    at this path, whose snapshots the store still holds apart: DESIGN, "a new repository at
    an old path starts a new history")."""
    from git_snapshot.store.core import read_log

    key = _source(store, repo)
    old = read_log(_path(store, repo, ".jsonl"))
    if key is None:
        return old
    log = _log_path(store, repo, key)
    lines = [e for e in read_log(log) if _mine(store, key, e)]
    before = _before_ids(store, repo, key, old) if old else []
    if moved and not os.path.exists(log[: -len(".jsonl")] + MIGRATED):
        found = _moved_lines(store, repo, key)
        _migrate(log, key, [*before, *found])
        before += found
    seen: set[str] = set()
    out = []
    for e in sorted([*lines, *before], key=_when):  # (a line migrated is in both)
        # the same line, whatever key a migration gave it: two reports of one moment, one
        # snapshot and one command (two bursts a daemon ended together) are two (RED30)
        ident = json.dumps({k: v for k, v in e.items() if k != "key"}, sort_keys=True)
        if ident not in seen:
            seen.add(ident)
            out.append(e)
    losslog.follow_renumbering(store, out, key)
    return out


MIGRATED = ".migrated"  # beside a log: the lines written before RED30 are in it (_migrate)


def _migrate(log: str, key: str, lines: list[dict[str, Any]]) -> None:
    """Copy into the loss log *log* of the repository *key* its *lines* that a log keyed by
    paths holds (written before RED30: at this path, or at the place it moved from), once:
    the log follows the repository from then on (a move after this one leaves no line behind)
    and every log in the store is read for it only once (_moved_lines). A marker beside the
    log says it is done; a copy that fails is tried again by the next `losses` or `undo`."""
    with contextlib.suppress(OSError):
        for e in lines:
            _append_line(log, {**e, "key": key})
        atomic_write(log[: -len(".jsonl")] + MIGRATED, b"", durable=False)


def _when(entry: Mapping[str, Any]) -> float:
    when = entry.get("time")
    return float(when) if isinstance(when, (int, float)) else 0.0


def _mine(store: Store, key: str, entry: Mapping[str, Any]) -> bool:
    """Whether a line of a log kept under this repository's id is its own: written for its
    source key, or for the key of its old place when it moved there (a place that is gone,
    whose history the store gave this key: identity._adopt_moved), not for a copy's."""
    from git_snapshot import identity

    written = entry.get("key")
    if written == key:
        return True
    if not isinstance(written, str):
        return False
    old = identity.path_of(written)
    return old.startswith("/") and not os.path.lexists(old) and not store.index.has_source(written)


def _before_ids(
    store: Store, repo: gitrepo.Repo, key: str, lines: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Of *lines* (the path-keyed log of this worktree, written before logs followed the
    repository's identity; and a repository deleted whole here's, append_at), those of this
    repository: a report naming a snapshot that another repository at this path (deleted
    since) took is that one's and stays out; one of the repository that was here before this
    one, made for this one (bursts.record's ``repo``, a deleted one's ``gone``), stays in."""
    from git_snapshot import identity

    others = [
        k for k, _ in store.index.sources() if k != key and identity.path_of(k) == repo.common_dir
    ]
    if not others:
        return lines
    theirs = {(s.id, s.created) for k in others for s in store.snapshots(k)}

    def foreign(entry: Mapping[str, Any]) -> bool:
        sid, saved = entry.get("snapshot"), entry.get("saved_time")
        if entry.get("source") or not isinstance(saved, (int, float)):
            return False
        return any(n == sid and abs(created - saved) < 0.001 for n, created in theirs)

    return [e for e in lines if not foreign(e)]


def _moved_lines(store: Store, repo: gitrepo.Repo, key: str) -> list[dict[str, Any]]:
    """The lines a log written before RED30 (keyed by paths) kept for this worktree at its
    old place, the repository moved since (mv): each loss report there that names a snapshot
    of this source taken in this worktree (after the move, identity._adopt_moved says so),
    written where nothing is any more; and the undo notes beside them. Reads every log in the
    store (1,000 logs of 10 reports: ~0.25 s): only `losses` and `undo` ask, once (_migrate)."""
    from git_snapshot.store.core import read_log

    held = {s.id: s.created for s in store.snapshots(key, repo.toplevel)}
    if not held:
        return []
    skip = {_log_path(store, repo, key), _path(store, repo, ".jsonl")}
    try:
        names = sorted(n for n in os.listdir(store.losses_dir) if n.endswith(".jsonl"))
    except OSError:
        return []
    out: list[dict[str, Any]] = []
    for name in names:
        path = os.path.join(store.losses_dir, name)
        if path in skip:
            continue
        try:
            lines = read_log(path)
        except OSError:
            continue
        found = [e for e in lines if _moved_here(e, held, repo.toplevel)]
        if found:
            notes = [e for e in lines if "undone" in e and "key" not in e]
            out += found + notes
    return out


def _moved_here(entry: Mapping[str, Any], held: Mapping[int, float], toplevel: str) -> bool:
    where, sid, saved = entry.get("worktree"), entry.get("snapshot"), entry.get("saved_time")
    return (
        "key" not in entry
        and not entry.get("gone")
        and not entry.get("source")
        and isinstance(where, str)
        and where != toplevel
        and where.startswith("/")
        and not os.path.lexists(where)
        and isinstance(sid, int)
        and isinstance(saved, (int, float))
        and sid in held
        and abs(held[sid] - saved) < 0.001
    )


def note_undone(
    store: Store,
    repo: gitrepo.Repo,
    entry: Mapping[str, Any],
    saved: Snapshot | None,
    *,
    partial: bool = False,
    earlier: Mapping[str, Any] | None = None,
    skipped: Sequence[str] = (),
) -> None:
    """Remember that `git snapshot undo` put back what loss entry *entry* named, and that
    snapshot *saved* (its pre-restore snapshot; None: it wrote elsewhere, with none) holds
    what the undo wrote over: a line of the loss log without a "snapshot", which history(),
    naming() and retention skip (so retention may thin *saved* away).

    *partial* when something was not put back (a file that could not be written over,
    damage): the next undo then runs again instead of refusing, and the note of the undo
    that finishes keeps the first undo's pre-restore snapshot (*earlier*'s, the note of a
    partial undo before), which holds what the undo wrote over. *skipped*: the ids of the
    report's parts it could not put back, their snapshot forgotten (not partial: nothing
    brings them back; losses lists them as not undone, a second undo does not offer them)."""
    now = time.time()
    note: dict[str, Any] = {"undone": entry.get("time"), "time": now, "when": output.iso(now)}
    if earlier is not None and "pre_restore" in earlier:
        note.update(
            pre_restore=earlier["pre_restore"], pre_restore_time=earlier.get("pre_restore_time")
        )
    elif saved is not None:
        note.update(pre_restore=saved.id, pre_restore_time=saved.created)
    if partial:
        note["partial"] = True
    if skipped:
        note["not_undone"] = list(skipped)
    append(store, repo, note)


def undone(lines: list[dict[str, Any]]) -> dict[float, dict[str, Any]]:
    """The undo notes (note_undone) among a log's *lines* (log_lines), by the time of the loss
    entry undone."""
    out = {}
    for e in lines:
        if is_note(e):
            out[float(e["undone"])] = e
    return out


def gone_entry(
    store: Store, common_dir: str, toplevel: str, snapshot: int, since: float
) -> dict[str, Any] | None:
    """The entry of the repository deleted whole at *toplevel* that names *snapshot*, made
    since *since*, if its log has one (a second burst of the same rm -rf names the same
    files)."""
    from git_snapshot.store.core import read_log

    try:
        entries = read_log(_path_of(store, common_dir, toplevel, ".jsonl"))
    except OSError:
        return None
    for entry in reversed(entries):
        when = entry.get("time")
        if (
            entry.get("gone") is True
            and entry.get("snapshot") == snapshot
            and isinstance(when, (int, float))
            and when >= since
        ):
            return dict(entry)
    return None


def gone_reports(store: Store) -> list[dict[str, Any]]:
    """The loss entries of repositories deleted whole, with no other worktree to report them
    in (the watcher saw `rm -rf proj`: bursts.record's ``gone``) whose folder is still gone,
    oldest first: ``git snapshot losses`` lists them."""
    found = [
        entry
        for entry in losslog.every_entry(store)
        if entry.get("gone") is True
        and is_report(entry)
        and isinstance(entry.get("removed_worktree"), str)
        and not os.path.lexists(entry["removed_worktree"])
    ]
    losslog.follow_renumbering(store, found)
    return sorted(found, key=lambda e: float(e.get("time") or 0))


def named_line(entry: Mapping[str, Any]) -> str:
    """'git clean -fdx at 2026-12-02T12:54:49+00:00 destroyed 3 files (.env, a, b)': what a
    loss entry says, short."""
    lost = [str(x.get("path")) for x in entry.get("lost") or [] if isinstance(x, dict)]
    shown = first_of([output.display(os.fsencode(p)) for p in lost])
    n = len(lost)
    return (
        f"{entry.get('command') or 'an operation'} at {entry.get('when') or '?'} destroyed "
        f"{n} path{'' if n == 1 else 's'} ({shown})"
    )


# --------------------------------------------------------------------------- unseen reports

# held lines are printed by a later command, seconds or days later, to a user who may have
# been at the terminal all along: "earlier, at 22:02: ..." (the time of the loss: hold's
# *when*) is true either way, where "while you were away: ..." was not (RED44 F8.1)
EARLIER = "git-snapshot: earlier"


def held_prefix(when: float | None, store: str | None = None) -> str:
    """ "git-snapshot: earlier, at 22:02: " for lines of a loss at *when* (today; else the
    date too; no time when the lines do not tell it: held before session 45), with "(store
    PATH)" when they are of another store than the command's."""
    out = EARLIER
    if when is not None:
        same_day = time.localtime(when)[:3] == time.localtime()[:3]
        out += ", at " + time.strftime(
            "%H:%M" if same_day else "%Y-%m-%d %H:%M", time.localtime(when)
        )
    if store is not None:
        out += f" (store {whichstore.shown(store)})"
    return out + ": "


# a line of the UNSEEN file that says which store the lines after it are of (hold's *store*):
# MARK and a JSON object {"store": path or null, "snapshot": [number, created] or null,
# "time": when they were held} (no report line starts so: each starts with "git-snapshot: ")
MARK = "git-snapshot-store\t"


def hold(
    repo: gitrepo.Repo,
    lines: Sequence[str],
    store: str | None = None,
    snapshot: tuple[int, float] | None = None,
    when: float | None = None,
) -> None:
    """Keep *lines* (a report printed where nobody could see it: pre-commit hides a passing
    hook's output, and there was no terminal) for the next git-snapshot command here; *when*:
    the time of the loss they tell, which they are printed with ("earlier, at 22:02: "),
    now when not given (the watcher's: its burst's start, which it may record much later).
    *store*: the store (its path) whose snapshot numbers they name, *snapshot* (number,
    created) one of them, which tells that store moved elsewhere: a command of another store
    prints them with that store named (take_unseen; RED44 F1)."""
    mark = {
        "store": store,
        "snapshot": list(snapshot) if snapshot else None,
        "time": time.time() if when is None else when,
    }
    lines = [MARK + json.dumps(mark), *lines]  # (a store of null: lines of no store told)
    _hold_at(os.path.join(repo.git_dir, UNSEEN), lines)


def hold_everywhere(store: Store, lines: Sequence[str], when: float | None = None) -> None:
    """:func:`hold` for a report with no worktree left to print it in: the next hook of
    any worktree using this store prints it, once (*when*: as hold's)."""
    with contextlib.suppress(OSError):
        os.makedirs(store.losses_dir, mode=0o700, exist_ok=True)
    mark = {"store": None, "snapshot": None, "time": time.time() if when is None else when}
    _hold_at(os.path.join(store.losses_dir, EVERYWHERE), [MARK + json.dumps(mark), *lines])


def _hold_at(path: str, lines: Sequence[str]) -> None:
    """Append *lines* to the file at *path*, under its lock; a file :func:`_claim` claimed
    and removed after we opened it is written anew (the lines went into the removed file,
    unread: a loss report lost)."""
    data = "".join(f"{line}\n" for line in lines).encode("utf-8", "surrogateescape")
    with contextlib.suppress(OSError):
        while True:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_nlink:
                    os.write(fd, data)
                    return
            finally:
                os.close(fd)


def take_unseen(repo: gitrepo.Repo, store: str | None = None) -> list[str]:
    """The lines :func:`hold` kept for this worktree, handed out once, to a command using the
    store at *store* (None: the one the environment names). Lines held with another store's
    mark are that store's: their commands name it (its numbers are other snapshots here)."""
    out = []
    theirs: str | None = None
    when: float | None = None
    for line in _claim(os.path.join(repo.git_dir, UNSEEN)):
        if line.startswith(MARK):
            theirs = _marked_store(line, repo, store)
            when = _marked_time(line)
        elif theirs is None:
            out.append(held_prefix(when) + line.removeprefix("git-snapshot: "))
        else:
            said = whichstore.name_store(line.removeprefix("git-snapshot: "), theirs)
            out.append(held_prefix(when, theirs) + said)
    return out


def _marked_time(line: str) -> float | None:
    """The time of the loss the lines after a MARK line tell (hold's *when*); None when it
    does not say, or says a time no clock shows (1e300, Infinity, NaN, a 400-digit integer:
    the command printing them crashed after it had claimed them, and they were never
    printed: review RS45)."""
    try:
        when = json.loads(line[len(MARK) :]).get("time")
        if isinstance(when, bool) or not isinstance(when, (int, float)):
            return None
        time.localtime(when)
        return float(when)
    except (ValueError, AttributeError, RecursionError, OverflowError, OSError):
        return None


def _marked_store(line: str, repo: gitrepo.Repo, store: str | None) -> str | None:
    """The store of a MARK line when it is another than *store* (None: this one's, or no
    store can be told)."""
    try:
        mark = json.loads(line[len(MARK) :])
        theirs = mark["store"]
        if not isinstance(theirs, str):
            return None
        if store is None:
            from git_snapshot.store import location

            store = location.store_dir(ephemeral_ok=True)
        if os.path.realpath(theirs) == os.path.realpath(store):
            return None
        snap = mark.get("snapshot")
        if snap and not os.path.isdir(theirs):
            # moved, restored from a backup under another path: this store's snapshot of
            # that number was taken then (as a stopped merge's note: stopped._ours)
            mine = whichstore.snapshot_in(store, repo, int(snap[0]))
            if mine is not None and mine.created == snap[1]:
                return None
        return theirs
    except Exception:
        return None


def take_everywhere(losses_dir: str) -> list[str]:
    """The lines :func:`hold_everywhere` kept, handed out once."""
    out = []
    when: float | None = None
    for line in _claim(os.path.join(losses_dir, EVERYWHERE)):
        if line.startswith(MARK):
            when = _marked_time(line)
        else:
            out.append(held_prefix(when) + line.removeprefix("git-snapshot: "))
    return out


def _claim(path: str) -> list[str]:
    """The lines of the file at *path*, handed out once: read and removed under its lock,
    and taken only while it is still there (a command that opened it while another took it
    finds it removed, st_nlink 0: two commands at once never both print them; a _hold_at()
    writing it ends first, and one that opened it before sees it gone). Nothing is moved
    or removed before the lines are read: a command killed or interrupted (Ctrl-C in git
    reaches the hook) while it takes them leaves them for the next one. (They were claimed
    by a rename to '<path>.<pid>' first, which a SIGKILL left where nothing reads, and an
    interrupt removed unread.)"""
    try:
        with open(path, "rb") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            if not os.fstat(f.fileno()).st_nlink:
                return []  # taken by another command meanwhile
            raw = f.read()
            os.unlink(path)
    except OSError:
        return []
    text = raw.decode("utf-8", "surrogateescape")
    return [ln for ln in text.splitlines() if ln.strip()]
