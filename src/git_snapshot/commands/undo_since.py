"""What changed since a loss report at the paths `git snapshot undo` would write back.

`undo` acts on the latest loss report, and a command git runs no hook for (`reset --hard`,
`clean`, `restore`) makes none: after one, the latest report is an older command's, and
undoing it wrote that command's versions over what the user did since, saying nothing
(RED38 B1). A path counts as changed since the report when undo would change it (the disk
does not hold the report's version there), the version that is or was there since is none
git holds (HEAD, the index, a stash entry, a commit HEAD was at since; as git stores it,
through an eol setting or a clean filter: what a reset or a checkout wrote is git's, not
the user's work), and it was written after the report: the file on disk now (its mtime:
a chmod, a chattr is no change, and a partial undo is finished once the user made a file
writable), a restore in place since (it writes a snapshot's mtime back: its pre-restore
snapshot's record says what it wrote), or a snapshot taken since holds such a version (a
later edit that the disk may no longer hold: a reset put git's version back over it).
A copy put there with its old mtime kept (`cp -p`, `mv`) is not seen.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import suppress

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import losses
from git_snapshot import lossreport
from git_snapshot import output
from git_snapshot.ctx import record
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import safety
from git_snapshot.store.diff import same_on_disk
from git_snapshot.store.history import Trees
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

LATER_AT_MOST = 32  # snapshots taken since a report looked into, newest first
FILES_AT_MOST = 20_000  # files of a report's folders compared (a folder of node_modules)
SHOWN_AT_MOST = 10  # changed paths named a line each; the rest counted


if TYPE_CHECKING:
    from typing import NamedTuple

    class Changed(NamedTuple):
        path: bytes  # from the worktree's top
        written: float | None  # when the disk's file there was written, after the report
        restored: int | None  # the snapshot a restore in place since wrote there from
        later: int | None  # the newest snapshot taken since holding a later version there

else:  # the same at run time, without typing (4 ms of every losses and undo)
    Changed = record("Changed", "path written restored later")


def since(
    store: Store, repo: gitrepo.Repo, snap: Snapshot, paths: Sequence[bytes], after: float
) -> tuple[list[Changed], int]:
    """The paths below *paths* (from the worktree's top) that a restore of them from *snap*
    would change and that changed after the moment *after* (the report's), and how many
    snapshots of this worktree were taken since then."""
    later = _taken_since(store, repo, after)
    top = os.fsencode(repo.toplevel)
    trees = Trees(store)
    seen = []  # (path, the disk's file written since, restored from, later versions)
    for rel, e in _written_by_restore(trees, snap, paths):
        full = top + b"/" + rel
        if _holds_already(e, full):
            continue
        written = _written_since(full, after)
        restored = _restored_since(later, rel) if os.path.lexists(full) else None
        newer = _later_versions(trees, later, rel, e, after)
        if written is not None or restored is not None or newer:
            seen.append((rel, full, written, restored, newer))
    if not seen:
        return [], len(later)
    # what git holds is no work of the user's: the versions a command with no report wrote
    # (reset --hard, checkout main: git's), or that the reported command itself left
    gits = losses.git_has(repo, (), [x[0] for x in seen])
    _checked_out(repo, after, gits)
    # (bytes git converts, an eol setting or a clean filter: as git stores them, RED30)
    conv = gitrepo.converting(repo, [x[0] for x in seen if gits.get(x[0])])
    # (hashed only where git has a version to be: not a folder of node_modules git ignores)
    on_disk = [
        (rel, full)
        for rel, full, w, r, _ in seen
        if (w is not None or r is not None) and gits.get(rel)
    ]
    disk = _disk_ids(repo, on_disk, gits, conv)
    newests = _newest_not_gits(store, repo, later, {x[0]: x[4] for x in seen}, gits, conv)
    out = []
    for rel, _, written, restored, _ in seen:
        if disk.get(rel) in gits.get(rel, set()):
            written = restored = None
        newest = newests.get(rel)
        if written is not None or restored is not None or newest is not None:
            out.append(Changed(rel, written, restored, newest))
    return out, len(later)


def _checked_out(repo: gitrepo.Repo, after: float, gits: dict[bytes, set[str]]) -> None:
    """Add to *gits* (path -> the versions git has) the versions of the commits HEAD was at
    since *after*, at the paths its moves wrote: a branch checked out since and left again
    wrote git's version, which the checkout's own snapshot holds (no work of the user's)."""
    from git_snapshot.hooks import head_steps
    from git_snapshot.hooks import step_paths

    steps = head_steps(repo.git_dir, after)
    moved = sorted(step_paths(repo, steps) & gits.keys())
    if moved:
        revs = list(dict.fromkeys(c for step in steps for c in step))
        for p, ids in gitrepo.blob_ids(repo, revs, moved).items():
            gits[p] |= ids


def _own(store: Store, repo: gitrepo.Repo) -> list[Snapshot]:
    """This worktree's snapshots (its own: identity.owner), oldest first."""
    key = identity.known_source(store, repo)
    if key is None:
        return []
    own = identity.owner(repo)
    return [s for s in store.snapshots(key, repo.toplevel) if own(s)]


def _after(snaps: Sequence[Snapshot], after: float) -> list[Snapshot]:
    """Those of *snaps* (oldest first) taken after *after*, newest first (up to
    LATER_AT_MOST)."""
    return [s for s in snaps if s.created > after][::-1][:LATER_AT_MOST]


def _taken_since(store: Store, repo: gitrepo.Repo, after: float) -> list[Snapshot]:
    """This worktree's snapshots taken after *after*, newest first (up to LATER_AT_MOST)."""
    return _after(_own(store, repo), after)


def _written_by_restore(
    trees: Trees, snap: Snapshot, paths: Sequence[bytes]
) -> Iterator[tuple[bytes, Entry]]:
    """The files and links a restore of *paths* from *snap* writes (a folder's, below it), up
    to FILES_AT_MOST; a path it does not hold or cannot read writes nothing to compare."""
    count = 0
    todo = list(paths)
    while todo and count < FILES_AT_MOST:
        rel = todo.pop()
        try:
            e = trees.at(snap.root, rel)
            below = trees.entries(e.ref, rel + b"/") if e is not None and e.kind == DIR else None
        except CorruptObject:
            continue  # (the restore names it; nothing known to compare)
        if e is None:
            continue
        if below is None:
            count += 1
            yield rel, e
        else:
            todo.extend(rel + b"/" + name for name in below)


def _holds_already(e: Entry, full: bytes) -> bool:
    """Whether the disk holds *e* at *full* already: a restore leaves it as it is."""
    try:
        st = os.lstat(full)
        return same_on_disk(e, full, st) is None
    except OSError:
        return False


def _written_since(full: bytes, after: float) -> float | None:
    """When the file or link a restore writes over at *full* was written (its mtime), if
    after *after*; None when it is older, or no file or link is there."""
    try:
        st = os.lstat(full)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return None  # (a folder where the report's file was: restore refuses to replace it)
    return st.st_mtime if st.st_mtime_ns > int(after * 1e9) else None


def _restored_since(later: Sequence[Snapshot], rel: bytes) -> int | None:
    """The snapshot the newest restore in place since (*later*: its pre-restore snapshot is
    among them, newest first) wrote *rel* from, if one did."""
    for snap in later:
        rec = safety.restored(snap)
        if rec is not None and any(
            not r or rel == r or rel.startswith(r + b"/") for r in rec.paths
        ):
            return int(rec.snapshot)
    return None


def _disk_ids(
    repo: gitrepo.Repo,
    files: Sequence[tuple[bytes, bytes]],
    gits: dict[bytes, set[str]],
    conv: set[bytes],
) -> dict[bytes, str]:
    """path -> git's id of the file or link on disk (*files*: path, its full path), as git
    would store it where git converts it (*conv*) and the raw bytes are none of *gits*';
    left out when it cannot be read (or is a folder), and where the raw bytes are a version
    of *gits*' that git writes as other bytes (losses.written_otherwise: LF bytes under
    `eol=crlf`, which a checkout writes CRLF, are no version git writes; session 43)."""
    from git_snapshot.gitwrote import _disk_blob_id

    out = {}
    for rel, full in files:
        with suppress(OSError):
            out[rel] = _disk_blob_id(full)
    cleaned = [p for p in out if p in conv and out[p] not in gits.get(p, ())]
    raw = {p: out[p] for p in out if p in conv and p not in cleaned}
    if cleaned:
        out.update(gitrepo.clean_path_ids(repo, cleaned))
    if raw:
        full_of = dict(files)
        mtimes: dict[bytes, int] = {}
        for p in list(raw):
            try:
                st = os.lstat(full_of[p])
            except OSError:
                st = None
            if st is None or not stat.S_ISREG(st.st_mode) or st.st_size > losses.CONVERTED_AT_MOST:
                del raw[p]  # (a link: written as its target; too big: as before)
            else:
                mtimes[p] = st.st_mtime_ns

        def read(p: bytes) -> bytes:
            try:
                with open(full_of[p], "rb") as f:
                    return f.read()
            except OSError:
                return b""  # (gone since: not what git writes)

        for p in losses.written_otherwise(repo, raw, read, mtimes, time.time()):
            del out[p]
    return out


def _newest_not_gits(
    store: Store,
    repo: gitrepo.Repo,
    later: Sequence[Snapshot],
    newer: dict[bytes, list[tuple[int, Entry]]],
    gits: dict[bytes, set[str]],
    conv: set[bytes],
) -> dict[bytes, int]:
    """path -> the newest of the snapshots *later* (newest first) whose version there
    (*newer*: _later_versions') is not one git holds at that path (*gits*: its versions there)
    and writes back as it is: the raw bytes, where git stores them as they are, or (*conv*:
    where git converts them) as losses.gives_back has it: LF bytes that are git's blob under
    `eol=crlf` are no version git writes (session 43). Asked a snapshot at a time, its
    versions together (the version of each path not yet answered): one gives_back (a git
    config, a check-attr...) per snapshot, not per path (an undo of a `* text=auto` folder of
    200 files ran 420 git processes, not 19)."""
    at: dict[int, list[tuple[bytes, Entry]]] = {}  # snapshot -> (path, its version there)
    for rel, versions in newer.items():
        for sid, x in versions:
            at.setdefault(sid, []).append((rel, x))
    out: dict[bytes, int] = {}
    for snap in later:
        converting = []
        for rel, x in at.get(snap.id, ()):
            if rel in out:
                continue
            has = gits.get(rel)
            if not has:  # (its blob not even read)
                out[rel] = snap.id
            elif rel in conv:
                converting.append((rel, x))
            elif losses.git_blob_id(store, x) not in has:
                out[rel] = snap.id
        if converting:
            back = losses.gives_back(store, repo, converting, gits, snap.created)
            out.update((rel, snap.id) for rel, _ in converting if rel not in back)
    return out


def _later_versions(
    trees: Trees, later: Sequence[Snapshot], rel: bytes, e: Entry, after: float
) -> list[tuple[int, Entry]]:
    """(snapshot, entry) of those of *later* (newest first) holding at *rel* a file or link
    other than *e*, written after *after* (its mtime: what the reported command wrote is
    older than its report)."""
    limit = int(after * 1e9)
    out = []
    for snap in later:
        try:
            there = trees.at(snap.root, rel)
        except CorruptObject:
            continue
        if there is None or there.kind == DIR or there.mtime_ns <= limit:
            continue
        if (there.kind, there.ref, there.mode) != (e.kind, e.ref, e.mode):
            out.append((snap.id, there))
    return out


def lines(repo: gitrepo.Repo, cwd: str, command: str, changed: Sequence[Changed]) -> list[str]:
    """A line per changed path (up to SHOWN_AT_MOST; the rest counted), as typed in *cwd*,
    since the report of *command*."""
    report = f"the loss report of {output.message(command)}"
    out = []
    for c in sorted(changed)[:SHOWN_AT_MOST]:
        what = []
        if c.written is not None:
            what.append(f"written on disk {output.age(c.written)}")
        if c.restored is not None:
            what.append(f"restored from snapshot {c.restored} since")
        if c.later is not None:
            what.append(f"snapshot {c.later}, taken since, holds a later version")
        name = output.display(lossreport.rel_to(repo, cwd, c.path))
        out.append(f"{name} changed since {report}: {'; '.join(what)}")
    if len(changed) > SHOWN_AT_MOST:
        out.append(f"and {len(changed) - SHOWN_AT_MOST} more paths changed since {report}")
    return out


DELTA_PATHS_AT_MOST = 20_000  # paths of the deltas since a report looked at (a node_modules)
CHECKED_AT_MOST = 200  # paths of the watcher's last snapshot compared with the disk


def _own_states(store: Store, repo: gitrepo.Repo) -> list[Snapshot]:
    """This worktree's snapshots as ``latest`` counts them (no stash entry's, no pre-restore
    one), oldest first."""
    from git_snapshot import snapids

    snaps = _own(store, repo)
    return snapids.passing_restores(snapids.worktree_states(snaps)) if snaps else []


def compare_with(store: Store, repo: gitrepo.Repo) -> str:
    """The ID to compare the worktree with to see what a command git runs no hook for took
    (RED44 F3): ``latest``, unless the latest is the watcher's and holds what the disk holds
    at every path it changed (it saved the damage: `diff latest` said "no changes"); then the
    number of the one before it, taken before the last change the watcher saw."""
    snaps = _own_states(store, repo)
    if len(snaps) < 2 or snaps[-1].trigger != "watch":
        return "latest"
    newest, before = snaps[-1], snaps[-2]
    top = os.fsencode(repo.toplevel)
    try:
        changes = Trees(store).delta(before.root, newest.root)
    except CorruptObject:
        return "latest"
    checked = 0
    for rel, fields in changes:
        e = Entry(*fields) if fields is not None else None
        if e is not None and e.kind == DIR:
            continue
        full = top + b"/" + rel
        if e is None:
            if os.path.lexists(full):
                return "latest"
        elif not _holds_already(e, full):
            return "latest"
        checked += 1
        if checked >= CHECKED_AT_MOST:
            break
    return str(before.id) if checked else "latest"


def taken_since(store: Store, repo: gitrepo.Repo, after: float) -> int:
    """How many of this worktree's snapshots were taken after *after*."""
    return sum(1 for s in _own(store, repo) if s.created > after)


if TYPE_CHECKING:

    class Gone(NamedTuple):
        path: bytes  # from the worktree's top
        snapshot: int  # the newest snapshot taken since holding a version git cannot give back
        reset: bool  # a reset's mark: git's version on disk, or a staged file git has
        # none of gone

else:
    Gone = record("Gone", "path snapshot reset")


def gone_since(
    store: Store, repo: gitrepo.Repo, after: float, named: Sequence[bytes]
) -> list[Gone]:
    """Each file or link that a snapshot taken after *after* (a loss report's moment) holds
    in a version written since, that is gone from the disk now (no file there, or git's
    version of it: what a `reset --hard` or a `clean` leaves) and that git cannot give back,
    with the newest snapshot holding such a version. Paths at or below *named* (what the
    report's undo writes back) are left out. What `undo` of an older report would pass over
    in silence (RED44 F4): the loss the user means. Marked *reset* where it is what a `reset
    --hard` leaves, never a file deleted (or moved) by hand or by a build: git's version in
    its place, or a file the snapshot saw staged, of which git has no version (review RF3)."""
    own = _own(store, repo)
    later = _after(own, after)  # newest first
    if not later:
        return []
    earlier = [s for s in own if s.created <= after]
    trees = Trees(store)
    limit = int(after * 1e9)
    newer: dict[bytes, list[tuple[int, Entry]]] = {}  # path -> (snapshot, version), newest 1st
    prev = earlier[-1].root if earlier else b""
    count = 0
    for snap in reversed(later):  # oldest first: each one's delta from the one before
        try:
            changes = trees.delta(prev, snap.root)
        except CorruptObject:
            continue
        prev = snap.root
        for rel, fields in changes:
            if fields is None or count >= DELTA_PATHS_AT_MOST:
                continue
            e = Entry(*fields)
            if e.kind == DIR or e.mtime_ns <= limit or _under(rel, named):
                continue
            count += 1
            newer.setdefault(rel, []).insert(0, (snap.id, e))
    if not newer:
        return []
    top = os.fsencode(repo.toplevel)
    cands = [rel for rel, vs in newer.items() if not _holds_already(vs[0][1], top + b"/" + rel)]
    if not cands:
        return []
    gits = losses.git_has(repo, (), cands)
    _checked_out(repo, after, gits)
    conv = gitrepo.converting(repo, [p for p in cands if gits.get(p)])
    there = [(p, top + b"/" + p) for p in cands if os.path.lexists(top + b"/" + p)]
    disk = _disk_ids(repo, [(p, full) for p, full in there if gits.get(p)], gits, conv)
    present = {p for p, _ in there}
    # gone: no file there, or git's version of it (else: the user's later work, kept)
    gone = [p for p in cands if p not in present or disk.get(p) in gits.get(p, set())]
    newests = _newest_not_gits(store, repo, later, {p: newer[p] for p in gone}, gits, conv)
    from git_snapshot.worktree import TRACKED

    def reset(p: bytes, sid: int) -> bool:
        if p in present:  # (git's version where the user's was)
            return True
        return not gits.get(p) and any(s == sid and e.label == TRACKED for s, e in newer[p])

    return [Gone(p, sid, reset(p, sid)) for p, sid in sorted(newests.items())]


def _under(rel: bytes, named: Sequence[bytes]) -> bool:
    return any(not n or rel == n or rel.startswith(n + b"/") for n in named)
