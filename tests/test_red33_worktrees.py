"""RED33 (red team A, findings 1 and 4): a linked worktree's history went by its path alone.

A1: after `git worktree move`, the moved worktree had no snapshots and no loss reports of its
own, and a `git checkout b` there that overwrote the ignored `.env` saved before the move was
not reported (its snapshots stayed at the old path: the hook compared with nothing).

A4: a `git worktree add` at the path of a worktree removed earlier (with `run`, reported) was
blamed for the old worktree's edit ("git worktree destroyed 1 file with uncommitted edits"),
and `undo` in the new worktree wrote the old branch's edit over the new branch's file.

A linked worktree is one through git's moves (its admin dir, `.git/worktrees/<name>`, goes
with it) and a new one at a reused path is another: its history follows the first and does
not take the second's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import write


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """.env ignored on main, tracked on b (as FROM BRANCH B)."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n*.log\n")
    commit(repo, "a.txt", b"a\n")
    git(repo, "checkout", "-q", "-b", "b")
    commit(repo, ".env", b"FROM BRANCH B\n", force=True)
    git(repo, "checkout", "-q", "main")
    install(repo)
    return repo


def _ids(wt: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(wt, "list", "--json"))]


def _lost(wt: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(wt, "losses", "--json"))]


def test_a_worktree_moved_by_git_keeps_its_history_and_reports(hooked: Path) -> None:
    r = hooked
    wt1, wt2 = r.parent / "wt1", r.parent / "wt2"
    git(r, "worktree", "add", "-q", str(wt1), "-b", "w")
    write(wt1 / ".env", b"MY=secret\n")
    write(wt1 / "build.log", b"x\n")
    gs(wt1, "run", "--", "git", "clean", "-fdX", "-e", "!.env")  # a first report in wt1
    n = json.loads(gs(wt1, "create", "-m", "before the move", "--json"))["id"]
    mine = _ids(wt1)
    git(r, "worktree", "move", str(wt1), str(wt2))
    assert _ids(wt2) == mine
    assert _lost(wt2) == [["build.log"]]
    ran = git(wt2, "checkout", "-q", "b")
    (rep,) = ran.reports
    assert (rep.what, rep.names, rep.snap) == ("git checkout", ".env", n), ran.said
    assert _lost(wt2) == [["build.log"], [".env"]]
    gs(wt2, "undo")
    assert (wt2 / ".env").read_bytes() == b"MY=secret\n"


def test_moved_twice_and_listed_between(hooked: Path) -> None:
    """A `list` (which only reads) in between: the history follows both moves."""
    r = hooked
    a, b, c = (r.parent / n for n in ("wa", "wb", "wc"))
    git(r, "worktree", "add", "-q", str(a), "-b", "w")
    write(a / ".env", b"MY=secret\n")
    n = json.loads(gs(a, "create", "--json"))["id"]
    git(r, "worktree", "move", str(a), str(b))
    assert n in _ids(b)
    git(r, "worktree", "move", str(b), str(c))
    assert n in _ids(c)
    (rep,) = git(c, "checkout", "-q", "b").reports
    assert (rep.names, rep.snap) == (".env", n)
    restore(c, rep)
    assert (c / ".env").read_bytes() == b"MY=secret\n"


def test_a_worktree_added_where_one_was_removed_starts_afresh(hooked: Path) -> None:
    r = hooked
    git(r, "branch", "x")
    git(r, "branch", "y")
    hotfix = r.parent / "hotfix"
    git(r, "worktree", "add", "-q", str(hotfix), "x")
    write(hotfix / "a.txt", b"a\nEDIT made in hotfix on x\n")
    write(hotfix / "build.log", b"x\n")
    gs(hotfix, "run", "--", "git", "clean", "-fdX")  # a report of the old worktree's own
    assert _lost(hotfix) == [["build.log"]]
    gs(hotfix, "-m", "edit")
    ran = gs(r, "run", "--", "git", "worktree", "remove", "--force", str(hotfix))
    assert "removed the worktree" in ran.err, ran.err
    ran = git(r, "worktree", "add", "-q", str(hotfix), "y")
    assert not ran.reports and "destroyed" not in ran.err, ran.said
    assert _lost(hotfix) == []
    assert gs(hotfix, "undo", rc=None).rc != 0
    assert (hotfix / "a.txt").read_bytes() == b"a\n"
    # its own history from here on: a loss of what it held is named against its snapshot
    write(hotfix / ".env", b"NEW=1\n")
    n = json.loads(gs(hotfix, "create", "--json"))["id"]
    (rep,) = git(hotfix, "checkout", "-q", "b").reports
    assert (rep.names, rep.snap) == (".env", n)


def test_a_worktree_older_than_its_file_keeps_its_snapshots(hooked: Path) -> None:
    """A worktree made before the file existed (none in its admin dir) is no new one."""
    r = hooked
    wt = r.parent / "old"
    git(r, "worktree", "add", "-q", str(wt), "-b", "w")
    write(wt / ".env", b"MY=secret\n")
    n = json.loads(gs(wt, "create", "--json"))["id"]
    admin = Path(git(wt, "rev-parse", "--absolute-git-dir").out.strip())
    (admin / "git-snapshot-worktree").unlink(missing_ok=True)
    (rep,) = git(wt, "checkout", "-q", "b").reports
    assert (rep.names, rep.snap) == (".env", n)


def test_a_new_worktree_at_the_old_place_keeps_its_own(hooked: Path) -> None:
    """Moved away, then a new worktree added at the old place before any command ran in
    the moved one: each keeps its own snapshots."""
    r = hooked
    wt1, wt2 = r.parent / "wt1", r.parent / "wt2"
    git(r, "worktree", "add", "-q", str(wt1), "-b", "w")
    write(wt1 / ".env", b"MY=secret\n")
    n = json.loads(gs(wt1, "create", "--json"))["id"]
    mine = _ids(wt1)
    git(r, "worktree", "move", str(wt1), str(wt2))
    ran = git(r, "worktree", "add", "-q", str(wt1), "-b", "w2")
    assert not ran.reports, ran.said
    theirs = json.loads(gs(wt1, "create", "--json"))["id"]
    assert _ids(wt2) == mine
    assert theirs in _ids(wt1) and n not in _ids(wt1)
    (rep,) = git(wt2, "checkout", "-q", "b").reports
    assert (rep.names, rep.snap) == (".env", n)
