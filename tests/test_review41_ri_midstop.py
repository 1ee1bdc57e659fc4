"""Review RI (session 41) of fixI's cc8bfa9: post-rewrite compares the stopped rebase's own
snapshot too, when a snapshot was taken during its stop (stopped.held_since), and leaves out
what the user changed during the stop: a path the snapshot during the stop holds as an
untracked or ignored file of another version, or lacks, that none of the rebase's moves
before it wrote (stopped._wrote_before).

The user's own commit at the stop (`git commit --amend` at an `edit`, the usual reason to
stop there) moves HEAD to a commit that is none of the rebase's moves: _wrote_before said
"not known", nothing was left out, and the user's own deletion (z.log) and the version they
had replaced themselves (y.log's first) were named as the rebase's losses, y.log twice.

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import Report
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import write

SECRET = b"MY SECRET\n"


def _naming(ran: Ran, name: str) -> list[Report]:
    return [r for r in ran.reports if name in r.names.split(", ")]


def _topic(repo: Path, picks: list[tuple[str, bytes | None]]) -> None:
    """main: a.txt 'mainside'; topic (checked out): *picks* (rel, data; None: untrack and
    delete it), each forced past .gitignore."""
    commit(repo, ".gitignore", b"*.log\n")
    commit(repo, "a.txt", b"base\n")
    git(repo, "checkout", "-q", "-b", "topic")
    for rel, data in picks:
        if data is None:
            git(repo, "rm", "-q", "--cached", rel)
            git(repo, "commit", "-q", "-m", f"untrack {rel}")
            (repo / rel).unlink()
        else:
            commit(repo, rel, data, force=True)
    git(repo, "checkout", "-q", "main")
    commit(repo, "a.txt", b"mainside\n")
    git(repo, "checkout", "-q", "topic")


def test_an_amend_at_the_stop_leaves_the_user_s_changes_the_user_s(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`git rebase -i main`, its first pick (marked `edit`) adds x.log over the user's;
    at the stop the user deletes z.log, rewrites y.log, `git commit --amend`s, and a
    snapshot is taken (the watcher's, by hand here); `git rebase --continue`: later picks
    add and delete y.log and z.log. Named: x.log (the pick's, from the pre-rebase
    snapshot) and y.log's second version (from the one during the stop), once each; z.log
    nowhere."""
    put_venv_on_path(monkeypatch)
    monkeypatch.setenv("GIT_EDITOR", "true")
    monkeypatch.setenv("GIT_SEQUENCE_EDITOR", "sed -i 1s/^pick/edit/")
    picks: list[tuple[str, bytes | None]] = [("x.log", b"from topic\n"), ("x.log", None)]
    picks += [("y.log", b"topic's y\n"), ("y.log", None)]
    picks += [("z.log", b"topic's z\n"), ("z.log", None)]
    _topic(repo, picks)
    install(repo)
    write(repo / "x.log", SECRET)
    write(repo / "y.log", b"first y\n")
    write(repo / "z.log", b"the user's z\n")
    git(repo, "rebase", "-i", "main")
    assert (repo / ".git" / "rebase-merge").is_dir()
    assert (repo / "x.log").read_bytes() == b"from topic\n"  # the pick wrote over it
    write(repo / "y.log", b"second y\n")
    (repo / "z.log").unlink()
    git(repo, "commit", "-q", "--amend", "-m", "x.log, amended")
    gs(repo, "create", "-m", "during the stop")
    went_on = git(repo, "rebase", "--continue")
    assert not (repo / ".git" / "rebase-merge").exists()
    # was: x.log, y.log twice (its first version too, which the user replaced), z.log
    assert sorted(n for r in went_on.reports for n in r.names.split(", ")) == [
        "x.log",
        "y.log",
    ], went_on.said
    (y,) = _naming(went_on, "y.log")
    restore(repo, y)
    assert (repo / "y.log").read_bytes() == b"second y\n"
    (x,) = _naming(went_on, "x.log")
    restore(repo, x)
    assert (repo / "x.log").read_bytes() == SECRET
