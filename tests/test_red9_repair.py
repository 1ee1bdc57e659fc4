"""Red team (session 13): repair's rewrite of a damaged pack (f551fb5) killed at each of its
steps: the new pack written, the index pointed at it, the damaged one not yet deleted. Every
later command must be true: verify clean or naming only what is damaged, every file still
readable, a second repair finishing the job."""

from __future__ import annotations

import shutil
from pathlib import Path

from clihelpers import gs
from test_red6_repair import _damage


def test_repair_killed_before_it_deleted_the_rewritten_pack(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    pack = _damage(repo, store_dir, b"b", 5)
    kept = tmp_path / "kept"
    shutil.copy2(store_dir / "packs" / pack, kept)
    gs(repo, "repair")
    assert not (store_dir / "packs" / pack).exists()
    # as if killed before its unlink (named to sort after the new pack: the index rebuilt
    # from the packs takes each object from the first pack holding it, the new one)
    pack = "f" * 32 + ".pack"
    shutil.copy2(kept, store_dir / "packs" / pack)
    again = gs(repo, "repair")
    # it held every object it did before (each now read from the new pack too): never "it
    # held nothing", as the line said
    assert "held nothing" not in again.out and "no object is read from it" in again.out, again
    assert not (store_dir / "packs" / pack).exists()
    assert gs(repo, "cat", "1", "b") == "two\n"
    verified = gs(repo, "verify", "--read-data", rc=None)
    assert "DAMAGED" not in verified.out, verified.out
    assert verified.rc == 0, verified
    gs(repo, "restore", "1")
    assert (repo / "b").read_text() == "two\n"
