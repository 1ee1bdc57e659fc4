"""A repository inside another's worktree (a submodule, a clone inside a project) has no
snapshots of its own until someone takes one there, but the worktree around it snapshots its
files. In it, every command said "no snapshots of this worktree yet; take one with: git
snapshot" (``restore --newest lib.txt``, ``log``, ``list``, ``restore latest ...``, ``find``):
a user who lost a file there was told nothing held it. Each now names the worktree around it
whose snapshots do, and the command that reaches them."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from conftest import committed_repo
from hookhelpers import put_venv_on_path


@pytest.fixture
def inner(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """vendor/lib, a repository of its own in *repo*'s worktree, whose lib.txt (edited) only
    the outer worktree's snapshot holds; then lost."""
    put_venv_on_path(monkeypatch)
    lib = committed_repo(repo / "vendor" / "lib")
    (lib / "lib.txt").write_bytes(b"edited, never committed\n")
    gs(repo, "-m", "outer")
    (lib / "lib.txt").unlink()
    return lib


def _command(err: str) -> list[str]:
    line = err.strip()
    assert "the worktree around it" in line, line
    return shlex.split(line.rsplit(": ", 1)[1])


@pytest.mark.parametrize(
    "args",
    [
        ["restore", "--newest", "lib.txt"],
        ["restore", "latest", "lib.txt"],
        ["log", "lib.txt"],
        ["cat", "latest", "lib.txt"],
        ["show", "latest"],
    ],
)
def test_commands_in_a_nested_repository_name_the_worktree_around_it(
    inner: Path, repo: Path, args: list[str]
) -> None:
    ran = gs(inner, *args, rc=1)
    cmd = _command(ran.err)
    assert cmd == ["git", "snapshot", "-C", str(repo.resolve()), "list"], ran.err
    listed = run(inner, *cmd)
    assert "outer" in listed.out
    # from the worktree around it, the file comes back
    gs(repo, "restore", "--newest", "vendor/lib/lib.txt")
    assert (inner / "lib.txt").read_bytes() == b"edited, never committed\n"


def test_list_in_a_nested_repository_names_the_worktree_around_it(inner: Path, repo: Path) -> None:
    out = gs(inner, "list").out
    assert "the worktree around it" in out and f"git snapshot -C {repo.resolve()} list" in out


def test_a_nested_repository_with_snapshots_of_its_own_names_it_too(
    inner: Path, repo: Path
) -> None:
    gs(inner, "-m", "its own, without lib.txt")
    ran = gs(inner, "restore", "--newest", "lib.txt", rc=1)
    assert ran.err.startswith("git-snapshot: no snapshot of this worktree holds lib.txt"), ran.err
    assert ran.err.strip().endswith(f"git snapshot -C {repo.resolve()} list"), ran.err


def test_find_in_a_nested_repository_names_the_worktree_around_it(inner: Path, repo: Path) -> None:
    out = gs(inner, "find", "lib.txt").out
    assert out.startswith("no snapshot holds a path matching 'lib.txt'; its files are in"), out
    assert out.strip().endswith(f"git snapshot -C {repo.resolve()} list"), out


def test_a_repository_with_nothing_around_it_says_as_before(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    ran = gs(repo, "log", "README", rc=1)
    assert ran.err.strip() == (
        "git-snapshot: no snapshots of this worktree yet; take one with: git snapshot"
    )
    git(repo, "status")
