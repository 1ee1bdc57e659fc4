"""`git cherry-pick` and `git revert` over an ignored file (red44 F5).

A picked (or reverted) commit that tracks a path where the user has an ignored file writes
over it, as a merge does, and nothing was said: no hook before, and the post-commit hook was
installed only with snapshot.postCommit. git runs post-commit after each commit a pick or a
revert makes (HEAD's reflog's last line says "cherry-pick: " / "revert: "): the shim, now
always installed, runs the hook for those, which compares with the latest earlier snapshot
as post-checkout does ("an earlier version ... is in snapshot N"). An ordinary commit stays
silent, with no snapshot, when snapshot.postCommit is off.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import snaps

SECRET = b"MY SECRET\n"
THEIRS = b"tracked on b\n"


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* with `.gitignore: *.env`, a branch b whose commit tracks a.env, back on main,
    the hooks installed as a user does (`git snapshot install`, postCommit off)."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"*.env\n")
    git(repo, "switch", "-q", "-c", "b")
    commit(repo, "a.env", THEIRS, msg="b: track a.env", force=True)
    commit(repo, "other.txt", b"other\n", msg="b: other")
    git(repo, "switch", "-q", "main")
    ran = gs(repo, "install")
    assert "post-commit: installed" in ran.out, ran
    return repo


def _secret_saved(repo: Path) -> None:
    (repo / "a.env").write_bytes(SECRET)
    gs(repo, "-m", "holds the secret")


def _reported_and_restored(repo: Path, ran: Ran, what: str) -> None:
    (rep,) = ran.reports
    assert (rep.what, rep.names, rep.exact) == (what, "a.env", False), ran
    assert (repo / "a.env").read_bytes() == THEIRS
    (repo / "a.env").unlink()
    restore(repo, rep)
    assert (repo / "a.env").read_bytes() == SECRET


def test_cherry_pick_over_an_ignored_file_is_reported(hooked: Path) -> None:
    _secret_saved(hooked)
    ran = git(hooked, "cherry-pick", "b~1")
    _reported_and_restored(hooked, ran, "git cherry-pick")


def test_cherry_pick_of_a_range_reports_the_pick_that_wrote(hooked: Path) -> None:
    _secret_saved(hooked)
    ran = git(hooked, "cherry-pick", "main..b")
    _reported_and_restored(hooked, ran, "git cherry-pick")
    assert (hooked / "other.txt").read_bytes() == b"other\n"


def test_revert_of_a_deletion_over_an_ignored_file_is_reported(hooked: Path) -> None:
    git(hooked, "merge", "-q", "--ff-only", "b")
    git(hooked, "rm", "-q", "a.env")
    git(hooked, "commit", "-q", "-m", "untrack a.env")
    _secret_saved(hooked)  # ignored again: what the revert writes over
    ran = git(hooked, "revert", "--no-edit", "HEAD")
    _reported_and_restored(hooked, ran, "git revert")


def test_an_ordinary_commit_prints_nothing_and_takes_no_snapshot(hooked: Path) -> None:
    _secret_saved(hooked)
    count = len(snaps(hooked))
    (hooked / "c.txt").write_bytes(b"c\n")
    git(hooked, "add", "c.txt")
    ran = git(hooked, "commit", "-q", "-m", "c")
    assert "git-snapshot" not in ran.out + ran.err, ran
    assert len(snaps(hooked)) == count


def test_a_pick_that_writes_over_nothing_names_nothing(hooked: Path) -> None:
    gs(hooked, "-m", "before")
    ran = git(hooked, "cherry-pick", "b")
    assert not ran.reports, ran
    assert "git-snapshot" in ran.err  # its one line


def test_a_pick_stopped_by_a_conflict_is_reported_when_its_commit_is_made(
    hooked: Path,
) -> None:
    """The pick writes a.env and stops on c.txt; post-commit runs only when the resolution is
    committed (`--continue`: HEAD's reflog says "commit (cherry-pick): ")."""
    commit(hooked, "c.txt", b"main\n")
    git(hooked, "switch", "-q", "-c", "c", "b~2")
    (hooked / "c.txt").write_bytes(b"c\n")
    (hooked / "a.env").write_bytes(THEIRS)
    git(hooked, "add", "-f", "c.txt", "a.env")
    git(hooked, "commit", "-q", "-m", "c: c.txt and a.env")
    git(hooked, "switch", "-q", "main")
    _secret_saved(hooked)
    ran = git(hooked, "cherry-pick", "c", rc=1)
    assert not ran.reports, ran  # stopped: no commit, no hook
    assert (hooked / "a.env").read_bytes() == THEIRS
    (hooked / "c.txt").write_bytes(b"resolved\n")
    git(hooked, "add", "c.txt")
    ran = git(hooked, "cherry-pick", "--continue", GIT_EDITOR="true")
    (rep,) = ran.reports
    assert (rep.names, rep.exact) == ("a.env", False), ran
    (hooked / "a.env").unlink()
    restore(hooked, rep)
    assert (hooked / "a.env").read_bytes() == SECRET


def test_doctor_names_the_post_commit_hook(hooked: Path) -> None:
    out = gs(hooked, "doctor", rc=None).out
    (line,) = [x for x in out.splitlines() if x.startswith("post-commit:")]
    assert "a loss report after a cherry-pick or a revert" in line, out
    git(hooked, "config", "snapshot.postCommit", "true")  # after install: not asked yet
    ran = gs(hooked, "doctor", rc=None)
    assert "takes no snapshot after an ordinary commit: run git snapshot install again" in ran.out
    assert ran.rc == 1
    gs(hooked, "install")
    assert "a snapshot after every commit" in gs(hooked, "doctor", rc=None).out
