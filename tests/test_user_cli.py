"""A user's first mistakes at the command line: what git-snapshot says back must be true and
say what to do next."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import gs


@pytest.mark.parametrize("command", ["restore", "show"])
def test_a_missing_id_names_only_what_is_missing(repo: Path, command: str) -> None:
    """argparse called an optional PATH... required ('the following arguments are required:
    ID, PATH'), though `restore 3` alone restores the whole tree."""
    ran = gs(repo, command, rc=2)
    (line,) = [ln for ln in ran.err_lines if "required" in ln]
    assert "ID" in line and "PATH" not in line, line


@pytest.mark.parametrize("where", ["missing", "not-a-repo"])
def test_watch_add_of_a_wrong_path_says_what_watch_add_takes(tmp_path: Path, where: str) -> None:
    """`watch add PATH` answered git's generic advice, '(pass -C PATH with an existing
    directory)' / '(run inside a worktree or pass -C PATH)': -C does not help there."""
    target = tmp_path / where
    if where == "not-a-repo":
        target.mkdir()
    ran = gs(tmp_path, "watch", "add", str(target), rc=1)
    (line,) = ran.err_lines
    assert line.startswith(f"git-snapshot: cannot watch {target}: "), line
    assert "-C PATH" not in line and "git snapshot watch add" in line, line


def test_list_all_of_an_empty_store_outside_a_repository_says_where_to_snapshot(
    tmp_path: Path,
) -> None:
    """`list --all` outside a repository said 'take one with: git snapshot', which there
    fails ('not a git repository')."""
    out = gs(tmp_path, "list", "--all").out
    assert "in a git worktree" in out, out
    gs(tmp_path, rc=1)  # what the old advice ran into


def test_doctor_does_not_promise_that_hooks_start_the_watcher_when_they_may_not(
    repo: Path,
) -> None:
    """Under GIT_SNAPSHOT_WATCH=0 (set here by conftest, as a user may set it) no hook
    registers the worktree or starts the watcher; doctor said 'the next hook ... does it'."""
    gs(repo, "install")
    (line,) = [ln for ln in gs(repo, "doctor").out.splitlines() if ln.startswith("watcher:")]
    assert "next hook" not in line and "GIT_SNAPSHOT_WATCH=0" in line, line
    assert "git snapshot watch" in line, line
