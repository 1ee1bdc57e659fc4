"""What a user's files or store can throw at the tool is one line and exit 1, never an internal
error: very deep trees, a repository path that is not UTF-8, a garbled index."""

from __future__ import annotations

import os
import sqlite3
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from test_cli_helpers import snap_id

from git_snapshot import create_backup
from git_snapshot import restore_backup
from git_snapshot import verify_backup

DEPTH = 1200  # Python's default recursion limit gave out at about 325 levels


@pytest.fixture(autouse=True)
def _remove_deep_trees(tmp_path: Path) -> Iterator[None]:
    """pytest's own clean-up of old temp dirs (shutil.rmtree, recursive) dies on a tree this
    deep, in whichever later run reaches it: remove everything here without recursion."""
    yield
    stack = [(os.fspath(e), False) for e in tmp_path.iterdir()]
    while stack:
        path, emptied = stack.pop()
        if emptied:
            os.rmdir(path)
        elif os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            stack.append((path, True))
            stack += [(e.path, False) for e in os.scandir(path)]
        else:
            os.unlink(path)


def _deep(root: Path, depth: int = DEPTH) -> Path:
    """a/a/.../a (depth levels, built without recursion) with a file at the bottom."""
    path = os.fspath(root)
    for _ in range(depth):
        path += "/a"
        os.mkdir(path)
    bottom = Path(path) / "f"
    bottom.write_text("deep\n")
    return bottom


@pytest.mark.slow
def test_a_very_deep_tree_works_in_every_command(repo: Path, tmp_path: Path) -> None:
    bottom = _deep(repo)
    rel = os.path.relpath(bottom, repo)
    sid = snap_id(gs(repo))
    assert rel in gs(repo, "show", str(sid)).out
    gs(repo, "verify", "--read-data")
    bottom.write_text("deeper\n")
    assert "1 modified" in gs(repo, "diff").out
    gs(repo, "restore", str(sid))
    assert bottom.read_text() == "deep\n"
    out = tmp_path / "out"
    gs(repo, "restore", str(sid), "--to", str(out))
    assert (out / rel).read_text() == "deep\n"
    tar = tmp_path / "deep.tar"
    gs(repo, "export", str(sid), str(tar))
    with tarfile.open(tar) as t:
        member = t.extractfile(rel)
        assert member is not None and member.read() == b"deep\n"
    later = snap_id(gs(repo))  # the pre-restore snapshot held "deeper"
    assert "1 modified" not in gs(repo, "diff", str(sid), str(later)).out


def test_a_very_deep_tree_works_through_the_api(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    bottom = _deep(data)
    store = tmp_path / "store"
    info = create_backup("deep", data, store=store)
    assert info.file_count == 1
    assert verify_backup("deep", info.id, store=store).valid
    out = tmp_path / "out"
    assert restore_backup("deep", info.id, out, store=store) == 1
    assert (out / bottom.relative_to(data)).read_text() == "deep\n"


def _non_utf8_repo(tmp_path: Path) -> Path:
    """A repository in a folder whose name is the byte 0xff (valid on Linux, not UTF-8)."""
    top = os.path.join(os.fsencode(tmp_path), b"\xff")
    os.mkdir(top)
    repo = Path(os.fsdecode(top)) / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    return repo


def test_a_repository_path_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    repo = _non_utf8_repo(tmp_path)
    for args in ((), ("list",), ("install",)):
        ran = gs(repo, *args, rc=1)
        (line,) = ran.err_lines
        assert "is not valid UTF-8" in line and "\\xff" in line and "rename" in line


def test_an_installed_hook_in_a_non_utf8_repository_says_why_in_one_line(
    tmp_path: Path,
) -> None:
    """Installed while the path was fine, then the folder was renamed: the post-hooks say
    why they took no snapshot; a pre-hook stops the merge with one line naming the way on."""
    good = tmp_path / "good"
    good.mkdir()
    repo = good / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    gs(repo, "install")
    bad = os.path.join(os.fsencode(tmp_path), b"\xff")
    os.rename(os.fsencode(good), bad)
    repo = Path(os.fsdecode(bad)) / "repo"

    ran = run(repo, "git", "checkout", "-q", "-b", "side")  # post-checkout: git succeeds
    (line,) = ran.ours
    assert "post-checkout snapshot failed" in line and "not valid UTF-8" in line
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-q", "-m", "b")
    run(repo, "git", "checkout", "-q", "main")
    (repo / "c.txt").write_text("c\n")
    git(repo, "add", "c.txt")
    git(repo, "commit", "-q", "-m", "c")
    ran = run(repo, "git", "merge", "--no-ff", "-m", "m", "side", rc=None)
    assert ran.rc != 0
    (line,) = ran.ours
    assert "not valid UTF-8" in line and "GIT_SNAPSHOT_SKIP=1" in line
    env = dict(os.environ, GIT_SNAPSHOT_SKIP="1")
    run(repo, "git", "merge", "--continue", rc=None, env=env)
    run(repo, "git", "merge", "--abort", rc=None, env=env)
    run(repo, "git", "merge", "--no-ff", "-m", "m", "side", env=env)
    assert (repo / "b.txt").exists()


def test_a_garbled_index_names_repair_in_one_line(repo: Path, store_dir: Path) -> None:
    gs(repo)
    db = sqlite3.connect(store_dir / "index.sqlite")
    db.execute("DROP TABLE snapshots")  # SQLite opens it; the first query fails
    db.commit()
    db.close()
    for args in (("list",), ("show", "1"), ("restore", "1", "--to", str(repo.parent / "o"))):
        ran = gs(repo, *args, rc=1)
        (line,) = ran.err_lines
        assert str(store_dir / "index.sqlite") in line and "git snapshot repair" in line


def test_entry_points_raise_the_recursion_limit_only_upwards() -> None:
    from git_snapshot import boundary

    before = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(boundary.RECURSION_LIMIT * 2)
        boundary.allow_deep_trees()
        assert sys.getrecursionlimit() == boundary.RECURSION_LIMIT * 2
    finally:
        sys.setrecursionlimit(before)
