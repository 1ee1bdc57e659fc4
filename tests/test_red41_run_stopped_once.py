"""RED41 R2 F1 and F9: a rebase (or am) stopped by a conflict, and the command that ends it run
under `git snapshot run`, or started under it: one loss, one report.

F1: `git rebase main` overwrote nothing yet and stopped on its first pick; the later picks
add the user's ignored x.log, then delete it. `git snapshot run -- git rebase --continue`
named x.log twice: the stopped rebase's report (its pre-rebase snapshot, consumed by run
after the command) and run's own (its snapshot, taken right before the command that
destroyed it). When the user rewrote x.log during the stop, the first named the pre-rebase
version as exact: restoring it wrote an older version than the one lost, and said nothing.
The same with `run -- git rebase --skip` and `run -- git am --skip`.

F9: `git snapshot run -- git rebase main` named x.log (a pick before the stop overwrote it);
the plain `git rebase --continue` that ended the rebase named it again, from the same
snapshot (post-rewrite compares the snapshot before the rebase with its end).

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import restore
from hookhelpers import write
from stoppedhelpers import SECRET
from stoppedhelpers import hooked_topic
from stoppedhelpers import logged
from stoppedhelpers import naming
from stoppedhelpers import resolve
from stoppedhelpers import stopped_am

EDITED = b"EDITED DURING THE STOP\n"


def _stopped(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """F1's rebase: stopped on its first pick (a.txt), resolved and staged; x.log, the
    user's, is still there, and the later picks add it, then delete it."""
    picks = [("a.txt", b"topic\n"), ("x.log", b"from topic\n"), ("x.log", None)]
    hooked_topic(repo, monkeypatch, picks)
    assert git(repo, "rebase", "main", rc=None).rc != 0
    assert (repo / ".git" / "rebase-merge").is_dir()
    assert (repo / "x.log").read_bytes() == SECRET  # nothing lost yet
    resolve(repo)


def _taken(ran: Ran) -> int:
    """The number of the snapshot `run` took before its command."""
    (line,) = [ln for ln in ran.ours if " taken before: " in ln]
    return int(line.split()[2])


@pytest.mark.parametrize("edited", [False, True], ids=["untouched", "edited-during-the-stop"])
@pytest.mark.parametrize("verb", ["--continue", "--skip"])
def test_run_ending_a_stopped_rebase_names_its_loss_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch, verb: str, edited: bool
) -> None:
    _stopped(repo, monkeypatch)
    lost = EDITED if edited else SECRET
    write(repo / "x.log", lost)
    ran = gs(repo, "run", "--", "git", "rebase", verb)
    assert not (repo / ".git" / "rebase-merge").exists(), ran.err
    assert not (repo / "x.log").exists()
    (named,) = naming(ran.reports, "x.log")  # was: the rebase's (snapshot before it), and run's
    assert (named.snap, named.exact) == (_taken(ran), True), ran.err
    assert logged(repo, "x.log") == [(named.snap, True)]
    restore(repo, named)
    assert (repo / "x.log").read_bytes() == lost


def test_run_am_skip_after_a_stopped_am_names_its_loss_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`git am -3` stopped on its first patch; the second adds x.log over the user's."""
    stopped_am(repo, monkeypatch, tmp_path, [("a.txt", b"topic\n"), ("x.log", b"from the patch\n")])
    assert (repo / ".git" / "rebase-apply").is_dir()
    ran = gs(repo, "run", "--", "git", "am", "--skip")
    assert (repo / "x.log").read_bytes() == b"from the patch\n", ran.err
    (named,) = naming(ran.reports, "x.log")
    assert (named.snap, named.exact) == (_taken(ran), True), ran.err
    assert logged(repo, "x.log") == [(named.snap, True)]
    restore(repo, named)
    assert (repo / "x.log").read_bytes() == SECRET


def test_a_version_the_rebase_destroyed_before_its_stop_is_named_too(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two losses of one path: a pick before the stop wrote over the user's x.log (the rebase
    took it and deleted it again), the user wrote a new x.log during the stop, and the
    continue wrote over that one. Each is named, from the snapshot that holds it."""
    hooked_topic(
        repo,
        monkeypatch,
        [
            ("x.log", b"from topic\n"),
            ("x.log", None),
            ("a.txt", b"topic\n"),
            ("x.log", b"from topic, again\n"),
            ("x.log", None),
        ],
    )
    assert git(repo, "rebase", "main", rc=None).rc != 0
    assert not (repo / "x.log").exists()  # the first loss: SECRET
    resolve(repo)
    write(repo / "x.log", EDITED)
    ran = gs(repo, "run", "--", "git", "rebase", "--continue")
    assert not (repo / "x.log").exists(), ran.err
    named = naming(ran.reports, "x.log")
    assert len(named) == 2, ran.err
    got = []
    for report in named:
        restore(repo, report)
        got.append((repo / "x.log").read_bytes())
    assert got == [SECRET, EDITED]


def test_a_loss_run_named_at_the_stop_is_not_named_again_at_the_continue(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F9: `run -- git rebase main` names x.log (its first pick wrote over it, before the
    stop); the plain `git rebase --continue` then must not name it again."""
    picks = [("x.log", b"from topic\n"), ("a.txt", b"topic\n"), ("x.log", None)]
    hooked_topic(repo, monkeypatch, picks)
    ran = gs(repo, "run", "--", "git", "rebase", "main", rc=None)
    assert (repo / ".git" / "rebase-merge").is_dir(), ran.err
    (named,) = naming(ran.reports, "x.log")
    assert (named.snap, named.exact) == (_taken(ran), True), ran.err
    resolve(repo)
    went_on = git(repo, "rebase", "--continue")
    assert not (repo / ".git" / "rebase-merge").exists()
    assert not (repo / "x.log").exists()
    assert naming(went_on.reports, "x.log") == [], went_on.err
    assert logged(repo, "x.log") == [(named.snap, True)]
    restore(repo, named)
    assert (repo / "x.log").read_bytes() == SECRET
