"""``restore --newest PATH`` takes the newest snapshot holding PATH in a version other than
the worktree's. It took the newest holding PATH at all: once a snapshot had saved the damage
(the watcher's, 3 s after an overwrite; a post-merge hook's after ``git merge`` wrote over an
ignored .env), it restored that very version, "restored 0 entries (1 unchanged)", and the
README's "take the newest copy back" gave nothing back."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit


@pytest.fixture(autouse=True)
def _path(monkeypatch: pytest.MonkeyPatch) -> None:
    put_venv_on_path(monkeypatch)


def test_newest_skips_a_snapshot_that_saved_the_damage(repo: Path) -> None:
    (repo / "notes.txt").write_bytes(b"good\n")
    gs(repo)
    (repo / "notes.txt").write_bytes(b"overwritten\n")
    gs(repo)  # as the watcher does, seconds later
    ran = gs(repo, "restore", "--newest", "notes.txt")
    assert (repo / "notes.txt").read_bytes() == b"good\n", ran.out
    assert "from snapshot 1 " in ran.out, ran.out


def test_newest_after_a_merge_wrote_over_an_ignored_file(repo: Path) -> None:
    commit(repo, ".gitignore", b".env\n")
    install(repo)
    (repo / ".env").write_bytes(b"SECRET=mine\n")
    side_commit(repo, "side", {".env": b"SECRET=side\n"})
    git(repo, "merge", "-q", "side")
    assert (repo / ".env").read_bytes() == b"SECRET=side\n"
    gs(repo, "restore", "--newest", ".env")
    assert (repo / ".env").read_bytes() == b"SECRET=mine\n"


def test_newest_of_a_deleted_file_and_of_an_edited_one_as_before(repo: Path) -> None:
    (repo / "a.txt").write_bytes(b"v1\n")
    gs(repo)
    (repo / "a.txt").write_bytes(b"v2\n")
    gs(repo)
    (repo / "a.txt").write_bytes(b"v3, not saved\n")
    gs(repo, "restore", "--newest", "a.txt")
    assert (repo / "a.txt").read_bytes() == b"v2\n"  # the newest copy, over an unsaved edit
    (repo / "a.txt").unlink()
    gs(repo, "restore", "--newest", "a.txt")
    assert (repo / "a.txt").read_bytes() == b"v2\n"


def test_newest_when_every_snapshot_holds_the_worktrees_version(repo: Path) -> None:
    (repo / "a.txt").write_bytes(b"same\n")
    gs(repo)
    ran = gs(repo, "restore", "--newest", "a.txt")
    assert "(1 unchanged)" in ran.out and (repo / "a.txt").read_bytes() == b"same\n"
