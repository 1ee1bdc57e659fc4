"""``losses`` names a worktree that ``run -- git worktree remove`` removed from where the user
is now: it printed the path as the report had named it from the folder ``run`` ran in
('../../wt' typed in a subfolder, listed so from the top too, where it is '../wt')."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import put_venv_on_path


def _lost(cwd: Path) -> str:
    (row,) = [ln for ln in gs(cwd, "losses").out.splitlines() if "git worktree remove" in ln]
    return row.split()[-1]


def test_a_removed_worktree_is_listed_from_here(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "wt")
    (tmp_path / "wt" / "notes.txt").write_bytes(b"only here\n")
    (repo / "sub").mkdir()
    ran = gs(repo / "sub", "run", "--", "git", "worktree", "remove", "--force", "../../wt")
    assert "removed the worktree ../../wt: saved" in ran.err, ran.err
    assert _lost(repo / "sub") == "../../wt"
    assert _lost(repo) == "../wt"
