"""Red team (session 10): ``restore --dry-run --delete`` said "would delete d" for a folder the
snapshot does not hold, while the restore keeps it: the pre-restore snapshot cannot hold what
it contains (a FIFO, a socket, a file snapshot.exclude names, a CACHEDIR.TAG folder), so the
restore keeps those and their folder ("kept d"). The dry run looked only at each deleted path
and the folders above it, never below a deleted folder; it now does."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs


def _plan(repo: Path, *args: str) -> dict[str, list[str]]:
    out = json.loads(gs(repo, "restore", "--json", "--delete", *args, "1"))
    return {k: sorted(out[k]) for k in ("deleted", "kept")}


@pytest.mark.parametrize("what", ["fifo", "socket", "excluded", "cachedir"])
def test_the_dry_run_keeps_a_folder_holding_what_no_snapshot_holds(repo: Path, what: str) -> None:
    gs(repo, "create")
    (repo / "d" / "e").mkdir(parents=True)
    (repo / "d" / "e" / "plain").write_text("new\n")
    (repo / "gone.txt").write_text("new\n")
    inner = repo / "d" / "e" / "x"
    if what == "fifo":
        os.mkfifo(inner)
    elif what == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(inner))
        s.close()
    elif what == "excluded":
        git(repo, "config", "snapshot.exclude", "*.secret")
        (repo / "d" / "e" / "x.secret").write_text("key\n")
    else:
        inner.mkdir()
        (inner / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
        (inner / "blob").write_text("cached\n")
    dry = _plan(repo, "--dry-run")
    real = _plan(repo)
    assert dry == real, (dry, real)
    assert "gone.txt" in real["deleted"] and (repo / "d" / "e").is_dir()
