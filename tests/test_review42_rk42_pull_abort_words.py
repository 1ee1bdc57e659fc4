"""Review of 2c96120 (session 42, RK42): a stopped merge's check says an edit a reset left at
HEAD's version was destroyed by "git merge (its --abort, or a command run while it was
stopped)". For a merging `git pull` that stopped it said "git pull (its --abort, ...)": git
pull has no --abort; the user ran `git merge --abort`. It now names that command."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import side_commit
from hookhelpers import write

EDIT = b"MY DIRTY EDIT\n"


def test_a_stopped_pulls_reset_edit_names_git_merge_abort(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, "b.txt", b"b\n")
    base = commit(repo, "a.txt", b"base\n")
    side_commit(repo, "topic", {"a.txt": b"topic\n"}, base=base)
    commit(repo, "a.txt", b"mainside\n")
    install(repo)
    write(repo / "b.txt", EDIT)
    pull = ("-c", "pull.rebase=false", "pull", "-q", "--no-autostash", ".", "topic")
    assert git(repo, *pull, rc=None).rc != 0
    write(repo / "a.txt", b"resolved\n")
    git(repo, "add", "-u")
    git(repo, "merge", "--abort")
    (rep,) = git(repo, "checkout", "-q", "-b", "next").reports
    what = "git pull (git merge --abort, or a command run while it was stopped)"
    assert (rep.what, rep.names, rep.exact) == (what, "b.txt", False), rep
    restore(repo, rep)
    assert (repo / "b.txt").read_bytes() == EDIT
