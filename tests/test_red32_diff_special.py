"""RED32 B8: ``diff ID`` said "D f" where the worktree has a FIFO at f (not deleted), and named
no FIFO or socket of the worktree, though README says diff names on stderr what it could not
compare, so that a D there is never mistaken for a deletion."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from clihelpers import gs


def test_fifo_and_socket_named_on_stderr(repo: Path) -> None:
    (repo / "f").write_text("data\n")
    gs(repo)
    os.unlink(repo / "f")
    os.mkfifo(repo / "f")
    os.mkfifo(repo / "newfifo")
    sock = socket.socket(socket.AF_UNIX)
    os.chdir(repo)  # (a socket path is short: bound by its relative name)
    try:
        sock.bind("s.sock")
        r = gs(repo, "diff", "1")
        notes = [line for line in r.err.splitlines() if "fifo" in line]
        assert len(notes) == 1, r.err
        for name in ("f (fifo)", "newfifo (fifo)", "s.sock (socket)"):
            assert name in notes[0], r.err
        assert "not a deletion" in notes[0]
        # a FIFO where nothing was is no change: --exit-code does not count it
        os.unlink(repo / "newfifo")
        (repo / "f").unlink()
        (repo / "f").write_text("data\n")
        os.utime(repo / "f", ns=(0, 0))
        r = gs(repo, "diff", "1", "--exit-code", rc=None)
        assert "s.sock (socket)" in r.err
        assert r.rc == 0, (r.out, r.err)
    finally:
        sock.close()
