"""RED31: the two layouts git-snapshot cannot snapshot get a line that says why.

A bare repository with its worktree named by GIT_DIR/GIT_WORK_TREE (``git --git-dir=dotfiles
--work-tree=~ snapshot``) got "not a git repository" with no word of the variables git
used; a repository whose core.worktree is elsewhere, run from the folder holding its .git,
got "inside a git directory", which it is not."""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from clihelpers import gs


def test_a_bare_repository_with_a_named_worktree(tmp_path: Path) -> None:
    bare, wt = tmp_path / "dotfiles.git", tmp_path / "wt"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    wt.mkdir()
    (wt / ".bashrc").write_text("x\n")
    assert "?? .bashrc" in git(wt, f"--git-dir={bare}", f"--work-tree={wt}", "status", "-s").out
    err = gs(wt, rc=1, GIT_DIR=str(bare), GIT_WORK_TREE=str(wt)).err
    assert err.count("\n") == 1 and "GIT_DIR and GIT_WORK_TREE" in err, err
    assert "finds the repository from the folder" in err, err


def test_core_worktree_elsewhere(tmp_path: Path) -> None:
    sep, wt = tmp_path / "sep", tmp_path / "wt2"
    git(tmp_path, "init", "-q", str(sep))
    wt.mkdir()
    git(sep, "config", "core.worktree", str(wt))
    err = gs(sep, rc=1).err
    assert "inside a git directory" not in err, err
    assert f"worktree is elsewhere, {wt} (core.worktree)" in err, err
