"""Red team (session 13): verify after a repair killed (SIGKILL) between pointing the index at
the rewritten copy of a damaged pack and deleting the damaged pack (the state made by hand,
as in test_red9_repair). The leftover is unreadable, so verify cannot prove it holds no
unknown snapshot record; it said the pack 'holds snapshots the index lacks', which is untrue:
the index reads every object it holds from the rewritten copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from clihelpers import gs
from test_red6_repair import _damage


def _killed_repair(repo: Path, store_dir: Path, tmp_path: Path) -> str:
    pack = _damage(repo, store_dir, b"b", 5)
    kept = tmp_path / "kept"
    shutil.copy2(store_dir / "packs" / pack, kept)
    gs(repo, "repair")
    assert not (store_dir / "packs" / pack).exists()
    shutil.copy2(kept, store_dir / "packs" / pack)  # as if killed before its unlink
    return pack


def test_verify_names_a_killed_repairs_leftover_truly(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    pack = _killed_repair(repo, store_dir, tmp_path)
    out = gs(repo, "verify", rc=None)
    assert "index lacks" not in out.out, out
    assert "interrupted repair" in out.out and "git snapshot repair" in out.out, out
    assert out.rc == 0, out  # every snapshot reads back whole
    data = json.loads(gs(repo, "verify", "--json", rc=None).out)
    assert pack not in data["unindexed_packs"], data
    assert data["damaged_leftover_packs"] == [pack], data
    again = gs(repo, "repair")
    assert not (store_dir / "packs" / pack).exists(), again
    after = gs(repo, "verify", "--read-data")
    assert "damaged" not in after.out.lower() and "lacks" not in after.out, after


def test_an_unreadable_pack_holding_unknown_objects_still_lacks(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    """Control: an unreadable pack whose objects the index does not all hold may hold a
    snapshot the index lacks: still said so."""
    pack = _killed_repair(repo, store_dir, tmp_path)
    path = store_dir / "packs" / pack
    path.write_bytes(path.read_bytes()[:-40])  # cut short: its end cannot be read
    out = gs(repo, "verify", rc=None)
    assert "index lacks" in out.out and "interrupted repair" not in out.out, out
