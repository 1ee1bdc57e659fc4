"""Red team (session 9): a watched clone removed whole (rm -rf of the clone: no other worktree
is left to report it in) is named by ``git snapshot watch status``, run anywhere, with its
newest snapshot and a restore command that works when pasted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs


def test_watch_status_names_a_removed_clone_and_how_to_bring_its_files_back(
    tmp_path: Path,
) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    git(clone, "init", "-q")
    (clone / ".gitignore").write_text(".env\n")
    (clone / "a").write_text("committed\n")
    git(clone, "add", ".")
    git(clone, "commit", "-qm", "a")
    (clone / ".env").write_text("SECRET=1\n")
    (clone / "a").write_text("an uncommitted edit\n")
    gs(clone, "watch", "add", ".")
    try:
        gs(clone, "watch", "stop")
        made = int(gs(clone, "create").split()[1].rstrip(":"))
        shutil.rmtree(clone)
        data = json.loads(gs(tmp_path, "watch", "status", "--json"))
        (item,) = [w for w in data["worktrees"] if w["path"] == str(clone)]
        assert item["snapshot"]["id"] == made and item["restore"], item
        status = gs(tmp_path, "watch", "status")
        (line,) = [ln for ln in status.splitlines() if str(clone) in ln]
        assert "folder gone" in line and "restore" in line, status
        command = line.split("brings its files back: ", 1)[1]
        env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
        res = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True)
        assert res.returncode == 0, res.stderr
        assert (clone / ".env").read_text() == "SECRET=1\n"
        assert (clone / "a").read_text() == "an uncommitted edit\n"
    finally:
        gs(tmp_path, "watch", "stop")


def test_run_that_removes_its_own_worktree_prints_a_restore_command_that_works(
    tmp_path: Path,
) -> None:
    """'git snapshot run -- rm -rf "$PWD"' said only 'its files are in snapshot 1': now the
    command that writes them back, pasted from elsewhere."""
    clone = tmp_path / "clone"
    clone.mkdir()
    git(clone, "init", "-q")
    (clone / "a").write_text("a\n")
    git(clone, "add", "a")
    git(clone, "commit", "-qm", "a")
    (clone / ".env").write_text("SECRET=1\n")
    ran = gs(clone, "run", "--", "rm", "-rf", str(clone))
    assert not clone.exists()
    (line,) = [ln for ln in ran.err.splitlines() if "is gone" in ln]
    command = line.split("restore with: ", 1)[1]
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    res = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True)
    assert res.returncode == 0, res.stderr
    assert (clone / ".env").read_text() == "SECRET=1\n"
