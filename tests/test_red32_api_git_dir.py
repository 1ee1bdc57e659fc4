"""RED32 (fixS's note on B3): restore --to refuses a target with a git directory on the way
(another repository's .git, a folder in one, a bare repository), but the Python API's
restore_backup wrote there: a backup's files planted as hooks git then runs. DESIGN: "the API
restores exactly as safely as the CLI". The API now makes the same check (no git run)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from git_snapshot import create_backup
from git_snapshot import restore_backup
from git_snapshot.errors import UserError


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def backup(tmp_path: Path) -> int:
    data = tmp_path / "data"
    (data / "hooks").mkdir(parents=True)
    hook = data / "hooks" / "post-checkout"
    hook.write_text("#!/bin/sh\necho PLANTED\n")
    hook.chmod(0o755)
    return create_backup("data", data).id


def _refused(backup: int, target: Path) -> None:
    with pytest.raises(UserError, match=r"refusing to restore into .*git directory"):
        restore_backup("data", backup, target)
    assert not (target / "hooks" / "post-checkout").exists()


def test_into_a_repositorys_git_dir(backup: int, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    _git(other, "init", "-q")
    _refused(backup, other / ".git")
    _refused(backup, other / ".git" / "sub")


def test_into_a_bare_repository(backup: int, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    _refused(backup, bare)


def test_into_a_worktree_or_a_plain_folder_still_works(backup: int, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    _git(other, "init", "-q")
    restore_backup("data", backup, other)
    assert (other / "hooks" / "post-checkout").exists()
    restore_backup("data", backup, tmp_path / "plain")
    assert (tmp_path / "plain" / "hooks" / "post-checkout").exists()
