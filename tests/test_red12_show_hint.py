"""Red team (session 15): when show is asked for a path the snapshot does not hold, the
``git snapshot log ...`` it prints works pasted into a real shell, for any name: one that
starts with '-' (also quoted: with a space, a newline, bytes that are not UTF-8), and for a
--repo whose path starts with '-'."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import gs
from conftest import init_repo

NAMES = [
    b"-dash.env",
    b"-a b.env",  # quoted: '-a b.env' starts with a quote, not '-'
    b"-new\nline.env",
    b"-bad\xff.env",
    b'quote\'s "x" $HOME.env',
    b"plain.env",
]


def _printed_log_command(err: str) -> str:
    assert "find where it is with: " in err, err
    line = err.split("find where it is with: ", 1)[1]
    assert "\n" not in line.rstrip("\n"), repr(err)
    return line.rstrip("\n")


def _bash(cwd: Path, line: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("GIT_DIR", None)
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, check=False, timeout=120
    )


@pytest.mark.parametrize("name", NAMES, ids=repr)
def test_the_printed_log_command_works_pasted(repo: Path, name: bytes) -> None:
    (repo / ".gitignore").write_bytes(b"*.env\n")
    gs(repo, "create")  # snapshot 1: without the file
    (repo / os.fsdecode(name)).write_bytes(b"data\n")
    gs(repo, "create")  # snapshot 2: with it
    ran = gs(repo, "show", "1", "--", os.fsdecode(name), rc=1)
    line = _printed_log_command(ran.err)
    res = _bash(repo, line)
    assert res.returncode == 0, (line, res.stdout, res.stderr)
    assert b"2" in res.stdout, (line, res.stdout)


def test_the_printed_log_command_names_a_dashed_repo_so_it_works_pasted(tmp_path: Path) -> None:
    """--repo VALUE where VALUE starts with '-' reads as an option: --repo=VALUE does not."""
    repo = init_repo(tmp_path / "-r")
    (repo / "a.txt").write_text("a\n")
    gs(repo, "create")
    ran = gs(tmp_path, "show", "--repo=-r", "1", "missing.txt", rc=1)
    line = _printed_log_command(ran.err)
    res = _bash(tmp_path, line)
    # log runs (nothing was ever there: it says so), it does not fail on its arguments
    assert b"expected one argument" not in res.stderr and b"usage:" not in res.stderr, (
        line,
        res.stderr,
    )
