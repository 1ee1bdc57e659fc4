"""The two-process walk (store/splitwalk.py): a snapshot walked by two processes is the one a
single walk makes, byte for byte, whatever changed; the child's answers are used only for
folders it found unchanged (whole units, or the unchanged folders inside a changed
one); a child that dies or answers garbage changes nothing; no child is
left behind and none is forked beside another thread."""

from __future__ import annotations

import marshal
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import take
from test_filescache import _apply
from test_filescache import _edit
from test_filescache import settle

from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import forked
from git_snapshot.store import splitwalk

USED: list[int] = []
REAL_OTHER_THREADS = forked.other_threads


@pytest.fixture(autouse=True)
def split_small_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every walk with a files cache is split, however small; what the child did is noted."""
    monkeypatch.setattr(archiver, "RACY_NS", 0)
    monkeypatch.setattr(archiver, "SPLIT_FOLDERS", 0)
    monkeypatch.setattr(splitwalk, "MIN_FILES", 0)
    monkeypatch.setattr(splitwalk, "UNITS", 4)  # units of about 13 files: the p folders
    # the parent waits for the child at each unit (it never does otherwise): so the child's
    # answers are used, not outrun by a parent walking a tiny tree
    monkeypatch.setattr(splitwalk, "WAIT", True)
    # pytest-xdist's worker keeps a thread of its own (idle, holding nothing we use)
    monkeypatch.setattr(forked, "other_threads", lambda: False)
    real = splitwalk.Split.close

    def close(self: splitwalk.Split) -> None:
        USED.append(self.used)
        real(self)

    monkeypatch.setattr(splitwalk.Split, "close", close)
    USED.clear()


def tree() -> D:
    """Eight folders of files, some nested: units enough for both processes."""
    return D(
        {
            b"d": D({b"c.txt": F(b"two"), b"e": D({b"a": F(b"3")})}),
            **{
                f"p{i}".encode(): D(
                    {
                        **{f"f{j}".encode(): F(b"x" * (i * 7 + j)) for j in range(6)},
                        b"sub": D({b"g": F(b"%d" % i)}),
                    }
                )
                for i in range(8)
            },
        }
    )


def _no_child_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_an_unchanged_tree_is_mostly_walked_by_the_child(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, tree())
    settle()
    with Store(tmp_path / "split") as store, Store(tmp_path / "one") as one:
        first = take(store, "s", src)
        assert USED == []  # a first walk has no cache to split by
        for _ in range(3):
            again = take(store, "s", src)
            assert again.root == first.root
        assert max(USED) > 0, USED  # the child's answers were taken
        assert (again.files, again.bytes) == (first.files, first.bytes)
        assert take(one, "s", src).root == first.root
    _no_child_left()


def test_the_unchanged_folders_of_a_changed_unit_are_walked_by_the_child(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, tree())
    settle()
    with Store(tmp_path / "split") as store:
        take(store, "s", src)
        for i in range(8):  # every unit changes: p0..p7 and d, but not their subfolders
            (src / f"p{i}" / "f0").write_bytes(b"changed")
        (src / "d" / "c.txt").write_bytes(b"changed")
        settle()
        got = take(store, "s", src)
    # p0/sub .. p7/sub from the child; d, the first unit, is the parent's before it waits
    assert USED == [8]
    with Store(tmp_path / "fresh") as fresh:
        assert take(fresh, "s", src).root == got.root
    _no_child_left()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rounds=st.lists(st.lists(_edit, min_size=0, max_size=5), min_size=1, max_size=4))
def test_a_split_walk_is_the_single_walk(
    tmp_path_factory: pytest.TempPathFactory, rounds: list[list[tuple[str, list[bytes], bytes]]]
) -> None:
    """After random edits (an empty round: nothing changed), the split walk with the files
    cache gives the trees a fresh single walk without any cache gives, and so does the
    next one, from the cache the split walk saved."""
    base = tmp_path_factory.mktemp("sw")
    src = base / "src"
    build(src, tree())
    settle()
    with Store(base / "split") as split, Store(base / "fresh") as fresh:
        take(split, "s", src)
        before = len(USED)  # (examples share the fixture)
        for edits in rounds:
            for op, parts, data in edits:
                _apply(src, op, [b"p3", *parts] if len(parts) % 2 else parts, data)
            settle()
            got = take(split, "s", src)
            shutil.rmtree(fresh.cache_dir, ignore_errors=True)
            want = take(fresh, "s", src)
            assert got.root == want.root  # the same trees, byte for byte
            assert (got.files, got.bytes, got.skipped) == (want.files, want.bytes, want.skipped)
    assert len(USED) - before == len(rounds)  # every walk after the first was split
    _no_child_left()


def _child_that(monkeypatch: pytest.MonkeyPatch, does: Any) -> None:
    def child(walker: Any, root: bytes, todo: list[bytes], fd: int, passed: Any) -> None:
        does(fd, todo)

    monkeypatch.setattr(splitwalk, "_child", child)


@pytest.mark.parametrize(
    "does",
    [
        lambda fd, todo: os._exit(3),  # dies at once
        lambda fd, todo: os.write(fd, b"\xff\xff\xff\x7fgarbage"),  # a length past the end
        lambda fd, todo: os.write(fd, b"\x05\x00\x00\x00nope!" * 3),  # not marshal
        # claims every unit unchanged, naming folders the cache never had
        lambda fd, todo: [
            os.write(fd, len(m).to_bytes(4, "little") + m)
            for m in [marshal.dumps((rel, [(rel, [rel + b"/ghost"])])) for rel in todo]
        ],
        # answers of the wrong shape: folders that are not a list of paths, not pairs
        lambda fd, todo: [
            os.write(fd, len(m).to_bytes(4, "little") + m)
            for rel in todo
            for m in [
                marshal.dumps((rel, [(rel, [rel, 3])])),
                marshal.dumps((rel, [rel])),
                marshal.dumps(([rel], [])),
                marshal.dumps((rel, [(rel, 7)])),
            ]
        ],
    ],
)
def test_a_child_that_dies_or_lies_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, does: Any
) -> None:
    src = tmp_path / "src"
    build(src, tree())
    settle()
    with Store(tmp_path / "s") as store:
        first = take(store, "s", src)
        (src / "p5" / "f1").write_bytes(b"changed")  # a unit the child would claim
        settle()
        _child_that(monkeypatch, does)
        got = take(store, "s", src)
    with Store(tmp_path / "fresh") as fresh:
        want = take(fresh, "s", src)
    assert got.root == want.root != first.root
    assert USED and max(USED) == 0
    _no_child_left()


def test_no_fork_beside_another_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "other_threads", REAL_OTHER_THREADS)
    src = tmp_path / "src"
    build(src, tree())
    settle()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    with Store(tmp_path / "s") as store:
        take(store, "s", src)
        other.start()
        try:
            take(store, "s", src)
        finally:
            stop.set()
            other.join()
    assert USED == []  # never started
