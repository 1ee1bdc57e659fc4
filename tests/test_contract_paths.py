"""A path one command prints works pasted into the next, from any directory of the worktree:
PATH arguments are relative to the current directory, as in git, so ``find`` prints them so
(its --json keeps paths from the worktree's top, as git's porcelain formats do)."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import gs


def _table_paths(text: str) -> list[str]:
    return [line.split()[0] for line in text.splitlines()[1:]]


def test_find_prints_paths_cat_and_log_take_in_a_subdirectory(repo: Path) -> None:
    (repo / "sub" / "deep").mkdir(parents=True)
    (repo / "sub" / "deep" / "x.txt").write_bytes(b"deep x\n")
    (repo / "top.txt").write_bytes(b"top\n")
    gs(repo, "create")
    sub = repo / "sub"
    printed = _table_paths(gs(sub, "find", "*.txt").out)
    assert printed == ["deep/x.txt", "../top.txt"]
    for path, data in zip(printed, ["deep x\n", "top\n"]):
        assert gs(sub, "cat", "latest", path).out == data
        assert "appeared" in gs(sub, "log", path).out
    # a pattern with a '/' is a path too: relative to here
    assert _table_paths(gs(sub, "find", "deep/*").out) == ["deep/x.txt"]
    assert _table_paths(gs(sub, "find", "../top*").out) == ["../top.txt"]
    # JSON: from the top, as `git status --porcelain`
    got = json.loads(gs(sub, "find", "*.txt", "--json"))
    assert [r["path"] for r in got] == ["sub/deep/x.txt", "top.txt"]


def _subfolder_tree(repo: Path) -> Path:
    """sub/in.txt and top.txt, snapshotted, then both deleted: the subfolder 'sub'."""
    (repo / "sub").mkdir()
    (repo / "sub" / "in.txt").write_bytes(b"in\n")
    (repo / "top.txt").write_bytes(b"top\n")
    gs(repo, "create")
    (repo / "sub" / "in.txt").unlink()
    (repo / "top.txt").unlink()
    return repo / "sub"


def test_restore_in_a_subdirectory_prints_paths_as_typed(repo: Path) -> None:
    """It printed 'create sub/in.txt' and 'create top.txt' after 'in.txt ../top.txt'."""
    sub = _subfolder_tree(repo)
    dry = gs(sub, "restore", "latest", "in.txt", "../top.txt", "--dry-run").out.splitlines()
    assert dry[:2] == ["would create in.txt", "would create ../top.txt"], dry
    got = json.loads(gs(sub, "restore", "latest", "in.txt", "../top.txt", "--json", "--dry-run"))
    assert got["created"] == ["sub/in.txt", "top.txt"]  # JSON: from the top
    out = gs(sub, "restore", "latest", "in.txt", "../top.txt").out.splitlines()
    assert out[:2] == ["create in.txt", "create ../top.txt"], out
    assert (repo / "top.txt").read_bytes() == b"top\n"
    # --to DIR: paths in DIR, as before
    out = gs(sub, "restore", "latest", "in.txt", "--to", "../elsewhere").out.splitlines()
    assert "create sub/in.txt" in out, out


def test_undo_in_a_subdirectory_prints_paths_from_there(repo: Path) -> None:
    sub = _subfolder_tree(repo)
    gs(repo, "restore", "latest", ".")
    gs(repo, "run", "--", "rm", "sub/in.txt", "top.txt")
    (row,) = gs(sub, "losses").out.splitlines()[1:]
    assert row.endswith("  in.txt, ../top.txt"), row
    out = gs(sub, "undo").out.splitlines()
    assert "create in.txt" in out and "create ../top.txt" in out, out


def test_a_path_from_the_top_typed_in_a_subdirectory_is_shown_as_typed_there(repo: Path) -> None:
    """`diff` and `show` print paths from the top, as git diff does: pasted into restore in a
    subfolder, the error names the path that works there."""
    sub = _subfolder_tree(repo)
    ran = gs(sub, "restore", "latest", "sub/in.txt", rc=1)
    (line,) = ran.err_lines
    assert line.startswith("git-snapshot: sub/in.txt is not in snapshot 1"), line
    assert "relative to the current directory" in line and line.endswith(" is: in.txt"), line
    # not in the snapshot at all: the error as before
    (line,) = gs(sub, "restore", "latest", "nothing.txt", rc=1).err_lines
    assert line.startswith("git-snapshot: nothing.txt is not in snapshot 1; see the "), line
    (line,) = gs(sub, "restore", "latest", "../nothing.txt", rc=1).err_lines
    assert line.startswith("git-snapshot: ../nothing.txt is not in snapshot 1; see the "), line


def test_a_snapshot_names_what_it_skipped_when_few(repo: Path) -> None:
    """The quick start's second snapshot said '1 skipped (see: git snapshot show 2)': a
    listing of every entry, the skipped one at its end. A few are named in the line."""
    from clihelpers import git

    git(repo, "config", "snapshot.exclude", "/.venv/")
    (repo / ".venv").mkdir()
    (repo / ".venv" / "x").write_bytes(b"x")
    line = gs(repo, "create").out.strip()
    assert line.endswith("; skipped: .venv (excluded)"), line
    for i in range(4):
        git(repo, "config", "--add", "snapshot.exclude", f"/v{i}/")
        (repo / f"v{i}").mkdir()
        (repo / f"v{i}" / "x").write_bytes(b"x")
    line = gs(repo, "create").out.strip()
    assert line.endswith("; 5 skipped (see: git snapshot show 2)"), line


def test_paths_completed_in_a_subdirectory_are_as_typed_there(repo: Path) -> None:
    """Tab completion of `restore ID PATH` offered paths from the top in a subfolder
    ('sub/in.txt'), which restore there reads as sub/sub/in.txt."""
    sub = _subfolder_tree(repo)
    words = gs(sub, "__complete", "paths", "latest").out.split()
    assert "in.txt" in words and "../top.txt" in words, words
    assert "sub/in.txt" not in words
    assert "sub/in.txt" in gs(repo, "__complete", "paths", "latest").out.split()
