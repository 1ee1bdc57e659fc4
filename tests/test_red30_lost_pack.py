"""Red team (session 30): a snapshot after a pack file was lost reused its objects.

With a pack file deleted (a disk's damage, a user's clean-up), the next snapshot found every
folder as its files cache remembered it and kept the tree keys the index still listed: it said
"snapshot 3: 3 files (+0 B stored)", and its restore wrote nothing. Until something read the
pack (verify, a restore) no object in it was known damaged. Now every snapshot first checks
that the packs the index names are there (one listdir): the objects of one that
is not are damaged, and the snapshot stores what the disk holds afresh."""

from __future__ import annotations

import json
import os
from pathlib import Path

from clihelpers import gs


def test_a_snapshot_after_a_pack_was_deleted_stores_its_files_afresh(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    (repo / "a.bin").write_bytes(os.urandom(2000))
    (repo / "c.txt").write_text("hello\n")
    gs(repo, "create")
    first = set(os.listdir(store_dir / "packs"))
    (repo / "b.bin").write_bytes(os.urandom(3000))
    gs(repo, "create")
    (lost,) = set(os.listdir(store_dir / "packs")) - first
    os.unlink(store_dir / "packs" / lost)
    made = gs(repo, "create", "--json")
    want = {p: (repo / p).read_bytes() for p in ("a.bin", "b.bin", "c.txt", "README")}
    for p in want:
        (repo / p).unlink()
    out = tmp_path / "out"
    gs(repo, "restore", str(json.loads(made)["id"]), "--to", str(out))
    assert {p: (out / p).read_bytes() for p in want} == want
    checked = gs(repo, "verify", "--read-data", rc=None)  # the lost pack's snapshot 2 only
    assert "snapshot 2 " in checked and "snapshot 3" not in checked, checked


def test_a_snapshot_with_every_pack_there_reuses_as_before(repo: Path) -> None:
    (repo / "a.bin").write_bytes(os.urandom(20_000))
    first = json.loads(gs(repo, "create", "--json"))
    again = json.loads(gs(repo, "create", "--json"))
    assert first["added_bytes"] > 20_000 > 2_000 > again["added_bytes"], (first, again)
