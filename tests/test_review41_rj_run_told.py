"""Review RJ of 90caaa5 (fixJ): under `git snapshot run`, a hook appends the autostash it
saw to the file GIT_SNAPSHOT_RUN names (hooks._tell_run), which run made in the git dir
(run._told_file). The hook wrote to whatever existing path the value named: a value
pointing outside the git dir (a stale or foreign environment) had `toplevel NUL commit NUL`
appended to that file, and a FIFO there blocked the hook, and with it the rebase, for
ever. run named the file after its pid: a stale one of a killed run (SIGTERM, a closed
terminal: no `finally`) with a reused pid made the next run's hooks tell nothing, and that
run named a clean autostash destroyed again (undo reverting the upstream change). And
guards of the rule itself: what the command destroys after git gave the autostash back is
still named.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from autostashhelpers import BASE
from autostashhelpers import BOTH
from autostashhelpers import MINE
from autostashhelpers import UPSTREAM
from autostashhelpers import b_changes_line_one
from autostashhelpers import named
from clihelpers import git
from clihelpers import gs
from hookhelpers import write


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """a.txt (BASE) on main, B changes line 1; hooks in; a.txt edited (MINE)."""
    b_changes_line_one(repo, monkeypatch, ignore_env=False)
    write(repo / "a.txt", MINE)
    return repo


def test_a_value_outside_the_git_dir_is_not_written(hooked: Path, tmp_path: Path) -> None:
    """GIT_SNAPSHOT_RUN left in an environment, naming a file of the user's: the hooks of
    a rebase --autostash appended `toplevel NUL commit NUL` to it."""
    theirs = tmp_path / "notes.txt"
    theirs.write_bytes(b"precious\n")
    git(hooked, "rebase", "-q", "--autostash", "B", GIT_SNAPSHOT_RUN=str(theirs))
    assert (hooked / "a.txt").read_bytes() == BOTH
    assert theirs.read_bytes() == b"precious\n"


def test_a_fifo_at_the_value_does_not_block_the_hook(hooked: Path) -> None:
    """A FIFO where the value points (in the git dir, named as run names its file): the
    hook's open for writing waited for a reader, and the rebase with it, for ever."""
    fifo = hooked / ".git" / "git-snapshot-run-fifo"
    os.mkfifo(fifo)
    env = {**os.environ, "GIT_SNAPSHOT_RUN": str(fifo)}
    proc = subprocess.Popen(
        ["git", "rebase", "-q", "--autostash", "B"],
        cwd=hooked,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        rc = proc.wait(timeout=90)  # (a guard against a hang, not a measure)
    except subprocess.TimeoutExpired:
        rc = None
    finally:  # a blocked hook's open returns once a reader comes; its write then fails
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        proc.wait()
    assert rc == 0, "the rebase's hook blocked on the FIFO"
    assert (hooked / "a.txt").read_bytes() == BOTH


def test_a_stale_file_of_a_killed_run_does_not_silence_the_hooks(hooked: Path) -> None:
    """A run killed by a signal leaves its file; one with the same pid later found the name
    taken (O_EXCL) and told its hooks nothing. Its name is new each time now, and the stale
    one is never the one read."""
    from git_snapshot import gitrepo
    from git_snapshot.commands import run

    repo = gitrepo.find_repo(str(hooked))
    stale = hooked / ".git" / f"git-snapshot-run-{os.getpid()}"
    stale.write_bytes(os.fsencode(repo.toplevel) + b"\0" + b"1" * 40 + b"\0")
    told = run._told_file(repo)
    try:
        assert told is not None
        assert Path(told).parent == hooked / ".git" and Path(told) != stale
        assert Path(told).read_bytes() == b""
        assert run._autostashes(repo, told) == []
    finally:
        if told:
            os.unlink(told)


@pytest.mark.parametrize(
    "then",
    ["git checkout -qf HEAD~1", "git checkout -qf", "git reset -q --hard"],
    ids=["checkout-f-HEAD~1", "checkout-f", "reset-hard"],
)
@pytest.mark.parametrize(
    "first",
    ["git rebase -q --autostash B", "git pull -q --no-rebase --autostash . B"],
    ids=["rebase", "pull"],
)
def test_what_the_command_destroys_after_the_apply_is_named(
    hooked: Path, first: str, then: str
) -> None:
    """A guard (passes before 90caaa5 and after): the autostash applied cleanly (told to
    run), then the same command discards the merged edit: git gave nothing back, named."""
    ran = gs(hooked, "run", "--", "sh", "-c", f"{first} && {then}")
    assert (hooked / "a.txt").read_bytes() in (BASE, UPSTREAM)
    assert git(hooked, "stash", "list").out == ""
    assert named(ran) == ["a.txt"], ran.err
