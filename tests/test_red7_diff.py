"""Red team (session 12): a file of a snapshot replaced in the worktree by something no
snapshot can hold (a FIFO, a socket): ``diff N`` against the worktree said "No changes" and
--stat/-p/--json named nothing, though the file's content is gone from the worktree (and
``diff N M`` against the next snapshot names it deleted). It is now named deleted, and no
diff opens the FIFO (which would block)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from clihelpers import gs


def _replace(repo: Path, kind: str) -> None:
    (repo / "p").unlink()
    if kind == "fifo":
        os.mkfifo(repo / "p")
    else:
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(repo / "p"))
        s.close()


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_a_file_replaced_by_a_special_file_shows_as_deleted(repo: Path, kind: str) -> None:
    (repo / "p").write_text("content\n")
    (repo / "q").write_text("kept\n")
    gs(repo, "create")
    _replace(repo, kind)
    assert gs(repo, "diff", "1").out.split("\n")[0] == "D p"
    assert [c["path"] for c in json.loads(gs(repo, "diff", "1", "--json").out)] == ["p"]
    assert " p " in gs(repo, "diff", "1", "--stat").out
    patch = gs(repo, "diff", "1", "-p").out
    assert "+++ /dev/null" in patch and "-content" in patch, patch
    assert gs(repo, "diff", "1", "p").out.split("\n")[0] == "D p"


def test_a_special_file_the_snapshot_lacks_is_still_not_listed(repo: Path) -> None:
    gs(repo, "create")
    os.mkfifo(repo / "new")
    assert "no changes" in gs(repo, "diff", "1").out


def test_a_folder_replaced_by_a_fifo_comes_back_with_the_printed_command(repo: Path) -> None:
    """run -- CMD replaced a folder and a file with FIFOs: the report's restore command
    refused ('something no snapshot holds is in the way') for the path below the FIFO,
    which holds nothing; pasted as printed, it now brings both back."""
    import subprocess

    from clihelpers import VENV_BIN

    (repo / "d").mkdir()
    (repo / "d" / "x").write_text("deep\n")
    (repo / "p").write_text("content\n")
    ran = gs(repo, "run", "--", "sh", "-c", "rm p && mkfifo p && rm -r d && mkfifo d")
    (line,) = [ln for ln in (ran.out + ran.err).splitlines() if "restore with: " in ln]
    command = line.split("restore with: ", 1)[1].rstrip(")")
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    res = subprocess.run(["sh", "-c", command], cwd=repo, env=env, capture_output=True)
    assert res.returncode == 0, (command, res.stderr)
    assert (repo / "d" / "x").read_text() == "deep\n"
    assert (repo / "p").read_text() == "content\n"
