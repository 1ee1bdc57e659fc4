"""Red team (session 11): ``repair`` with the index lost passed over every member of a group
whose table was damaged (one flipped byte in a member's key), although the group's content
decompressed whole: the files were lost until the next snapshot stored them afresh, and for
good if they were gone from the worktree. Now the members are re-derived from the content,
cut by the table's sizes and keyed by their own SHA-256."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs
from storehelpers import entry_of
from storehelpers import flip_byte

from git_snapshot.store import Store


def _damage(repo: Path, store_dir: Path, at_key_of: bytes, shift: int) -> str:
    (repo / "a").write_text("one\n")
    (repo / "b").write_text("two\n")
    (repo / "big").write_bytes(b"x" * (300 << 10))  # a frame of its own, not in the group
    gs(repo, "create")
    with Store(store_dir) as s:
        e = entry_of(s, s.snapshots()[-1], at_key_of)
        loc = s.index.locate(e.ref)
        assert loc is not None and loc.inner >= 0  # a member of a group
        pack = store_dir / "packs" / loc.pack
        at = pack.read_bytes().find(e.ref, loc.offset)  # b's key in the group's table
        assert at > 0
        flip_byte(pack, at + shift)
        return loc.pack


def test_repair_without_the_index_re_derives_a_damaged_tables_members(
    repo: Path, store_dir: Path
) -> None:
    pack = _damage(repo, store_dir, b"b", 5)
    (store_dir / "index.sqlite").unlink()
    for name in ("a", "b", "big"):
        (repo / name).unlink()  # gone from the worktree: only the store has them
    ran = gs(repo, "repair")  # named, and the pack rewritten (RED7): nothing left damaged
    assert "1 snapshot(s)" in ran.out, ran.out
    assert "re-derived from their content" in ran.out, ran.out
    assert len(ran.err_lines) == 1 and "nothing is lost" in ran.err, ran.err
    assert gs(repo, "cat", "1", "a") == "one\n"
    assert gs(repo, "cat", "1", "b") == "two\n"
    assert gs(repo, "cat", "1", "big").out == "x" * (300 << 10)
    assert f"damaged pack {pack}" in ran.out, ran.out
    out = gs(repo, "verify", "--read-data").out
    assert "DAMAGED" not in out, out  # every file reads back, the damaged pack is gone
    gs(repo, "restore", "1")
    assert (repo / "b").read_text() == "two\n"


def test_a_damaged_size_in_the_table_loses_nothing_else(repo: Path, store_dir: Path) -> None:
    """A size damaged: the content no longer matches the table, nothing is re-derived (no
    wrong cut is trusted), the group's files are named missing, the rest comes back."""
    _damage(repo, store_dir, b"b", 32 + 2)  # in the size after b's key
    (store_dir / "index.sqlite").unlink()
    ran = gs(repo, "repair", rc=1)
    assert "1 snapshot(s)" in ran.out, ran.out
    assert gs(repo, "cat", "1", "big").out == "x" * (300 << 10)
    gs(repo, "cat", "1", "b", rc=1)
