"""A burst's loss entry when bursts.record failed for a reason no retry cures (RED35 W1).

A damaged snapshot (an object or a folder listing unreadable) or a bug in the recording was
retried without end, and the deleted paths never reached ``git snapshot losses``. Here the
burst is recorded as well as it can be: compared with its snapshot as a hook compares (what
can be read; a damaged copy stops only the paths that need it, which are named as not
compared, and why: losses.find's *unread*), else its paths named as not compared at all. An
OSError or a full or locked database still escapes: the daemon retries those (take.transient).
"""

from __future__ import annotations

import os
from typing import Any

from git_snapshot import losses
from git_snapshot import lossrecord
from git_snapshot import lossreport


def record(
    store: Any, worktree: str, burst: Any, snap: Any, failed: BaseException
) -> dict[str, Any] | None:
    """The entry written for *burst* (watch/bursts.Burst) against *snap*, whose bursts.record
    failed with *failed*, or None when nothing of it is lost."""
    from git_snapshot import gitrepo
    from git_snapshot import identity
    from git_snapshot.errors import UserError
    from git_snapshot.watch.take import transient

    try:
        repo = gitrepo.find_repo(worktree)
    except UserError:
        repo = None  # the worktree went too: its paths are named, where _named writes them
    if repo is not None and identity.known_source(store, repo) == snap.source:
        try:
            return _compared(store, repo, burst, snap)
        except Exception as exc:
            if transient(exc):
                raise
            failed = exc
    return _named(store, worktree, repo, burst, snap, failed)


def _compared(store: Any, repo: Any, burst: Any, snap: Any) -> dict[str, Any] | None:
    """losses.find of the burst's paths in *snap*, less what git gives back, as a hook's
    check of an older snapshot does; what it cannot read named as not compared."""
    from git_snapshot.watch import bursts

    rels = _rels(repo.toplevel, burst.paths)
    unread: dict[bytes, str] = {}
    widened = bursts._covering(bursts._widen(os.fsencode(repo.toplevel), set(rels)))
    found = losses.find(store, repo, snap, widened, unread=unread)
    unsaved = losses.not_compared(snap.id, _below(unread, rels))
    if not found and not unsaved:
        return None
    exact = not burst.earlier and not any(k in bursts.EARLIER for k in burst.kinds.values())
    verb = "watcher: " + (bursts._verb(found) if found else "deleted")
    report = lossreport.report_of(store, repo, verb, snap, exact, found, unsaved, burst.ended)
    entry = _entry(report, burst)
    lossrecord.append(store, repo, entry)
    lines = [ln for ln in report.lines(repo, repo.toplevel, absolute=True) if " not saved: " in ln]
    if found:
        restore = report.covering()
        common = os.path.commonpath([os.fsdecode(x.path) for x in found]) if len(found) > 1 else ""
        taken = None if exact else snap
        lines.insert(
            0,
            bursts.message(
                repo.toplevel, found, os.fsencode(common), burst.started, snap.id, restore, taken
            ),
        )
    _tell(repo, store, lines, burst.started)
    return entry


def _named(
    store: Any, worktree: str, repo: Any, burst: Any, snap: Any, failed: BaseException
) -> dict[str, Any] | None:
    """An entry naming the burst's paths gone from the disk as not compared with *snap*, and
    why (*failed*); written where the worktree's loss log is, or, with the worktree gone, to
    its path-keyed log (lossrecord.append_at: ``git snapshot losses`` lists it there too)."""
    from git_snapshot import identity
    from git_snapshot.watch.take import described

    top = repo.toplevel if repo is not None else worktree
    base = os.fsencode(top)
    rels = [r for r in _rels(top, burst.paths) if not os.path.lexists(base + b"/" + r)]
    if not rels:
        return None
    why = (
        f"not compared with snapshot {snap.id} ({described(failed)}): what that snapshot holds "
        f"of it, if anything, is restored with: git snapshot restore {snap.id} PATH"
    )
    unsaved = [(os.fsencode(r), why) for r in sorted(rels)]
    report = lossreport.Report(
        "watcher: deleted", snap.id, snap.created, False, [], unsaved, burst.ended
    )
    entry = _entry(report, burst)
    if repo is not None and identity.known_source(store, repo) == snap.source:
        lossrecord.append(store, repo, entry)
        _tell(repo, store, report.lines(repo, repo.toplevel, absolute=True), burst.started)
        return entry
    entry.update(repo=identity.tagged(snap.source), source=snap.source)
    if repo is not None:
        lossrecord.append(store, repo, entry)
        _tell(repo, store, report.lines(repo, repo.toplevel, absolute=True), burst.started)
    else:
        entry.update(removed_worktree=worktree)
        lossrecord.append_at(store, identity.path_of(snap.source), worktree, entry)
        paths = ", ".join(lossreport.fold([os.fsencode(r) for r in sorted(rels)]))
        line = f"git-snapshot: not saved: {paths} in {worktree}, {why}"
        _tell(None, store, [line], burst.started)
    return entry


def _entry(report: Any, burst: Any) -> dict[str, Any]:
    from git_snapshot import output

    entry: dict[str, Any] = report.as_json()
    entry["burst"] = {
        "started": output.iso(burst.started),
        "ended": output.iso(burst.ended),
        "events": len(burst.paths),
    }
    if burst.lost_events:
        entry["events_lost"] = True
    return entry


def _tell(repo: Any, store: Any, lines: list[str], when: float) -> None:
    """Hold *lines* for the next git-snapshot command (there, or anywhere), printed with
    *when* (the burst's start: when the files went), and notify."""
    from git_snapshot.watch import bursts

    if repo is not None:
        lossrecord.hold(repo, lines, store.path, when=when)  # (its store: RED44 F1)
    else:
        lossrecord.hold_everywhere(store, lines, when)
    for line in lines:
        bursts.notify(line)


def _rels(top: str, paths: tuple[str, ...]) -> list[bytes]:
    """*paths* (absolute, as events name them) relative to the worktree *top*, .git left out."""
    from git_snapshot.watch import dirtyset

    bases = dirtyset.worktree_bases(top)
    return sorted({r for p in paths if (r := dirtyset.rel_path(bases, p))})


def _below(unread: dict[bytes, str], rels: list[bytes]) -> dict[bytes, str]:
    """*unread* (path -> why), a folder in it replaced by the paths events named in it: the
    names the watcher saw go, not only their folder's."""
    out: dict[bytes, str] = {}
    for path, why in unread.items():
        inside = [r for r in rels if r.startswith(path + b"/")]
        for r in inside or [path]:
            out[r] = why
    return out
