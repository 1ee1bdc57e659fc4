"""``git snapshot forget ID...``: drop chosen snapshots (a secret or a huge file captured by
mistake). A tombstone keeps ``repair`` from bringing them back; the next gc (``git snapshot
prune``, or the one after a hook snapshot) reclaims their space."""

from __future__ import annotations

from collections.abc import Sequence

from git_snapshot import lossrecord
from git_snapshot import output
from git_snapshot.commands.common import as_json
from git_snapshot.commands.common import choose
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import losslog
from git_snapshot.store.gc import disk_errors
from git_snapshot.store.retention import forget


def cmd_forget(
    *,
    cwd: str,
    ids: Sequence[str],
    dry_run: bool = False,
    json_out: bool = False,
    repo_arg: str | None = None,
) -> int:
    with Store() as store:
        chosen: dict[int, Snapshot] = {}
        for ref in ids:
            snap = choose(store, cwd, ref, repo_arg)[1]
            chosen[snap.rowid] = snap
        snaps = sorted(chosen.values(), key=lambda s: (s.source, s.id))
        named = losslog.naming(store)
        with disk_errors(store, "forget"):
            forget(store, snaps, dry_run=dry_run)
    if json_out:
        output.print_json({"dry_run": dry_run, "forgotten": [as_json(s) for s in snaps]})
        return 0
    for s in snaps:  # its restore command (and undo) no longer works: said, before and after
        entry = named.get((s.worktree, s.id))
        if entry is not None:
            output.err(
                f"warning: snapshot {s.id} is the copy a loss report names: "
                f"{lossrecord.named_line(entry)}; that report's restore command and undo "
                f"{'would' if dry_run else 'will'} no longer work"
            )
    verb = "would forget" if dry_run else "forgot"
    for s in snaps:
        when = output.iso(s.created)
        print(f"{verb} snapshot {s.id} ({when}, {s.trigger}, {output.files(s.files)})")
    if not dry_run:
        print("their space is reclaimed by the next gc (git snapshot prune)")
    return 0
