"""Red team (session 30): the watcher filed ``git stash --all`` as a loss of the ignored files
it stashed ("git never holds ignored files": a stash entry made with --all does, in its third
parent). Its line told the user to restore them, and after ``undo`` the next ``git stash pop``
failed ("already exists, no checkout"). The ignored files a burst deleted are now looked for
in the stash entries made since the snapshot; an ``rm -rf`` of them is still a loss."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from clihelpers import git
from conftest import committed_repo

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.watch import bursts


def _repo(tmp_path: Path) -> Path:
    r = Path(os.path.realpath(committed_repo(tmp_path / "wt")))
    (r / ".gitignore").write_text("cache/\n")
    git(r, "add", ".gitignore")
    git(r, "commit", "-q", "-m", "ignore cache")
    (r / "cache").mkdir()
    (r / "untracked").mkdir()
    for i in range(3):
        (r / "cache" / f"c{i}").write_text(f"cached {i}\n")
        (r / "untracked" / f"u{i}").write_text(f"untracked {i}\n")
    return r


def _burst(r: Path) -> bursts.Burst:
    now = time.time()
    kinds = {
        str(r / d / f"{d[0]}{i}"): bursts.DELETE for d in ("cache", "untracked") for i in range(3)
    }
    kinds.update({str(r / "cache"): bursts.DELETE_DIR, str(r / "untracked"): bursts.DELETE_DIR})
    return bursts.Burst(tuple(kinds), now, now + 0.1, kinds)


def test_stash_all_is_no_loss_of_the_ignored_files_it_stashed(
    tmp_path: Path, store_dir: Path
) -> None:
    r = _repo(tmp_path)
    repo = gitrepo.find_repo(str(r))
    with Store() as store:
        held = worktree.take(store, repo, trigger="watch").snapshot
        git(r, "stash", "--all", "-q")
        assert not (r / "cache").exists()
        assert bursts.record(store, str(r), _burst(r), held) is None
    git(r, "stash", "pop", "-q")
    assert (r / "cache" / "c1").read_text() == "cached 1\n"


def test_rm_rf_of_ignored_files_a_stash_holds_otherwise_is_still_a_loss(
    tmp_path: Path, store_dir: Path
) -> None:
    """A stash entry holds the ignored files, but not as the snapshot holds them (edited
    since): their rm -rf is a loss; the untracked files the entry holds as they were are not
    (git stash pop gives them back, as before)."""
    r = _repo(tmp_path)
    git(r, "stash", "--all", "-q")
    git(r, "stash", "apply", "-q")
    for i in range(3):
        (r / "cache" / f"c{i}").write_text(f"cached {i}, rebuilt\n")
    assert _rm_rf_named(r) == [f"cache/c{i}" for i in range(3)]


def test_rm_rf_with_no_stash_names_ignored_and_untracked(tmp_path: Path, store_dir: Path) -> None:
    r = _repo(tmp_path)
    named = [f"cache/c{i}" for i in range(3)] + [f"untracked/u{i}" for i in range(3)]
    assert _rm_rf_named(r) == named


def _rm_rf_named(r: Path) -> list[str]:
    """A watch snapshot, then rm -rf of cache/ and untracked/: the paths the burst's entry
    names."""
    with Store() as store:
        held = worktree.take(store, gitrepo.find_repo(str(r)), trigger="watch").snapshot
        shutil.rmtree(r / "cache")
        shutil.rmtree(r / "untracked")
        entry = bursts.record(store, str(r), _burst(r), held)
    assert entry is not None
    return sorted(x["path"] for x in entry["lost"])
