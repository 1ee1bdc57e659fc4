"""Progress goes to stderr only when a person is watching (stderr is a terminal)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from test_cli_helpers import write


def _run(repo: Path, tty: bool) -> bytes:
    if not tty:
        res = subprocess.run(
            [sys.executable, "-m", "git_snapshot"], cwd=repo, capture_output=True, check=True
        )
        return res.stderr
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "git_snapshot"],
            cwd=repo,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=follower,
            check=True,
        )
        assert proc.returncode == 0
        os.close(follower)
        out = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the other side is closed and drained
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        os.close(leader)


def test_progress_only_on_a_terminal(repo: Path) -> None:
    for i in range(300):
        write(repo / f"d{i % 7}" / f"f{i}.txt", f"{i}\n")
    shown = _run(repo, tty=True)
    assert b"snapshot: " in shown and b" files" in shown
    assert shown.endswith(b"\r") and not shown.split(b"\r")[-2].strip()  # cleared at the end
    write(repo / "more.txt", "x\n")
    assert _run(repo, tty=False) == b""
