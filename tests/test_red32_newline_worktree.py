"""RED32 (red team B, finding 6): a worktree whose path holds a newline, used from a subfolder.

At the worktree's top git-snapshot reads ``.git`` itself; below it, ``find_repo`` asks
``git rev-parse`` for the git dir, the common dir and the top in one call and split the
answer at newlines: a newline inside a path shifted every later field, so the worktree was
taken to be ``<top>/.git`` (``snapshot`` and ``run`` failed with git's "must be run in a work
tree", ``log``/``find`` called the worktree's own files outside it). Each path is now read
whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import put_venv_on_path
from hookhelpers import write

from git_snapshot import gitrepo


@pytest.fixture
def nl_repo(tmp_path: Path) -> Path:
    r = init_repo(tmp_path / "nl\nroot")
    write(r / "sub" / "s", b"s\n")
    return r


@pytest.mark.parametrize("remember", [False, True])
def test_find_repo_from_a_subfolder(nl_repo: Path, remember: bool) -> None:
    at_top = gitrepo.find_repo(str(nl_repo))
    below = gitrepo.find_repo(str(nl_repo / "sub"), remember=remember)
    assert below == at_top
    assert below.toplevel == str(nl_repo.resolve())
    assert below.git_dir == str((nl_repo / ".git").resolve())


def test_a_linked_worktree_with_a_newline(tmp_path: Path) -> None:
    main = init_repo(tmp_path / "main")
    write(main / "a", b"a\n")
    git(main, "add", "a")
    git(main, "commit", "-qm", "a")
    linked = tmp_path / "linked\nwt"
    git(main, "worktree", "add", "-q", "-b", "wt", str(linked))
    (linked / "sub").mkdir()
    found = gitrepo.find_repo(str(linked / "sub"), remember=True)
    assert found.toplevel == str(linked.resolve())
    assert found.common_dir == str((main / ".git").resolve())
    assert Path(found.git_dir).parent == (main / ".git" / "worktrees").resolve()
    assert found.hooks_dir() == str((main / ".git" / "hooks").resolve())


def test_commands_from_the_subfolder_work_as_at_the_top(
    nl_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    sub = nl_repo / "sub"
    gs(nl_repo, "-m", "top")
    gs(sub, "-m", "fromsub")
    assert "s" in gs(sub, "log", "s").out
    assert gs(sub, "cat", "1", "s").out == "s\n"
    gs(sub, "run", "--", "rm", "-f", "s")
    assert not (sub / "s").exists()
