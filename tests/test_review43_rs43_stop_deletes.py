"""Review RS43 of fixS (session 43): run now names a left-out path that a stop its command
left wrote at: the stopped pick's paths (REBASE_HEAD, CHERRY_PICK_HEAD against its parent).

1. The paths a pick deletes were among them. The user's .env-like x.log (ignored, excluded) was
committed by mistake, and both branches untracked it again (`git rm --cached`); topic's
commit that did so also changes a.txt, as main does. `run -- git cherry-pick topic` (or
`run -- git rebase main`, stopped on that commit) stops on a.txt, x.log untouched (HEAD has
none to delete): run said "not saved: x.log, excluded by snapshot.exclude" of the user's
file, which still holds his bytes.

2. A rebase stops, leaving REBASE_HEAD, on a pick that adds x.log where the user's untracked
x.log (excluded, not ignored) is: git refuses to write over it ("untracked working tree
files would be overwritten"), and run said "not saved: x.log" of the file git never touched.

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path

MINE = b"MY SECRET\n"


def _repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """init tracks x.log (ignored by *.log); main and topic each untrack it and change a.txt;
    topic has one more commit (c.txt). On main, hooked, x.log excluded holds the user's."""
    put_venv_on_path(monkeypatch)
    (repo / ".gitignore").write_bytes(b"*.log\n")
    (repo / "a.txt").write_bytes(b"base\n")
    (repo / "x.log").write_bytes(b"old\n")
    git(repo, "add", "-f", ".gitignore", "a.txt", "x.log")
    git(repo, "commit", "-qm", "init")
    git(repo, "checkout", "-qb", "topic")
    git(repo, "rm", "-q", "--cached", "x.log")
    (repo / "a.txt").write_bytes(b"topic\n")
    git(repo, "commit", "-qam", "untrack x.log")
    commit(repo, "c.txt", b"c\n", "c")
    git(repo, "checkout", "-q", "main")
    git(repo, "rm", "-q", "--cached", "x.log")
    (repo / "a.txt").write_bytes(b"main side\n")
    git(repo, "commit", "-qam", "untrack x.log too")
    install(repo)
    git(repo, "config", "snapshot.exclude", "x.log")
    (repo / "x.log").write_bytes(MINE)


@pytest.mark.parametrize("how", ["cherry-pick", "rebase"])
def test_a_file_a_stopped_pick_deletes_where_head_has_none_is_not_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    _repo(repo, monkeypatch)
    if how == "rebase":
        git(repo, "checkout", "-q", "topic")
        ran = gs(repo, "run", "--", "git", "rebase", "main", rc=None)
    else:
        ran = gs(repo, "run", "--", "git", "cherry-pick", "topic~1", rc=None)
    assert ran.rc != 0, ran.err  # stopped on a.txt
    assert (repo / "x.log").read_bytes() == MINE
    assert not [ln for ln in ran.said if "not saved" in ln], ran.err
    assert "not saved" not in gs(repo, "losses").out


def test_a_left_out_file_a_stopped_pick_refused_to_write_over_is_not_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """topic: T1 (t.txt), T2 adds x.log; main: c.txt. On T1 (its own branch), the user's
    x.log is untracked, excluded, not ignored. `run -- git rebase --onto main topic~1 topic`
    checks out main, and stops on T2: git will not write over x.log."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"base\n", "init")
    git(repo, "checkout", "-qb", "topic")
    commit(repo, "t.txt", b"t\n", "T1")
    commit(repo, "x.log", b"from topic\n", "T2: add x.log")
    git(repo, "checkout", "-q", "main")
    commit(repo, "c.txt", b"c\n", "M")
    git(repo, "checkout", "-qb", "work", "topic~1")
    install(repo)
    git(repo, "config", "snapshot.exclude", "x.log")
    (repo / "x.log").write_bytes(MINE)
    ran = gs(repo, "run", "--", "git", "rebase", "--onto", "main", "topic~1", "topic", rc=None)
    assert ran.rc != 0, ran.err
    assert (repo / ".git" / "REBASE_HEAD").exists()  # stopped on T2
    assert (repo / "x.log").read_bytes() == MINE
    assert not [ln for ln in ran.said if "not saved" in ln], ran.err
    assert "not saved" not in gs(repo, "losses").out
