"""Red team (session 11): a file whose name ends in a newline gets a restore command that works
pasted into sh (dash) as printed, as well as into bash."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import gs

NAMES = [b"trail\n", b"-mid\nline", b"two\n\n", b"-dash\n", b"quote's \\ $x\n", b"bad\xff\n"]


def _run(shell: str, cwd: Path, line: str) -> None:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    res = subprocess.run(
        [shell, "-c", line], cwd=cwd, env=env, capture_output=True, check=False, timeout=120
    )
    assert res.returncode == 0, (shell, line, res.stdout, res.stderr)


@pytest.mark.parametrize("shell", ["sh", "dash", "bash"])
def test_a_name_ending_in_a_newline_restores_pasted_into_any_shell(repo: Path, shell: str) -> None:
    (repo / ".gitignore").write_bytes(b"*\n")
    for name in NAMES:
        (repo / os.fsdecode(name)).write_bytes(b"data of " + name)
    ran = gs(repo, "run", "--", "git", "clean", "-fdx")
    (line,) = [ln for ln in (ran.out + ran.err).split("\n") if "restore with: " in ln]
    for name in NAMES:
        assert not os.path.lexists(repo / os.fsdecode(name))
    _run(shell, repo, line.split("restore with: ", 1)[1].rsplit(")", 1)[0])
    for name in NAMES:
        assert (repo / os.fsdecode(name)).read_bytes() == b"data of " + name, name


def test_restores_lines_name_a_hostile_target_on_one_line(repo: Path, tmp_path: Path) -> None:
    """restore --to a directory whose name holds a newline and an escape sequence: its
    report line printed the name raw (two lines, and the escape reached the terminal)."""
    (repo / "f.txt").write_bytes(b"data\n")
    gs(repo, "create")
    target = tmp_path / "out\x1b[2J\nx"
    ran = gs(repo, "restore", "1", "--to", str(target))
    (line,) = [ln for ln in ran.out.splitlines() if ln.startswith("restored ")]
    assert "\x1b" not in ran.out and line.endswith("(0 unchanged)"), repr(ran.out)
    assert (target / "f.txt").read_bytes() == b"data\n"
