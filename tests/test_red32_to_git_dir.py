"""RED32 B3: ``restore --to`` refused only the current repository's own git directory: it wrote
into another repository's .git (planting a hook git then runs), a nested repository's .git, a
bare repository. DESIGN: restore never writes into .git."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs


@pytest.fixture
def hooked(repo: Path) -> Path:
    (repo / "hooks").mkdir()
    hook = repo / "hooks" / "post-checkout"
    hook.write_text("#!/bin/sh\necho PLANTED\n")
    hook.chmod(0o755)
    gs(repo)
    return repo


def _refused(repo: Path, to: Path) -> None:
    r = gs(repo, "restore", "1", "--to", str(to), rc=1)
    assert "refusing to restore into" in r.err and "git directory" in r.err, r.err
    assert not (to / "hooks" / "post-checkout").exists()


def test_another_repositorys_git_dir(hooked: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    _refused(hooked, other / ".git")
    _refused(hooked, other / ".git" / "sub")


def test_a_nested_repositorys_git_dir(hooked: Path) -> None:
    nested = hooked / "nested"
    nested.mkdir()
    git(nested, "init", "-q")
    _refused(hooked, nested / ".git" / "z")


def test_a_bare_repository(hooked: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    _refused(hooked, bare)
    _refused(hooked, bare / "x")


def test_a_folder_named_git_not_there_yet(hooked: Path, tmp_path: Path) -> None:
    _refused(hooked, tmp_path / "new" / ".git")


def test_another_worktree_itself_is_fine(hooked: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    gs(hooked, "restore", "1", "--to", str(other))
    assert (other / "hooks" / "post-checkout").exists()
    assert not (other / ".git" / "hooks" / "post-checkout").exists()
