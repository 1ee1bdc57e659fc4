from __future__ import annotations

import os
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot.commands.common import pick
from git_snapshot.store import Store
from git_snapshot.store.verify import object_count
from git_snapshot.store.verify import verify


def cmd_verify(
    *, cwd: str, ids: Sequence[str] = (), read_data: bool = False, json_out: bool = False
) -> int:
    progress = output.Progress("verify", unit="objects")
    with Store() as store:
        snaps = None
        if ids:
            repo = gitrepo.find_repo(cwd)
            snaps = [pick(store, repo, i) for i in ids]
        if snaps is None:  # all of them: every object the index lists is checked once
            progress.total = object_count(store)
        report = verify(store, snaps, read_data=read_data, progress=progress.count)
        repos = dict(store.index.sources())
    progress.done()
    if json_out:
        output.print_json(
            {
                "ok": report.ok,
                "read_data": read_data,
                "snapshots": report.snapshots,
                "objects": report.objects,
                "problems": [
                    {
                        "repo": repos.get(p.source, p.source),
                        "snapshot": p.snapshot,
                        "path": p.path,
                        "message": p.message,
                    }
                    for p in report.problems
                ],
                "unindexed_packs": list(report.unindexed_packs),
                "orphan_packs": list(report.orphan_packs),
            }
        )
        return 0 if report.ok else 1
    for p in report.problems:
        where = output.display(os.fsencode(repos.get(p.source, p.source)))
        print(
            output.paint(f"DAMAGED snapshot {p.snapshot} of {where}: {p.path}: {p.message}", "red")
        )
    depth = "structure and data" if read_data else "structure (add --read-data to re-hash)"
    if report.unindexed_packs:
        print(
            f"{len(report.unindexed_packs)} pack(s) hold snapshots the index lacks (a snapshot "
            "interrupted before it was listed); recover them with: git snapshot repair"
        )
    if report.orphan_packs:
        print(
            f"{len(report.orphan_packs)} unreferenced pack(s) from interrupted snapshots; "
            "'git snapshot prune' reclaims them"
        )
    if report.ok:
        print(f"ok: {report.snapshots} snapshots, {report.objects} objects, {depth} checked")
        return 0
    bad = sorted({(p.source, p.snapshot) for p in report.problems})
    output.err(
        f"{len(report.problems)} damaged path(s) in {len(bad)} snapshot(s); "
        "restore them from another snapshot or export what is intact"
    )
    return 1
