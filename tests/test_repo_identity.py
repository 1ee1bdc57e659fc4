"""A repository is identified by an id it keeps itself, not by its path (real git, real CLI)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import commit
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


# --------------------------------------------------------------------------- --repo, qualified ids


def _clone_with_snapshot(tmp_path: Path, name: str = "clone") -> Path:
    origin = init_repo(tmp_path / "origin")
    commit(origin, "a.txt", b"committed\n")
    clone = tmp_path / name
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    (clone / "notes.txt").write_bytes(b"only in the snapshot\n")
    gs(clone, "create", "-m", "before rm -rf")
    return clone


def test_a_deleted_clone_is_listed_shown_and_restored_with_to(tmp_path: Path) -> None:
    clone = _clone_with_snapshot(tmp_path)
    shutil.rmtree(clone)
    elsewhere = init_repo(tmp_path / "elsewhere")

    assert "clone:1" in gs(elsewhere, "list", "--all").out
    by_name = gs(elsewhere, "list", "--repo", "clone").out
    by_path = gs(tmp_path, "list", "--repo", str(clone)).out
    assert "before rm -rf" in by_name and "before rm -rf" in by_path
    assert "notes.txt" in gs(elsewhere, "show", "--repo", "clone", "1").out
    assert "notes.txt" in gs(tmp_path, "show", "clone:latest").out

    refused = gs(elsewhere, "restore", "--repo", "clone", "1", rc=1)
    assert len(refused.err_lines) == 1
    assert "no longer exists" in refused.err and "--to DIR" in refused.err
    gs(tmp_path, "restore", "--repo", str(clone), "1", "notes.txt", "--to", "back")
    assert (tmp_path / "back" / "notes.txt").read_bytes() == b"only in the snapshot\n"
    assert not (tmp_path / "back" / "a.txt").exists()  # only the path asked for
    gs(tmp_path, "export", "clone:1", "clone.tar")
    assert (tmp_path / "clone.tar").stat().st_size > 0


def test_a_new_repository_at_the_old_path_is_what_the_path_names(tmp_path: Path) -> None:
    clone = _clone_with_snapshot(tmp_path, "proj")
    shutil.rmtree(clone)
    init_repo(clone)
    commit(clone, "new.txt", b"new\n")
    gs(clone, "create", "-m", "the new one")

    assert [s["message"] for s in snaps(clone)] == ["the new one"]
    listed = gs(tmp_path, "list", "--repo", str(clone)).out
    assert "the new one" in listed and "before rm -rf" not in listed
    # two repositories called proj: the name is refused, naming both; each has a label
    refused = gs(tmp_path / "origin", "list", "--repo", "proj", rc=1)  # ./proj: a PATH
    assert "matches 2 repositories" in refused.err and "deleted" in refused.err
    items = json.loads(gs(clone, "list", "--all", "--json").out)
    old = next(i for i in items if i["message"] == "before rm -rf")["qualified_id"]
    assert old.startswith("proj#") and old.endswith(":1")
    assert "notes.txt" in gs(clone, "show", old).out
    restore = gs(clone, "restore", old, rc=1)  # the old worktree is gone, even at this path
    assert "--to DIR" in restore.err


def test_qualified_ids_round_trip(tmp_path: Path) -> None:
    one = init_repo(tmp_path / "one")
    commit(one, "f.txt", b"one\n")
    gs(one, "create")
    (one / "f.txt").write_bytes(b"one, edited\n")
    gs(one, "create")
    two = init_repo(tmp_path / "two")
    commit(two, "g.txt", b"two\n")
    gs(two, "create")

    items = json.loads(gs(two, "list", "--all", "--json").out)
    ids = {i["qualified_id"] for i in items}
    assert ids == {"one:1", "one:2", "two:1"}
    table = gs(two, "list", "--all").out
    assert all(q in table for q in ids)
    for q in ids:
        shown = json.loads(gs(two, "show", q, "--json").out)
        assert f"{Path(shown['worktree']).name}:{shown['id']}" == q
    assert "M f.txt" in gs(two, "diff", "one:1", "one:2").out
    gs(two, "restore", "one:1", "--to", str(tmp_path / "r1"))
    assert (tmp_path / "r1" / "f.txt").read_bytes() == b"one\n"
    refused = gs(two, "show", "one:1", "--repo", "two", rc=1)
    assert "not of the repository --repo names" in refused.err
    pruned = gs(two, "prune", "--all", "--keep-last", "1", "--dry-run").out
    assert "would forget 1 snapshot(s): one:1" in pruned


def test_restoring_another_worktrees_snapshot_asks_for_to_or_here(
    repo: Path, tmp_path: Path
) -> None:
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "wt")
    (wt / "wip.txt").write_bytes(b"in the linked worktree\n")
    gs(wt, "create")  # snapshot 1, of wt
    refused = gs(repo, "restore", "1", rc=1)
    assert len(refused.err_lines) == 1
    assert str(wt.resolve()) in refused.err and "--to DIR" in refused.err
    assert "--here" in refused.err
    assert not (repo / "wip.txt").exists()
    gs(repo, "restore", "1", "--here")
    assert (repo / "wip.txt").read_bytes() == b"in the linked worktree\n"
    gs(wt, "restore", "1", "--dry-run")  # its own worktree: no question asked


def test_a_first_use_waits_while_another_git_holds_the_config(tmp_path: Path) -> None:
    """Eight linked worktrees' first hooks at once: `git config --add` of the repository's id
    fails for all but one ("could not lock config file"). Such a first use took the path as
    the id instead, a second history whose numbering started at 1 again (the concurrency
    campaign saw "id 1 given twice"). It waits for the lock and takes the id written."""
    import threading

    r = init_repo(tmp_path / "r")
    (r / "a.txt").write_text("a\n")
    lock = r / ".git" / "config.lock"  # as a racing `git config` holds it
    lock.write_text("")
    release = threading.Timer(0.4, lock.unlink)
    release.start()
    try:
        first = json.loads(gs(r, "create", "--json").out)
    finally:
        release.join()
    second = json.loads(gs(r, "create", "--json").out)
    assert (first["id"], second["id"]) == (1, 2)
    assert [s["id"] for s in json.loads(gs(r, "list", "--json").out)] == [1, 2]


def test_a_repository_whose_config_went_gets_none_written_back(tmp_path: Path) -> None:
    """rm -rf of a watched repository takes a while: the watcher's snapshot of it (or its
    preparation, 0.1 s after the first deletions) found .git/config gone, gave the
    repository a new id, and git wrote a new config into the .git rm was emptying: 'rm:
    cannot remove .git: Directory not empty' (test_deleted_worktree_is_dropped under load),
    and the daemon went on watching a folder that held only .git/config."""
    import subprocess
    import sys

    r = init_repo(tmp_path / "r")
    commit(r, "a.txt", b"a\n")
    gs(r, "create", "-m", "first")  # its id, in .git/config
    (r / ".git" / "config").unlink()  # as far as rm -rf got
    subprocess.run(
        [sys.executable, "-m", "git_snapshot.watch.take", str(r)], capture_output=True, check=False
    )
    assert not (r / ".git" / "config").exists()
