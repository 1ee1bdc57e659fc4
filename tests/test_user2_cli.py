"""What git-snapshot prints for a user's mistake names a command that works when pasted
(session 14, USER2)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import put_venv_on_path


def test_show_of_a_missing_path_prints_a_log_command_for_that_path(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It printed 'find where it is with: git snapshot log PATH', a placeholder."""
    put_venv_on_path(monkeypatch)
    commit(repo, "sub/a.txt", b"a\n")
    gs(repo)
    sub = repo / "sub"
    (line,) = gs(sub, "show", "latest", "my notes.txt", rc=1).err_lines
    cmd = line.split("find where it is with: ", 1)[1]
    assert cmd == "git snapshot log 'my notes.txt'", line
    ran = subprocess.run(["sh", "-c", cmd], cwd=sub, capture_output=True, text=True)
    assert "my notes.txt" in ran.stderr + ran.stdout, ran
