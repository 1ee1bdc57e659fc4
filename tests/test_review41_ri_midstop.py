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
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write
from stoppedhelpers import SECRET
from stoppedhelpers import hooked_topic
from stoppedhelpers import resolve
from stoppedhelpers import x_and_y_named


def test_an_amend_at_the_stop_leaves_the_user_s_changes_the_user_s(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`git rebase -i main`, its first pick (marked `edit`) adds x.log over the user's;
    at the stop the user deletes z.log, rewrites y.log, `git commit --amend`s, and a
    snapshot is taken (the watcher's, by hand here); `git rebase --continue`: later picks
    add and delete y.log and z.log. Named: x.log (the pick's, from the pre-rebase
    snapshot) and y.log's second version (from the one during the stop), once each; z.log
    nowhere."""
    monkeypatch.setenv("GIT_SEQUENCE_EDITOR", "sed -i 1s/^pick/edit/")
    picks: list[tuple[str, bytes | None]] = [("x.log", b"from topic\n"), ("x.log", None)]
    picks += [("y.log", b"topic's y\n"), ("y.log", None)]
    picks += [("z.log", b"topic's z\n"), ("z.log", None)]
    hooked_topic(repo, monkeypatch, picks)
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
    x_and_y_named(repo, went_on, b"second y\n")


def test_what_the_user_wrote_at_the_first_stop_is_named_when_a_pick_destroys_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebase stopped twice (conflicts), a snapshot at each stop: at the first the user
    writes an ignored y.log (in the snapshot of that stop alone), a pick between the stops
    adds y.log over it, one after the second deletes it. Named: x.log (a pick's before the
    first stop) and y.log, the user's version, once each (was: x.log only)."""
    put_venv_on_path(monkeypatch)
    monkeypatch.setenv("GIT_EDITOR", "true")
    commit(repo, ".gitignore", b"*.log\n")
    commit(repo, "a.txt", b"base\n")
    commit(repo, "b.txt", b"base\n")
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "x.log", b"from topic\n", force=True)
    commit(repo, "a.txt", b"topic\n")
    git(repo, "rm", "-q", "--cached", "x.log")
    git(repo, "commit", "-q", "-m", "untrack x.log")
    commit(repo, "y.log", b"topic's y\n", force=True)
    commit(repo, "b.txt", b"topic\n")
    git(repo, "rm", "-q", "--cached", "y.log")
    git(repo, "commit", "-q", "-m", "untrack y.log")
    git(repo, "checkout", "-q", "main")
    commit(repo, "a.txt", b"mainside\n")
    commit(repo, "b.txt", b"mainside\n")
    git(repo, "checkout", "-q", "topic")
    install(repo)
    write(repo / "x.log", SECRET)
    assert git(repo, "rebase", "main", rc=None).rc != 0
    gs(repo, "create", "-m", "first stop")
    write(repo / "y.log", b"the user's y\n")
    gs(repo, "create", "-m", "first stop, y.log written")
    resolve(repo)
    assert git(repo, "rebase", "--continue", rc=None).rc != 0
    assert (repo / "y.log").read_bytes() == b"topic's y\n"  # the pick wrote over it
    gs(repo, "create", "-m", "second stop")
    resolve(repo, "b.txt")
    went_on = git(repo, "rebase", "--continue")
    assert not (repo / ".git" / "rebase-merge").exists()
    x_and_y_named(repo, went_on, b"the user's y\n")


def test_the_user_s_edits_between_two_snapshots_at_a_stop_are_not_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard for the snapshots taken during the stops: at an `edit` stop the user edits the
    tracked b.txt twice, a snapshot after each, amends; at a conflict stop later, a snapshot
    of the conflict markers, then of the resolution. Named: x.log only."""
    monkeypatch.setenv("GIT_SEQUENCE_EDITOR", "sed -i 1s/^pick/edit/")
    commit(repo, "b.txt", b"base\n")
    hooked_topic(
        repo, monkeypatch, [("x.log", b"from topic\n"), ("a.txt", b"topic\n"), ("x.log", None)]
    )
    git(repo, "rebase", "-i", "main")
    write(repo / "b.txt", b"first edit\n")
    gs(repo, "create", "-m", "first edit")
    write(repo / "b.txt", b"second edit\n")
    gs(repo, "create", "-m", "second edit")
    git(repo, "commit", "-q", "-a", "--amend", "--no-edit")
    assert git(repo, "rebase", "--continue", rc=None).rc != 0  # a.txt's conflict
    gs(repo, "create", "-m", "the markers")
    write(repo / "a.txt", b"resolved\n")
    gs(repo, "create", "-m", "resolved")
    git(repo, "add", "a.txt")
    went_on = git(repo, "rebase", "--continue")
    assert not (repo / ".git" / "rebase-merge").exists()
    assert [r.names for r in went_on.reports] == ["x.log"], went_on.said
