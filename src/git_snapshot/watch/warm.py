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

Its steps also evict the kept trees past their limit (rebuild.evict_due: the worker keeps them
with ``later``, so that no preparation pays for an eviction, ~25 ms of CPU on L).

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
# Files marked in the dirty set are read ahead (store/rebuild._AHEAD) as soon as the daemon
# says so (a hint line: its worktree had events), not IDLE_S later: the writes are under way
# and the preparation comes snapshot.watchPrepare after the last one, reading them itself
# (~60-90 ms of its ~300 ms of CPU on L with 2,000 files changed). Polled every AHEAD_POLL_S
# for AHEAD_FOR_S after the last hint (marks flushed after it); AHEAD_FILES a step.
AHEAD_POLL_S = 0.01
AHEAD_FOR_S = 0.25
AHEAD_FILES = 64


class Warmer:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.busy = False  # a job runs (pause() until resume()): the thread waits
        self.after = 0.0  # and reads nothing before this (time.monotonic())
        self.working = False  # the thread is in a step
        self.worktree: str | None = None  # whose base to read
        self.store: Any = None  # the thread's own
        self.tag: object = None  # rebuild's kept trees as todo and seen know them
        self.todo: deque[bytes] = deque()  # trees to read (their folders below, later)
        self.seen: set[bytes] = set()  # trees whose subfolders are in todo or read
        self.root: bytes | None = None
        self.ahead_tree: str | None = None  # whose marked files to read ahead
        self.ahead_until = 0.0  # until then (time.monotonic()), polling its marks
        self.ahead_next = 0.0  # the next poll
        self.ahead_seqs: dict[str, int] = {}  # worktree -> the last mark read ahead
        self.ahead_base = b""  # the base whose trees _ahead_trees opened, as kept then
        self.ahead_tag: object = None
        self.folder_keys: dict[bytes, bytes] = {}
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

    def ahead(self, worktree: str) -> None:
        """The daemon marked changes of *worktree*: read its marked files ahead meanwhile."""
        import time

        with self.cond:
            now = time.monotonic()
            if self.ahead_tree != worktree:
                self.ahead_next = now
            self.ahead_tree = worktree
            self.ahead_until = now + AHEAD_FOR_S
            self.cond.notify_all()

    def _next(self) -> tuple[str, str]:
        """Wait (holding self.cond) for the next step: ("ahead" or "warm", its worktree)."""
        import time

        while True:
            timeout: float | None = None
            if not self.busy:
                now = time.monotonic()
                if self.ahead_tree is not None:
                    if now >= self.ahead_until:
                        self.ahead_tree = None
                    elif now >= self.ahead_next:
                        return "ahead", self.ahead_tree
                    else:
                        timeout = self.ahead_next - now
                if self.worktree is not None:
                    if now >= self.after:
                        return "warm", self.worktree
                    timeout = min(timeout or 1e9, self.after - now)
            self.cond.wait(timeout)

    def _run(self) -> None:
        import time

        # (not at a lower priority: pause() waits for the step under way, and a starved
        # thread at nice 19 held a preparation 8.5 s at load 7)
        while True:
            with self.cond:
                what, worktree = self._next()
                self.working = True
            more = False
            try:
                from git_snapshot.store import rebuild

                rebuild.evict_due()  # (kept trees past their limit: here, not in a job)
                more = self._ahead(worktree) if what == "ahead" else self._step(worktree)
            except Exception:  # only a head start: the rebuild reads what it needs itself
                more = False
            finally:
                with self.cond:
                    self.working = False
                    if what == "ahead":
                        self.ahead_next = time.monotonic() + (0 if more else AHEAD_POLL_S)
                    elif not more and self.worktree == worktree:
                        self.worktree = None  # done until the next job names one
                    self.cond.notify_all()

    def _ahead(self, worktree: str) -> bool:
        """Read up to AHEAD_FILES files marked in *worktree* since the last step into
        store/rebuild._AHEAD, each with the dirty set's highest seq as it was before the
        read (a write after it is marked with a higher one, and the rebuild then reads the
        file itself); False when none is left for now."""
        import os

        from git_snapshot.store import Store
        from git_snapshot.store import rebuild
        from git_snapshot.store.reading import read_whole
        from git_snapshot.watch import prep

        if self.store is None:
            self.store = Store()
        if rebuild.ahead_full():
            return False
        got = prep.marked_since(
            self.store.path, worktree, self.ahead_seqs.get(worktree, 0), AHEAD_FILES
        )
        if got is None or not got[3]:
            return False
        epoch, top, base, rows = got
        rels = list({rel: None for _, rel in rows})
        self._ahead_trees(base, rels)
        root = os.fsencode(os.path.abspath(worktree))  # as rebuild.build's
        for rel in rels:
            path = root + b"/" + rel
            read = read_whole(path, rebuild.AHEAD_SIZE)
            if read is not None:
                key = hashlib.sha256(read[1]).digest()
                if not rebuild.ahead_put(path, (epoch, base), top, read[0], read[1], key):
                    break
        self.ahead_seqs[worktree] = rows[-1][0]
        return len(rows) == AHEAD_FILES

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

    def _ahead_trees(self, base: bytes, rels: list[bytes]) -> None:
        """Split into rebuild's kept trees the base's tree (root *base*) of every folder above
        the marked entries *rels*: those a rebuild of them reads first (old_trees), read
        here as the warmer reads (checked against their keys; what cannot be read is left to
        the rebuild, which says so)."""
        from git_snapshot.store import rebuild
        from git_snapshot.store.objects import DIR

        kept = rebuild._kept(self.store)
        if kept is None or not base:
            return
        if base != self.ahead_base or rebuild._kept_tag != self.ahead_tag:
            self.ahead_base, self.ahead_tag = base, rebuild._kept_tag
            self.folder_keys = {b"": base}  # folder -> its tree's key in the base
        keys = self.folder_keys
        levels: list[set[bytes]] = []  # the folders above rels, by depth
        for rel in rels:
            parts = rel.split(b"/")[:-1]
            for n in range(len(parts) + 1):
                while len(levels) <= n:
                    levels.append(set())
                levels[n].add(b"/".join(parts[:n]))
        for n, level in enumerate(levels):
            todo = [keys[d] for d in level if d in keys]
            have = {k: kept[k] for k in todo if k in kept}
            raws = rebuild._take_warm([k for k in todo if k not in have])
            raws.update(_read(self.store, [k for k in todo if k not in have and k not in raws]))
            for k, data in raws.items():
                split = rebuild.split(data)
                if split is not None:
                    have[k] = split
                    rebuild._keep(k, split)
            for child in levels[n + 1] if n + 1 < len(levels) else ():
                if child in keys:
                    continue
                parent, _, name = child.rpartition(b"/")
                got = have.get(keys.get(parent, b""))
                raw = got.get(name) if got is not None else None
                if raw is not None and raw[0] == DIR:
                    keys[child] = rebuild._ref(raw)

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
