"""``run -- git worktree remove --force`` of a linked worktree whose path is not UTF-8 (RED36 A2).

git-snapshot cannot record such a path: ``run`` refuses, in one line and before the command
runs, for its own worktree there. The guard swallowed the same refusal for the worktree the
command removes (taken as "not a worktree: git will refuse it"): nothing of it was saved,
nothing was said, and the command ran and exited 0. It now refuses the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path

ODD = "wt\udcffr2"  # b"wt\xffr2": not UTF-8


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    install(repo)
    return repo


@pytest.mark.parametrize("named", ["path", "name"])
def test_the_removal_is_refused_before_it_runs(hooked: Path, tmp_path: Path, named: str) -> None:
    wt = tmp_path / ODD
    git(hooked, "worktree", "add", "-q", str(wt), "-b", "odd")
    (wt / "README").write_bytes(b"EDIT\n")
    (wt / "new.txt").write_bytes(b"only here\n")
    word = os.path.relpath(wt, hooked) if named == "path" else ODD
    ran = gs(hooked, "run", "--", "git", "worktree", "remove", "--force", word, rc=1)
    assert (wt / "new.txt").read_bytes() == b"only here\n"  # the command did not run
    lines = ran.err.splitlines()
    assert len(lines) == 1 and "is not valid UTF-8" in lines[0], ran.err
    assert "taken before" not in ran.err
