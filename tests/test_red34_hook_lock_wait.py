"""RED34 D4: while a `git snapshot repair` was suspended (Ctrl-Z) holding the store's lock,
`git checkout` with the hooks waited without a word for as long as it stayed suspended;
`git snapshot create` said it waited (RED32 V1), the hooks never did. A hook whose wait for
the store's lock lasts longer than a moment now says so in one line, naming the process it
waits for, and that it is suspended when it is; on its stderr where that is a terminal,
under pre-commit on the controlling terminal. A moment's wait (a gc's) says nothing, and the
hook still waits (DESIGN: concurrent hooks never fail on a lock), then snapshots.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import gs
from hookhelpers import side_commit
from hookhelpers import triggers
from precommithelpers import pc_install
from test_precommit_quiet import on_a_terminal

pytestmark = pytest.mark.slow

WAITING = "waiting for another git-snapshot to finish with the store"

# a stand-in for a repair: takes the store's lock exclusively, says so, then holds it for
# argv[2] seconds, or (with "stop") suspends itself as Ctrl-Z does
HOLDER = """
import fcntl, os, signal, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
if sys.argv[2] == "stop":
    os.kill(os.getpid(), signal.SIGSTOP)
else:
    time.sleep(float(sys.argv[2]))
"""


def _hold(how: str) -> subprocess.Popen[str]:
    lock = os.path.join(os.environ["GIT_SNAPSHOT_STORE"], "lock")
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, lock, how], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    with proc.stdout:
        assert proc.stdout.readline() == "held\n"
    return proc


def _read_until(fd: int, word: bytes, seconds: float) -> bytes:
    got, end = b"", time.monotonic() + seconds
    while time.monotonic() < end and word not in got:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                got += os.read(fd, 4096)
            except OSError:  # the last writer closed the terminal
                break
    return got


def _ready(r: Path) -> None:
    side_commit(r, "feature", {"f.txt": b"f\n"})
    gs(r, "create")


def test_a_hook_waiting_for_a_suspended_repair_says_so(repo: Path) -> None:
    _ready(repo)
    gs(repo, "install")
    holder = _hold("stop")
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    leader, follower = os.openpty()
    try:
        checkout = subprocess.Popen(
            ["git", "checkout", "-q", "feature"], cwd=repo, env=env, stderr=follower
        )
        said = _read_until(leader, b"\n", 30).decode()
        assert checkout.poll() is None, said  # it waits, it does not give up
        (line,) = [ln for ln in said.splitlines() if ln.strip()]
        assert line.startswith("git-snapshot: " + WAITING), line
        assert f"pid {holder.pid}" in line and "suspended" in line, line
        time.sleep(1.0)
        assert WAITING not in _read_until(leader, b"\n", 0.5).decode()  # said once
    finally:
        holder.send_signal(signal.SIGCONT)  # it ends: the lock is free
        holder.wait(30)
    assert checkout.wait(60) == 0
    os.close(follower)
    os.close(leader)
    assert triggers(repo) == ["manual", "post-checkout"]  # then it took its snapshot


def test_a_moments_wait_says_nothing(repo: Path) -> None:
    _ready(repo)
    gs(repo, "install")
    holder = _hold("0.3")
    rc, screen = on_a_terminal(repo, "git", "checkout", "-q", "feature")
    holder.wait(30)
    assert rc == 0 and WAITING not in screen, screen
    assert triggers(repo)[-1] == "post-checkout"


def test_under_pre_commit_the_wait_is_said_on_the_terminal(pc: Path) -> None:
    r = pc
    _ready(r)
    pc_install(r)
    holder = _hold("4")
    rc, screen = on_a_terminal(r, "git", "checkout", "-q", "feature")
    holder.wait(30)
    assert rc == 0
    (line,) = [ln.strip() for ln in screen.splitlines() if WAITING in ln]
    assert line.startswith("git-snapshot: " + WAITING) and f"pid {holder.pid}" in line, line
    assert "suspended" not in line
    assert triggers(r)[-1] == "post-checkout"
