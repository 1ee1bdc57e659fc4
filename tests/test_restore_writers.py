"""Writer processes of a whole restore are forked before the plan (session 10): forked after
it, each started as big as the restoring process with every checked tree and location in it
(peak RSS of a restore of L: 156 MB, a writer's; 59 MB forked first). The contents the plan
finds in more than one file reach them with each job."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import packread
from git_snapshot.store import packs
from git_snapshot.store import restore_write
from git_snapshot.store import validate
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import Entry
from git_snapshot.store.restorer import Restorer


def test_writers_are_forked_before_the_plan_and_told_the_shared_contents(
    store: Store, tmp_path: Path, monkeypatch: object
) -> None:
    licence = b"the same text in every folder\n" * 30
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"d%02d" % j: D(
                    {
                        b"LICENSE": F(licence),
                        **{b"f%02d" % i: F(os.urandom(900)) for i in range(30)},
                    }
                )
                for j in range(20)
            }
        ),
    )
    snap = take(store, "s", src)
    seen_at_plan: list[bool] = []
    prepare = Restorer._prepare
    members = Restorer._members
    told = tmp_path / "told"

    def spy_prepare(self: Restorer, *args: object) -> object:
        seen_at_plan.append(self.workers is not None)
        return prepare(self, *args)  # type: ignore[arg-type]

    def spy_members(self: Restorer, work: list[restore_write._Work], *args: object) -> object:
        with open(told, "a") as f:  # in a writer process: what it knows is shared
            f.write(f"{sum(w[4] in self.shared for w in work)}\n")
        return members(self, work, *args)  # type: ignore[arg-type]

    Restorer._prepare = spy_prepare  # type: ignore[method-assign,assignment]
    Restorer._members = spy_members  # type: ignore[method-assign,assignment]
    try:
        out = tmp_path / "out"
        restore(store, snap, out, threads=2, processes=True)
    finally:
        Restorer._prepare = prepare  # type: ignore[method-assign]
        Restorer._members = members  # type: ignore[method-assign]
    assert seen_at_plan == [True]
    assert diff(scan(src), scan(out)) == []
    assert sum(map(int, told.read_text().split())) >= 19  # every LICENSE but the first


def test_groups_are_shared_out_by_what_each_writer_was_given() -> None:
    """A new group goes to the writer given the least so far, and its later members to the
    same writer: handed out by hash, groups whose hashes agree all went to one writer."""
    import marshal
    import socket
    from collections import deque

    workers = object.__new__(restore_write._Workers)
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(2)]
    workers.socks = [a for a, _ in pairs]
    workers.pids = []
    workers.jobs = [deque(), deque()]
    workers.running = 0
    workers.load = [0, 0]
    workers.owner = {}
    offsets = [o for o in range(0, 400_000, 1000) if hash(("p", o)) % 2 == 0][:12]
    d = restore_write._Dir(0, None, own=False)
    got: list[dict[int, int]] = [{}, {}]  # per writer: group -> bytes
    try:
        for job in range(3):  # each group's members spread over three jobs
            ready: list[restore_write._Item] = []
            for g, off in enumerate(offsets):
                for m in range(5):
                    e = Entry(b"f%d-%d-%d" % (g, m, job), 1, 0o644, 0, 3000, os.urandom(32), 0, 0)
                    ready.append((("p", off, 100, 3000, m * 3000), d, e, b"x/"))
            workers.send(ready, {0: 0}, [0], [d], set())
            for k, (_, theirs) in enumerate(pairs):
                theirs.setblocking(False)
                try:
                    msg, _, _, _ = socket.recv_fds(theirs, 1 << 20, 4)
                except BlockingIOError:  # nothing for this writer in this job
                    continue
                part, _ = marshal.loads(msg)
                for w in part:
                    got[k][w[5][1]] = got[k].get(w[5][1], 0) + w[5][3]
    finally:
        for a, b in pairs:
            a.close()
            b.close()
    assert not set(got[0]) & set(got[1])  # a group's members all go to one writer
    assert sum(got[0].values()) == sum(got[1].values())


def test_each_writer_process_links_through_its_own_proc_fd(store: Store, tmp_path: Path) -> None:
    """New files are linked through /proc/self/fd kept open (Writing._link_unnamed). A writer
    process inherits the restore's: that one resolves the restore's descriptors, not the
    writer's, so each writer opens its own (serve). Here the restore's is open before the
    writers fork; linked through it, a writer named another file, or failed."""
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"d%02d" % j: D({b"f%02d" % i: F(os.urandom(700)) for i in range(40)})
                for j in range(16)
            }
        ),
    )
    snap = take(store, "s", src)
    restorer = Restorer(store, threads=2, processes=True)
    restorer.proc_fd = restore_write._proc_fds()  # as if opened before the writers forked
    inherited = restorer.proc_fd
    try:
        restorer.restore(snap, str(tmp_path / "out"), None)
    finally:
        os.close(inherited)
    assert restorer.report.files == 640
    assert diff(scan(src), scan(tmp_path / "out")) == []


def test_writer_threads_decompress_each_group_once(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writer threads (no fork: another thread runs, or not Linux) share a job out as the
    processes do, a group's members always to the same thread (its groups stay in that
    thread's cache): given whole jobs, both threads decompressed a group spanning several
    jobs (L: 1,355 decompressions of 705 groups, 2.9 GB instead of 1.5)."""
    monkeypatch.setattr(packs, "GROUP_BYTES", 600 << 10)  # groups spanning ~2 jobs each
    src = tmp_path / "src"
    text = b"some text that compresses, line after line\n" * 60
    build(
        src,
        D(
            {
                b"d%03d" % j: D({b"f%d" % i: F(text + os.urandom(16)) for i in range(4)})
                for j in range(200)
            }
        ),
    )
    snap = take(store, "s", src)
    made: list[tuple[int, int]] = []
    real = packread._read_exactly

    def counting(dctx: object, frame: memoryview, size: int) -> bytes:
        made.append((threading.get_ident(), size))
        return real(dctx, frame, size)  # type: ignore[arg-type]

    monkeypatch.setattr(packread, "_read_exactly", counting)
    groups = {
        (loc.pack, loc.offset)
        for loc in store.index.locate_many(
            [e.ref for _, e in validate.walk(store, snap.root) if e.kind == FILE]
        ).values()
        if loc.inner >= 0
    }
    assert len(groups) >= 2
    out = tmp_path / "out"
    restore(store, snap, out, threads=2, processes=False)
    assert diff(scan(src), scan(out)) == []
    assert len(made) == len(groups)
