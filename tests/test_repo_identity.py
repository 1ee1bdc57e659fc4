"""A repository is identified by an id it keeps itself, not by its path (real git, real CLI)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import init_repo
from hookhelpers import commit
from hookhelpers import git
from hookhelpers import gs
from hookhelpers import head
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import snaps

from git_snapshot.store import Store
from git_snapshot.store import create_snapshot


@pytest.fixture(autouse=True)
def _path(monkeypatch: pytest.MonkeyPatch) -> None:
    put_venv_on_path(monkeypatch)


def test_a_new_repository_at_an_old_path_starts_a_new_history(tmp_path: Path) -> None:
    path = tmp_path / "proj"
    init_repo(path)
    commit(path, "old.txt", b"old\n")
    install(path)
    gs(path, "create", "-m", "old one")
    assert snaps(path)
    shutil.rmtree(path)

    init_repo(path)
    commit(path, "README", b"new\n")
    install(path)
    assert gs(path, "list").out.startswith("no snapshots yet")
    git(path, "checkout", "-q", "-b", "other")
    ran = git(path, "checkout", "-q", "main")
    assert "old.txt" not in ran.err
    assert all(s["message"] != "old one" for s in snaps(path))


def test_linked_worktrees_share_the_repository(repo: Path, tmp_path: Path) -> None:
    gs(repo)
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "wt")
    gs(wt)
    ids = [s["id"] for s in snaps(repo)] + [s["id"] for s in snaps(wt)]
    assert sorted(ids) == [1, 2]  # one numbering for the repository


def _legacy_snapshot(repo: Path, message: str) -> None:
    """A snapshot as a version without repository ids wrote it: keyed by the common dir."""
    common = str((repo / ".git").resolve())
    with Store() as store:
        create_snapshot(
            store,
            common,
            str(repo.resolve()),
            trigger="manual",
            message=message,
            worktree=str(repo.resolve()),
            meta={"head": head(repo), "branch": "main"},
        )


def test_an_existing_store_keeps_its_history(repo: Path) -> None:
    _legacy_snapshot(repo, "from before the upgrade")
    gs(repo, "create", "-m", "after")
    assert [s["message"] for s in snaps(repo)] == ["from before the upgrade", "after"]
    assert git(repo, "config", "snapshot.repoId").out.startswith("legacy-")


def test_a_legacy_history_at_the_path_of_a_new_repository_is_not_adopted(
    repo: Path, tmp_path: Path
) -> None:
    _legacy_snapshot(repo, "old repository")
    shutil.rmtree(repo / ".git")
    git(repo, "init", "-q")
    commit(repo, "x", b"x\n")
    assert gs(repo, "list").out.startswith("no snapshots yet")
    assert not git(repo, "config", "snapshot.repoId").out.startswith("legacy-")
