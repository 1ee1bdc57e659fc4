"""``run``'s guard and git's ``--git-dir`` before the command (review of RED36 A-guardnames).

``git --git-dir=.git worktree remove --force wt`` was saved, while the same command written
``--git-dir .git`` (two words) was taken for "another repository: not ours to guess": nothing
was saved, and "snapshot N taken before" was printed as if it had been. The two forms now read
alike: what git lists with the command's own options; a worktree or a stash entry of another
repository, which the guard does not save, is said to be unsaved.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import install
from hookhelpers import put_venv_on_path


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    install(repo)
    return repo


def _linked(repo: Path, where: Path) -> Path:
    git(repo, "worktree", "add", "-q", str(where), "-b", where.name)
    (where / "new.txt").write_bytes(b"only here\n")
    return where


@pytest.mark.parametrize("form", [["--git-dir", ".git"], ["--git-dir=.git"]])
def test_worktree_remove_with_git_dir_saves_it(
    hooked: Path, tmp_path: Path, form: list[str]
) -> None:
    wt = _linked(hooked, tmp_path / "wt")
    ran = gs(hooked, "run", "--", "git", *form, "worktree", "remove", "--force", "wt")
    assert not wt.exists()
    assert "removed the worktree" in ran.err, ran.err
    assert "new.txt" in gs(hooked, "find", "new.txt").out


@pytest.mark.parametrize("form", [["--git-dir", ".git"], ["--git-dir=.git"]])
def test_stash_drop_with_git_dir_saves_it(hooked: Path, form: list[str]) -> None:
    (hooked / "README").write_bytes(b"STASHED\n")
    git(hooked, "stash", "-q")
    ran = gs(hooked, "run", "--", "git", *form, "stash", "drop")
    assert "dropped stash@{0}" in ran.err and "saved in snapshot" in ran.err, ran.err


@pytest.mark.parametrize("sep", [True, False])
def test_another_repositorys_worktree_is_said_unsaved(
    hooked: Path, tmp_path: Path, sep: bool
) -> None:
    other = committed_repo(tmp_path / "other")
    wt = _linked(other, tmp_path / "owt")
    gd = str(other / ".git")
    form = ["--git-dir", gd] if sep else [f"--git-dir={gd}"]
    ran = gs(hooked, "run", "--", "git", *form, "worktree", "remove", "--force", "owt")
    assert not wt.exists()
    assert " not saved: " in ran.err, ran.err


def test_another_repositorys_stash_entry_is_said_unsaved(hooked: Path, tmp_path: Path) -> None:
    other = committed_repo(tmp_path / "other")
    (other / "README").write_bytes(b"STASHED\n")
    git(other, "stash", "-q")
    (hooked / "README").write_bytes(b"MINE\n")
    git(hooked, "stash", "-q")
    ran = gs(hooked, "run", "--", "git", "--git-dir", str(other / ".git"), "stash", "drop")
    assert " not saved: " in ran.err, ran.err
    assert "dropped stash" not in ran.err, ran.err
