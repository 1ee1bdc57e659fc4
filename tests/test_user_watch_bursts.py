"""False alarms of the watcher's burst entries in a daily user's flow: a branch switch that
deletes 80 tracked files the other branch has, or `git rm -r` of a folder then a commit, was
recorded as 'watcher: deleted lib/ (80 files)', printed as "earlier, at 22:02: 80 files
under lib/ were deleted" and `git snapshot undo` would have put back files the user removed on
purpose. Both are versions git gives back: the commits HEAD moved between since the snapshot.
Each case plays the real git commands between a watch snapshot and bursts.record (what the
daemon calls once the burst is over)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from clihelpers import git
from clihelpers import gs
from conftest import committed_repo

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.watch import bursts


def _repo(tmp_path: Path) -> Path:
    return Path(os.path.realpath(committed_repo(tmp_path / "wt")))


def _lib(r: Path, n: int = 80) -> list[Path]:
    files = [r / "lib" / "sub" / f"m{i}.py" for i in range(n)]
    for i, f in enumerate(files):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(f"module {i}\n")
    return files


def _record(r: Path, held: Any, files: list[Path]) -> dict[str, Any] | None:
    now = time.time()
    gone = [str(f) for f in files] + [str(r / "lib" / "sub"), str(r / "lib")]
    kinds = {p: bursts.DELETE for p in gone[: len(files)]}
    kinds.update({p: bursts.DELETE_DIR for p in gone[len(files) :]})
    with Store() as store:
        return bursts.record(store, str(r), bursts.Burst(tuple(gone), now, now, kinds), held)


def _watch_snapshot(r: Path) -> Any:
    with Store() as store:
        return worktree.take(store, gitrepo.find_repo(str(r)), trigger="watch").snapshot


def test_a_branch_switch_that_deletes_tracked_files_is_no_loss(tmp_path: Path) -> None:
    r = _repo(tmp_path)
    git(r, "checkout", "-q", "-b", "big")
    files = _lib(r)
    git(r, "add", "lib")
    git(r, "commit", "-q", "-m", "big")
    held = _watch_snapshot(r)
    git(r, "checkout", "-q", "main")
    assert not (r / "lib").exists()
    assert _record(r, held, files) is None
    assert json.loads(gs(r, "losses", "--json").out) == []


def test_git_rm_of_a_folder_then_a_commit_is_no_loss(tmp_path: Path) -> None:
    r = _repo(tmp_path)
    files = _lib(r)
    git(r, "add", "lib")
    git(r, "commit", "-q", "-m", "lib")
    held = _watch_snapshot(r)
    git(r, "rm", "-r", "-q", "lib")
    git(r, "commit", "-q", "-m", "no more lib")
    assert _record(r, held, files) is None


def test_an_untracked_folder_removed_is_still_a_loss(tmp_path: Path) -> None:
    """The control: rm -rf of files git never had, right after a commit moved HEAD."""
    r = _repo(tmp_path)
    files = _lib(r)
    held = _watch_snapshot(r)
    (r / "other.txt").write_text("x\n")
    git(r, "add", "other.txt")
    git(r, "commit", "-q", "-m", "other")
    shutil.rmtree(r / "lib")
    entry = _record(r, held, files)
    assert entry is not None and entry["restore"] == ["lib"], entry


def test_an_edit_deleted_after_its_commit_moved_away_is_still_a_loss(tmp_path: Path) -> None:
    """The control: a tracked file's uncommitted edit, in the snapshot; a branch switch
    carries it (the branches agree there), then `rm -rf`: no commit holds the edit."""
    r = _repo(tmp_path)
    files = _lib(r, 3)
    git(r, "add", "lib")
    git(r, "commit", "-q", "-m", "lib")
    git(r, "branch", "other")
    files[0].write_text("an uncommitted edit\n")
    held = _watch_snapshot(r)
    git(r, "checkout", "-q", "other")
    shutil.rmtree(r / "lib")
    entry = _record(r, held, files)
    assert entry is not None, entry
    assert [x["path"] for x in entry["lost"]] == ["lib/sub/m0.py"], entry
