"""`git snapshot run` with GIT_DIR / GIT_WORK_TREE in the environment.

git-snapshot finds its repository from the folder (git sets GIT_DIR for hooks; it drops it),
but the command `run` starts keeps the environment: with both naming another repository, run
snapshotted the worktree it stood in, said "snapshot N taken before: git checkout -- .", and
the command discarded the other worktree's edit, which no snapshot held and no report named.
Now run refuses when git, asked with the user's environment, names another repository; where
they agree (a `!` alias in a linked worktree: git sets GIT_DIR to the worktree's git dir) it
goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import install
from hookhelpers import put_venv_on_path


@pytest.fixture(autouse=True)
def _path(monkeypatch: pytest.MonkeyPatch) -> None:
    put_venv_on_path(monkeypatch)


def test_run_refuses_when_git_env_names_another_repository(repo: Path, tmp_path: Path) -> None:
    other = committed_repo(tmp_path / "other")
    (other / "README").write_text("precious edit\n")
    env = {"GIT_DIR": str(other / ".git"), "GIT_WORK_TREE": str(other)}
    ran = gs(repo, "run", "--", "git", "checkout", "--", ".", rc=1, **env)
    assert (other / "README").read_text() == "precious edit\n"  # the command did not run
    (line,) = ran.ours
    assert str(other) in line and "-C" in line, line
    assert gs(repo, "list").out.startswith("no snapshots"), "nothing taken here either"


def test_run_goes_on_where_git_env_agrees(repo: Path, tmp_path: Path) -> None:
    """The README's alias, in a linked worktree: git runs it with GIT_DIR set."""
    install(repo)
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked), "-b", "linked")
    git(repo, "config", "alias.discard", "!git snapshot run -- git checkout -- .")
    (linked / "README").write_text("an edit\n")
    ran = git(linked, "discard")
    (rep,) = ran.reports
    assert rep.names == "README" and rep.exact, rep


@pytest.mark.parametrize("args", [["list"], ["-m", "x"], ["restore", "latest", "README"]])
def test_other_commands_refuse_too(repo: Path, tmp_path: Path, args: list[str]) -> None:
    """`git --git-dir=B/.git --work-tree=B snapshot ...` from inside A worked on A: its list,
    a snapshot of A, a restore of A's snapshot into A."""
    gs(repo, "-m", "of the repo here")
    other = committed_repo(tmp_path / "other")
    ran = git(repo, f"--git-dir={other / '.git'}", f"--work-tree={other}", "snapshot", *args, rc=1)
    (line,) = ran.ours
    assert str(other) in line, line
    assert [s["message"] for s in json.loads(gs(repo, "list", "--json").out)] == [
        "of the repo here"
    ]
