"""Red team (session 12): after ``repair`` re-derived every member of a group whose table alone
was damaged (02e4987), the pack kept its damaged table: ``verify --read-data`` named it as
damaged (exit 1) for ever, nothing rewrote it, and the next repair depended on re-deriving it
again. repair now copies such a pack's objects, each read back against its key, into a new
pack and drops the damaged one: verify is clean, and true."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs
from test_red6_repair import _damage


def test_repair_rewrites_a_pack_whose_damaged_table_it_re_derived(
    repo: Path, store_dir: Path
) -> None:
    pack = _damage(repo, store_dir, b"b", 5)
    (store_dir / "index.sqlite").unlink()
    for name in ("a", "b", "big"):
        (repo / name).unlink()  # gone from the worktree: only the store has them
    ran = gs(repo, "repair")
    assert f"damaged pack {pack}" in ran.out and "rewritten" in ran.out, ran.out
    assert "nothing is lost" in ran.err, ran.err
    assert not (store_dir / "packs" / pack).exists()
    verified = gs(repo, "verify", "--read-data")
    assert "DAMAGED" not in verified.out, verified.out
    assert gs(repo, "cat", "1", "a") == "one\n"
    assert gs(repo, "cat", "1", "b") == "two\n"
    assert gs(repo, "cat", "1", "big").out == "x" * (300 << 10)
    (store_dir / "index.sqlite").unlink()  # the packs alone rebuild it, with no damage left
    again = gs(repo, "repair")
    assert "damaged" not in again.out, again.out
    gs(repo, "restore", "1")
    assert (repo / "b").read_text() == "two\n"
    assert gs(repo, "list").out.count("\n") >= 1


def test_repair_with_the_old_index_also_rewrites_it(repo: Path, store_dir: Path) -> None:
    """The index kept (verify --read-data named the pack; repair is what it advises)."""
    pack = _damage(repo, store_dir, b"b", 5)
    named = gs(repo, "verify", "--read-data", rc=1)
    assert f"DAMAGED pack {pack}" in named.out, named.out
    gs(repo, "repair")
    assert "DAMAGED" not in gs(repo, "verify", "--read-data").out
    assert gs(repo, "cat", "1", "b") == "two\n"


def test_repairs_lines_show_a_repositorys_odd_path_escaped(tmp_path: Path, store_dir: Path) -> None:
    """A repository at a path holding an escape sequence and a newline (no hostile store
    needed): repair printed its source raw in 'recovered snapshot(s) ...: N of SOURCE'."""
    import sqlite3

    from clihelpers import git

    repo = tmp_path / "r\x1b[2J\nx"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "f").write_text("f\n")
    gs(repo, "create")
    (repo / "f").write_text("g\n")
    gs(repo, "create")
    db = sqlite3.connect(store_dir / "index.sqlite")
    with db:  # the index lost the second's row; its pack holds its record
        db.execute("DELETE FROM snapshots WHERE id = (SELECT max(id) FROM snapshots)")
    db.close()
    ran = gs(repo, "repair")
    lines = [ln for ln in ran.out.splitlines() if ln.startswith("recovered")]
    assert len(lines) == 1 and "r\\033[2J\\012x" in lines[0], ran.out  # its shell word (RED34)
    assert "\x1b" not in ran.out, ran.out
