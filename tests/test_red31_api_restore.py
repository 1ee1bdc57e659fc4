"""RED31: the Python API gives back what it backed up, and says what it could not.

- create_backup of a repository's folder holds its .git (its files counted, verify passes),
  but restore_backup left .git out silently, even into an empty folder: after the rm -rf the
  backup was taken for, the commits were gone. A backup is of the folder, .git and all: it
  is restored, in place too (what it replaces is in the pre-restore backup).
- restore_backup returned a count and nothing else: a path it had to leave (in the way,
  holding what no backup could save) was not said; now NotAllRestored (a UserError) names
  it, with the report, after writing everything else.
- Its errors spoke of a repository and git snapshot list; a NUL in a path was "not a
  directory"."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from git_snapshot import create_backup
from git_snapshot import list_backups
from git_snapshot import restore_backup
from git_snapshot import verify_backup
from git_snapshot.errors import UserError
from git_snapshot.store.restorer import NotAllRestored


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def _project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    _git(proj, "init", "-q")
    (proj / "f").write_text("v1\n")
    _git(proj, "add", "f")
    _git(proj, "commit", "-qm", "local-only work")
    (proj / "notes").write_text("untracked\n")
    return proj


def test_a_repository_folder_comes_back_whole(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    info = create_backup("proj", proj)
    assert verify_backup("proj", info.id).valid
    shutil.rmtree(proj)
    restore_backup("proj", info.id, proj)
    assert "local-only work" in _git(proj, "log", "--oneline")
    assert (proj / "notes").read_text() == "untracked\n"
    fresh = tmp_path / "fresh"
    restore_backup("proj", info.id, fresh)
    assert "local-only work" in _git(fresh, "log", "--oneline")


def test_in_place_the_history_is_put_back_and_the_rewritten_one_kept(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    info = create_backup("proj", proj)
    (proj / "f").write_text("v2\n")
    _git(proj, "commit", "-qam", "rewritten")  # what a dangerous step did
    restore_backup("proj", info.id, proj)
    assert _git(proj, "log", "--format=%s") == "local-only work\n"
    assert _git(proj, "status", "--porcelain") == "?? notes\n"
    undo = [b for b in list_backups("proj") if b.id > info.id][-1]  # the pre-restore backup
    restore_backup("proj", undo.id, proj)
    assert _git(proj, "log", "--format=%s").splitlines()[0] == "rewritten"


def test_what_is_left_in_the_way_is_named(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "config").write_text("mine\n")
    (data / "other").write_text("other\n")
    info = create_backup("data", data)
    (data / "other").write_text("changed\n")
    os.unlink(data / "config")
    (data / "config").mkdir()
    os.mkfifo(data / "config" / "pipe")  # no backup can hold it: never deleted
    with pytest.raises(NotAllRestored, match=r"1 path\(s\) were not restored.*config") as got:
        restore_backup("data", info.id, data)
    assert got.value.report.kept == [b"config"]
    assert (data / "other").read_text() == "other\n"  # the rest was restored
    assert isinstance(got.value, UserError)


def test_errors_in_the_apis_words(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a").write_text("a\n")
    create_backup("data", data)
    for call in (
        lambda: restore_backup("data", 99, tmp_path / "out"),
        lambda: verify_backup("data", 99),
    ):
        with pytest.raises(UserError) as got:
            call()
        assert "list_backups('data')" in str(got.value), got.value
        assert "repository" not in str(got.value) and "git snapshot" not in str(got.value)
    with pytest.raises(UserError, match="NUL"):
        create_backup("n", str(tmp_path) + "/da\0ta")
