"""Big ignored trees watched whole while the watch budget allows: a hook snapshot trusts them
(it lists only the folders events marked), and one that outgrows the budget, or whose watches
a project folder needs, becomes a scanned tree that hooks walk again. The real daemon on real
inotify, in this process (a thread reads its events and answers the hooks' sync tokens)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_watch_daemon import make_repo
from test_watch_dirtyset import walked  # noqa: F401 (the fixture: the folders the archiver listed)

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.watch import config as wconfig
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance
from git_snapshot.watch import source
from git_snapshot.watch.daemon import Daemon

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)

# the daemon's own 2 + the root and src/ + node_modules/ and its 12 folders = 17 watches
PKGS = 6


class Live:
    def __init__(self, store_path: str, repo: Path, budget: int) -> None:
        self.store_path, self.repo = store_path, repo
        cfg = wconfig.WatchConfig(big_dirs=3, budget=budget, quiet=600, max_delay=600)
        self.daemon = Daemon(store_path, cfg, source.Inotify())
        self.daemon.add(str(repo))
        self.ws = self.daemon.trees[str(repo)].ws
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                self.daemon.on_events(self.daemon.src.read())
            time.sleep(0.001)

    def settle(self) -> None:
        """Every event so far handled (as a hook's sync makes sure)."""
        time.sleep(0.05)
        with self.lock:
            self.daemon.on_events(self.daemon.src.read())

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.daemon.end_worker()
        self.daemon.src.close()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path)
    for i in range(PKGS):
        (repo / "node_modules" / f"pkg{i}" / "lib").mkdir(parents=True)
        (repo / "node_modules" / f"pkg{i}" / "lib" / "x.js").write_bytes(b"old %d\n" % i)
    return repo


def live(store_dir: Path, repo: Path, budget: int) -> Iterator[Live]:
    with instance.hold(str(store_dir)) as mine:
        assert mine
        w = Live(str(store_dir), repo, budget)
        try:
            yield w
        finally:
            w.close()


def hook(repo: Path) -> Any:
    """A hook's snapshot (it syncs with the daemon and uses the dirty set)."""
    with Store() as store:
        return worktree.take(store, gitrepo.find_repo(str(repo)), trigger="post-checkout").snapshot


def full_walk(repo: Path, tmp_path: Path) -> tuple[bytes, int, int]:
    with Store(tmp_path / "full-walks") as other:
        s = worktree.take(other, gitrepo.find_repo(str(repo)), trigger="manual").snapshot
    return s.root, s.files, s.bytes


def scanned(store_dir: Path, repo: Path) -> frozenset[tuple[bytes, bool]]:
    begun = dirtyset.begin(str(store_dir), str(repo))
    assert begun is not None
    return begun.scanned


def rewrite_in_place(path: Path, data: bytes) -> None:
    """Same inode, same size, the folder's mtime unchanged: only an event shows it."""
    folder = path.parent
    st = folder.stat()
    with open(path, "r+b") as f:
        f.write(data)
    os.utime(folder, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_a_big_tree_that_fits_is_watched_whole_and_trusted(
    tree: Path,
    store_dir: Path,
    tmp_path: Path,
    walked: list[bytes],  # noqa: F811 (the fixture imported above)
) -> None:
    for w in live(store_dir, tree, budget=1000):
        assert w.ws.whole == {str(tree / "node_modules"): 1 + 2 * PKGS}
        assert not w.ws.big and scanned(store_dir, tree) == frozenset()
        hook(tree)  # the epoch's first: a full walk, the base
        walked.clear()
        root = hook(tree).root
        assert walked == []  # nothing changed: not a folder listed, node_modules included
        assert root == full_walk(tree, tmp_path)[0]
        rewrite_in_place(tree / "node_modules" / "pkg3" / "lib" / "x.js", b"NEW 3\n")
        walked.clear()
        snap = hook(tree)
        assert walked == []  # the event named the file: its folders rebuilt, none listed
        assert (snap.root, snap.files, snap.bytes) == full_walk(tree, tmp_path)


def test_a_tree_that_outgrows_the_budget_is_scanned_and_walked_by_hooks(
    tree: Path, store_dir: Path, tmp_path: Path
) -> None:
    for w in live(store_dir, tree, budget=20):  # 0.9 x 20 >= 17: it fits, with 3 to spare
        assert str(tree / "node_modules") in w.ws.whole
        hook(tree)
        (tree / "node_modules" / "pkg9" / "a" / "b" / "c" / "d" / "e").mkdir(parents=True)
        w.settle()
        assert not w.ws.whole and str(tree / "node_modules") in w.ws.big
        assert w.ws.counters.demoted == 1
        assert scanned(store_dir, tree) == {(b"node_modules", False)}  # before any mark
        # its folders have no watch now: an in-place rewrite has no event, a hook walks it
        assert not [d for d in w.ws.watched if "/node_modules/" in d]
        rewrite_in_place(tree / "node_modules" / "pkg1" / "lib" / "x.js", b"NEW 1\n")
        snap = hook(tree)
        assert (snap.root, snap.files, snap.bytes) == full_walk(tree, tmp_path)


def test_a_project_folder_takes_the_watches_of_a_tree_watched_whole(
    tree: Path, store_dir: Path, tmp_path: Path
) -> None:
    for w in live(store_dir, tree, budget=20):
        assert str(tree / "node_modules") in w.ws.whole
        for name in "abcde":  # 17 + 5 > 20: the project folders come first
            (tree / "src" / name).mkdir()
        w.settle()
        assert str(tree / "node_modules") in w.ws.big and not w.ws.whole
        assert all(str(tree / "src" / n) in w.ws.watched for n in "abcde")
        assert not w.ws.polled
        assert scanned(store_dir, tree) == {(b"node_modules", False)}
        hook(tree)
        (tree / "src" / "c" / "new.py").write_text("new\n")
        rewrite_in_place(tree / "node_modules" / "pkg0" / "lib" / "x.js", b"NEW 0\n")
        w.settle()
        snap = hook(tree)
        assert (snap.root, snap.files, snap.bytes) == full_walk(tree, tmp_path)
