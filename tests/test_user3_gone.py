"""`git snapshot -C ~/proj losses` for a repository deleted whole (session 17, USER3): it said
only "no such directory"; the report of that repository is what the user is after."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import put_venv_on_path

from git_snapshot.store import Store
from git_snapshot.watch import bursts


def _deleted_whole(tmp_path: Path) -> Path:
    repo = tmp_path / "proj"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.txt").write_text("a\n")
    gs(repo, "create", "-m", "before")
    with Store() as store:
        (snap,) = store.snapshots()
    subprocess.run(["rm", "-rf", str(repo)], check=True)
    now = time.time()
    with Store() as store:  # what the watcher's burst records
        burst = bursts.Burst((str(repo / "a.txt"),), now, now + 1)
        assert bursts.record(store, str(repo), burst, snap) is not None
    return repo


def test_dash_c_at_a_repository_deleted_whole_lists_its_losses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)  # its command is pasted into sh
    repo = _deleted_whole(tmp_path)
    listed = gs(tmp_path, "-C", str(repo), "losses").out
    assert str(repo) in listed and "a.txt" in listed, listed
    (cmd,) = [x for x in listed.splitlines() if x.startswith("restore with: ")]
    (entry,) = json.loads(gs(tmp_path, "-C", str(repo), "losses", "--json").out)
    assert entry["removed_worktree"] == str(repo)
    # a folder below it: the same
    assert str(repo) in gs(tmp_path, "-C", str(repo / "sub"), "losses").out
    # pasted as printed
    subprocess.run(cmd.removeprefix("restore with: "), shell=True, cwd=tmp_path, check=True)
    assert (repo / "a.txt").read_text() == "a\n"


def test_dash_c_at_a_missing_folder_says_where_deleted_repositories_are_listed(
    tmp_path: Path,
) -> None:
    _deleted_whole(tmp_path)
    (line,) = gs(tmp_path, "-C", str(tmp_path / "never"), "losses", rc=1).err_lines
    assert "no such directory" in line and "git snapshot losses" in line, line
    # other commands: as before
    (line,) = gs(tmp_path, "-C", str(tmp_path / "never"), "list", rc=1).err_lines
    assert "no such directory" in line, line
