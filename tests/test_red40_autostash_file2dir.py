"""RED40 F1: a tracked file replaced by a folder that holds a new (untracked) file, then `git
rebase --autostash` (or `git pull --rebase --autostash`). git's autostash (a `git stash`,
run before pre-rebase) records no change there (git 2.39: the stash's tree keeps the file),
then its `reset --hard` writes the file back and deletes the folder with the untracked file
in it. The file was in the snapshot taken before, but no report named it. pre-rebase now
compares that snapshot below each path git wrote over a folder, and names what is gone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import snaps
from hookhelpers import write

WORK = b"my new work\n"


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """x.csv and a.txt committed on main, a commit on main and one on feat since; hooks in."""
    put_venv_on_path(monkeypatch)
    commit(repo, "x.csv", b"x v0\n")
    base = commit(repo, "a.txt", b"a\n")
    side_commit(repo, "feat", {"b.txt": b"b\n"}, base=base)
    commit(repo, "a.txt", b"a2\n")
    install(repo)
    return repo


def _folder_over_file(repo: Path) -> int:
    """x.csv, a tracked file, made a folder holding a new file; saved by `git snapshot`,
    whose id is returned."""
    (repo / "x.csv").unlink()
    write(repo / "x.csv" / "inner.txt", WORK)
    gs(repo, "-m", "saved before")
    return int(snaps(repo)[-1]["id"])


@pytest.mark.parametrize("how", ["rebase", "pull", "merge", "pull-merge"])
def test_autostash_deleting_a_folder_over_a_tracked_file_is_reported(
    hooked: Path, how: str
) -> None:
    saved = _folder_over_file(hooked)
    args = {
        "rebase": ["rebase", "--autostash", "feat"],
        "pull": ["pull", "--rebase", "--autostash", ".", "feat"],
        "merge": ["merge", "--autostash", "--no-edit", "feat"],
        "pull-merge": ["pull", "--no-rebase", "--autostash", "--no-edit", ".", "feat"],
    }[how]
    ran = git(hooked, *args)
    assert (hooked / "x.csv").is_file()  # git's reset put the file back: the folder is gone
    assert [r.names for r in ran.reports] == ["x.csv/inner.txt"], ran.err
    (rep,) = ran.reports
    assert "untracked" in rep.kinds and rep.snap == saved, rep
    assert named_lost(hooked) == ["x.csv/inner.txt"]
    # undo gives it back (the file git put back is moved aside by restore's own rules, or
    # the restore writes the folder where the apply left nothing)
    git(hooked, "rm", "-q", "--cached", "x.csv")
    (hooked / "x.csv").unlink()
    gs(hooked, "undo")
    assert (hooked / "x.csv" / "inner.txt").read_bytes() == WORK


def test_a_folder_the_user_emptied_before_the_snapshot_is_not_named(hooked: Path) -> None:
    """No false report: the folder was gone (the file back) before the snapshot was taken;
    the autostash (of another edit) wrote nothing at x.csv."""
    _folder_over_file(hooked)
    git(hooked, "checkout", "--", "x.csv")  # (post-checkout reports the discard: not ours)
    write(hooked / "a.txt", b"edited\n")
    gs(hooked, "-m", "after")
    before = len(named_lost(hooked))
    ran = git(hooked, "rebase", "--autostash", "feat")
    assert ran.reports == [], ran.err
    assert len(named_lost(hooked)) == before
    assert (hooked / "a.txt").read_bytes() == b"edited\n"


def test_an_autostash_of_plain_edits_reports_nothing(hooked: Path) -> None:
    write(hooked / "a.txt", b"edited\n")
    write(hooked / "new.txt", b"untracked\n")
    gs(hooked, "-m", "before")
    ran = git(hooked, "rebase", "--autostash", "feat")
    assert ran.reports == [], ran.err
    assert json.loads(gs(hooked, "losses", "--json").out) == []


def test_under_run_the_loss_is_named_once(hooked: Path) -> None:
    """`git snapshot run -- git rebase --autostash` reports it itself: the hook does not."""
    _folder_over_file(hooked)
    ran = gs(hooked, "run", "--", "git", "rebase", "--autostash", "feat")
    assert [r.names for r in ran.reports] == ["x.csv/inner.txt"], ran.err
    assert named_lost(hooked) == ["x.csv/inner.txt"]


def test_plain_git_stash_needs_run_and_the_losses_hint_says_so(hooked: Path) -> None:
    """A plain `git stash` does the same (no hook runs): `losses` lists `git stash` among the
    commands that report nothing by themselves; under `run` it is named."""
    saved = _folder_over_file(hooked)
    git(hooked, "stash", "-q")
    assert (hooked / "x.csv").is_file()
    out = gs(hooked, "losses").out
    assert "no loss reports" in out and "git stash, git stash drop" in out, out
    git(hooked, "stash", "pop", "-q")
    (hooked / "x.csv").unlink()
    gs(hooked, "restore", str(saved), "x.csv/inner.txt")
    ran = gs(hooked, "run", "--", "git", "stash", "-q")
    assert [r.names for r in ran.reports] == ["x.csv/inner.txt"], ran.err
