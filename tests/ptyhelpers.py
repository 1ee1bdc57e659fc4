"""Running git-snapshot with a real pseudo-terminal as its stdout and/or stderr, as a person
runs it (this module holds no tests).

:func:`run_tty` starts the CLI as a child whose chosen streams are the follower side of a
pty (80x24, TERM=xterm), reads everything the child writes there until it and every process
it started (a pager) let go of the pty, and returns it with what went to the other streams
(plain files: never a terminal).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from clihelpers import VENV_BIN


@dataclass(frozen=True)
class TtyRun:
    rc: int
    tty: bytes  # what the child wrote to the terminal
    out: bytes  # stdout, when it was not the terminal
    err: bytes  # stderr, when it was not the terminal


def run_tty(
    cwd: Path | str,
    *args: str,
    stdout: bool = True,
    stderr: bool = True,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 120.0,
    program: Sequence[str] = (sys.executable, "-m", "git_snapshot"),
) -> TtyRun:
    """``git-snapshot ARGS`` in *cwd*; *stdout*/*stderr*: whether that stream is the pty;
    *env*: changes to this environment (None removes a variable); *program*: another
    command (git itself, whose hooks then run on the terminal)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    full_env = {
        **os.environ,
        "TERM": "xterm",
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
    }
    full_env.pop("NO_COLOR", None)
    for key, value in (env or {}).items():  # None: not set at all
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    with (
        open(os.devnull, "rb") as devnull,
        tempfile.TemporaryFile() as out_f,
        tempfile.TemporaryFile() as err_f,
    ):
        proc = subprocess.Popen(
            [*program, *args],
            cwd=cwd,
            stdin=devnull,
            stdout=follower if stdout else out_f,
            stderr=follower if stderr else err_f,
            env=full_env,
        )
        os.close(follower)
        seen = _drain(leader, proc, timeout)
        rc = proc.wait(timeout=timeout)
        out_f.seek(0)
        err_f.seek(0)
        return TtyRun(rc, seen, out_f.read(), err_f.read())


def _drain(leader: int, proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    """Everything written to the pty until no one holds its other side (EIO on Linux)."""
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the other side is closed and drained
                break
            if not chunk:
                break
            seen += chunk
        else:
            proc.kill()
            raise AssertionError(f"timed out; the terminal showed: {seen[-2000:]!r}")
    finally:
        os.close(leader)
    return seen
