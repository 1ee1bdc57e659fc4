"""A repository moved with `mv` (or a worktree with `git worktree move`) keeps its id, but the
store keys its history by the old place (a copy must not share the original's numbering):
list said "no snapshots yet", restore "no snapshot 1: this repository has none in this store"
and log "no snapshots of this worktree yet", while the store held them all. Each now names
where they are and the command that lists them."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import SECRET
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def moved(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    write(repo / ".gitignore", b".env\n")
    write(repo / ".env", SECRET)
    gs(repo, "-m", "before the move")
    to = tmp_path / "moved"
    repo.rename(to)
    return to


def _listed_by(line: str) -> list[str]:
    """The `git snapshot list --repo ...` command a line names."""
    assert "git snapshot list --repo " in line, line
    return shlex.split(line[line.index("git snapshot list --repo ") :])


@pytest.mark.parametrize(
    "args", [["list"], ["restore", "latest", ".env"], ["restore", "1", ".env"], ["log", ".env"]]
)
def test_a_moved_repository_names_its_history(moved: Path, repo: Path, args: list[str]) -> None:
    ran = gs(moved, *args, rc=None)
    said = ran.out + ran.err
    assert str(repo) in said, said
    listed = run(moved, *_listed_by(said.strip().splitlines()[-1]))
    assert "before the move" in listed.out, listed


def test_a_moved_linked_worktree_names_its_history(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked), "-b", "linked")
    write(linked / "notes.txt", b"mine\n")
    gs(linked, "-m", "in the linked worktree")
    git(repo, "worktree", "move", str(linked), str(tmp_path / "there"))
    ran = gs(tmp_path / "there", "list")
    assert str(linked) in ran.out, ran
