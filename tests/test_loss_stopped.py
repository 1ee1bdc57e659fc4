"""A merge, pull or rebase stopped by a conflict fires no hook after it (nor does its
--abort, nor the commit that concludes it): what it overwrote is reported by the next hook of
another git command, or the next git-snapshot command, in that worktree (stopped.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import COMMITTED
from hookhelpers import SECRET
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore_env
from hookhelpers import write


@pytest.fixture
def clone(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone ignoring .env whose upstream then commits .env and a conflicting c.txt."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    commit(repo, "c.txt", b"base\n")
    commit(repo, "sub/keep.txt", b"keep\n")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(repo), str(work))
    install(work)
    commit(repo, ".env", COMMITTED, force=True)
    commit(repo, "c.txt", b"theirs\n")
    commit(work, "c.txt", b"mine\n")
    write(work / ".env", SECRET)
    return work


@pytest.mark.parametrize(
    ("pull", "abort"),
    [(["pull", "-q", "--no-rebase"], ["merge", "--abort"]), (["pull", "-q", "--rebase"], None)],
)
def test_a_pull_stopped_by_a_conflict_is_reported_by_the_next_command(
    clone: Path, pull: list[str], abort: list[str] | None
) -> None:
    stopped = git(clone, *pull, rc=None)
    assert stopped.rc != 0 and stopped.reports == []  # no hook runs after the conflict
    git(clone, *(abort or ["rebase", "--abort"]))
    assert not (clone / ".env").exists()
    ran = run(clone / "sub", "sh", "-c", "git checkout -q -b next")
    (rep,) = ran.reports
    assert rep.names == "../.env" and rep.what in ("git pull", "git rebase")
    restore_env(clone, rep, cwd=clone / "sub")
    assert gs(clone, "list").reports == []  # once
    assert len([e for e in gs(clone, "losses", "--json").out.split('"snapshot"')]) == 2


def test_a_stopped_merge_is_reported_by_the_next_git_snapshot_command(clone: Path) -> None:
    git(clone, "fetch", "-q")
    git(clone, "merge", "-q", "origin/HEAD", rc=None)
    assert (clone / ".env").read_bytes() == COMMITTED
    (rep,) = gs(clone, "list").reports
    assert (rep.what, rep.names) == ("git merge", ".env")


def test_nothing_lost_nothing_said(clone: Path) -> None:
    """The stopped merge overwrote no file git cannot give back; a merge that ends with its
    post-hook leaves no note behind."""
    (clone / ".env").unlink()
    git(clone, "pull", "-q", "--no-rebase", rc=None)
    git(clone, "merge", "--abort")
    assert git(clone, "checkout", "-q", "-b", "next").reports == []
    git(clone, "checkout", "-q", "-b", "clean", "origin/HEAD~1")
    git(clone, "merge", "-q", "origin/HEAD")
    assert not (clone / ".git" / "git-snapshot-pending").exists()


def test_a_checkout_over_an_ignored_file_is_reported_exactly_once(clone: Path) -> None:
    """Across the checkout and the next two git commands (a merge that succeeds, a checkout),
    and a git-snapshot command: one report, one entry in the loss log."""
    git(clone, "fetch", "-q")
    git(clone, "checkout", "-q", "-b", "B", "origin/HEAD")  # brings .env over ours
    git(clone, "checkout", "-q", "-")
    write(clone / ".env", SECRET)
    gs(clone, "create")
    first = git(clone, "checkout", "-q", "B")
    assert [r.names for r in first.reports] == [".env"]
    git(clone, "checkout", "-q", "-b", "C")
    git(clone, "commit", "-q", "--allow-empty", "-m", "empty")
    git(clone, "checkout", "-q", "B")
    assert git(clone, "merge", "-q", "C").reports == []  # a fast-forward
    assert git(clone, "checkout", "-q", "C").reports == []
    assert gs(clone, "list").reports == []
    entries = gs(clone, "losses", "--json").out
    assert entries.count('"snapshot"') == 1


def test_a_path_the_next_command_also_overwrites_is_named_once(clone: Path) -> None:
    git(clone, "pull", "-q", "--no-rebase", rc=None)
    git(clone, "merge", "--abort")
    ran = git(clone, "checkout", "-q", "-b", "B", "origin/HEAD")  # writes .env again
    assert [(r.what, r.names) for r in ran.reports] == [("git pull", ".env")]


def test_a_rebase_stopped_then_continued_is_reported_once(clone: Path) -> None:
    """A git-snapshot command while the rebase is stopped leaves it to post-rewrite, which
    runs once `rebase --continue` ends: one report, not one there and one here."""
    git(clone, "pull", "-q", "--rebase", rc=None)
    assert gs(clone, "list").reports == []
    write(clone / "c.txt", b"resolved\n")
    git(clone, "add", "c.txt")
    ran = git(clone, "rebase", "--continue", GIT_EDITOR="true")
    assert [r.names for r in ran.reports] == [".env"]
    assert gs(clone, "losses", "--json").out.count('"snapshot"') == 1
