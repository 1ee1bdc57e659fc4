"""Every way a snapshot is taken stores again a content that gc found missing (its mark,
tests/test_gc_marks_missing.py), while the file is on disk unchanged and the files cache
names the lost key: the plain walk (there), the split walk's two processes, a watched
worktree's snapshot with nothing changed since its base (the last snapshot reused:
worktree._reused, archiver._unchanged), with a change elsewhere (rebuilt from the base's
trees: archiver._rebuild_base) and with a tree the watcher prepared after the gc. Each then
restores the first snapshot whole: its lost file is healed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import take
from test_filescache import settle
from test_watch_dirtyset import Daemon
from test_watch_dirtyset import _make_tree

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store import forked
from git_snapshot.store import splitwalk
from git_snapshot.store import walker
from git_snapshot.store.gc import gc
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import digest
from git_snapshot.store.verify import verify
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance
from git_snapshot.watch import take as watch_take

LOST = b"a/d 1\n"  # a/d/f1.txt of _make_tree


def _lose_and_mark(store: Store, content: bytes) -> None:
    """What a gc before session 50 left (the index's row of *content* gone), then a gc."""
    with store.index.write() as db:
        for table in ("objects", "recent"):
            db.execute(f"DELETE FROM {table} WHERE key = ?", (digest(content),))
    assert gc(store).missing == 1


def _healed(store: Store, first: Snapshot, tmp_path: Path, want: dict[bytes, Any]) -> None:
    assert store.index.has(digest(LOST))
    assert store.index.damaged() == {}
    out = tmp_path / "out"
    restore(store, first, out)
    assert diff(want, scan(out)) == []
    assert verify(store, read_data=True).ok


# -- the split walk -----------------------------------------------------------------------------


def test_the_split_walk_stores_it_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree the files cache gives enough folders is walked by two processes; the child
    answers unchanged folders from the files cache: not while an object is marked."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    monkeypatch.setattr(walker, "SPLIT_FOLDERS", 0)
    monkeypatch.setattr(splitwalk, "MIN_FILES", 0)
    monkeypatch.setattr(splitwalk, "UNITS", 4)
    monkeypatch.setattr(splitwalk, "WAIT", True)
    monkeypatch.setattr(forked, "other_threads", lambda: False)  # (pytest-xdist's thread)
    used: list[int] = []
    real = splitwalk.Split.close

    def close(self: splitwalk.Split) -> None:
        used.append(self.used)
        real(self)

    monkeypatch.setattr(splitwalk.Split, "close", close)
    src = tmp_path / "src"
    folders = {
        b"p%d" % i: D({b"f%d" % j: F(b"p%d %d\n" % (i, j)) for j in range(6)}) for i in range(8)
    }
    build(src, D({**folders, b"a": D({b"d": D({b"f1.txt": F(LOST)})})}))
    settle()
    want = scan(src)
    with Store(tmp_path / "store") as store:
        first = take(store, "s", src)
        take(store, "s", src)
        assert max(used) > 0  # (the child's answers were taken: a split walk)
        _lose_and_mark(store, LOST)
        used.clear()
        take(store, "s", src)
        _healed(store, first, tmp_path, want)


# -- a watched worktree -------------------------------------------------------------------------


@pytest.fixture
def watched(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Store, Path, Daemon]]:
    monkeypatch.setattr(walker, "RACY_NS", 0)  # the files cache trusts what it just saw
    _make_tree(repo)
    settle()
    with Store() as store, instance.hold(store.path) as got:
        assert got
        dirtyset.watching(store.path, str(repo))
        daemon = Daemon(store, repo)
        yield store, repo, daemon
        daemon.stop.set()


def _take(store: Store, top: Path, trigger: str = "watch", **kw: Any) -> Snapshot:
    return worktree.take(store, gitrepo.find_repo(str(top)), trigger=trigger, **kw).snapshot


def _on_disk(top: Path) -> dict[bytes, Any]:
    return {k: v for k, v in scan(top).items() if k != b".git" and not k.startswith(b".git/")}


@pytest.mark.parametrize("skip_if_unchanged", [True, False], ids=["reused", "unchanged"])
def test_an_unchanged_watched_snapshot_stores_it_again(
    watched: tuple[Store, Path, Daemon], tmp_path: Path, skip_if_unchanged: bool
) -> None:
    """Nothing changed since the dirty set's base: the last snapshot is reused (a hook's
    skip_if_unchanged: worktree._reused; else archiver._unchanged), not while an object is
    marked: the worktree is walked."""
    store, top, _ = watched
    want = _on_disk(top)
    first = _take(store, top)
    _lose_and_mark(store, LOST)
    _take(store, top, skip_if_unchanged=skip_if_unchanged)
    _healed(store, first, tmp_path, want)


def test_a_watched_snapshot_of_a_change_elsewhere_stores_it_again(
    watched: tuple[Store, Path, Daemon], tmp_path: Path
) -> None:
    """A change in e/: the snapshot would be rebuilt from the base's trees, keeping a/d's
    (archiver._rebuild_base), not while an object is marked: the worktree is walked."""
    store, top, daemon = watched
    first = _take(store, top)
    want = _on_disk(top)
    _lose_and_mark(store, LOST)
    (top / "e" / "f0.txt").write_text("changed\n")
    daemon.entries(top / "e" / "f0.txt")
    _take(store, top)
    _healed(store, first, tmp_path, want)


def test_a_tree_the_watcher_prepares_after_the_gc_stores_it_again(
    watched: tuple[Store, Path, Daemon], tmp_path: Path
) -> None:
    """The watcher's worker prepares the next snapshot's tree from the base's (keeping a/d's)
    as changes come (watch/take.prepare), then a hook commits it: not while an object is
    marked, and the hook walks the worktree."""
    store, top, daemon = watched
    first = _take(store, top)
    want = _on_disk(top)
    _lose_and_mark(store, LOST)
    (top / "e" / "f0.txt").write_text("changed\n")
    daemon.entries(top / "e" / "f0.txt")
    assert watch_take.prepare(str(top))["prepared"] is None
    _take(store, top, trigger="commit", skip_if_unchanged=True)
    _healed(store, first, tmp_path, want)
