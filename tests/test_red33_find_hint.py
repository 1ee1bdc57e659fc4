"""RED33 V4: `find` searches this worktree's snapshots only (as list and log show them, e40b8d2);
in a linked worktree it said "no snapshot holds a path matching ..." of a file the main
worktree's snapshots hold, with no hint that `--repo` finds it. Now, when this worktree's
snapshots hold no match and another worktree's do, it says so and gives the command; a search
that finds matches here, or finds none anywhere, prints as before.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import put_venv_on_path


def _linked(repo: Path, tmp_path: Path) -> Path:
    """secrets.env saved in the main worktree; a linked worktree with a snapshot of its own."""
    (repo / "secrets.env").write_text("DB_PASSWORD=x\n")
    gs(repo)
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "w")
    (wt / "mine.txt").write_text("mine\n")
    gs(wt)
    return wt


def test_find_names_other_worktrees_holding_matches(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)  # the printed command is pasted into sh
    wt = _linked(repo, tmp_path)
    out = gs(wt, "find", "secrets.env").out
    assert out.startswith("no snapshot of this worktree holds a path matching"), out
    cmd = out.split("listed by: ", 1)[1].strip()
    assert cmd.startswith("git snapshot find --repo=") and cmd.endswith(" secrets.env"), out
    shown = subprocess.run(["sh", "-c", cmd], cwd=wt, capture_output=True, text=True, check=True)
    assert "secrets.env" in shown.stdout, shown  # the command given finds it
    assert json.loads(gs(wt, "find", "secrets.env", "--json").out) == []  # (json: unchanged)


def test_no_hint_when_no_worktree_holds_a_match(repo: Path, tmp_path: Path) -> None:
    wt = _linked(repo, tmp_path)
    out = gs(wt, "find", "nothing-*").out
    assert out.strip() == "no snapshot holds a path matching 'nothing-*'", out


def test_no_hint_when_this_worktree_holds_matches(repo: Path, tmp_path: Path) -> None:
    wt = _linked(repo, tmp_path)
    out = gs(wt, "find", "mine.txt").out
    assert "mine.txt" in out and "--repo" not in out, out
