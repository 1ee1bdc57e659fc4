"""Review RF5 of fixF5 (red44 F5: cherry-pick and revert get a post-commit report).

1. A pick stopped by a conflict and then committed (`git commit`, HEAD's reflog says "commit
   (cherry-pick): "): what the user edited and `git add`ed during the stop, an untracked
   file the snapshot before held in an earlier version, was named "destroyed" by the commit.
   git never writes over an untracked file no ignore rule matches (it refuses the pick), so
   a pick's report names ignored files only.
2. `git cherry-pick --ff` that fast-forwards makes no commit and runs no post-commit: the
   ignored file it writes over is named nowhere, while README's table said cherry-pick is
   reported; it is now in the **none** row and the no-hook list `losses` and `undo` give.
3. Each pick of `cherry-pick A..B` ran the hook's snapshot, ~0.3 s a pick on 300 files (10
   picks: 3.4 s, 0.3 s without): a pick that adds no file writes over none, and takes none
   now (snapshot.postCommit still asks for one).
4. hooks.picked and the shim read the last line of HEAD's reflog alone: a commit whose
   subject says "cherry-pick: " or "revert: " is an ordinary one (no line, no snapshot); no
   reflog, an empty one, or a last line with no newline after it are read as git left them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import snaps

from git_snapshot import hooks
from git_snapshot.commands.losses import NO_HOOK_COMMANDS

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* with `.gitignore: *.env`, c.txt changed on main and on b (a pick of b stops),
    b adding a.env; the hooks installed as a user does."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"*.env\n")
    commit(repo, "c.txt", b"base\n")
    git(repo, "switch", "-q", "-c", "b")
    (repo / "a.env").write_bytes(b"tracked on b\n")
    git(repo, "add", "-f", "a.env")
    commit(repo, "c.txt", b"b\n", msg="b")
    git(repo, "switch", "-q", "main")
    commit(repo, "c.txt", b"main\n", msg="main")
    gs(repo, "install")
    return repo


def test_a_stopped_pick_s_commit_names_no_file_the_user_added_during_the_stop(
    hooked: Path,
) -> None:
    (hooked / "notes.txt").write_bytes(b"my notes v1\n")
    (hooked / "a.env").write_bytes(b"MY SECRET\n")
    gs(hooked, "-m", "before the pick")
    git(hooked, "cherry-pick", "b", rc=1)  # stops on c.txt, a.env written
    (hooked / "c.txt").write_bytes(b"resolved\n")
    (hooked / "notes.txt").write_bytes(b"my notes v2\n")  # the user's own edit, added
    git(hooked, "add", "c.txt", "notes.txt")
    ran = git(hooked, "commit", "-q", "--no-edit")
    (rep,) = ran.reports
    assert (rep.names, rep.kinds) == ("a.env", "1 ignored file"), ran  # not notes.txt


def test_a_commit_whose_subject_says_cherry_pick_is_an_ordinary_commit(hooked: Path) -> None:
    gs(hooked, "-m", "before")
    count = len(snaps(hooked))
    for msg in ("cherry-pick: x", "revert: y", "commit (cherry-pick): z", "x\tcherry-pick: y"):
        ran = git(hooked, "commit", "-q", "--allow-empty", "-m", msg)
        assert "git-snapshot" not in ran.out + ran.err, (msg, ran)
        assert hooks.picked(str(hooked / ".git")) is None, msg
    assert len(snaps(hooked)) == count


def test_picked_reads_the_reflog_as_git_left_it(hooked: Path) -> None:
    git_dir = hooked / ".git"
    log = git_dir / "logs" / "HEAD"
    git(hooked, "cherry-pick", "-X", "theirs", "b")
    old, new = git(hooked, "rev-parse", "HEAD~1", "HEAD").out.split()
    assert hooks.picked(str(git_dir)) == (old, new, "cherry-pick")
    log.write_bytes(log.read_bytes().rstrip(b"\n"))  # no newline after the last line
    assert hooks.picked(str(git_dir)) == (old, new, "cherry-pick")
    log.write_bytes(b"")
    assert hooks.picked(str(git_dir)) is None
    log.unlink()
    assert hooks.picked(str(git_dir)) is None
    git(hooked, "config", "core.logAllRefUpdates", "false")
    git(hooked, "revert", "--no-edit", "HEAD")  # no reflog: not told, no report (README)
    assert not log.exists()
    assert hooks.picked(str(git_dir)) is None


def test_doctor_says_what_an_ordinary_commit_starts(hooked: Path) -> None:
    """A shim written with snapshot.postCommit true (pc=1) asks git config after each commit,
    the key turned off since too: doctor said "starts one tail" of it."""

    def line() -> str:
        out = gs(hooked, "doctor", rc=None).out
        (found,) = [x for x in out.splitlines() if x.startswith("post-commit:")]
        return found

    assert "an ordinary commit starts one tail, no snapshot" in line()
    git(hooked, "config", "snapshot.postCommit", "true")
    gs(hooked, "install")
    assert "and a snapshot after every commit" in line()
    git(hooked, "config", "snapshot.postCommit", "false")
    assert "an ordinary commit starts one tail and one git config, no snapshot" in line()


def test_a_fast_forward_pick_runs_no_hook_and_says_so(hooked: Path) -> None:
    git(hooked, "switch", "-q", "-c", "ff", "b~1")
    (hooked / "a.env").write_bytes(b"MY SECRET\n")
    gs(hooked, "-m", "before")
    ran = git(hooked, "cherry-pick", "--ff", "b")
    assert not ran.reports, ran  # no commit made: no post-commit
    assert (hooked / "a.env").read_bytes() == b"tracked on b\n"
    assert "cherry-pick --ff" in NO_HOOK_COMMANDS
    rows = [ln for ln in README.read_text().splitlines() if ln.startswith("| `git ")]
    assert any("git cherry-pick --ff" in ln and "**none" in ln for ln in rows)


def test_a_pick_that_adds_no_file_takes_no_snapshot(hooked: Path) -> None:
    git(hooked, "switch", "-q", "-c", "tracked", "main")
    for n in range(3):
        commit(hooked, "c.txt", b"edit %d\n" % n, msg=f"edit {n}")
    git(hooked, "switch", "-q", "main")
    git(hooked, "reset", "-q", "--hard", "HEAD~1")  # c.txt: base
    count = len(snaps(hooked))
    ran = git(hooked, "cherry-pick", "-X", "theirs", "main..tracked")
    assert "git-snapshot" not in ran.out + ran.err, ran
    assert len(snaps(hooked)) == count
    git(hooked, "config", "snapshot.postCommit", "true")
    gs(hooked, "install")
    git(hooked, "revert", "--no-edit", "HEAD")
    assert len(snaps(hooked)) == count + 1
