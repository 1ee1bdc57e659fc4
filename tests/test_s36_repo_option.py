"""Session 34's leftover: the hints that name a repository by its label printed `--repo LABEL`,
and a repository at `/x/-proj` is labelled `-proj`: pasted, `--repo -proj` stopped at "argument
--repo: expected one argument". They print `--repo=LABEL` now (as commands that repeat the
options they were given already did), and find's hint puts a pattern starting with '-' after
`--`. Each printed command is run as the user pastes it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import put_venv_on_path
from hookhelpers import write


def _pasted(cwd: Path, text: str) -> subprocess.CompletedProcess[str]:
    """The command after "listed by: " in *text*, run as the user pastes it."""
    cmd = text.split("listed by: ", 1)[1].split("\n")[0].strip()
    assert "--repo=" in cmd, cmd
    return subprocess.run(["sh", "-c", cmd], cwd=cwd, capture_output=True, text=True, check=True)


@pytest.fixture
def dashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose folder (so its label) starts with '-'."""
    put_venv_on_path(monkeypatch)
    return committed_repo(tmp_path / "-proj")


def test_find_hint_with_a_dashed_label_and_pattern(dashed: Path, tmp_path: Path) -> None:
    write(dashed / "-secrets.env", b"DB_PASSWORD=x\n")
    gs(dashed)
    wt = tmp_path / "wt"
    git(dashed, "worktree", "add", "-q", str(wt), "-b", "w")
    gs(wt)
    out = gs(wt, "find", "--", "-secrets.env").out
    shown = _pasted(wt, out)
    assert "-secrets.env" in shown.stdout, shown


def test_list_hint_with_a_dashed_label(dashed: Path) -> None:
    wt = dashed.parent / "wt"
    git(dashed, "worktree", "add", "-q", str(wt), "-b", "one")
    write(wt / "f.txt", b"edit\n")
    n = json.loads(gs(wt, "create", "-m", "one-1", "--json"))["id"]
    git(dashed, "worktree", "remove", "--force", str(wt))
    git(dashed, "worktree", "add", "-q", str(wt), "-b", "two")
    ran = gs(wt, "list")
    shown = _pasted(wt, ran.out + ran.err)
    assert "one-1" in shown.stdout and str(n) in shown.stdout, shown
