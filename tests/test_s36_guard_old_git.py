"""Review RE's aside: ``run``'s guard lists the worktrees with ``git worktree list --porcelain
-z`` (RED36 A1), which git before 2.36 refuses ("unknown switch `z'"; Ubuntu 22.04 ships
2.34). The guard then found no worktree, even one given by its path, saved nothing, and git
removed it. It falls back to the listing without ``-z`` (one path a line) now.

Old git is not installable here: a ``git`` on PATH that refuses ``worktree list ... -z`` as
old git does, and runs the real git for everything else, stands in for it. ``git-snapshot
run`` is run as its own command (git would put its own exec path first on PATH).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from clihelpers import run
from hookhelpers import EXE
from test_red36_guard_names import _check_saved
from test_red36_guard_names import _linked
from test_red36_guard_names import _restored
from test_red36_guard_names import hooked  # noqa: F401 (a fixture)

REAL_GIT = shutil.which("git")


@pytest.fixture
def old_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "old-git"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" worktree list "*" -z "*)\n'
        '  echo "error: unknown switch \\`z\'" >&2; exit 129;;\n'
        "esac\n"
        f'exec {REAL_GIT} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize("given", ["name", "path"])
def test_worktree_remove_is_saved_with_a_git_without_z(
    hooked: Path,  # noqa: F811
    tmp_path: Path,
    old_git: None,
    given: str,
) -> None:
    wt = _linked(hooked, tmp_path / "wt_old")
    word = "wt_old" if given == "name" else str(wt)
    ran = run(hooked, str(EXE), "run", "--", "git", "worktree", "remove", "--force", word)
    assert not wt.exists()
    _check_saved(_restored(hooked, ran.err, "removed the worktree"))
