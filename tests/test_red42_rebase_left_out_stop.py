"""Session 42 (fixL 2; fixI's "noticed, left alone", session 41): a left-out file (excluded
from snapshots: only the disk held it) that a rebase destroys across a stop got no "not
saved" line. x.log is the user's ignored file; the topic's first pick adds x.log (writing
over it), the rebase stops on a conflict, and after `--continue` a later pick deletes it.
`git snapshot run -- git rebase main` names it "not saved" when nothing stops the rebase
(run sees it deleted); after a stop, run saw x.log still there (git's version by then), and
the post-rewrite of the `--continue` looked only at the paths ORIG_HEAD and HEAD differ at,
which x.log is not: nobody said it. The plain `git rebase main` said nothing either, stop or
not.

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from test_red43_rebase_left_out_run import _topic as main_tracks_x_log
from test_red43_rebase_left_out_run import on_topic

MINE = b"MY SECRET\n"


def _topic(repo: Path, monkeypatch: pytest.MonkeyPatch, stop: bool) -> None:
    """topic: adds x.log (ignored by *.log), changes a.txt, untracks x.log again; main
    changes a.txt too (*stop*: a conflict on topic's second pick) or c.txt. On topic,
    hooked, x.log excluded from snapshots holds the user's bytes."""
    on_topic(repo, monkeypatch)
    (repo / "x.log").write_bytes(b"from topic\n")
    git(repo, "add", "-f", "x.log")
    git(repo, "commit", "-qm", "track x.log")
    (repo / "a.txt").write_bytes(b"topic\n")
    git(repo, "commit", "-qam", "t2")
    git(repo, "rm", "-q", "--cached", "x.log")
    git(repo, "commit", "-qm", "untrack x.log")
    git(repo, "checkout", "-q", "main")
    (repo / ("a.txt" if stop else "c.txt")).write_bytes(b"main side\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "m1")
    git(repo, "checkout", "-q", "topic")
    install(repo)
    git(repo, "config", "snapshot.exclude", "x.log")
    (repo / "x.log").write_bytes(MINE)


def _stopped_then_continued(
    repo: Path, monkeypatch: pytest.MonkeyPatch, under_run: bool
) -> tuple[Ran, Ran]:
    """`git rebase main` (*under_run*: under run) on _topic's stop: its pick wrote over x.log,
    it stops on a.txt, which is resolved; the `--continue` deletes x.log. What each said."""
    _topic(repo, monkeypatch, stop=True)
    if under_run:
        first = gs(repo, "run", "--", "git", "rebase", "main", rc=None)
    else:
        first = git(repo, "rebase", "main", rc=None)
    assert first.rc != 0
    assert (repo / "x.log").read_bytes() == b"from topic\n"  # the pick wrote over it
    (repo / "a.txt").write_bytes(b"resolved\n")
    git(repo, "add", "a.txt")
    ran = git(repo, "rebase", "--continue", GIT_EDITOR="true")
    assert not (repo / "x.log").exists()
    return first, ran


def _not_saved(repo: Path) -> list[str]:
    out = gs(repo, "losses").out
    return [ln for ln in out.splitlines() if "not saved: x.log" in ln]


@pytest.mark.parametrize("under_run", [True, False], ids=["run", "plain"])
def test_a_left_out_file_a_rebase_destroys_across_a_stop_is_said(
    repo: Path, monkeypatch: pytest.MonkeyPatch, under_run: bool
) -> None:
    first, ran = _stopped_then_continued(repo, monkeypatch, under_run)
    # (run says it at the stop, where it sees the pick wrote over it: session 43, fixS)
    said = [*first.said, *ran.said] if under_run else ran.said
    assert [ln for ln in said if "not saved: x.log" in ln], ran.err
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out


def test_a_continue_under_run_says_it_once(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run -- git rebase --continue`: run sees x.log deleted (git's version, then): one
    line, the hook's under run is run's."""
    _topic(repo, monkeypatch, stop=True)
    assert git(repo, "rebase", "main", rc=None).rc != 0
    (repo / "a.txt").write_bytes(b"resolved\n")
    git(repo, "add", "a.txt")
    ran = gs(repo, "run", "--", "git", "rebase", "--continue", GIT_EDITOR="true")
    assert not (repo / "x.log").exists()
    assert [ln for ln in ran.said if "not saved" in ln and "x.log" in ln], ran.err
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out


@pytest.mark.parametrize("under_run", [True, False], ids=["run", "plain"])
def test_a_left_out_file_a_rebase_destroys_without_a_stop_is_said_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch, under_run: bool
) -> None:
    _topic(repo, monkeypatch, stop=False)
    if under_run:
        ran = gs(repo, "run", "--", "git", "rebase", "-q", "main")
    else:
        ran = git(repo, "rebase", "-q", "main")
    assert not (repo / "x.log").exists()
    assert any("not saved: x.log" in ln for ln in ran.said), ran.err
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out


def test_a_left_out_file_no_pick_touched_is_not_said(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """y.log, excluded too, deleted by the user during the stop: no move of the rebase wrote
    or deleted it."""
    _topic(repo, monkeypatch, stop=True)
    git(repo, "config", "--add", "snapshot.exclude", "y.log")
    (repo / "y.log").write_bytes(MINE)
    gs(repo, "-m", "before")
    assert git(repo, "rebase", "main", rc=None).rc != 0
    (repo / "y.log").unlink()
    (repo / "a.txt").write_bytes(b"resolved\n")
    git(repo, "add", "a.txt")
    ran = git(repo, "rebase", "--continue", GIT_EDITOR="true")
    assert not any("y.log" in ln for ln in ran.said), ran.err
    assert "y.log" not in gs(repo, "losses").out


def test_a_left_out_file_the_rebase_wrote_over_then_aborted_is_said(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """main tracks x.log: the rebase's checkout of main writes over the user's, it stops,
    `--abort` goes back to topic (which lacks x.log: deleted). The stopped rebase's report,
    made by the next hook, said nothing of it (stopped._report had no "not saved" part)."""
    main_tracks_x_log(repo, monkeypatch)
    assert git(repo, "rebase", "main", rc=None).rc != 0
    assert (repo / "x.log").read_bytes() == b"from main\n"
    git(repo, "rebase", "--abort")
    ran = git(repo, "checkout", "-q", "-b", "other")
    assert any("not saved: x.log" in ln for ln in ran.said), ran.err
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out
