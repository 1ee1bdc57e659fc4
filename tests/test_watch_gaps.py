"""Gaps between a dirty-set snapshot and a full walk, closed: a snapshot that uses the watcher
is never less complete than one that walks everything.

- a file rewritten in place deep inside a big ignored tree (one root watch + slow scans);
- a change of the file ``core.excludesFile`` names (outside the worktree: no event);
- a worktree the daemon starts watching with changes no snapshot holds yet.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def _read(store: Store, snap_root: bytes, rel: bytes) -> bytes:
    for path, entry in store.walk(snap_root):
        if path == rel:
            return b"".join(store.stream_blob(entry.ref)) if entry.size else b""
    raise AssertionError(f"{rel!r} not in the snapshot")


@pytest.mark.slow
def test_in_place_rewrite_deep_in_a_big_tree_is_in_a_hook_snapshot(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    # a deep scan that never comes during the test: only the snapshot can find the rewrite;
    # a budget too small to watch the big trees whole (tests/test_watch_whole.py): 2 for the
    # daemon, the root, src/, node_modules/ and .venv's root
    config(watchBigDirs=3, watchSlowScan=600, watchDeepScan=3600, watchBudget=7)
    repo = make_repo(tmp_path)
    for i in range(6):
        (repo / "node_modules" / f"pkg{i}" / "lib").mkdir(parents=True)
    target = repo / "node_modules" / "pkg3" / "lib" / "x.js"
    target.write_bytes(b"old bytes\n")
    add(store_dir, repo)
    watcher.start()
    tree = watcher.watching(repo)
    assert [b["path"] for b in tree["big_trees"]] == [str(repo / "node_modules")]
    gs(repo, "create", "-m", "base")  # a full walk: the dirty set's base
    gs(repo, "create", "-m", "second")
    folder = target.parent
    st = folder.stat()
    with open(target, "r+b") as f:  # in place: same inode, same folder mtime
        f.write(b"NEW bytes\n")
    os.utime(folder, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert folder.stat().st_mtime_ns == st.st_mtime_ns
    time.sleep(0.2)
    gs(repo, "create", "-m", "after")  # syncs with the daemon and uses the dirty set, as hooks
    with Store() as store:
        # by its message: a watch snapshot of the same write may land after it (a CI run)
        (last,) = [s for s in store.snapshots() if s.message == "after"]
        assert _read(store, last.root, b"node_modules/pkg3/lib/x.js") == b"NEW bytes\n"
    # a big tree made after watching began (published by the daemon with its first marks)
    venv = repo / "src" / ".venv" / "lib"
    venv.mkdir(parents=True)
    (venv / "mod.py").write_bytes(b"v1\n")
    wait_for(
        lambda: any("src/.venv/lib/mod.py" in paths_in(s) for s in watch_snaps(repo)),
        what="the new .venv in a watch snapshot",
    )
    gs(repo, "create", "-m", "base again")
    with open(venv / "mod.py", "r+b") as f:
        f.write(b"v2\n")
    gs(repo, "create", "-m", "after venv")
    with Store() as store:
        # by its message: a watch snapshot of the same write may land after it (a CI run)
        (last,) = [s for s in store.snapshots() if s.message == "after venv"]
        assert _read(store, last.root, b"src/.venv/lib/mod.py") == b"v2\n"


def test_excludes_file_content_change_walks_everything(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    """core.excludesFile at a custom path: editing it relabels files without any event in the
    worktree; the snapshot that follows must not reuse the base root."""
    excludes = tmp_path / "my-excludes"
    excludes.write_text("*.bak\n")
    git(repo, "config", "core.excludesFile", str(excludes))
    (repo / "notes.txt").write_text("notes\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-q", "-m", "c")
    (repo / "draft.md").write_text("untracked for now\n")
    r = gitrepo.find_repo(str(repo))
    with Store() as store, instance.hold(store.path) as got:
        assert got
        dirtyset.watching(store.path, str(repo))
        first = worktree.take(store, r, trigger="watch").snapshot
        labels = {p: e.label for p, e in store.walk(first.root)}
        assert labels[b"draft.md"] == worktree.UNTRACKED
        time.sleep(0.01)
        excludes.write_text("*.bak\ndraft.md\n")  # no event in the worktree, no mark
        snap = worktree.take(store, r, trigger="watch").snapshot
        labels = {p: e.label for p, e in store.walk(snap.root)}
        assert labels[b"draft.md"] == worktree.IGNORED


@pytest.mark.slow
def test_watching_starts_with_a_snapshot_of_unsaved_changes(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path)
    gs(repo, "create", "-m", "before")
    (repo / "src" / "made-before-watching.txt").write_text("no hook saw me\n")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    snaps = wait_for(lambda: watch_snaps(repo), what="a snapshot when watching starts")
    assert "src/made-before-watching.txt" in paths_in(snaps[0])
    # unchanged since the last snapshot: watching starts without a new one
    other = make_repo(tmp_path, "other")
    gs(other, "create", "-m", "up to date")
    add(store_dir, other)
    wait_for(lambda: watcher.tree(other).get("last_snapshot"), what="the check of the other")
    assert watch_snaps(other) == []
