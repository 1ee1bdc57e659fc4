"""The split walk's child hands over the bytes of the files it read (splitwalk.HAND_BYTES):
the parent stores them as given, under the key the child found for those very bytes, and
reads none of them again; beyond HAND_BYTES it names them and the parent reads them again;
an answer longer than the pipe reaches the parent whole. Whatever the file does after the
child read it, the snapshot holds a version the file had, under its own key, and the next
snapshot the file as it is then."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from storehelpers import build
from storehelpers import entry_of
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take
from test_filescache import settle
from test_splitwalk import CHANGED
from test_splitwalk import _no_child_left
from test_splitwalk import split_small_trees as split_small_trees  # (autouse)
from test_splitwalk import tree

from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import forked
from git_snapshot.store import splitwalk


def _parent_reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The files the parent reads through the split walk's and the careful way's reads."""
    parent = os.getpid()
    reads: list[bytes] = []
    read_whole, read_small = archiver.read_whole, splitwalk._read_small

    def counted_whole(path: bytes, limit: int) -> Any:
        if os.getpid() == parent:
            reads.append(path)
        return read_whole(path, limit)

    def counted_small(path: bytes) -> Any:
        if os.getpid() == parent:
            reads.append(path)
        return read_small(path)

    monkeypatch.setattr(archiver, "read_whole", counted_whole)
    monkeypatch.setattr(splitwalk, "_read_small", counted_small)
    return reads


def _blob_is_its_key(store: Store, snap: Any, rel: bytes) -> bytes:
    e = entry_of(store, snap, rel)
    data = b"".join(store.stream_blob(e.ref))
    assert hashlib.sha256(data).digest() == e.ref
    return data


def test_a_file_changed_after_the_child_read_it_is_stored_as_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file changes (same size, same mtime) after the child read it and before the
    parent stores the answer: the snapshot holds the child's bytes under their own key,
    the answer is taken, and the next snapshot holds the file as it is now (its record,
    the child's, does not pass for the new bytes)."""
    src = tmp_path / "src"
    build(src, tree())
    settle()
    f = src / "p5" / "f0"
    real = splitwalk._stored

    def stored(walker: Any, trees: Any, blobs: Any) -> bool:
        if any(b[0].endswith(b"/p5/f0") for b in blobs):
            mtime = f.stat().st_mtime_ns
            f.write_bytes(b"changeD")
            os.utime(f, ns=(mtime, mtime))
        return real(walker, trees, blobs)

    with Store(tmp_path / "split") as store:
        take(store, "s", src)
        f.write_bytes(b"changed")
        settle()
        monkeypatch.setattr(splitwalk, "_stored", stored)
        reads = _parent_reads(monkeypatch)
        got = take(store, "s", src)
        assert CHANGED == [1] and reads == []  # taken as the child gave it
        assert _blob_is_its_key(store, got, b"p5/f0") == b"changed"
        now = scan(src)
        held = snapshot_contents(store, got)
        assert held.pop(b"p5/f0").data == b"changed"
        assert held == {k: v for k, v in now.items() if k != b"p5/f0"}
        monkeypatch.setattr(splitwalk, "_stored", real)
        settle()
        again = take(store, "s", src)
        assert _blob_is_its_key(store, again, b"p5/f0") == b"changeD"
        assert snapshot_contents(store, again) == scan(src)
    _no_child_left()


def test_beyond_hand_bytes_files_are_named_and_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for a few files' bytes, the child hands those over and names the others:
    the parent reads exactly the ones named, once each, and the snapshot is the tree."""
    monkeypatch.setattr(splitwalk, "HAND_BYTES", 3 * len(b"changed p0"), raising=False)
    src = tmp_path / "src"
    build(src, tree())
    settle()
    with Store(tmp_path / "split") as store:
        take(store, "s", src)
        for i in range(8):
            (src / f"p{i}" / "f0").write_bytes(b"changed p%d" % i)
        settle()
        reads = _parent_reads(monkeypatch)
        got = take(store, "s", src)
        assert CHANGED and CHANGED[0] >= 5
        # the child walks from the last unit: it handed over 3 files and named the others
        # it answered for (p0, d: the parent's own walk, whose reads are not counted here)
        assert len(reads) == len(set(reads)) == CHANGED[0] - 3
        assert snapshot_contents(store, got) == scan(src)
    with Store(tmp_path / "fresh") as fresh:
        assert take(fresh, "s", src).root == got.root
    _no_child_left()


def test_an_answer_longer_than_the_pipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder whose changed files hold more bytes than the pipe: the child's answer waits
    for the parent to read it, which reads it in pieces and takes it whole (none of its
    files read again)."""
    # the parent reads the answer 1000 bytes at a time, from a pipe of a page
    monkeypatch.setattr(splitwalk, "_ROOM", 1000, raising=False)
    start = forked.start
    monkeypatch.setattr(forked, "start", lambda work, pipe_size=0: start(work, 4096))
    src = tmp_path / "src"
    build(src, tree())
    settle()
    with Store(tmp_path / "split") as store:
        take(store, "s", src)
        for j in range(6):
            (src / "p7" / f"f{j}").write_bytes(os.urandom(20_000 + j))
        settle()
        reads = _parent_reads(monkeypatch)
        got = take(store, "s", src)
        assert CHANGED == [1] and reads == []
        assert snapshot_contents(store, got) == scan(src)
    with Store(tmp_path / "fresh") as fresh:
        assert take(fresh, "s", src).root == got.root
    _no_child_left()


def test_an_answer_stored_as_it_came_keeps_no_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer stored as it came (Split._early) waits for its take until the walk
    reaches its folder (the end of the walk, for the child's units): by then it holds
    neither its files' bytes nor its trees' (their keys are pending), and the take still
    takes it, the snapshot the tree."""
    src = tmp_path / "src"
    build(src, tree())
    settle()
    held: list[tuple[int, int]] = []  # per take of a stored answer: trees, files with bytes
    real = splitwalk.Split._changed

    def changed(self: splitwalk.Split, walker: Any, *args: Any) -> Any:
        answer = args[-1]
        if answer[4] and all(b[1] in walker.pending for b in answer[4]):
            held.append((len(answer[3]), sum(len(b) == 3 for b in answer[4])))
        return real(self, walker, *args)

    with Store(tmp_path / "split") as store:
        take(store, "s", src)
        for i in range(1, 8):
            (src / f"p{i}" / "f0").write_bytes(b"changed %d" % i)
        settle()
        monkeypatch.setattr(splitwalk.Split, "_changed", changed)
        got = take(store, "s", src)
        assert held and held == [(0, 0)] * len(held) and [len(held)] == CHANGED
        assert snapshot_contents(store, got) == scan(src)
    with Store(tmp_path / "fresh") as fresh:
        assert take(fresh, "s", src).root == got.root
    _no_child_left()


def test_a_child_gone_in_the_middle_of_an_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child dies after writing half of an answer carrying files' bytes: the parent
    takes nothing of it (the answers before it, whole, are taken) and walks those
    folders itself; the snapshot is the tree."""
    real = splitwalk._send

    def half(fd: int, message: bytes) -> None:
        if b"changed p" in message:  # the first answer with a file's bytes
            os.write(fd, message[: len(message) // 2])
            os._exit(0)
        real(fd, message)

    monkeypatch.setattr(splitwalk, "_send", half, raising=False)
    src = tmp_path / "src"
    build(src, tree())
    settle()
    with Store(tmp_path / "split") as store:
        take(store, "s", src)
        (src / "p6" / "f0").write_bytes(b"changed p6")
        settle()
        got = take(store, "s", src)
        assert CHANGED == [0]
        assert snapshot_contents(store, got) == scan(src)
    with Store(tmp_path / "fresh") as fresh:
        assert take(fresh, "s", src).root == got.root
    _no_child_left()
