"""``git snapshot stats``: the store's size on disk, per repository (snapshots, oldest,
newest, logical bytes) and the dedup ratio: the bytes of every snapshot's files over the bytes
the packs take."""

from __future__ import annotations

import os

from git_snapshot import identity
from git_snapshot import output
from git_snapshot.commands.common import qualified
from git_snapshot.store import Snapshot
from git_snapshot.store import Store

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any


def disk_usage(path: str) -> int:
    """Bytes the files under *path* take on disk (allocated blocks, as du counts them)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue  # removed meanwhile (a temp file)
            total += st.st_blocks * 512
    return total


def _repo_json(label: str, key: str, snaps: list[Snapshot], live: str | None) -> dict[str, Any]:
    return {
        "repo": label,
        "path": identity.path_of(key),
        "worktree": live,
        "snapshots": len(snaps),
        "oldest": output.iso(snaps[0].created) if snaps else None,
        "newest": output.iso(snaps[-1].created) if snaps else None,
        "logical_bytes": sum(s.bytes for s in snaps),
        "added_bytes": sum(s.added_bytes for s in snaps),
    }


def collect(store: Store) -> dict[str, Any]:
    everything = store.snapshots()
    labels = qualified(store, everything)
    repos = []
    for key, _path in store.index.sources():
        snaps = [s for s in everything if s.source == key]
        if snaps:
            live = identity.live_worktree(store, key)
            repos.append(_repo_json(labels.get(key, key), key, snaps, live))
    packed = sum(store.index.packs().values())
    logical = sum(s.bytes for s in everything)
    return {
        "store": store.path,
        "disk_bytes": disk_usage(store.path),
        "pack_bytes": packed,
        "logical_bytes": logical,
        "dedup_ratio": round(logical / packed, 2) if packed else None,
        "snapshots": len(everything),
        "repositories": repos,
    }


def cmd_stats(*, cwd: str, json_out: bool = False) -> int:
    with Store() as store:
        data = collect(store)
    if json_out:
        output.print_json(data)
        return 0
    ratio = data["dedup_ratio"]
    print(f"store: {data['store']}")
    print(
        f"{output.size(data['disk_bytes'])} on disk ({output.size(data['pack_bytes'])} in "
        f"packs) for {data['snapshots']} snapshots holding {output.size(data['logical_bytes'])}"
        " of files" + (f": dedup ratio {ratio:.1f}x (compression included)" if ratio else "")
    )
    rows = [
        [
            r["repo"],
            str(r["snapshots"]),
            r["oldest"],
            r["newest"],
            output.size(r["logical_bytes"]),
            r["worktree"] or f"(deleted) {r['path']}",
        ]
        for r in data["repositories"]
    ]
    if rows:
        headers = ["REPO", "SNAPSHOTS", "OLDEST", "NEWEST", "LOGICAL", "WHERE"]
        print(output.table(headers, rows, right=[1, 4]))
    return 0
