"""RED32 V1: a command that waits for the store's lock (a prune beside a whole restore, which
holds the lock from its choice of the snapshot on since C1) waited without a word and looked
hung. With a terminal on stderr it now says it waits, once; without one (scripts, hooks) it
says nothing."""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import time
from pathlib import Path

from clihelpers import VENV_BIN
from clihelpers import gs

WAITING = b"waiting for another git-snapshot to finish with the store"


def _held(store: str) -> int:
    fd = os.open(os.path.join(store, "lock"), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a gc or a repair holds it
    return fd


def _read_for(fd: int, seconds: float) -> bytes:
    got, end = b"", time.monotonic() + seconds
    while time.monotonic() < end and WAITING not in got:
        if select.select([fd], [], [], 0.1)[0]:
            got += os.read(fd, 4096)
    return got


def test_a_wait_for_the_lock_is_said_on_a_terminal_only(repo: Path) -> None:
    gs(repo)
    store = os.environ["GIT_SNAPSHOT_STORE"]
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    master, slave = os.openpty()
    lock = _held(store)
    try:
        proc = subprocess.Popen(
            ["git", "snapshot", "cat", "1", "README"],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=slave,
        )
        said = _read_for(master, 30)
        assert WAITING in said, said
        assert proc.poll() is None  # still waiting
        piped = subprocess.Popen(
            ["git", "snapshot", "cat", "1", "README"], cwd=repo, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        time.sleep(1.0)
        assert piped.poll() is None
    finally:
        os.close(lock)  # the lock is free: both go on
    assert proc.wait(60) == 0 and piped.wait(60) == 0
    out, err = piped.communicate()
    assert WAITING not in err and out == b"hello\n" == proc.communicate()[0]
    os.close(master)
    os.close(slave)
