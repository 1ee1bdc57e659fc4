"""Red team (session 10): one flipped byte in a group's table (the members' keys, which no
read through the index looks at) was invisible to ``verify --read-data`` ("ok ... structure
and data checked"), and ``repair``, run with the index intact, then dropped every member of
the group: the files' data, intact and readable a moment before, had "no intact copy left".
Now verify names the damaged pack, and repair keeps what the old index locates past the
damage where it reads back intact, and says only what is true."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import gs
from storehelpers import entry_of
from storehelpers import flip_byte

from git_snapshot.store import Store


def _damage_a_table(repo: Path, store_dir: Path) -> str:
    (repo / "a").write_text("one\n")
    (repo / "b").write_text("two\n")
    gs(repo, "create")
    with Store(store_dir) as s:
        e = entry_of(s, s.snapshots()[-1], b"b")
        loc = s.index.locate(e.ref)
        assert loc is not None and loc.inner >= 0  # a member of a group
        pack = store_dir / "packs" / loc.pack
        at = pack.read_bytes().find(e.ref, loc.offset)  # b's key in the group's table
        assert at > 0
        flip_byte(pack, at + 5)
        return loc.pack


def test_verify_names_a_damaged_group_table(repo: Path, store_dir: Path) -> None:
    pack = _damage_a_table(repo, store_dir)
    assert gs(repo, "cat", "1", "b") == "two\n"  # the data itself is intact
    ran = gs(repo, "verify", "--read-data", rc=1)
    assert f"DAMAGED pack {pack}" in ran.out, ran.out
    assert len(ran.err_lines) == 1 and "repair" in ran.err, ran.err
    data = json.loads(gs(repo, "verify", "--read-data", "--json", rc=1))
    assert [d["pack"] for d in data["damaged_packs"]] == [pack], data
    gs(repo, "verify")  # without --read-data: the structure the index names, as before


def test_repair_keeps_intact_objects_past_a_damaged_table(repo: Path, store_dir: Path) -> None:
    _damage_a_table(repo, store_dir)
    ran = gs(repo, "repair")  # re-derived whole, the pack rewritten (RED7): nothing left damaged
    # kept from the old index, or (since RED6) re-derived from the group's content
    assert "kept from the old index" in ran.out or "re-derived from their" in ran.out, ran.out
    assert "no intact copy" not in ran.out + ran.err, ran.out + ran.err
    assert len(ran.err_lines) == 1, ran.err
    assert gs(repo, "cat", "1", "a") == "one\n"
    assert gs(repo, "cat", "1", "b") == "two\n"
    out = gs(repo, "verify", "--read-data").out
    assert "DAMAGED" not in out, out  # every snapshot reads back whole, the pack rewritten


def test_repair_without_the_index_reads_past_a_damaged_table(repo: Path, store_dir: Path) -> None:
    """With the index lost, the scan stopped at the damaged group: everything after it in the
    pack, the snapshot's record among it, was dropped ('0 snapshot(s)'). It now passes over
    that group only: the snapshot comes back, its other files intact, the group's files named
    as missing (the next snapshot stores them afresh)."""
    (repo / "big").write_bytes(b"x" * (300 << 10))  # a frame of its own, not in the group
    _damage_a_table(repo, store_dir)
    (store_dir / "index.sqlite").unlink()
    ran = gs(repo, "repair")  # its members re-derived whole, the pack rewritten (RED7)
    assert "1 snapshot(s)" in ran.out, ran.out
    assert "its table is damaged" in ran.out, ran.out
    assert gs(repo, "cat", "1", "big").out == "x" * (300 << 10)
    assert "README" in gs(repo, "show", "1").out
    gs(repo, "create")  # a and b are still in the worktree: stored afresh
    assert gs(repo, "cat", "2", "b") == "two\n"
