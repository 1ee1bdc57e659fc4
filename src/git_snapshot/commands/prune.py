from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from git_snapshot import identity
from git_snapshot import output
from git_snapshot import snapids
from git_snapshot import worktree
from git_snapshot.commands.common import as_json
from git_snapshot.commands.common import qualified
from git_snapshot.commands.common import repo_at
from git_snapshot.store import Store
from git_snapshot.store import losslog
from git_snapshot.store.gc import disk_errors
from git_snapshot.store.gc import gc
from git_snapshot.store.gc import preview
from git_snapshot.store.index import Snapshot
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import by_worktree
from git_snapshot.store.retention import forget_unnamed
from git_snapshot.store.retention import report_window


def cmd_prune(
    *,
    cwd: str,
    keep_last: int | None = None,
    keep_within: str | None = None,
    keep_hourly: int | None = None,
    keep_daily: int | None = None,
    keep_weekly: int | None = None,
    all_repos: bool = False,
    dry_run: bool = False,
    json_out: bool = False,
) -> int:
    repo = None if all_repos else repo_at(cwd)
    counts = {
        "--keep-last": keep_last,
        "--keep-hourly": keep_hourly,
        "--keep-daily": keep_daily,
        "--keep-weekly": keep_weekly,
    }
    if all(v is None for v in counts.values()) and keep_within is None:
        policy = (worktree.settings(repo) if repo else worktree.Settings()).policy()
    else:
        for name, value in counts.items():
            if value is not None and value < 1:
                output.err(f"{name} must be at least 1 (the newest snapshot is always kept)")
                return 2
        within = snapids.duration(keep_within, usage=True) if keep_within else None
        policy = Policy(keep_last, within, keep_hourly, keep_daily, keep_weekly)
    with Store() as store:
        sources = [identity.source(store, repo)] if repo else [k for k, _ in store.index.sources()]
        labels_from = store if all_repos else None
        here = repo.toplevel if repo else None
        # the loss reports of the retention window name snapshots kept for them
        since = time.time() - report_window(policy)
        kept: list[Snapshot] = []
        if dry_run:
            gone, kept = _select(store, policy, sources, since, dry_run=True)
            todo = preview(store, [s.rowid for s in gone])
            if json_out:
                freed, orphans, missing = todo.bytes_to_free, len(todo.kept_orphans), todo.missing
                output.print_json(_json(store, gone, True, freed, orphans, kept, len(missing)))
                return 0
            _say_forgotten("would forget", gone, labels_from, here)
            _say_named(kept, labels_from, here)
            print(
                f"would reclaim about {output.size(todo.bytes_to_free)} ({len(todo.dead)} "
                f"objects, {len(todo.doomed)} packs removed, {len(todo.sparse)} rewritten)"
            )
            _say_kept(len(todo.kept_orphans), len(todo.kept_notes), len(todo.unread_records))
            if todo.missing:
                _say_missing(len(todo.missing), None)
            return 0
        with disk_errors(store, "prune"):
            gone, kept = _select(store, policy, sources, since)
        rep = gc(store)
        if json_out:
            marked = rep.marked if rep.missing else None
            output.print_json(
                _json(
                    store, gone, False, rep.bytes_freed, rep.orphans_kept, kept, rep.missing, marked
                )
            )
            return 0
        _say_forgotten("forgot", gone, labels_from, here)
        _say_named(kept, labels_from, here)
        print(
            f"reclaimed {output.size(rep.bytes_freed)} ({rep.objects_removed} objects, "
            f"{rep.packs_removed} packs removed, {rep.packs_rewritten} rewritten)"
        )
        _say_kept(rep.orphans_kept, rep.notes_kept, rep.records_unread)
        if rep.missing:
            _say_missing(rep.missing, rep.marked)
    return 0


def _select(
    store: Store,
    policy: Policy,
    sources: list[str],
    since: float,
    dry_run: bool = False,
) -> tuple[list[Snapshot], list[Snapshot]]:
    """Forget what *policy* selects among each worktree's snapshots (by_worktree: counted
    as ``list`` shows them, each worktree's newest kept), except the snapshots a loss report
    of the retention window (since *since*) names (its printed restore command and ``undo``
    must keep working, as automatic retention keeps them): (forgotten, kept for a report)."""
    chosen = [
        s
        for source in sources
        for group in by_worktree(store.snapshots(source))
        for s in policy.select(group)
    ]
    if dry_run:
        named = losslog.naming(store, since)
        kept = [s for s in chosen if (s.worktree, s.id) in named]
        return [s for s in chosen if (s.worktree, s.id) not in named], kept
    # the reports read under the lock the forget takes: one a hook writes while the
    # snapshots are chosen names a snapshot chosen here (RED34 D3)
    done = forget_unnamed(store, chosen, lambda: losslog.naming(store, since))
    assert done is not None  # (it waits for the lock)
    return done


def _say_named(kept: list[Snapshot], store: Store | None, here: str | None = None) -> None:
    """The snapshots kept for loss reports, and the command that drops one: plain ``forget
    ID``, which warns that the report's restore command will no longer work (the advice
    named a --force that forget does not have: RED39 A2)."""
    if not kept:
        return
    labels = qualified(store, kept) if store is not None else {}
    ids = ", ".join(_named(s, labels, here) for s in kept)
    print(
        f"kept {len(kept)} snapshot(s) that loss reports name as the copy of what was lost: "
        f"{ids} (see: git snapshot losses; drop one with: git snapshot forget ID)"
    )


def _json(
    store: Store,
    gone: list[Snapshot],
    dry_run: bool,
    freed: int,
    orphans: int,
    kept: Sequence[Snapshot],
    missing: int,
    marked: bool | None = None,
) -> dict[str, Any]:
    """*missing*: the file contents kept snapshots name that the store lacks; *marked*:
    whether gc noted them for the next snapshot (None: a preview, or none missing)."""
    labels = qualified(store, [*gone, *kept])
    return {
        "dry_run": dry_run,
        "forgotten": [{**as_json(s), "qualified_id": f"{labels[s.source]}:{s.id}"} for s in gone],
        "kept_for_losses": [
            {**as_json(s), "qualified_id": f"{labels[s.source]}:{s.id}"} for s in kept
        ],
        "bytes_freed": freed,
        "orphan_packs_kept": orphans,
        "missing_contents": missing,
        "missing_marked": marked,
    }


def _say_forgotten(
    verb: str, gone: list[Snapshot], store: Store | None, here: str | None = None
) -> None:
    """The ids forgotten; qualified by repository (``myrepo:12``) across the whole store; in
    a worktree (*here*), another worktree's named beside its id (``1 (worktree /x/m)``): this
    worktree's ``list`` does not show them (RED36 B-prune)."""
    labels = qualified(store, gone) if store is not None else {}
    ids = ", ".join(_named(s, labels, here) for s in gone)
    print(f"{verb} {len(gone)} snapshot(s)" + (f": {ids}" if ids else ""))


def _named(s: Snapshot, labels: dict[str, str], here: str | None) -> str:
    text = f"{labels[s.source]}:{s.id}" if labels else str(s.id)
    if here is None or s.worktree == here:
        return text
    return f"{text} (worktree {output.display(os.fsencode(s.worktree))})"


def _say_kept(orphans: int, notes: int, unread: int) -> None:
    """The orphan packs gc kept for repair: *notes* of them a stopped restore's note, named
    as verify names it (RED36 B3), the rest snapshots the index lacks."""
    if orphans > notes:
        print(
            f"kept {orphans - notes} pack(s) that hold snapshots the index does not list; "
            "bring them back with: git snapshot repair"
        )
    if notes:
        print(
            f"kept {notes} pack(s) of a stopped restore's note of what it wrote that the index "
            "has not taken (the restore was killed as it wrote it); complete it with: "
            "git snapshot repair (which removes it if its snapshot was forgotten since)"
        )
    if unread:  # gc.GcPlan.unread_records: what such a record names is unknown (RED39 A1)
        print(
            f"{unread} of them hold(s) a snapshot record that does not read back: what it "
            "names is unknown, so no object the index lists and no pack it does not list was "
            "reclaimed; see what repair can bring back with: git snapshot repair --dry-run"
        )


def _say_missing(n: int, marked: bool | None) -> None:
    """The file contents kept snapshots name that the store lacks (gc.GcPlan.missing), and
    whether gc noted them for the next snapshot (*marked*; None: a preview, which notes
    nothing)."""
    again = "the next snapshot stores again each one still in the worktree"
    if marked is None:
        then = f"prune notes them, so that {again}"
    elif marked:
        then = again
    else:
        then = "the disk was too full to note them for the next snapshot (the next prune does)"
    print(
        f"{n} file content(s) that kept snapshots name are missing from the store (lost by an "
        f"older gc); {then}; see what is lost with: git snapshot verify --read-data"
    )
