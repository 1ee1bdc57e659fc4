"""The files cache's whole write (store/filescache.py, Writer.publish): the file it replaces,
when big, is not freed by the rename at the end of the snapshot (4-5 ms for L's 23.6 MB, after
the commit, where nothing else runs) but held open across it and closed by a thread of the C
module's (ctree.close_later), which neither the GIL nor a hook's os._exit waits for."""

from __future__ import annotations

import _thread
import os
import time
from pathlib import Path

import pytest

from git_snapshot.store import ctree
from git_snapshot.store import filescache

_needs_c = pytest.mark.skipif(not ctree.NATIVE, reason="the C module is not in use")


def _fds() -> set[int]:
    """The descriptors open (and the one that lists them)."""
    return {int(n) for n in os.listdir("/proc/self/fd")}


def _written(tmp: Path, dirs: dict[bytes, bytes]) -> filescache.Writer:
    path = str(tmp / "c.cache")
    return filescache.prepare(path, "g", filescache.FilesCache(dirs, {}, b"r" * 32), str(tmp))


@pytest.fixture
def let_go(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """ctree.close_later recorded, not run: the descriptors publish gives it."""
    given: list[int] = []
    monkeypatch.setattr(ctree, "close_later", given.append)
    return given


def test_a_big_replaced_cache_is_held_across_the_rename_and_let_go(
    tmp_path: Path, let_go: list[int]
) -> None:
    """The old file, as big as LET_GO, is still open when the new one is in place: its last
    hold goes to close_later (its pages are freed there), never to the publishing thread."""
    path = tmp_path / "c.cache"
    path.write_bytes(b"x" * filescache.LET_GO)
    old = os.stat(path)
    w = _written(tmp_path, {b"a": b"rec"})
    before = _fds()
    w.publish()
    (fd,) = let_go
    held = os.fstat(fd)
    assert (held.st_ino, held.st_size, held.st_nlink) == (old.st_ino, old.st_size, 0)
    assert len(_fds()) == len(before) + 1  # (that one)
    assert filescache.load(str(path), "g", lambda r: True).dirs == {b"a": b"rec"}
    os.close(fd)


def test_a_small_replaced_cache_is_freed_by_the_rename(tmp_path: Path, let_go: list[int]) -> None:
    """Below LET_GO (a hook's cache on S: 233 KB) the rename frees it: no thread started, no
    descriptor left; nor for a first write (nothing replaced)."""
    path = tmp_path / "c.cache"
    before = _fds()
    _written(tmp_path, {b"a": b"1"}).publish()
    path.write_bytes(b"x" * (filescache.LET_GO - 1))
    _written(tmp_path, {b"a": b"2"}).publish()
    assert let_go == [] and _fds() == before
    assert filescache.load(str(path), "g", lambda r: True).dirs == {b"a": b"2"}


def test_a_failed_rename_lets_go_of_the_old_file_and_leaves_it(
    tmp_path: Path, let_go: list[int]
) -> None:
    """A rename that fails raises as before, the old file in place, its hold let go."""
    path = tmp_path / "c.cache"
    path.write_bytes(b"x" * filescache.LET_GO)
    w = _written(tmp_path, {b"a": b"rec"})
    os.unlink(w.tmp)
    with pytest.raises(FileNotFoundError):
        w.publish()
    (fd,) = let_go
    assert os.fstat(fd).st_ino == os.stat(path).st_ino
    os.close(fd)


def test_a_symlink_in_the_caches_place_is_replaced_not_followed(
    tmp_path: Path, let_go: list[int]
) -> None:
    """The old file is opened without following a link: a link there is replaced, and what
    it points to is neither held nor touched."""
    target = tmp_path / "elsewhere"
    target.write_bytes(b"x" * filescache.LET_GO)
    path = tmp_path / "c.cache"
    path.symlink_to(target)
    _written(tmp_path, {b"a": b"rec"}).publish()
    assert let_go == [] and not path.is_symlink()
    assert target.read_bytes() == b"x" * filescache.LET_GO


def _closed(fd: int, ino: int) -> bool:
    try:
        return os.fstat(fd).st_ino != ino
    except OSError:
        return True


@_needs_c
def test_close_later_closes_on_a_thread_python_does_not_count(tmp_path: Path) -> None:
    """The descriptor is closed soon after, by no Python thread (_thread._count(): a hook's
    os._exit, hookmain.leave, is not put off); a wrong argument raises, closing nothing."""
    f = tmp_path / "f"
    f.write_bytes(b"x" * 100)
    fd = os.open(f, os.O_RDONLY)
    ino = os.fstat(fd).st_ino
    os.unlink(f)
    threads = _thread._count()
    ctree.close_later(fd)
    assert _thread._count() == threads
    deadline = time.monotonic() + 10
    while not _closed(fd, ino):
        assert time.monotonic() < deadline, "never closed"
        time.sleep(0.001)
    for bad in ("3", -1, 1 << 40, None):
        with pytest.raises((TypeError, ValueError, OverflowError)):
            ctree.close_later(bad)  # type: ignore[arg-type]
