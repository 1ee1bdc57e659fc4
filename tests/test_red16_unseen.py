"""Red team (session 17, RED16): held loss lines (lossrecord.hold) taken by a command that is
killed or interrupted while it takes them: shown exactly once afterwards, never lost.
_claim renamed the file to '<path>.<pid>' first: a SIGKILL before its unlink left that file,
which nothing reads again, and a KeyboardInterrupt (Ctrl-C in git reaches the hook) removed
it in its 'finally' before the lines were read: held loss lines never shown."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import gs

from git_snapshot import gitrepo
from git_snapshot import lossrecord

LINE = "git-snapshot: 3 files under data/ were deleted at 12:00; restore with: ..."
SHOWN = LINE.removeprefix("git-snapshot: ")  # after "git-snapshot: earlier, at HH:MM: "

# a command taking the held lines, stopped as it takes them: SIGKILLed as it removes the file
# (its lines read, none printed), or interrupted as it locks it
TAKE_STOPPED = """
import fcntl, os, signal, sys
from git_snapshot import gitrepo, lossrecord

def stop(*args, **kwargs):
    if sys.argv[1] == "interrupt":
        raise KeyboardInterrupt
    os.kill(os.getpid(), signal.SIGKILL)

repo = gitrepo.find_repo(".")
if sys.argv[1] == "interrupt":
    fcntl.flock = stop
else:
    os.unlink = stop
print(lossrecord.take_unseen(repo))
"""


def _away(text: str) -> list[str]:
    """The held lines a command printed, without their "git-snapshot: earlier, at HH:MM: "."""
    held = re.compile(r"git-snapshot: earlier, at (?:\d{4}-\d\d-\d\d )?\d\d:\d\d: ")
    return [held.sub("", ln, count=1) for ln in text.splitlines() if held.match(ln)]


@pytest.mark.parametrize("how", ["kill", "interrupt"])
def test_held_lines_taken_by_a_killed_or_interrupted_command_are_shown_once_later(
    repo: Path, how: str
) -> None:
    lossrecord.hold(gitrepo.find_repo(str(repo)), [LINE])
    stopped = subprocess.run(
        [sys.executable, "-c", TAKE_STOPPED, how], cwd=repo, capture_output=True, text=True
    )
    if how == "kill":
        assert stopped.returncode == -signal.SIGKILL, stopped.stderr
    else:
        assert "KeyboardInterrupt" in stopped.stderr, stopped.stderr
    assert stopped.stdout == ""  # it printed none of them
    assert _away(gs(repo, "list").err) == [SHOWN]  # the next command
    assert _away(gs(repo, "list").err) == []  # once
    assert not [n for n in os.listdir(repo / ".git") if n.startswith(lossrecord.UNSEEN)]


TAKE = """
import sys
from git_snapshot import gitrepo, lossrecord
sys.stdin.readline()  # both start together
print(len(lossrecord.take_unseen(gitrepo.find_repo("."))))
"""


def test_two_commands_taking_held_lines_at_once_show_them_once(repo: Path) -> None:
    for _ in range(15):
        lossrecord.hold(gitrepo.find_repo(str(repo)), [LINE, LINE + " (2)"])
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", TAKE],
                cwd=repo,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for p in procs:  # each goes on as soon as it is ready: the two claims meet
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outs = [p.communicate(timeout=60)[0] for p in procs]
        assert sorted(int(o) for o in outs) == [0, 2], outs
