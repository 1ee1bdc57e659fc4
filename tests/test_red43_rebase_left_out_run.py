"""Session 43 (fixS; fixL's "left", session 42, fixI's unsaved4.sh): a left-out file (excluded
from snapshots: only the disk held it) that a rebase run under `git snapshot run` wrote over
before it stopped got no "not saved" line, ever. main tracks x.log, topic does not; the user's
x.log is ignored and excluded. `git snapshot run -- git rebase main`: the rebase's checkout of
main writes main's x.log over the user's, then stops on a conflict in a.txt. Run named only the
left-out files that were gone by then; x.log held git's version. Under run no stopped note is
written (run reports), so the `--abort` that then deletes x.log (plain, or under run, whose
snapshot holds nothing of the user's x.log either) said nothing; nor did
`run -- git rebase --continue`. `run -- git checkout main` over the same file was silent too
(the plain checkout's hook says it).

Now run names a left-out path that a move of HEAD its command made (or a stop it left: a
conflicted pick, merge) wrote or deleted, present or gone, once.

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path

MINE = b"MY SECRET\n"


def on_topic(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """main: .gitignore (*.log) and a.txt committed; topic, made from it, checked out."""
    put_venv_on_path(monkeypatch)
    (repo / ".gitignore").write_bytes(b"*.log\n")
    (repo / "a.txt").write_bytes(b"base\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    git(repo, "checkout", "-qb", "topic")


def _topic(
    repo: Path, monkeypatch: pytest.MonkeyPatch, upstream: bool = False, conflict: bool = True
) -> None:
    """main tracks x.log (ignored by *.log) and changes a.txt (*conflict*; else c.txt);
    topic changes a.txt. On topic, hooked, x.log excluded from snapshots holds the user's
    bytes. *upstream*: topic's upstream is main (`git pull --rebase` rebases onto it)."""
    on_topic(repo, monkeypatch)
    (repo / "a.txt").write_bytes(b"topic\n")
    git(repo, "commit", "-qam", "t2")
    git(repo, "checkout", "-q", "main")
    (repo / ("a.txt" if conflict else "c.txt")).write_bytes(b"main side\n")
    (repo / "x.log").write_bytes(b"from main\n")
    git(repo, "add", "-f", "a.txt" if conflict else "c.txt", "x.log")
    git(repo, "commit", "-qm", "m1")
    git(repo, "checkout", "-q", "topic")
    if upstream:
        git(repo, "config", "branch.topic.remote", ".")
        git(repo, "config", "branch.topic.merge", "refs/heads/main")
    install(repo)
    git(repo, "config", "snapshot.exclude", "x.log")
    (repo / "x.log").write_bytes(MINE)


def _not_saved(repo: Path, name: str = "x.log") -> list[str]:
    out = gs(repo, "losses").out
    return [ln for ln in out.splitlines() if f"not saved: {name}" in ln]


def _said(lines: list[str], name: str = "x.log") -> list[str]:
    return [ln for ln in lines if "not saved" in ln and name in ln]


def _start(repo: Path, under_run: bool, pull: bool = False) -> list[str]:
    """The rebase, stopped on a.txt after its checkout of main wrote over x.log: its lines."""
    cmd = ["git", "pull", "--rebase"] if pull else ["git", "rebase", "main"]
    ran = gs(repo, "run", "--", *cmd, rc=None) if under_run else git(repo, *cmd[1:], rc=None)
    assert ran.rc != 0, ran.err
    assert (repo / "x.log").read_bytes() == b"from main\n"  # git wrote over the user's
    return ran.said


def _end(repo: Path, how: str) -> list[str]:
    """Ends the stopped rebase (*how*), then a hooked command: every line said."""
    said: list[str] = []
    if how in ("continue", "run-continue"):
        (repo / "a.txt").write_bytes(b"resolved\n")
        git(repo, "add", "a.txt")
    words = ["rebase", "--abort" if how.endswith("abort") else "--continue"]
    if how.startswith("run-"):
        said += gs(repo, "run", "--", "git", *words, GIT_EDITOR="true").said
    else:
        said += git(repo, *words, GIT_EDITOR="true").said
    if how.endswith("abort"):
        assert not (repo / "x.log").exists()  # topic has none: the abort deleted main's
    said += git(repo, "checkout", "-q", "-b", "other").said
    return said


ENDS = ["abort", "run-abort", "continue", "run-continue"]


@pytest.mark.parametrize("how", ENDS)
def test_what_a_rebase_under_run_wrote_over_before_its_stop_is_said_at_the_stop(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    _topic(repo, monkeypatch)
    first = _start(repo, under_run=True)
    assert _said(first), first  # run says it when git has written over it: at the stop
    later = _end(repo, how)
    assert not _said(later), later  # and nothing says it again
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out


@pytest.mark.parametrize("how", ENDS)
def test_what_a_plain_rebase_wrote_over_before_its_stop_is_still_said_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The plain rebase (its hooks note it, a later hook or run reports it): once, as before
    (a guard: run's rule must not say it a second time, from its own snapshot)."""
    _topic(repo, monkeypatch)
    first = _start(repo, under_run=False)
    later = _end(repo, how)
    assert len(_said([*first, *later])) == 1, [*first, *later]
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out


@pytest.mark.parametrize("how", ["abort", "run-continue"])
def test_what_a_pull_rebase_under_run_wrote_over_before_its_stop_is_said(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    _topic(repo, monkeypatch, upstream=True)
    first = _start(repo, under_run=True, pull=True)
    assert _said(first), first
    later = _end(repo, how)
    assert not _said(later), later
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out


def test_a_checkout_under_run_that_wrote_over_a_left_out_file_says_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run -- git checkout main`: git writes main's x.log over the user's ignored one; the
    plain checkout's hook says it, run said nothing (x.log is there, git's version)."""
    _topic(repo, monkeypatch)
    ran = gs(repo, "run", "--", "git", "checkout", "-q", "main")
    assert (repo / "x.log").read_bytes() == b"from main\n"
    assert _said(ran.said), ran.err
    back = gs(repo, "run", "--", "git", "checkout", "-q", "topic")  # main's x.log: git's
    assert not (repo / "x.log").exists()
    assert not _said(back.said), back.err
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out


def test_a_left_out_file_no_move_wrote_is_not_said(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """y.log, excluded too, which no commit tracks: the rebase under run never wrote it."""
    _topic(repo, monkeypatch)
    git(repo, "config", "--add", "snapshot.exclude", "y.log")
    (repo / "y.log").write_bytes(MINE)
    first = _start(repo, under_run=True)
    later = _end(repo, "abort")
    assert not _said([*first, *later], "y.log"), [*first, *later]
    assert (repo / "y.log").read_bytes() == MINE
    assert not _not_saved(repo, "y.log"), gs(repo, "losses").out


def test_a_command_that_moves_no_head_names_nothing_new(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run -- make` rewriting an excluded build log: no move of HEAD, nothing git wrote; the
    snapshot says before it runs that the log is left out, and no report follows. Run right
    after a checkout that wrote x.log (its reflog line within the same second): that move is
    not the command's."""
    _topic(repo, monkeypatch)
    git(repo, "checkout", "-q", "main")
    known = _not_saved(repo)
    ran = gs(repo, "run", "--", "sh", "-c", "echo rebuilt > x.log")
    assert (repo / "x.log").read_bytes() == b"rebuilt\n"
    assert not _said(ran.said), ran.err
    assert _not_saved(repo) == known, gs(repo, "losses").out


@pytest.mark.parametrize("how", ["reset", "commit"])
def test_a_move_that_writes_no_file_names_nothing(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """`run -- git reset main` (mixed: HEAD and the index move, the worktree's x.log is the
    user's still) and `run -- git commit` of a force-added excluded file: HEAD moves between
    commits that differ at x.log, and git wrote no file."""
    _topic(repo, monkeypatch)
    if how == "reset":
        ran = gs(repo, "run", "--", "git", "reset", "-q", "main")
    else:
        git(repo, "add", "-f", "x.log")
        ran = gs(repo, "run", "--", "git", "commit", "-qm", "add x.log")
    assert (repo / "x.log").read_bytes() == MINE
    assert not _said(ran.said), ran.err
    assert not _not_saved(repo), gs(repo, "losses").out


@pytest.mark.parametrize("how", ["merge", "cherry-pick"])
def test_what_a_stopped_merge_or_pick_under_run_wrote_over_is_said_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """`run -- git merge main` (or cherry-pick) stops on a.txt having written main's x.log
    over the user's: no move of HEAD, a stop (MERGE_HEAD, CHERRY_PICK_HEAD). Said at the
    stop; the `--abort` under run, which deletes main's x.log (git's), says nothing more."""
    _topic(repo, monkeypatch)
    ran = gs(repo, "run", "--", "git", how, "main", rc=None)
    assert ran.rc != 0, ran.err
    assert (repo / "x.log").read_bytes() == b"from main\n"
    assert _said(ran.said), ran.err
    back = gs(repo, "run", "--", "git", how, "--abort")
    assert not (repo / "x.log").exists()
    assert not _said(back.said), back.err
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out


def test_a_left_out_folder_whose_tracked_files_a_checkout_deletes_is_not_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v/ excluded; main tracks v/t.txt, `other` does not; the user's v/own.txt is in v/ too.
    `run -- git checkout other` deletes v/t.txt (main's version: git's) and keeps own.txt:
    nothing lost. A guard: what a move wrote below a left-out folder counts only where the
    commit HEAD was at has no file."""
    put_venv_on_path(monkeypatch)
    (repo / "a.txt").write_bytes(b"base\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    git(repo, "branch", "other")
    (repo / "v").mkdir()
    (repo / "v" / "t.txt").write_bytes(b"tracked\n")
    git(repo, "add", "v/t.txt")
    git(repo, "commit", "-qm", "v")
    install(repo)
    git(repo, "config", "snapshot.exclude", "/v/")
    (repo / "v" / "own.txt").write_bytes(MINE)
    ran = gs(repo, "run", "--", "git", "checkout", "-q", "other")
    assert not (repo / "v" / "t.txt").exists()
    assert (repo / "v" / "own.txt").read_bytes() == MINE
    assert not [ln for ln in ran.said if "not saved" in ln], ran.err


def test_a_plain_merge_stop_then_an_abort_under_run_says_it_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plain `git merge main` stops (its hook notes it); `run -- git merge --abort`: the
    stopped merge's report names the user's x.log, and run named main's x.log (git's: the
    merge wrote it) that the abort deleted, as a second loss."""
    _topic(repo, monkeypatch)
    assert git(repo, "merge", "main", rc=None).rc != 0
    assert (repo / "x.log").read_bytes() == b"from main\n"
    ran = gs(repo, "run", "--", "git", "merge", "--abort")
    assert not (repo / "x.log").exists()
    assert len(_said(ran.said)) == 1, ran.err
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out


def test_what_a_rebase_under_run_wrote_over_and_kept_is_said(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No stop: the rebase ends on main's x.log (its base tracks it). Run saw x.log there,
    git's version, and said nothing; the post-rewrite under run leaves the report to run."""
    _topic(repo, monkeypatch, conflict=False)
    ran = gs(repo, "run", "--", "git", "rebase", "-q", "main")
    assert (repo / "x.log").read_bytes() == b"from main\n"
    assert _said(ran.said), ran.err
    later = git(repo, "checkout", "-q", "-b", "other").said
    assert not _said(later), later
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out
