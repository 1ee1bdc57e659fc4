"""The worker's warmer: the base's trees read into memory while the worker waits for work.

A preparation (watch/take.prepare) reads the base's tree of every folder it rebuilds: on L
(200k files) with 2,000 files changed anywhere, ~2,600 trees, ~90-120 ms of the worker's
~400 ms (an index lookup, a read, SHA-256 and a split each). The worker keeps the trees its
rebuilds split (store/rebuild.keep_trees), but a random change meets mostly trees no rebuild
split yet. So between jobs a thread of the worker reads the trees below the last base of the
worktree it served (breadth first: the upper folders, which every change shares, first) into
store/rebuild's warm trees, as stored bytes checked against their keys, until WARM_BYTES
(~19 MB for L's 30,553 trees): a rebuild then only splits them. Not split ahead into the
kept trees: L's 231k entries do not fit KEEP_ENTRIES (200k, ~30 MB), and the rebuilds'
own trees then pushed the kept ones out half at a time (measured: old_trees 31 ms of CPU
after the warm-up, then 68-76 and 206-211 ms, against 88-152 without warming).

It never runs beside a job: :meth:`Warmer.pause` (before each job) returns once the thread is
between two batches of at most BATCH trees, and the thread waits until :meth:`Warmer.resume`.
So the kept trees, which are not locked, are only ever touched by one thread at a time, and a
job's fork (the split walk) never meets the thread in the middle of a read. It reads through
its own connection to the index, takes no lock of the store, and keeps nothing it could not
check: a tree that cannot be read or does not match its key is left out (never recorded as
damaged: a pack gc deleted meanwhile is no damage), and everything it holds goes with the
kept trees when the index's generation changes (rebuild._kept).
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from typing import Any

BATCH = 64  # trees read per step (one index query): a pause waits for at most one step (~2-4 ms)
# and only after the worker has been idle this long: a hook commits the preparation just made
# right after it, and its wall (2 cores, often busy) is what counts
IDLE_S = 0.5


class Warmer:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.busy = True  # a job runs (or none was served yet): the thread waits
        self.after = 0.0  # and reads nothing before this (time.monotonic())
        self.working = False  # the thread is in a step
        self.worktree: str | None = None  # whose base to read
        self.store: Any = None  # the thread's own
        self.tag: object = None  # rebuild's kept trees as todo and seen know them
        self.todo: deque[bytes] = deque()  # trees to read (their folders below, later)
        self.seen: set[bytes] = set()  # trees whose subfolders are in todo or read
        self.root: bytes | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="warmer")
        self.thread.start()

    def pause(self) -> None:
        """A job starts: wait until the thread is between steps; it stays there."""
        with self.cond:
            self.busy = True
            while self.working:
                self.cond.wait()

    def resume(self, worktree: str | None) -> None:
        """The job is done: read *worktree*'s base (None: the last one's) meanwhile."""
        import time

        with self.cond:
            if worktree is not None:
                self.worktree = worktree
            self.busy = False
            self.after = time.monotonic() + IDLE_S
            self.cond.notify_all()

    def _run(self) -> None:
        import time

        # (not at a lower priority: pause() waits for the step under way, and a starved
        # thread at nice 19 held a preparation 8.5 s at load 7)
        while True:
            with self.cond:
                while self.busy or self.worktree is None or time.monotonic() < self.after:
                    if not self.busy and self.worktree is not None:
                        self.cond.wait(self.after - time.monotonic())
                    else:
                        self.cond.wait()
                self.working = True
                worktree = self.worktree
            more = False
            try:
                more = self._step(worktree)
            except Exception:  # only a head start: the rebuild reads what it needs itself
                more = False
            finally:
                with self.cond:
                    self.working = False
                    if not more and self.worktree == worktree:
                        self.worktree = None  # done until the next job names one
                    self.cond.notify_all()

    def _step(self, worktree: str) -> bool:
        """Read up to BATCH trees of *worktree*'s base; False when there is nothing left."""
        from git_snapshot.store import Store
        from git_snapshot.store import rebuild
        from git_snapshot.watch import dirtyset

        if self.store is None:
            self.store = Store()
        store = self.store
        kept = rebuild._kept(store)
        if kept is None:
            return False
        if rebuild._kept_tag != self.tag:  # gc, repair: what was read went, read again
            # (kept trees dropped past KEEP_ENTRIES are the least recently used, mostly older
            # versions of changed folders: not read again, a walk of all 30k trees each time
            # cost ~0.3 s of CPU beside the hooks)
            self.tag = rebuild._kept_tag
            self.todo.clear()
            self.seen.clear()
            self.root = None
        begun = dirtyset.begin(store.path, worktree, marks=False)
        if begun is None or not begun.base_root:
            return False
        if begun.base_root != self.root:
            self.root = begun.base_root
            if self.root not in self.seen:
                self.todo.appendleft(self.root)
        batch: list[bytes] = []
        while self.todo and len(batch) < BATCH:
            key = self.todo.popleft()
            if key in self.seen:
                continue
            split = kept.get(key)
            if split is None:
                data = rebuild._WARM.get(key)
                split = None if data is None else rebuild.split(data)
            if split is not None:
                self._below(key, split)
            else:
                batch.append(key)
        for key, data in _read(store, batch).items():
            split = rebuild.split(data)
            if split is None:
                continue  # not as the walker writes them: the rebuild says so
            if not rebuild.warm(key, data):
                self.todo.clear()
                return False  # full
            self._below(key, split)
        return bool(self.todo)

    def _below(self, key: bytes, entries: dict[bytes, bytes]) -> None:
        """Tree *key* is read: its subfolders' trees next."""
        from git_snapshot.store import rebuild
        from git_snapshot.store.objects import DIR

        self.seen.add(key)
        for raw in entries.values():
            if raw[0] == DIR:
                sub = rebuild._ref(raw)
                if sub not in self.seen:
                    self.todo.append(sub)


def _read(store: Any, keys: list[bytes]) -> dict[bytes, bytes]:
    """The bytes of those of *keys* that read back matching their key, in storage order;
    the others are left out without a word (Store.read_object would record them as
    damaged: a pack gc deleted meanwhile is not damage)."""
    if not keys:
        return {}
    locs = store.index.locate_many(set(keys))
    out = {}
    for key in sorted(locs, key=lambda k: (locs[k].pack, locs[k].offset)):
        loc = locs[key]
        try:
            data = store.reader.read(loc.pack, loc.offset, loc.length, loc.size, loc.inner)
        except Exception:
            continue
        if hashlib.sha256(data).digest() == key:
            out[key] = data
    return out
