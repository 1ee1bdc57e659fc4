"""A writer whose pool is behind compresses the next batch in its own thread
(packs._Future.finished) instead of waiting: the pack is the one a writer without a pool
writes, byte for byte."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from git_snapshot.store import archiver
from git_snapshot.store import packs
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import TREE
from git_snapshot.store.packread import PackReader
from git_snapshot.store.packread import scan_pack

WORDS = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon", b"zeta", b"eta", b"theta"]


def _objects(seed: int) -> list[tuple[int, bytes, bytes]]:
    rnd = random.Random(seed)
    out = []
    for i in range(400):
        if i % 50 == 7:
            data = rnd.randbytes(rnd.randint(300 << 10, 600 << 10))  # a frame of its own
        else:
            data = b" ".join(rnd.choices(WORDS, k=rnd.randint(0, 3000)))
        out.append((TREE if i % 97 == 3 else BLOB, rnd.randbytes(32), data))
    return out


def _write(
    root: Path, objects: list[tuple[int, bytes, bytes]], threads: int, dictionary: bool = True
) -> bytes:
    (root / "tmp").mkdir(parents=True)
    (root / "packs").mkdir()
    w = packs.PackWriter(str(root), dictionary=dictionary, threads=threads, pool_after=0)
    for type_, key, data in objects:
        w.add(type_, key, data)
    (done,) = w.finish()
    assert len(done.objects) == len(objects)
    return (root / "packs" / done.name).read_bytes()


def test_a_writer_whose_pool_is_behind_compresses_itself_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = _objects(1)
    alone = _write(tmp_path / "alone", objects, threads=0)
    monkeypatch.setattr(packs, "QUEUE", 2)
    monkeypatch.setattr(packs, "QUEUE_BYTES", 1 << 20)
    monkeypatch.setattr(packs, "BATCH_OBJECTS", 8)
    fast = packs._compress_all

    def slowly(*args: Any) -> Any:  # the pool's thread: always behind the writer
        time.sleep(0.02)
        return fast(*args)

    real_submit = packs._Pool.submit
    monkeypatch.setattr(packs._Pool, "submit", lambda self, fn, *a: real_submit(self, slowly, *a))
    inline: list[int] = []
    real_finished = packs._Future.finished

    def finished(value: Any) -> Any:
        inline.append(threading.get_ident())
        return real_finished(value)

    monkeypatch.setattr(packs._Future, "finished", finished)
    pooled = _write(tmp_path / "pool", objects, threads=1)
    assert pooled == alone
    assert inline and set(inline) == {threading.get_ident()}  # the writer's own thread
    assert [t for t in threading.enumerate() if t.name == "git-snapshot-zstd"] == []


def test_a_pool_behind_by_batches_but_not_by_bytes_is_not_helped_inline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool is behind when QUEUE_BYTES wait for it, not QUEUE batches: a first walk's
    batches mostly carry a few folders' trees, and counted as groups they sent the walk to
    compress a whole group while the pool had next to nothing left (then it idled). Batches
    of a small tree each queue for the pool; the pack is a writer's without a pool."""
    objects = [(TREE, bytes([i]) * 32, b"tree %d " % i * 20) for i in range(40)]
    alone = _write(tmp_path / "alone", objects, threads=0)
    monkeypatch.setattr(packs, "BATCH_OBJECTS", 1)  # a batch per tree
    fast = packs._compress_all

    def slowly(*args: Any) -> Any:  # the pool's thread: far behind the writer by batches
        time.sleep(0.01)
        return fast(*args)

    real_submit = packs._Pool.submit
    monkeypatch.setattr(packs._Pool, "submit", lambda self, fn, *a: real_submit(self, slowly, *a))
    inline: list[int] = []
    real_finished = packs._Future.finished

    def finished(value: Any) -> Any:
        inline.append(1)
        return real_finished(value)

    monkeypatch.setattr(packs._Future, "finished", finished)
    assert _write(tmp_path / "pool", objects, threads=1) == alone
    assert inline == []


def test_the_pool_has_a_core_fewer_than_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for cores, threads in ((None, 1), (1, 1), (2, 1), (3, 2), (8, 4)):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        assert archiver._compressors() == threads


def test_a_writer_that_raised_the_trim_threshold_lowers_it_when_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """give_back_big_blocks keeps up to KEEP_FREE of free heap (fewer page faults while a
    big snapshot is written); finish() puts glibc's default back, so a long-lived process (the
    watcher's worker) does not keep that memory after a big snapshot."""
    calls: list[str] = []
    monkeypatch.setattr(packs, "BIG_AFTER", 64 << 10)
    monkeypatch.setattr(packs, "give_back_big_blocks", lambda: calls.append("raise"))
    monkeypatch.setattr(packs, "_keep_less", lambda: calls.append("lower"))
    _write(tmp_path / "a", _objects(2), threads=1)
    assert calls == ["raise", "lower"]


def test_a_flush_compresses_the_pools_backlog_in_the_writers_thread_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a flush, batches no pool thread took yet are compressed by the writer's own thread
    (newest first) instead of waited for; hand_over() gives the last group to the pool before
    (a walk that ended); the pack is byte for byte a writer's without a pool."""
    objects = _objects(3)
    alone = _write(tmp_path / "alone", objects, threads=0)
    monkeypatch.setattr(packs, "BATCH_OBJECTS", 8)
    monkeypatch.setattr(packs, "QUEUE", 1000)  # never behind while objects are added
    monkeypatch.setattr(packs, "QUEUE_BYTES", 1 << 40)
    me = threading.get_ident()
    fast = packs._compress_all
    ran: list[int] = []

    def slowly(*args: Any) -> Any:
        ran.append(threading.get_ident())
        if threading.get_ident() != me:
            time.sleep(0.02)
        return fast(*args)

    real_submit = packs._Pool.submit
    monkeypatch.setattr(packs._Pool, "submit", lambda self, fn, *a: real_submit(self, slowly, *a))
    root = tmp_path / "pool"
    (root / "tmp").mkdir(parents=True)
    (root / "packs").mkdir()
    w = packs.PackWriter(str(root), dictionary=True, threads=1, pool_after=0)
    for type_, key, data in objects:
        w.add(type_, key, data)
    w.hand_over()
    assert w._batch == [] and w._group == []
    (done,) = w.finish()
    assert (root / "packs" / done.name).read_bytes() == alone
    assert me in ran and len(set(ran)) == 2  # both threads compressed
    assert [t for t in threading.enumerate() if t.name == "git-snapshot-zstd"] == []


def test_a_flush_with_no_pool_yet_compresses_its_batch_without_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer whose pool would start from the first byte (a snapshot's changes) but is only
    given a batch at its flush (an unchanged snapshot's record) compresses it itself: no
    thread started, no queue or threading imported for it; with more, the pool starts."""
    started: list[int] = []
    real_init = packs._Pool.__init__

    def init(self: Any, n: int) -> None:
        started.append(n)
        real_init(self, n)

    monkeypatch.setattr(packs._Pool, "__init__", init)
    for name, objects in (("one", _objects(4)[:1]), ("many", _objects(4))):
        root = tmp_path / name
        (root / "tmp").mkdir(parents=True)
        (root / "packs").mkdir()
        w = packs.PackWriter(str(root), threads=1, pool_after=0, level=3, tree_level=-1)
        for type_, key, data in objects:
            w.add(type_, key, data)
        (done,) = w.finish()
        assert len(done.objects) == len(objects)
        assert started == ([] if name == "one" else [1])


def test_a_flush_cuts_its_closing_group_in_two_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group a flush closes (the last of a walk: the walk's thread waits for it) holding
    at least 2 * CLOSE_HALF bytes goes as two groups, each compressed by a job of its own (one
    for the pool's thread, one for the waiting thread), every member read back exact; the pack
    is the one a writer without a pool writes, byte for byte."""
    rnd = random.Random(3)
    objects = [
        (BLOB, rnd.randbytes(32), b" ".join(rnd.choices(WORDS, k=rnd.randint(500, 3000))))
        for _ in range(60)
    ]
    total = sum(len(d) for _, _, d in objects)
    assert 2 * packs.CLOSE_HALF <= total < packs.GROUP_BYTES  # (one group, closed by finish)
    jobs: list[int] = []
    fast = packs._compress_all

    def counted(items: Any, zdict: Any) -> Any:
        jobs.append(sum(len(m) for d, _, _ in items if isinstance(d, list) for m in d))
        return fast(items, zdict)

    monkeypatch.setattr(packs, "_compress_all", counted)
    monkeypatch.setattr(packs, "BATCH_OBJECTS", 8)  # (the pool started by the first batches)
    pooled = _write(tmp_path / "pooled", objects, threads=1, dictionary=False)
    assert len(jobs) == 2 and sum(jobs) == total and min(jobs) >= packs.CLOSE_HALF, jobs
    assert _write(tmp_path / "alone", objects, threads=0, dictionary=False) == pooled
    (name,) = os.listdir(tmp_path / "pooled" / "packs")
    found = list(scan_pack(str(tmp_path / "pooled" / "packs" / name)))
    assert len({o.offset for o in found}) == 2  # two groups
    reader = PackReader(str(tmp_path / "pooled"))
    try:
        got = {o.key: reader.read(name, o.offset, o.length, o.size, o.inner) for o in found}
    finally:
        reader.close()
    assert got == {k: d for _, k, d in objects}
