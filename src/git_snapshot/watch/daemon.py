"""The daemon: one loop over inotify, the registry, scans and the snapshot worker.

It reads events as they come, marks the folders they touch in the worktree's dirty set, and
takes a snapshot (trigger ``watch``) ``watchQuiet`` seconds after the last change, or
``watchMaxDelay`` seconds after the first one under continuous change. Snapshots are taken by
a worker process (:mod:`git_snapshot.watch.take`), one at a time: the daemon keeps reading
events meanwhile, and stays small (it never imports the store, the archiver or zstd).

On a queue overflow every worktree is marked dirty as a whole (``dirtyset.mark_all``: the next
snapshot walks everything) and rescanned, after a back-off that doubles while overflows keep
coming. A worktree whose folder is gone is looked for again every few seconds and dropped
from the registry after a day (MISSING_KEEP_S).

A daemon runs the code it loaded: when the files of its installed package change (an upgrade
or reinstall in place; instance.code_stamp), it stops cleanly and executes itself again, the
same pid with the code now there, before its next job, its next answer to a hook's sync, or
within EXISTS_CHECK_S. Its registrations are on disk; the new epoch's first snapshot walks
everything, so nothing changed meanwhile is missed (RED38 C1: after an upgrade across an index
schema bump the old daemon failed every snapshot, and nothing said so but watch status).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from git_snapshot.store import pids
from git_snapshot.watch import config as wconfig
from git_snapshot.watch import instance
from git_snapshot.watch import registry
from git_snapshot.watch import source as ev
from git_snapshot.watch.watchset import LOOK_ALL_S
from git_snapshot.watch.watchset import Budget
from git_snapshot.watch.watchset import WatchSet

REGISTRY_CHECK_S = 30.0  # the registry is also watched; this is the fallback
EXISTS_CHECK_S = 30.0
STATUS_EVERY_S = 1.0
RETRY_WATCH_S = 60.0  # after a failed watch, how long before polled folders get watches again
MAX_BACKOFF_S = 120.0
SNAPSHOT_RETRY_S = 30.0
WORKER_IDLE_S = 60.0  # the snapshot worker ends after this long without work
# and is replaced after this many snapshots (not preparations: one comes 0.1 s after every
# pause in the writes, and counting them replaced a warm worker every few minutes of editing)
WORKER_JOBS = 50
WORKER_TIMEOUT_S = 1800.0  # a snapshot still running after this is killed (and retried later)
IDLE_EXIT_S = 60.0  # with no worktree to watch for this long, the daemon exits
# a registered worktree whose folder went is looked for again this often, and forgotten after
# MISSING_KEEP_S: moved away and back (a rename, a restore from a backup) it is watched again
MISSING_CHECK_S = 2.0
MISSING_KEEP_S = 86400.0
PREP_HOLD_S = 2.0  # what a hook rebuilds itself is not prepared this long after its sync
# nor is a watch snapshot started while a hook that synced is still snapshotting what was
# marked before its sync (waiting up to prep.PREP_WAIT_S for the worker's preparation, then
# committing or rebuilding): a watch snapshot beside it that commits after it leaves the
# store's last snapshot off the dirty set's base, and the snapshots after it walk everything.
# Held until the dirty set's base covers the hook's marks (polled every HOOK_POLL_S), at most
# HOOK_HOLD_S after the sync (a hook that failed or took no snapshot), never past
# watchMaxDelay; changes made after the hook wait for it, not for HOOK_HOLD_S
HOOK_HOLD_S = 5.0
# logged when a hook's committed snapshot ends the hold early (changes made after it then
# wait only for watchQuiet)
HOLD_ENDED = "the hook's snapshot is committed: the changes after it wait for watchQuiet only"
# logged when, the hold ended, the hook's snapshot holds every change marked: the daemon takes
# no watch snapshot for them (it would be the hook's again, "unchanged")
HOOK_CLEAN = "nothing changed after the hook's snapshot: no watch snapshot for it"
HOOK_POLL_S = 0.1
# a process that synced (a hook, whose token names its pid: dirtyset._write_token) may write a
# loss report once its snapshot is committed: a burst of its worktree that ended meanwhile is
# recorded after that process ends (the recorder leaves out what a hook's report named:
# bursts._named_by_hook; recorded before it, the git command's overwrites were reported twice,
# the watcher's entry claiming an exact copy), at most this long after the sync
HOOK_REPORT_HOLD_S = 120.0
HINT_EVERY_S = 0.02  # an idle worker is told a worktree has new marks at most this often
# bursts whose recording failed (the store's disk full: its loss log cannot be written) are
# kept and recorded again after this long, doubling up to MAX_RECORD_RETRY_S, and at once when
# a status write shows the store writable again (RED34 A1)
RECORD_RETRY_S = 5.0
MAX_RECORD_RETRY_S = 600.0
PROBE_S = 5.0  # while our writes fail, the status is written this often (is there room again?)
# the installed code's stamp is taken again at most this often (~0.5 ms: before a job or a
# sync's answer, and with check_exists)
CODE_CHECK_S = 1.0
# and acted on once it has stayed the same this long: a restart into an install under way
# (pip moves the old files away, then writes the new ones) would import half a package
CODE_SETTLE_S = 2.0
# how long a daemon started to replace an older one (instance.start) waits for it to stop
REPLACE_WAIT_S = 60.0
STATUS_SLACK = 2048  # status.json is padded: rewritten in place (no new block) on a full disk


def _now() -> float:
    """The daemon's clock, for every interval and deadline: monotonic (a wall clock stepping
    back held every watch snapshot until it caught up, RED31 D5). What is recorded (a
    burst's times, matched against snapshots'; the status file's) is wall time."""
    return time.monotonic()


def _wall(t: float) -> float:
    """The wall time of *t* on the daemon's clock (as the wall clock reads now)."""
    return time.time() - (_now() - t)


# the log lines that could not be written (its disk full), the last LOG_KEEP of them
LOG_KEEP = 200
_unlogged: deque[bytes] = deque(maxlen=LOG_KEEP)


def log(msg: str) -> None:
    """One line to the daemon's log, its stderr (``<store>/watch/daemon.log``). Never
    raises: on a full disk a line raised ENOSPC, from the handler of a failed status write
    too, and the daemon died holding the burst of an rm -rf (RED34 A1). A line that cannot
    be written is kept, and written before the next one that can."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    _unlogged.append(f"{stamp} {msg}\n".encode("utf-8", "surrogateescape"))
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        fd = 2
    with contextlib.suppress(OSError):
        while _unlogged:
            line = _unlogged[0]
            n = os.write(fd, line)
            if n < len(line):  # (a part: the rest is kept, tried again)
                _unlogged[0] = line[n:]
                if n <= 0:
                    break
                continue
            _unlogged.popleft()


@dataclass
class Tree:
    """One worktree the daemon watches."""

    ws: WatchSet
    detector: Any = None  # bursts.BurstDetector
    first_change: float | None = None
    last_change: float | None = None
    rescan_at: float | None = None
    retry_at: float = 0.0  # after a failed snapshot
    next_poll: float = 0.0
    last_snapshot: dict[str, Any] | None = None
    prep_change: float | None = None  # the last change no prepared tree holds yet
    synced_at: float = 0.0  # a hook's last sync: it rebuilds what changed before, itself
    hook_at: float = 0.0  # a hook's sync whose snapshot may be under way (due()); 0: none
    hook_seq: tuple[int, int] = (-1, -1)  # the epoch and marks it covers (dirtyset.covered)
    hook_poll: float = 0.0  # when to look again whether its snapshot is committed
    # a hook synced while the worker could prepare for it (prep.want): the seq of the
    # marks it waits for, prepared next, before anything else
    wanted_seq: int | None = None
    last_prep: dict[str, Any] | None = None
    failures: int = 0
    last_error: str | None = None
    last_error_at: float | None = None  # (wall: a newer watch snapshot outdates it)
    state: str = "watching"
    hinted: float = 0.0  # the idle worker was last told of new marks (hint())
    since_said: float | None = None  # its unrecorded_since in the status written last
    hook_pid: int = 0  # the process that synced last (its token's pid), 0: none or ended
    hook_pid_at: float = 0.0  # when it synced (HOOK_REPORT_HOLD_S)
    bursts_held: bool = False  # ended bursts wait for that process to end (record_bursts)
    # its .git, held open (O_PATH; closed once it goes from the top folder, which it pins:
    # the folder's IN_DELETE_SELF waits for it), and the top folder's (st_dev, st_ino): a
    # worktree gone from its path whose folder lives on elsewhere was moved, not deleted
    # (moved_to: RED31 D6)
    root_fd: int | None = None
    root_id: tuple[int, int] | None = None
    # the watch of its git dir (.git, or .git/worktrees/X), for git's index.lock: where a
    # git command begins in the order of events (prep.git_lock); None: not watched
    lock_wd: int | None = None

    @property
    def root(self) -> str:
        return self.ws.root


class Daemon:
    def __init__(
        self,
        store_path: str,
        cfg: wconfig.WatchConfig,
        src: ev.Source,
        code_stamp: str | None = None,
    ) -> None:
        self.store_path = store_path
        # the code it runs (instance.code_stamp of its package, as it started): when the
        # files there change, it restarts with them (code_changed)
        self.code_dir = instance.code_dir()
        self.code_stamp = code_stamp or instance.code_stamp(self.code_dir)
        self.code_checked = _now()
        self.code_seen: tuple[str, float] | None = None  # a new stamp, and since when
        self.restart = False
        self.state_dir = instance.ensure_state_dir(store_path)
        self.reg_dir = registry.registry_dir(store_path)
        os.makedirs(self.reg_dir, mode=0o700, exist_ok=True)
        self.cfg = cfg
        self.src = src
        self.budget = Budget(src, cfg.effective_budget())
        self.trees: dict[str, Tree] = {}
        self.started = time.time()  # (wall: the status says it)
        self.stop = False
        self.child: subprocess.Popen[bytes] | None = None  # the snapshot worker
        self.child_tree: Tree | None = None  # the worktree it is snapshotting
        # bursts that ended, to be recorded (worktree, bursts), oldest first; and the ones
        # being recorded, by a process of their own (recorder): not the worker, which a
        # hook's preparation needs meanwhile
        # (as JSON: _burst_json)
        self.bursts: deque[tuple[str, list[dict[str, Any]]]] = deque()
        self.child_bursts: tuple[str, list[dict[str, Any]]] | None = None
        # those whose recording failed, kept to be recorded again at record_retry_at
        self.unrecorded: list[tuple[str, list[dict[str, Any]]]] = []
        self.record_retry_at = 0.0
        self.record_backoff = RECORD_RETRY_S
        # our own writes in the store that fail (the status, the dirty set, loss records):
        # what -> (why, since: wall), for the status's one line (problem())
        self.failing: dict[str, tuple[str, float]] = {}
        # worktree -> since when the watcher before us left what it saw unrecorded (it did
        # not stop cleanly: killed, crashed); compared when watching begins (watch/gap.py)
        self.left = _left_behind(self.state_dir)
        self.recorder: subprocess.Popen[bytes] | None = None
        self.recorder_started = 0.0
        self.child_prep: Tree | None = None  # the worktree whose snapshot it prepares
        self.child_started = 0.0
        self.child_lag_from = 0.0
        self.worker_jobs = 0
        self.worker_last = 0.0
        self.poller: select.poll | None = None
        self.mounts_fd: int | None = None  # the mount table (run: mounts_changed)
        self.overflows = 0
        self.last_overflow = 0.0
        self.backoff = 1.0
        self.watch_retry_at = 0.0
        self.snapshots_taken = 0
        self.status_dirty = True
        self.status_written = 0.0
        self.next_registry = 0.0
        self.next_exists = 0.0
        self.idle_since: float | None = None
        self.missing: dict[str, float] = {}  # registered worktrees whose folder is gone: since
        self.next_missing = 0.0
        # our own folders: sync tokens of the dirty set, and the registry
        self.own_wd: dict[int, str] = {}
        self.lock_wd: dict[int, Tree] = {}  # the worktrees' git dirs (Tree.lock_wd)
        for d in (self.state_dir, self.reg_dir):
            self.own_wd[src.add(d)] = d
        self.budget.reserved = len(self.own_wd)

    # -- worktrees ---------------------------------------------------------------------------

    def sync_registry(self) -> None:
        wanted = registry.active(self.store_path)
        for path in list(self.trees):
            if path not in wanted:
                self.drop(path, "removed from the watch list")
        for path in wanted:
            if path not in self.trees and path not in self.missing:
                self.add(path)
        for path in list(self.missing):
            if path not in wanted:
                del self.missing[path]  # watch remove, or forgotten
        self.next_registry = _now() + REGISTRY_CHECK_S

    def check_missing(self, now: float) -> None:
        """Registered worktrees whose folder went: watched again once back, forgotten after
        MISSING_KEEP_S."""
        for path, since in list(self.missing.items()):
            if _is_worktree(path):
                del self.missing[path]
                log(f"{path}: the worktree is back")
                self.add(path)
            elif now - since >= MISSING_KEEP_S:
                del self.missing[path]
                registry.forget(self.store_path, path)
                log(f"{path}: gone for a day: dropped from the watch list")
        self.next_missing = now + MISSING_CHECK_S

    def add(self, path: str) -> None:
        if not _is_worktree(path):
            log(f"{path}: not a git worktree any more; dropped")
            registry.forget(self.store_path, path)
            return
        if not wconfig.enabled(path):
            log(f"{path}: snapshot.watch is false; not watched")
            return
        from git_snapshot.watch import bursts

        tree = Tree(WatchSet(path, self.store_path, self.budget, self.cfg))
        with contextlib.suppress(OSError):
            st = os.stat(path)
            tree.root_id = (st.st_dev, st.st_ino)
            tree.root_fd = os.open(
                os.path.join(path, ".git"), os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
            )
        det = tree.detector = bursts.from_config(path)

        def feed(now: float, p: str, kind: str) -> None:
            det.feed(now, p, kind, wall=time.time())

        tree.ws.feed = feed

        def move(now: float, old: str, new: str) -> None:
            det.moved(now, old, new, wall=time.time())

        tree.ws.move = move
        self.trees[path] = tree
        self.setup(tree)
        log(f"{path}: watching ({tree.ws.summary()['watches']} watches)")
        # what changed before watching began (files made since the last git command) is in
        # no snapshot yet: take one now (none is added if nothing changed since the last one)
        now = _now()
        tree.last_change = now
        tree.first_change = now - self.cfg.max_delay  # due at once
        self.gap(tree)
        self.prewarm()

    def gap(self, tree: Tree) -> None:
        """The watcher before us did not stop cleanly (a SIGKILL, the OOM killer, a crash):
        the burst it held died with it, and nobody saw what went until now. Compare the
        worktree with the snapshot from before what it left unrecorded (watch/gap.py), as
        a burst: recorded before our first snapshot of it (bursts_pending), which may not
        forget that snapshot before the entry exists (RED34 A1 finding 6)."""
        since = self.left.pop(tree.root, None)
        if since is None:
            return
        item = {"gap": True, "paths": [], "started": since, "ended": time.time()}
        self.bursts.append((tree.root, [{**item, "kinds": {}, "times": {}}]))
        at = time.strftime("%H:%M:%S", time.localtime(since))
        log(f"{tree.root}: the watcher before did not stop cleanly: compared from {at}")

    def setup(self, tree: Tree) -> None:
        """(Re)build the watch set, then tell the dirty set a new epoch starts."""
        from git_snapshot.watch import dirtyset

        t0 = time.monotonic()
        ignored_dirs = _ignored_dirs(tree.root)
        tree.ws.setup(ignored_dirs, may_watch=_now() >= self.watch_retry_at)
        if tree.ws.failed:
            self.watch_retry_at = _now() + RETRY_WATCH_S
            log(f"{tree.root}: the kernel refused a watch; polling what did not fit")
        for path, kind in tree.ws.blind:
            log(f"{path}: on {kind}, whose changes made elsewhere raise no event: walked")
        now = _now()
        tree.next_poll = now + self.cfg.poll
        tree.rescan_at = None
        tree.state = "polling" if tree.ws.polling else "watching"
        tree.ws.new_big.clear()
        try:
            # the big trees too: a snapshot never takes a folder in them as clean
            big = [(b.root, not b.scan) for b in tree.ws.big.values()]
            linked = dict(tree.ws.linked)
            self.watch_git_dir(tree)  # (before the epoch: every lock in it is seen)
            dirtyset.watching(
                self.store_path, tree.root, big, tree.ws.blind, linked, tree.ws.mounts, tree.root_id
            )
            self.say_lock_watched(tree)
            tree.ws.linked_said = linked
            if tree.ws.polling:
                dirtyset.mark_all(self.store_path, tree.root, "polling")
        except Exception as exc:
            log(f"{tree.root}: dirty set: {exc!r}")
        tree.ws.take_dirty()  # the new epoch counts everything before it as dirty
        tree.ws.take_entries()
        tree.wanted_seq = None  # (the new epoch dropped it: nothing to prepare for a hook)
        self.status_dirty = True
        log(
            f"{tree.root}: set up in {time.monotonic() - t0:.2f}s: "
            f"{len(tree.ws.watched)} watches, {tree.ws.polling} polled, "
            f"{len(tree.ws.whole)} big trees watched whole ({tree.ws.dirs_in_whole()} folders), "
            f"{len(tree.ws.big)} scanned ({tree.ws.dirs_in_big()} folders)"
        )

    def drop(self, path: str, why: str) -> None:
        from git_snapshot.watch import dirtyset

        tree = self.trees.pop(path, None)
        if tree is None:
            return
        tree.ws.close()
        _close_root(tree)
        self.unwatch_git_dir(tree)
        with contextlib.suppress(Exception):
            dirtyset.stopped(self.store_path, path)
        if self.child_tree is tree:
            self.child_tree = None  # its result is only logged
        self.status_dirty = True
        log(f"{path}: no longer watched: {why}")

    def check_exists(self) -> None:
        for path, tree in list(self.trees.items()):
            if not _is_worktree(path):
                self.gone(path)
            elif _replaced(tree):
                self.replaced(tree)
        now = _now()
        self.next_exists = now + EXISTS_CHECK_S
        self.code_changed(now)
        if not os.path.isdir(self.store_path):
            log(f"the store {self.store_path} is gone: stopping")
            self.stop = True
        elif self.trees or self.missing or self.child is not None:
            self.idle_since = None
        elif self.idle_since is None:
            self.idle_since = now
        elif now - self.idle_since >= IDLE_EXIT_S:
            log("no worktree to watch: stopping (a hook or watch add starts it again)")
            self.stop = True

    def gone(self, path: str) -> None:
        tree = self.trees.get(path)
        new = moved_to(tree) if tree is not None else None
        if tree is not None and new is not None:
            self.moved(tree, new)
            return
        if tree is not None:
            if self.child_tree is tree:
                self.worker_ready()  # its answer first: it may be the snapshot before the burst
            if tree.detector is not None:
                # the worktree's own folder deleted: a burst, with the files deleted just
                # before it (a worktree whose files all lie at its top opened none: fewer
                # than burstFiles, no folder deleted; RED30: it went unreported)
                tree.detector.feed(_now(), path, "delete_dir", wall=time.time())
            self.record_bursts(tree, _now() + 3600)
        self.drop(path, "the worktree no longer exists")
        # kept in the registry a while: a worktree moved away and back is watched again
        self.missing.setdefault(path, _now())
        self.status_dirty = True

    def replaced(self, tree: Tree) -> None:
        """Another folder is at *tree*'s path (`mv code code.old; mv code.bak code`, a fresh
        clone there, or its own folder swapped while we lagged): our watches are on the
        folders moved away and nothing comes from those at the path, so it is set up again
        from its path, in a new epoch (its next snapshot walks everything; RED39 E1)."""
        path = tree.root
        if self.trees.get(path) is not tree:
            return  # set up again already
        if self.child_tree is tree:
            self.worker_ready()  # its answer first
        if tree.detector is not None:
            self.record_bursts(tree, _now() + 3600)  # a burst under way before the swap
        self.drop(path, "replaced: another folder is at its path")
        self.add(path)

    def moved(self, tree: Tree, new: str) -> None:
        """*tree*'s top folder is at *new* now (`mv proj proj-renamed`, or a folder above it
        renamed): no file went, so no burst of it (its root's going was recorded as the
        repository "deleted whole", RED31 D6). It is watched at its new path (unless a
        `watch remove` is known for it there); its old path leaves the watch list."""
        old = tree.root
        if self.child_tree is tree:
            self.worker_ready()  # its answer first
        if tree.detector is not None:
            # a burst under way before the move (an rm, then the mv) is still recorded;
            # the root's own going is no deletion
            self.record_bursts(tree, _now() + 3600)
        self.drop(old, f"moved to {new}")
        registry.forget(self.store_path, old)
        self.missing.pop(old, None)
        if registry.register(self.store_path, new, by="moved"):
            log(f"{old}: moved to {new}: watched there")
        else:
            log(f"{old}: moved to {new} (not watched there: git snapshot watch add {new})")
        self.next_registry = 0.0  # (read again this round: the new path is added)
        self.status_dirty = True

    # -- events ------------------------------------------------------------------------------

    def on_events(self, events: list[ev.Event]) -> None:
        now = _now()
        tokens: list[str] = []
        roots_gone: set[str] = set()
        marked: dict[str, Tree] = {}
        for e in events:
            if e.kind == ev.OVERFLOW:
                self.overflow(now)
                continue
            locked = self.lock_wd.get(e.wd)
            if locked is not None:
                self.on_git_dir(locked, e)
                # (the folder may be one a worktree watches too, the kernel's one watch:
                # a git dir inside another worktree; its events are that worktree's as well)
            own = self.own_wd.get(e.wd)
            if own is not None:
                if own == self.reg_dir:
                    self.next_registry = 0.0  # read it again this round
                elif e.name.endswith(".sync") and e.kind in (ev.CREATE, ev.MOVED_TO):
                    tokens.append(os.path.join(own, e.name))
                continue
            # each worktree holding the folder (one inside another shares its watch: RED39 E2)
            for ws, folder in self.budget.owners(e.wd):
                self.on_event(e, ws, folder, now, roots_gone, marked)
        for root in roots_gone:
            if not _is_worktree(root):
                self.gone(root)
            elif root in self.trees and _replaced(self.trees[root]):
                self.replaced(self.trees[root])  # moved away, another put there meanwhile
        self.flush_marks()
        for tree in marked.values():
            self.hint(tree, now)
        self.urgent_status(list(marked.values()))
        if tokens:
            self.answer_syncs(tokens)

    def on_event(
        self,
        e: ev.Event,
        ws: WatchSet,
        folder: str,
        now: float,
        roots_gone: set[str],
        marked: dict[str, Tree],
    ) -> None:
        """Take in event *e* on *folder* of *ws*'s worktree (its root's going: in
        *roots_gone*; a change: its tree in *marked*)."""
        tree = self.trees.get(ws.root)
        if tree is None:
            return
        if e.kind == ev.SELF_GONE and folder == ws.root:
            roots_gone.add(ws.root)
            return
        if folder == ws.root and e.name == ".git" and e.kind in (ev.DELETE, ev.MOVED_FROM):
            # its .git went from the top folder: not a move of the worktree; and the
            # .git held open pins the top folder (its IN_DELETE_SELF waits for it)
            _close_root(tree)
        self.status_dirty = True
        if ws.handle(folder, e, now):
            marked[ws.root] = tree
            tree.last_change = tree.prep_change = now
            if tree.first_change is None:
                tree.first_change = now
                self.prewarm()

    def watch_git_dir(self, tree: Tree) -> None:
        """Watch *tree*'s git dir for git's index.lock (one watch of the budget, on the same
        inotify descriptor as the worktree's: their events come in the order they were
        made), unless it is already. Not found, refused, no room left in the budget, or the
        worktree polled (whose sync starts a new epoch anyway): none (no boundary; the hooks
        go by the marks' times)."""
        if tree.lock_wd is not None or tree.ws.polling or self.budget.used >= self.budget.budget:
            return
        where = _git_dir(tree.root)
        if where is None:
            return
        try:
            wd = self.src.add(where)
        except OSError as exc:
            log(f"{tree.root}: its git dir {where} not watched: {exc}")
            return
        if wd in self.own_wd or self.budget.owners(wd) or wd in self.lock_wd:
            return  # (a folder watched for something else: not taken over)
        tree.lock_wd = wd
        self.lock_wd[wd] = tree
        self.budget.reserved += 1

    def unwatch_git_dir(self, tree: Tree, gone: bool = False) -> None:
        """*tree*'s git dir is no longer watched (*gone*: the kernel ended the watch)."""
        wd, tree.lock_wd = tree.lock_wd, None
        if wd is None or self.lock_wd.pop(wd, None) is None:
            return
        self.budget.reserved -= 1
        if not gone and not self.budget.owners(wd):  # (a worktree's watch of it stays)
            self.src.remove(wd)

    def say_lock_watched(self, tree: Tree) -> None:
        """Tell the dirty set whether *tree*'s git dir has been watched since before its
        epoch began (call it once the epoch has begun)."""
        from git_snapshot.watch import prep

        try:
            prep.lock_watched(self.store_path, tree.root, tree.lock_wd is not None)
        except Exception as exc:
            log(f"{tree.root}: dirty set: {exc!r}")

    def on_git_dir(self, tree: Tree, e: ev.Event) -> None:
        """An event in *tree*'s git dir: git made index.lock (a command that writes the
        worktree begins: the marks of every event before it are written, then the
        boundary), or the folder's watch ended (no boundary is trusted any more)."""
        from git_snapshot.watch import prep

        if e.kind in (ev.UNWATCHED, ev.SELF_GONE):
            self.unwatch_git_dir(tree, gone=e.kind == ev.UNWATCHED)
            self.say_lock_watched(tree)
            return
        if e.kind != ev.CREATE or e.name != "index.lock" or self.trees.get(tree.root) is not tree:
            return
        self.flush_marks()
        if tree.ws.dirty or tree.ws.dirty_entries:
            # its marks not written (kept for the next flush, after this boundary): the
            # changes before git's lock would count as git's; none is trusted now
            self.unwatch_git_dir(tree)
            self.say_lock_watched(tree)
            return
        try:
            prep.git_lock(self.store_path, tree.root)
        except Exception as exc:
            log(f"{tree.root}: dirty set: {exc!r}")
            # a lost boundary would make an older one the last: none is trusted now
            self.unwatch_git_dir(tree)
            self.say_lock_watched(tree)

    def hint(self, tree: Tree, now: float) -> None:
        """Tell the worker, when it lives and is idle, that *tree* has new marks: it reads the
        marked files ahead while the writes go on (watch/warm.py), for the preparation that
        follows. A line it does not answer, never written while it has a job, and written
        without waiting: a worker that does not read (its imports hang) never holds the
        loop; a line of at most PIPE_BUF bytes goes into the pipe whole or not at all."""
        if self.cfg.prepare <= 0 or self.busy or now - tree.hinted < HINT_EVERY_S:
            return
        w = self.child
        if w is None or w.stdin is None or w.poll() is not None:
            return
        tree.hinted = now
        line = json.dumps({"ahead": tree.root}).encode() + b"\n"
        if len(line) > select.PIPE_BUF:
            return
        with contextlib.suppress(OSError):  # (BlockingIOError: full, the worker is busy)
            w.stdin.flush()  # (empty: each job is flushed)
            fd = w.stdin.fileno()
            os.set_blocking(fd, False)
            try:
                os.write(fd, line)
            finally:
                os.set_blocking(fd, True)

    def overflow(self, now: float) -> None:
        """The kernel dropped events: every worktree is dirty as a whole and rescanned."""
        from git_snapshot.watch import dirtyset

        self.overflows += 1
        if now - self.last_overflow < 60:
            self.backoff = min(self.backoff * 2, MAX_BACKOFF_S)
        else:
            self.backoff = 1.0
        self.last_overflow = now
        log(f"inotify queue overflow: events were lost; rescan in {self.backoff:.0f}s")
        for tree in self.trees.values():
            tree.ws.counters.overflows += 1
            if tree.detector is not None:  # its burst's entry says paths may be missing
                tree.detector.overflowed(now)
            with contextlib.suppress(Exception):
                dirtyset.mark_all(self.store_path, tree.root, "overflow")
            tree.wanted_seq = None  # (the new epoch dropped it)
            tree.rescan_at = now + self.backoff
            tree.state = "rescanning"
            tree.last_change = now
            tree.first_change = tree.first_change or now
        self.status_dirty = True

    def flush_marks(self, look: bool = False) -> None:
        """Write what the watch sets marked into the dirty sets (*look*: with the look at
        every folder a file found linked asks for, now: a hook waits)."""
        from git_snapshot.watch import dirtyset

        for tree in self.trees.values():
            self.publish_linked(tree, look)
            if tree.ws.new_big:
                new, tree.ws.new_big = tree.ws.new_big, []
                try:  # before the marks found in them
                    big = [(b.root, not b.scan) for b in new]
                    dirtyset.scanned(self.store_path, tree.root, big)
                except Exception as exc:
                    log(f"{tree.root}: dirty set: {exc!r}")
                    tree.ws.new_big[:0] = new  # again next time; until then walk everything
                    with contextlib.suppress(Exception):
                        dirtyset.mark_all(self.store_path, tree.root, "dirty set")
            dirty = tree.ws.take_dirty()
            entries = tree.ws.take_entries()
            if dirty or entries:
                try:
                    dirtyset.mark(self.store_path, tree.root, dirty, entries)
                    self.failing.pop("marks", None)
                except Exception as exc:
                    # kept, marked again next time (dropped, a snapshot once the store took
                    # writes again missed what changed while it could not: RED34 A1)
                    tree.ws.dirty.update(dirty)
                    tree.ws.dirty_entries.update(entries)
                    if "marks" not in self.failing:
                        log(f"{tree.root}: dirty set: {exc!r}")
                    self.failed("marks", f"its dirty set: {exc}")

    def publish_linked(self, tree: Tree, look: bool) -> None:
        """Find the folders newly holding a file with other names among what is marked (and,
        due or *look*, every folder), and publish them in the dirty set before the marks."""
        from git_snapshot.watch import dirtyset

        ws = tree.ws
        ws.new_links(ws.dirty, ws.dirty_entries)
        if ws.look_pending and (look or _now() - ws.looked_at >= LOOK_ALL_S):
            ws.look_all()
        news = ws.linked_news()
        if news is None:
            return
        try:
            dirtyset.set_linked(self.store_path, tree.root, news)
            ws.linked_said = news
        except Exception as exc:
            log(f"{tree.root}: dirty set: {exc!r}")
            with contextlib.suppress(Exception):  # until it is written, walk everything
                dirtyset.mark_all(self.store_path, tree.root, "dirty set")

    def answer_syncs(self, tokens: list[str]) -> None:
        """A hook is waiting until we have marked every event before its token. Folders we
        only scan are scanned now; a worktree with polled folders has no whole dirty set."""
        from git_snapshot.watch import dirtyset
        from git_snapshot.watch import prep

        if tokens and self.code_changed(_now()):
            return  # no answer: the hook walks everything, as without a watcher
        by_id = {_wid(root): tree for root, tree in self.trees.items()}
        for token in tokens:
            wid = os.path.basename(token).partition("-")[0]
            tree = by_id.get(wid)
            if tree is None or tree.rescan_at is not None:
                continue  # not watched, or being rescanned: no answer means a full walk
            if _replaced(tree):
                self.replaced(tree)  # (the hook walks: its plan saw the top differ too)
                continue
            try:
                if tree.ws.look_pending:  # the other names of a file found linked: now
                    self.flush_marks(look=True)
                if tree.ws.polling:
                    dirtyset.mark_all(self.store_path, tree.root, "polling")
                elif tree.ws.big:
                    # only a big tree with an event at its root since its last scan: a hook
                    # must not wait for a scan of every node_modules
                    tree.ws.scan_big(_now(), only_touched=True)
                    self.flush_marks()
                if self.may_prepare_for_hook(tree):
                    # the worker, warm and maybe already at it, prepares what the hook would
                    # rebuild; the hook waits for it (written before the answer it reads)
                    tree.wanted_seq = prep.want(self.store_path, tree.root)
                else:
                    # the hook rebuilds what is marked now itself: preparing it too would only
                    # compete for the cores (its snapshot leaves nothing to prepare)
                    tree.synced_at = _now()
                tree.hook_at = tree.hook_poll = _now()
                tree.hook_pid, tree.hook_pid_at = dirtyset.token_pid(token), tree.hook_at
                tree.hook_seq = dirtyset.marked_upto(self.store_path, tree.root)
                dirtyset.synced(self.store_path, token)
                # a status written after a sync holds every change made before it
                self.status_dirty = True
            except Exception as exc:
                log(f"{tree.root}: sync: {exc!r}")

    # -- scans and snapshots -----------------------------------------------------------------

    def timers(self, now: float) -> None:
        from git_snapshot.watch import dirtyset

        self.check_worker(now)
        if now >= self.next_registry:
            self.sync_registry()
        if now >= self.next_exists:
            self.check_exists()
        if self.missing and now >= self.next_missing:
            self.check_missing(now)
        for tree in list(self.trees.values()):
            if tree.rescan_at is not None and now >= tree.rescan_at:
                log(f"{tree.root}: rescanning after lost events")
                self.setup(tree)
                with contextlib.suppress(Exception):
                    dirtyset.mark_all(self.store_path, tree.root, "overflow")
                self.say_lock_watched(tree)  # (its watch lived through the epoch begun)
                continue
            changed: set[str] = set()
            if tree.ws.polled and now >= tree.next_poll:
                changed |= tree.ws.poll()
                tree.next_poll = now + self.cfg.poll
                if tree.ws.polled and now >= self.watch_retry_at and tree.ws.failed:
                    tree.rescan_at = now  # try to give the polled folders watches again
            self.hook_ended(tree, now)
            if tree.ws.big:
                changed |= tree.ws.scan_big(now)
            # changes no event named (RED38 A1b). Its look may mark what events named since
            # the last one, too (what it cannot tell from them: watchset.TOLD_MARGIN_NS): while
            # a snapshot is due, they are that snapshot's changes (marked, in it), which a
            # check must not hold back (it set the last change to its own time: a check in
            # the quiet period after a write held the snapshot past the next write and the
            # git switch that destroyed it, wb45)
            if now >= tree.ws.next_check and tree.ws.check(now) and tree.first_change is None:
                changed.add(tree.root)
            if changed:
                tree.last_change = tree.prep_change = now
                tree.first_change = tree.first_change or now
                self.status_dirty = True
            self.record_bursts(tree, now)
            if tree.since_said is not None and self.unrecorded_since(tree) != tree.since_said:
                self.status_dirty = True  # (an older time left there widens a gap())
        self.retry_records(now)
        self.flush_marks()

    def due(self, tree: Tree) -> float | None:
        if tree.first_change is None or tree.last_change is None:
            return None
        latest = tree.first_change + self.cfg.max_delay
        at = min(tree.last_change + self.cfg.quiet, latest)
        if tree.hook_at:  # a hook is snapshotting (hook_ended() ends the hold)
            at = max(at, min(tree.hook_at + HOOK_HOLD_S, latest))
        return max(at, tree.retry_at)

    def hook_ended(self, tree: Tree, now: float) -> None:
        """End the hold of a hook's sync once its snapshot is committed (or HOOK_HOLD_S)."""
        from git_snapshot.watch import dirtyset

        if not tree.hook_at or now < tree.hook_poll:
            return
        if now >= tree.hook_at + HOOK_HOLD_S:
            tree.hook_at = 0.0
        elif tree.first_change is not None:  # (a snapshot is held back: look)
            tree.hook_poll = now + HOOK_POLL_S
            if dirtyset.covered(self.store_path, tree.root, tree.hook_seq):
                tree.hook_at = 0.0
                log(f"{tree.root}: {HOLD_ENDED}")
                self.settled_by_hook(tree)

    def settled_by_hook(self, tree: Tree) -> None:
        """A hook's snapshot is committed: when it holds every change marked so far (the
        dirty set's base covers all its marks, this round's included), the change that set
        first_change is saved and no watch snapshot is due; the write sessions counted
        since the last snapshot began start again (as when one is sent). A change marked
        after the hook's marks (one its walk may have missed) keeps it due."""
        from git_snapshot.watch import dirtyset

        self.flush_marks()  # (what this round's events, polls and scans found, first)
        tree.ws.hook_saved()  # (its snapshot may hold files made since the daemon's last)
        if tree.ws.dirty or tree.ws.dirty_entries or tree.ws.new_big:
            return  # (not marked: the dirty set failed)
        if not dirtyset.clean(self.store_path, tree.root):
            return
        tree.first_change = tree.last_change = tree.prep_change = None
        tree.ws.snapshot_begins(done=True)
        self.status_dirty = True
        log(f"{tree.root}: {HOOK_CLEAN}")

    def may_prepare_for_hook(self, tree: Tree) -> bool:
        """A hook syncs: whether the worker should prepare what it would rebuild (the hook
        then waits for it): when the worker lives and is preparing this worktree (the hook
        then waits for that step and the next, with the rest), or is idle with something to
        prepare. Not while it snapshots or records bursts (the hook would wait for that job
        too), nor for a cold worker (its imports), nor where trees are only scanned (no
        preparation there)."""
        if self.cfg.prepare <= 0 or tree.rescan_at is not None or tree.ws.polling:
            return False
        if any(b.scan for b in tree.ws.big.values()):
            return False
        w = self.child
        if w is None or w.poll() is not None:
            return False
        if self.child_prep is tree:
            return True
        return not self.busy and tree.prep_change is not None

    def prep_due(self, tree: Tree) -> float | None:
        """When to prepare the next snapshot of *tree* (snapshot.watchPrepare after the last
        change no prepared tree holds; at once for a hook waiting for it), or None."""
        if self.cfg.prepare <= 0 or tree.prep_change is None or tree.rescan_at is not None:
            return None
        if tree.wanted_seq is not None:
            return tree.retry_at
        at = max(tree.prep_change + self.cfg.prepare, tree.retry_at)
        if tree.prep_change <= tree.synced_at:  # nothing changed since a hook began
            at = max(at, tree.synced_at + PREP_HOLD_S)
        return at

    def next_wakeup(self, now: float) -> float:
        times = [self.next_registry, self.next_exists, now + 60]
        if self.missing:
            times.append(self.next_missing)
        if self.busy:
            times.append(self.child_started + WORKER_TIMEOUT_S)
        if self.child_bursts is not None:
            times.append(self.recorder_started + WORKER_TIMEOUT_S)
        elif self.bursts:
            times.append(now)
        if self.unrecorded:
            times.append(self.record_retry_at)
        if self.failing:
            times.append(self.status_written + PROBE_S)
        for tree in self.trees.values():
            d = self.due(tree)
            if d is not None and not self.busy and not self.bursts_pending(tree.root):
                times.append(d)
            d = self.prep_due(tree)
            if d is not None and not self.busy:
                times.append(d)
            if tree.rescan_at is not None:
                times.append(tree.rescan_at)
            if tree.hook_at and tree.first_change is not None:
                times.append(tree.hook_poll)  # (only while it holds a snapshot back)
            if tree.ws.polled:
                times.append(tree.next_poll)
            if tree.ws.look_pending:
                times.append(tree.ws.looked_at + LOOK_ALL_S)
            times.append(tree.ws.next_check)
            scan = tree.ws.next_scan()
            if scan is not None:
                times.append(scan)
            if tree.since_said is not None:
                times.append(now + STATUS_EVERY_S)  # (until the status says it is recorded)
            if tree.bursts_held:
                times.append(now + HOOK_POLL_S)  # (whether the hook has ended)
            elif (
                tree.detector is not None and tree.detector.active() and self.child_tree is not tree
            ):
                times.append(tree.detector.last + tree.detector.window + 0.05)
        if self.status_dirty:
            times.append(self.status_written + STATUS_EVERY_S)
        if self.code_seen is not None:  # (its new code settling: code_changed)
            times.append(self.code_checked + CODE_CHECK_S)
        return max(now, min(times))

    # -- the snapshot worker ----------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """The worker has a job (a snapshot or a preparation): one at a time."""
        return self.child_tree is not None or self.child_prep is not None

    def bursts_pending(self, root: str) -> bool:
        """Bursts of worktree *root* wait to be recorded, or are being recorded: its watch
        snapshot waits for them (its retention may forget the snapshot an entry names before
        the entry exists)."""
        job = self.child_bursts
        if (job is not None and job[0] == root) or any(r == root for r, _ in self.bursts):
            return True
        tree = self.trees.get(root)
        return tree is not None and tree.bursts_held

    def worker(self) -> subprocess.Popen[bytes]:
        """The live worker process, started if need be (see watch/take.py)."""
        w = self.child
        if w is not None and w.poll() is None:
            return w
        if w is not None:
            self.end_worker()
        from git_snapshot.watch.take import serve_argv

        self.child = subprocess.Popen(
            serve_argv(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=instance.daemon_env(),
            cwd="/",
        )
        self.worker_jobs = 0
        self.worker_last = _now()
        return self.child

    def _reap(self, p: subprocess.Popen[bytes]) -> None:
        """No more of *p*'s answers: its input closed (a worker ends at its end), waited
        for (killed after 30 s), its output closed."""
        if self.poller is not None and p.stdout is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.poller.unregister(p.stdout.fileno())
        with contextlib.suppress(OSError):
            assert p.stdin is not None
            p.stdin.close()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if p.stdout is not None:
            p.stdout.close()

    def end_worker(self, why: str | None = None) -> None:
        w, self.child = self.child, None
        if w is None:
            return
        self._reap(w)
        why = why or f"the snapshot process ended (exit status {w.returncode})"
        if self.child_tree is not None:
            self.result(None, why)
        if self.child_prep is not None:
            self.prepared(None, why)

    def check_worker(self, now: float) -> None:
        """A snapshot that hangs (a file system that stopped answering) must not stop every
        later one: after WORKER_TIMEOUT_S it is killed, and the worktree retried later."""
        if self.recorder is not None and now - self.recorder_started >= WORKER_TIMEOUT_S:
            with contextlib.suppress(OSError):
                self.recorder.kill()
            self.end_recorder(f"not recorded in {WORKER_TIMEOUT_S:.0f}s: stopped")
        if not self.busy or now - self.child_started < WORKER_TIMEOUT_S:
            return
        if self.child is not None:
            with contextlib.suppress(OSError):
                self.child.kill()
        self.end_worker(f"the snapshot did not finish in {WORKER_TIMEOUT_S:.0f}s: stopped")

    def prewarm(self) -> None:
        """A worktree just changed: start the worker now, so that its imports are done when
        the quiet period ends."""
        with contextlib.suppress(OSError):
            self.worker()

    def maybe_snapshot(self, now: float) -> None:
        if self.bursts and self.child_bursts is None:
            self.record_next_bursts(now)  # (beside the worker: an entry is wanted soon)
        if self.busy:
            return  # one at a time
        if self.code_changed(now, soon=self.next_job(now)):
            return  # (the job goes to the daemon it restarts as)
        for t in self.trees.values():  # a hook waits for it: before anything else
            if t.wanted_seq is not None and (d := self.prep_due(t)) is not None and d <= now:
                self.prepare(t, now)
                return
        ready = [
            (d, t)
            for t in self.trees.values()
            if (d := self.due(t)) is not None and d <= now and not self.bursts_pending(t.root)
        ]
        if not ready:
            preps = [(d, t) for t in self.trees.values() if (d := self.prep_due(t)) is not None]
            preps = [(d, t) for d, t in preps if d <= now]
            if preps:
                self.prepare(min(preps, key=lambda x: x[0])[1], now)
                return
            if (
                self.child is not None
                and now - self.worker_last > WORKER_IDLE_S
                and not any(t.first_change for t in self.trees.values())
            ):
                self.end_worker()  # nothing to do for a while: give its memory back
            return
        _, tree = min(ready, key=lambda x: x[0])
        self.flush_marks()
        if tree.ws.dirty or tree.ws.dirty_entries:
            # its marks are not in the dirty set (the store's disk full): a snapshot now
            # would find nothing changed ("unchanged" after an rm -rf); it waits for them
            tree.retry_at = now + PROBE_S
            return
        lag_from = tree.last_change
        tree.first_change = tree.last_change = tree.prep_change = None
        tree.ws.snapshot_begins()
        self.flush_marks()
        # a JSON line: a path may hold a newline (a raw line made two jobs, and every later
        # answer went to the wrong worktree: RED31 D4); surrogates of a non-UTF-8 name as
        # JSON escapes
        error = self.send(json.dumps({"take": tree.root}).encode())
        if error is not None:
            self.child_tree = tree
            self.result(None, error)
            return
        self.child_tree = tree
        self.child_started = now
        self.child_lag_from = lag_from or now
        self.status_dirty = True  # (snapshotting)

    def next_job(self, now: float) -> bool:
        """Whether maybe_snapshot would give the worker a job now (a snapshot or a
        preparation is due)."""
        for t in self.trees.values():
            d = self.prep_due(t)
            if d is not None and d <= now:
                return True
            d = self.due(t)
            if d is not None and d <= now and not self.bursts_pending(t.root):
                return True
        return False

    def code_changed(self, now: float, soon: bool = True) -> bool:
        """Whether the code installed where ours was loaded from changed since we started
        (an upgrade or reinstall in place): then no job is given and no sync answered (the
        hook walks everything) until it has settled (CODE_SETTLE_S), and then the loop
        stops and main() executes the daemon again with the code there now. Taken again at
        most every CODE_CHECK_S, and only when *soon* (a job or an answer depends on it)."""
        if self.restart:
            return True
        if (not soon and self.code_seen is None) or now - self.code_checked < CODE_CHECK_S:
            return self.code_seen is not None
        self.code_checked = now
        stamp = instance.code_stamp(self.code_dir)
        if stamp == self.code_stamp:
            self.code_seen = None
            return False
        if self.code_seen is None or self.code_seen[0] != stamp:
            self.code_seen = (stamp, now)  # (being written: looked at again in a moment)
            return True
        if now - self.code_seen[1] < CODE_SETTLE_S:
            return True
        if stamp == "gone":
            log(f"its code {self.code_dir} is gone (git-snapshot uninstalled?): stopping")
        else:
            log(f"the code in {self.code_dir} changed (an upgrade or reinstall): restarting")
            self.restart = True
        self.stop = True
        return True

    def send(self, job: bytes) -> str | None:
        """Give the worker (started if need be) one job line (JSON: no newline in it) and
        watch for its answer; the error to report if it could not be given."""
        if b"\n" in job:
            return "a job with a newline (not JSON-encoded)"
        try:
            w = self.worker()
            assert w.stdin is not None and w.stdout is not None
            w.stdin.write(job + b"\n")
            w.stdin.flush()
        except OSError as exc:
            return f"cannot start the snapshot process: {exc}"
        if self.poller is not None:
            with contextlib.suppress(ValueError):
                self.poller.register(w.stdout.fileno(), select.POLLIN | select.POLLHUP)
        return None

    def worker_ready(self) -> None:
        """The worker wrote its answer, or ended."""
        w = self.child
        if w is None or w.stdout is None:
            return
        line = w.stdout.readline() if self.busy else b""
        if self.poller is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.poller.unregister(w.stdout.fileno())
        if not line:
            self.end_worker()  # it ended (or wrote while idle, which it never does)
            return
        try:
            res = json.loads(line)
        except ValueError:
            res = {"error": f"unexpected output {line[:200]!r}"}
        self.worker_last = _now()
        if self.child_tree is not None:
            self.worker_jobs += 1  # snapshots only (WORKER_JOBS)
        done = self.result if self.child_prep is None else self.prepared
        if isinstance(res, dict) and "error" not in res:
            done(res, None)
        else:
            done(None, str(res.get("error") if isinstance(res, dict) else res))
        if self.worker_jobs >= WORKER_JOBS:
            self.end_worker()  # nothing leaks for long; a fresh one now, warm for the next job
            self.prewarm()

    def result(self, res: dict[str, Any] | None, error: str | None) -> None:
        tree, self.child_tree = self.child_tree, None
        now = _now()
        if tree is None or tree.root not in self.trees:
            return
        tree.ws.snapshot_ended()
        if res is None:
            tree.failures += 1
            tree.last_error = (error or "failed")[-300:]
            tree.last_error_at = time.time()
            tree.retry_at = now + SNAPSHOT_RETRY_S
            tree.last_change = tree.last_change or now
            tree.first_change = tree.first_change or now
            log(f"{tree.root}: snapshot failed: {tree.last_error}")
        else:
            self.snapshots_taken += int(bool(res.get("new")))
            tree.retry_at = 0.0
            tree.last_error = tree.last_error_at = None
            tree.last_snapshot = {
                "id": res["id"],
                "created": res.get("created"),
                "new": bool(res.get("new")),
                "seconds": round(now - self.child_started, 3),
                "lag_s": round(now - self.child_lag_from, 3),
            }
            log(
                f"{tree.root}: snapshot {res['id']} ({'new' if res.get('new') else 'unchanged'}, "
                f"{now - self.child_started:.2f}s)"
            )
        self.status_dirty = True

    def prepare(self, tree: Tree, now: float) -> None:
        """Have the worker prepare the next snapshot of *tree* (watch/take.prepare): the
        marks so far (those a waiting hook wants), rebuilt and stored, for a hook (or our
        own snapshot) to commit."""
        self.flush_marks()
        job: dict[str, Any] = {"prepare": tree.root}
        if tree.wanted_seq is not None:
            job["upto"] = tree.wanted_seq  # (what is marked after it: prepared later)
        else:
            tree.prep_change = None
        self.child_prep = tree
        self.child_started = now
        error = self.send(json.dumps(job).encode())
        if error is not None:
            self.prepared(None, error)

    def prepared(self, res: dict[str, Any] | None, error: str | None) -> None:
        from git_snapshot.watch import prep

        tree, self.child_prep = self.child_prep, None
        if tree is None or tree.root not in self.trees:
            return
        seconds = round(_now() - self.child_started, 3)
        if res is None:  # only a head start for the next snapshot: logged, not retried
            log(f"{tree.root}: preparing a snapshot failed: {(error or 'failed')[-300:]}")
            tree.last_prep = {"seq": None, "seconds": seconds, "why": (error or "failed")[-300:]}
        else:
            tree.last_prep = {"seq": res.get("prepared"), "seconds": seconds, "why": res.get("why")}
            got = f"seq {res['prepared']}" if res.get("prepared") is not None else "nothing"
            why = res.get("why") or res.get("from")
            log(f"{tree.root}: prepared {got} in {seconds:.2f}s ({why})")
        if tree.wanted_seq is not None:
            seq = res.get("prepared") if res is not None else None
            if not isinstance(seq, int) or seq >= tree.wanted_seq or tree.prep_change is None:
                # done (set_prepared ended the hook's wait), or nothing more will come of it
                tree.wanted_seq = None
                with contextlib.suppress(Exception):
                    prep.unwant(self.store_path, tree.root)
            # else an older part was prepared: the rest next, at once (prep_due)
        self.status_dirty = True

    def record_bursts(self, tree: Tree, now: float) -> None:
        """Bursts of *tree* that have ended go to the worker, which records them (diffing a
        snapshot of a big folder takes a second or more: the loop must go on answering
        hooks meanwhile)."""
        if tree.detector is None or self.child_tree is tree:
            # a snapshot of this worktree is under way: it may be the last one before the
            # burst (its files are in the store before its answer reaches us), so the
            # burst waits for the answer, or it would be recorded against an older one
            return
        held = _ended(tree.detector, now) and self.hook_reporting(tree, now)
        if held and not tree.bursts_held:
            log(f"{tree.root}: a burst waits for the hook's report (pid {tree.hook_pid})")
        tree.bursts_held = held
        if held:
            return
        done = tree.detector.take(now)
        if done:
            self.bursts.append((tree.root, [_burst_json(b) for b in done]))
            self.status_dirty = True

    def hook_reporting(self, tree: Tree, now: float) -> bool:
        """Whether the process that synced last for *tree* (a hook) may still write a loss
        report: it runs, and synced less than HOOK_REPORT_HOLD_S ago."""
        pid = tree.hook_pid
        if pid <= 0:
            return False
        if now < tree.hook_pid_at + HOOK_REPORT_HOLD_S and pids.alive(pid):
            return True
        tree.hook_pid = 0
        return False

    def record_next_bursts(self, now: float) -> None:
        """Hand the oldest bursts to a process of their own, a worker with this one job
        (watch/take.py records them against the store's last snapshot of the worktree whose
        walk ended before each began; on L ~1 s of CPU for 2,000 files): the worker stays
        free for a hook's preparation meanwhile (a hook that synced while the worker
        recorded a burst rebuilt its changes itself)."""
        from git_snapshot.watch.take import serve_argv

        root, done = self.bursts.popleft()
        job = {"worktree": root, "bursts": done}
        self.child_bursts = (root, done)
        self.recorder_started = now
        try:
            r = self.recorder = subprocess.Popen(
                serve_argv(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=instance.daemon_env(),
                cwd="/",
            )
            assert r.stdin is not None and r.stdout is not None
            r.stdin.write(json.dumps(job).encode() + b"\n")
            r.stdin.close()  # its one job: it ends after its answer
        except OSError as exc:
            self.end_recorder(f"cannot start the process recording them: {exc}")
            return
        if self.poller is not None:
            with contextlib.suppress(ValueError):
                self.poller.register(r.stdout.fileno(), select.POLLIN | select.POLLHUP)

    def recorder_ready(self) -> None:
        """The process recording bursts wrote its answer, or ended."""
        r = self.recorder
        if r is None or r.stdout is None:
            return
        line = r.stdout.readline()
        try:
            res = json.loads(line) if line else {"error": "it ended without an answer"}
        except ValueError:
            res = {"error": f"unexpected output {line[:200]!r}"}
        if isinstance(res, dict) and "error" not in res:
            self.bursts_recorded(res, None)
        else:
            self.bursts_recorded(None, str(res.get("error") if isinstance(res, dict) else res))
        self.end_recorder()

    def end_recorder(self, why: str | None = None) -> None:
        r, self.recorder = self.recorder, None
        if r is not None:
            self._reap(r)
            why = why or f"the process recording them ended (exit status {r.returncode})"
        if self.child_bursts is not None:
            self.bursts_recorded(None, why or "not recorded")

    def bursts_recorded(self, res: dict[str, Any] | None, error: str | None) -> None:
        job, self.child_bursts = self.child_bursts, None
        if job is None:
            return
        root, done = job
        self.status_dirty = True
        if res is None:
            self.keep_unrecorded(root, done, error or "not recorded")
            return
        for line in res.get("log", []):
            log(f"{root}: {line}")
        # recorded as well as they could be, after a failure no retry cures (RED35 W1)
        trouble = [t for t in res.get("trouble") or () if isinstance(t, list) and len(t) == 2]
        for cause, why in trouble:
            self.failed(f"salvaged-{cause}", str(why))
        retry = [b for b in res.get("retry") or () if isinstance(b, dict)]
        if retry:
            why = str(res.get("why") or "not recorded")
            self.keep_unrecorded(root, retry, why, str(res.get("cause") or "write"))
            return
        if not self.unrecorded:
            self.record_backoff = RECORD_RETRY_S
            for key in [k for k in self.failing if k == "records" or k.startswith("unrecorded-")]:
                del self.failing[key]
        if not trouble:  # (a burst recorded whole since: said no more)
            for key in [k for k in self.failing if k.startswith("salvaged-")]:
                del self.failing[key]

    def keep_unrecorded(
        self, root: str, items: list[dict[str, Any]], why: str, cause: str = "write"
    ) -> None:
        """Bursts of *root* whose recording failed (the store's disk full, its loss log not
        writable; *cause*: take.failure_cause's): kept, and recorded again later (the loss
        they name is reported once the store can take it, not never: RED34 A1)."""
        n = sum(len(b.get("paths") or ()) for b in items)
        self.unrecorded.append((root, items))
        self.record_retry_at = _now() + self.record_backoff
        log(
            f"{root}: a burst of {n} changes not recorded yet: {why[-300:]}; "
            f"tried again in {self.record_backoff:.0f}s"
        )
        self.record_backoff = min(self.record_backoff * 2, MAX_RECORD_RETRY_S)
        self.failed("records" if cause == "write" else f"unrecorded-{cause}", why)

    def retry_records(self, now: float) -> None:
        """The bursts kept unrecorded go back to be recorded (first: they are the oldest)."""
        if self.unrecorded and now >= self.record_retry_at:
            self.bursts.extendleft(reversed(self.unrecorded))
            self.unrecorded.clear()

    def failed(self, what: str, why: str) -> None:
        """A write of ours in the store failed: *what* is said in the status until it works."""
        old = self.failing.get(what)
        self.failing[what] = (why[-300:], old[1] if old else time.time())
        self.status_dirty = True

    def problem(self) -> str | None:
        """One line saying what is wrong with our writes in the store, or None: a write
        that fails (a retry cures it), then a loss record that met damage or an error no
        retry cures (said as what it is, with what to do: RED35 W1)."""
        writes = {k: v for k, v in self.failing.items() if not k.startswith(_RECORD_TROUBLE)}
        parts = []
        if writes:
            why, since = min(writes.values(), key=lambda x: x[1])
            parts.append(f"cannot write to the store since {_clock(since)}: {why}")
            waiting = self.unrecorded + (list(self.bursts) if "records" in writes else [])
            n = sum(len(items) for _, items in waiting)
            if n:
                parts.append(f"{n} loss record{'s' if n != 1 else ''} kept, written once it can")
            if any(_full(w) for w, _ in writes.values()):
                parts.append("free space on its disk (git snapshot prune frees some)")
        troubles = [(k, v) for k, v in self.failing.items() if k.startswith(_RECORD_TROUBLE)]
        for key, (why, since) in sorted(troubles, key=lambda x: x[1][1]):
            parts.append(self._trouble(key, why, since))
        return "; ".join(parts) or None

    def _trouble(self, key: str, why: str, since: float) -> str:
        """problem()'s words for a loss record that failed for good (*key*: salvaged-CAUSE,
        recorded as well as it could be; unrecorded-CAUSE, kept and tried again)."""
        kind, _, cause = key.partition("-")
        if cause == "damaged":
            said = f"a loss record met damaged data in the store at {_clock(since)}: {why}"
        else:
            said = f"recording a loss failed at {_clock(since)}: {why}"
        if kind == "salvaged":
            said += "; recorded as well as it could be (see git snapshot losses)"
        else:
            n = sum(len(items) for _, items in self.unrecorded)
            said += f"; {n} loss record{'s' if n != 1 else ''} kept, tried again later"
        if cause == "damaged":
            said += "; check the store with: git snapshot verify"
        elif cause == "bug":
            said += "; please report it"
        return said

    # -- status ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        now = _now()
        worktrees = []
        for tree in self.trees.values():
            c = tree.ws.counters
            pending = tree.first_change
            worktrees.append(
                {
                    "path": tree.root,
                    "state": tree.state,
                    **tree.ws.summary(),
                    "events": c.events,
                    "events_ignored": c.ignored,
                    "overflows": c.overflows,
                    "failed_watches": c.failed_watches,
                    "changed_since": None if pending is None else _wall(pending),
                    # a watch snapshot of it is under way (sent, its answer not read yet)
                    "snapshotting": self.child_tree is tree,
                    "last_snapshot": tree.last_snapshot,
                    "last_prep": tree.last_prep,
                    "snapshot_failures": tree.failures,
                    "last_error": tree.last_error,
                    "last_error_at": tree.last_error_at,
                    # (wall) the oldest change seen that no recorded burst holds yet
                    "unrecorded_since": self.said_since(tree),
                }
            )
        return {
            "pid": os.getpid(),
            "started": self.started,
            "updated": _wall(now),
            "store": self.store_path,
            "budget": self.budget.budget,
            "max_user_watches": instance.inotify_limit("max_user_watches")
            or wconfig.max_user_watches(),
            "watches": self.budget.used,
            "polling_dirs": sum(t.ws.polling for t in self.trees.values()),
            "overflows": self.overflows,
            "failed_watches": sum(t.ws.counters.failed_watches for t in self.trees.values()),
            "snapshots": self.snapshots_taken,
            "quiet_s": self.cfg.quiet,
            "max_delay_s": self.cfg.max_delay,
            "worktrees": worktrees,
            # registered, not watched: the folder is gone (watched again if it comes back)
            "missing": sorted(self.missing),
            # our own writes in the store failing (its disk full): one line, or None
            "problem": self.problem(),
        }

    def unrecorded_since(self, tree: Tree) -> float | None:
        """The wall time of the oldest deletion or overwrite of *tree* seen and not in a
        recorded burst yet (in its detector's window or burst, waiting, being recorded or
        kept unrecorded), None when there is none. A watcher killed loses them: the next
        one compares the worktree from there (gap())."""
        times: list[float] = []
        det = tree.detector
        if det is not None:
            now = _now()
            if det.active():
                times.append(det.started)
            times += [b.started for b in det.done]
            times += [w for t, w, _, _ in det.recent if now - t <= det.window]
        jobs = [*self.bursts, *self.unrecorded, *([self.child_bursts] if self.child_bursts else [])]
        times += [
            float(b["started"]) for job in jobs if job and job[0] == tree.root for b in job[1]
        ]
        return min(times) if times else None

    def said_since(self, tree: Tree) -> float | None:
        """unrecorded_since(), as the status is about to say it (urgent_status())."""
        tree.since_said = self.unrecorded_since(tree)
        return tree.since_said

    def urgent_status(self, trees: list[Tree]) -> None:
        """Write the status now, not within STATUS_EVERY_S, when one of *trees* has seen a
        deletion the status does not say yet: killed a moment after an rm -rf, the watcher
        must leave since when to compare (gap())."""
        if any(t.since_said is None and self.unrecorded_since(t) is not None for t in trees):
            self.write_status()

    def write_status(self) -> None:
        """The status file, replaced whole; when that fails (a full disk), rewritten in
        place, where its padding leaves room without a new block, saying what is wrong."""
        path = os.path.join(self.state_dir, instance.STATUS)
        try:
            _replace(path, _padded(json.dumps(self.status()).encode()))
        except OSError as exc:
            if "status" not in self.failing:
                log(f"status not written: {exc}")
            self.failed("status", f"its status: {exc}")
            with contextlib.suppress(OSError):
                _rewrite(path, json.dumps(self.status()).encode())
        else:
            if self.failing.pop("status", None) is not None:
                self.writable_again()
                self.status_dirty = True  # (what it wrote still said it failed)
                self.status_written = _now()
                return
        self.status_dirty = False
        self.status_written = _now()

    def writable_again(self) -> None:
        """The store takes writes again (space was freed): what waited for it goes now, not
        after its retry's delay."""
        now = _now()
        self.record_retry_at = min(self.record_retry_at, now)
        for tree in self.trees.values():
            tree.retry_at = min(tree.retry_at, now)
        log("the store takes writes again")

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> None:
        from git_snapshot.watch import dirtyset

        # the mount table, opened before any setup: poll() says when it changes from then on
        # (POLLPRI: mounts_changed)
        with contextlib.suppress(OSError):
            self.mounts_fd = os.open(dirtyset.MOUNTINFO, os.O_RDONLY | os.O_CLOEXEC)
        self.sync_registry()
        self.check_exists()
        self.write_status()
        poller = self.poller = select.poll()
        poller.register(self.src.fileno(), select.POLLIN)
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)  # a signal ends the wait at once
        poller.register(wake_r, select.POLLIN)
        if self.mounts_fd is not None:
            poller.register(self.mounts_fd, select.POLLPRI)
        while not self.stop:
            now = _now()
            timeout = self.next_wakeup(now) - now
            try:
                ready = poller.poll(max(0, int(timeout * 1000) + 1))
            except InterruptedError:
                continue
            try:
                self.step({fd for fd, _ in ready}, wake_r)
            except OSError as exc:  # (a write of ours: the loop goes on, RED34 A1)
                self.recover(exc)
            else:
                if self.failing.pop("loop", None) is not None:
                    self.status_dirty = True
        self.shutdown()
        if self.mounts_fd is not None:
            os.close(self.mounts_fd)

    def step(self, fds: set[int], wake_r: int) -> None:
        """One round of the loop: what is ready on *fds*, then the timers and snapshots."""
        if wake_r in fds:
            with contextlib.suppress(OSError):
                os.read(wake_r, 512)
        if self.mounts_fd is not None and self.mounts_fd in fds:
            self.mounts_changed()  # (before the events: a sync among them is answered after)
        if self.src.fileno() in fds:
            self.on_events(self.src.read())
        w = self.child
        if w is not None and w.stdout is not None and w.stdout.fileno() in fds:
            self.worker_ready()
        r = self.recorder
        if r is not None and r.stdout is not None and r.stdout.fileno() in fds:
            self.recorder_ready()
        now = _now()
        self.timers(now)
        self.maybe_snapshot(now)
        if self.failing and now - self.status_written >= PROBE_S:
            self.status_dirty = True  # (is there room again?)
        if self.status_dirty and now - self.status_written >= STATUS_EVERY_S:
            self.write_status()

    def mounts_changed(self) -> None:
        """The mount table changed: a worktree whose mounts at or below it are not those of
        its last setup is set up again now (a new epoch: its next snapshot walks everything)
        and snapshotted. A mount made in it covers folders whose watches stay on the folders
        below, and one gone uncovers folders nothing watches: what was written there raised
        no event, and every snapshot kept the old bytes (review38 RA)."""
        from git_snapshot.watch import dirtyset

        for tree in self.trees.values():
            if dirtyset.mounts(tree.root) != tree.ws.mounts:
                log(f"{tree.root}: a mount in it was made or removed: set up again")
                self.setup(tree)
                tree.last_change = _now()
                tree.first_change = tree.first_change or tree.last_change

    def recover(self, exc: OSError) -> None:
        """An OSError left a round of the loop unfinished: events it read may be unmarked,
        so every worktree's next snapshot walks everything; the daemon goes on (it died
        here, and the burst it held was never recorded: RED34 A1)."""
        from git_snapshot.watch import dirtyset

        log(f"a round of the loop failed: {exc!r}; every worktree is walked whole next")
        self.failed("loop", str(exc))
        for tree in self.trees.values():
            tree.ws.take_dirty()
            tree.ws.take_entries()
            try:
                dirtyset.mark_all(self.store_path, tree.root, "error")
            except Exception:
                tree.ws.dirty.add(tree.root)  # (marked again next round)
            tree.last_change = _now()
            tree.first_change = tree.first_change or tree.last_change
        time.sleep(0.2)  # (a failure that repeats must not spin)

    def shutdown(self) -> None:
        from git_snapshot.watch import dirtyset

        with contextlib.suppress(Exception):  # the events since the loop's last read (an
            self.on_events(self.src.read())  # rm -rf right before the stop: its burst)
        if self.child is not None and self.busy:
            with contextlib.suppress(Exception):
                self.worker_ready()  # the job under way is let finish
        for tree in self.trees.values():  # and a burst under way ends here (an rm -rf a
            self.record_bursts(tree, _now() + 3600)  # moment before a stop was lost)
        with contextlib.suppress(Exception):
            self.recorder_ready()  # the bursts being recorded
        self.record_retry_at = 0.0
        self.retry_records(_now())  # (those kept unrecorded: once more)
        while self.bursts:  # and the others, before we go
            self.record_next_bursts(_now())
            with contextlib.suppress(Exception):
                self.recorder_ready()
        with contextlib.suppress(Exception):
            self.end_worker()
        # bursts still unrecorded (the store's disk full): the status stays, saying since
        # when, and the next watcher compares from there (gap())
        keep = bool(self.unrecorded)
        if keep:
            self.write_status()
        for path in list(self.trees):
            tree = self.trees[path]
            tree.ws.close()
            _close_root(tree)
            with contextlib.suppress(Exception):
                dirtyset.stopped(self.store_path, path)
        self.trees.clear()
        if not keep:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.state_dir, instance.STATUS))
        log("stopped" if not keep else "stopped; some loss records not written (see gap())")


def _left_behind(state_dir: str) -> dict[str, float]:
    """Per worktree, since when the watcher before us left what it saw unrecorded, when it
    did not stop cleanly: its status file is left (a clean stop removes it). Since its
    unrecorded_since, else since it last wrote the file (it writes it within a second of
    any change). One carrying our own pid is no exception: a daemon that restarted itself
    executed itself again, the same pid (RED38 C1), and a pid is reused after a kill."""
    try:
        with open(os.path.join(state_dir, instance.STATUS), "rb") as f:
            old = json.load(f)
        updated = float(old["updated"])
        out: dict[str, float] = {}
        for w in old.get("worktrees") or ():
            since = w.get("unrecorded_since")
            out[str(w["path"])] = float(since) if since is not None else updated
        return out
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


# failing's keys of a loss record that failed for a reason no retry cures (problem())
_RECORD_TROUBLE = ("salvaged-", "unrecorded-")


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def _full(why: str) -> bool:
    """Whether *why* says the disk (or the user's quota) is full."""
    low = why.lower()
    return "no space left" in low or "disk is full" in low or "quota exceeded" in low


def _padded(data: bytes) -> bytes:
    """*data* (JSON) with trailing spaces: at least STATUS_SLACK, to a 4 KiB multiple."""
    size = -(-(len(data) + STATUS_SLACK) // 4096) * 4096
    return data + b" " * (size - len(data))


def _replace(path: str, data: bytes) -> None:
    """Write *path* whole through a temp file (a reader never sees half of it)."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with open(fd, "wb", closefd=False) as f:
            f.write(data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _rewrite(path: str, data: bytes) -> None:
    """Write *data* over *path* in place, padded to its size (its blocks are kept: no new
    one is needed on a full disk); OSError when it does not fit."""
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        if len(data) > size:
            raise OSError(f"the status ({len(data)} bytes) does not fit in {size}")
        os.pwrite(fd, data + b" " * (size - len(data)), 0)
    finally:
        os.close(fd)


def _ended(det: Any, now: float) -> bool:
    """Whether bursts.BurstDetector *det* holds a burst that has ended (take() would give it)."""
    return bool(det.done) or (det.active() and now - det.last > det.window)


def _burst_json(b: Any) -> dict[str, Any]:
    return {
        "paths": list(b.paths),
        "started": b.started,
        "ended": b.ended,
        "kinds": b.kinds,
        "times": b.times,
        "lost_events": b.lost_events,
        "moves": [list(m) for m in b.moves],
    }


def _wid(worktree: str) -> str:
    from git_snapshot.watch import dirtyset

    return dirtyset._id(worktree)


def _close_root(tree: Tree) -> None:
    fd, tree.root_fd = tree.root_fd, None
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def moved_to(tree: Tree) -> str | None:
    """The path *tree*'s top folder has now, when it lives on at another path (moved, not
    deleted: its .git, which the daemon holds open, still has a name, in the same top
    folder) and is a worktree there; None otherwise (deleted, its .git alone gone or
    moved away)."""
    fd = tree.root_fd
    if fd is None or tree.root_id is None:
        return None
    try:
        if os.fstat(fd).st_nlink == 0:
            return None  # deleted
        git = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    new = os.path.dirname(git)
    if os.path.basename(git) != ".git" or new == tree.root or not new.startswith("/"):
        return None
    try:
        st = os.stat(new)
    except OSError:
        return None
    if (st.st_dev, st.st_ino) != tree.root_id or not _is_worktree(new):
        return None
    return new


def _replaced(tree: Tree) -> bool:
    """Whether the folder at *tree*'s path is not the top folder we set up (one stat)."""
    if tree.root_id is None:
        return False
    try:
        st = os.stat(tree.root)
    except OSError:
        return False  # gone: check_exists and the root's events say so
    return (st.st_dev, st.st_ino) != tree.root_id


def _git_dir(root: str) -> str | None:
    """The worktree's own git dir, where git takes index.lock: its .git folder, or the one a
    .git file names (a linked worktree's .git/worktrees/X, a submodule's); None when neither
    reads (no git call: the daemon's loop)."""
    dot = os.path.join(root, ".git")
    try:
        if os.path.isdir(dot):
            return os.path.realpath(dot)
        with open(dot, "rb") as f:
            first = f.read(4096).split(b"\n", 1)[0].strip()
    except OSError:
        return None
    if not first.startswith(b"gitdir:"):
        return None
    where = os.path.realpath(os.path.join(root, os.fsdecode(first[7:].strip())))
    return where if os.path.isdir(where) else None


def _is_worktree(path: str) -> bool:
    return os.path.isdir(path) and os.path.exists(os.path.join(path, ".git"))


def _ignored_dirs(root: str) -> frozenset[bytes]:
    """git's topmost ignored folders of the worktree (one git call at setup)."""
    from git_snapshot import gitrepo

    try:
        return gitrepo.ignored(gitrepo.find_repo(root))[1]
    except Exception:
        return frozenset()


def main(store_path: str) -> int:
    """Run the daemon in the foreground until SIGTERM/SIGINT; 0, or 1 if another one runs.
    Started to replace an older daemon (instance.start), it stops that one first; when its
    own code changes on disk, it executes itself again (Daemon.code_changed)."""
    os.chdir("/")
    old = os.environ.pop(instance.ENV_REPLACE, "")
    if old.isdigit() and not _retire(store_path, int(old)):
        return 0  # another daemon took its place meanwhile (a hook beside ours started one)
    stamp = instance.code_stamp(instance.code_dir())
    src = _inotify(store_path)  # (before the lock: a daemon that cannot run never holds it)
    if src is None:
        return 1
    with instance.hold(store_path, code=instance.code_line(stamp)) as mine:
        if not mine:
            src.close()
            pid = instance.running(store_path)
            print(f"git-snapshot: the watcher already runs (pid {pid})", file=sys.stderr)
            return 1
        instance.said_cannot_run(store_path, None)
        cfg = wconfig.load("/")
        daemon = Daemon(store_path, cfg, src, code_stamp=stamp)

        def _stop(signum: int, frame: object) -> None:
            daemon.stop = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        log(
            f"started, pid {os.getpid()}, budget {daemon.budget.budget} watches, "
            f"quiet {cfg.quiet}s, max delay {cfg.max_delay}s, code {stamp} in {daemon.code_dir}"
        )
        try:
            daemon.run()
        finally:
            daemon.src.close()
    return _again() if daemon.restart else 0


def _inotify(store_path: str) -> ev.Inotify | None:
    """Our inotify instance, or None when the kernel gives none: then one line says why, in
    the log and for status, doctor, watch and install (instance.cannot_run). It was "internal
    error: OSError(24, 'Too many open files') ... please report it" (RED39 E3)."""
    try:
        return ev.Inotify()
    except OSError as exc:
        why = no_inotify(exc)
    log(why)
    instance.said_cannot_run(store_path, why)
    return None


def no_inotify(exc: OSError) -> str:
    """One line for an inotify_init1 that failed with *exc*."""
    if exc.errno != errno.EMFILE:
        return (
            f"the kernel gives no inotify instance ({exc.strerror}): the watcher cannot run, "
            "and hooks walk every worktree meanwhile"
        )
    limit = instance.inotify_limit("max_user_instances")
    now = f" ({limit:,})" if limit is not None else ""
    more = max(2 * (limit or 0), 512)
    return (
        f"the kernel's inotify instance limit{now} is reached, used up by other programs "
        "(IDEs, file sync tools): the watcher cannot run, and hooks walk every worktree "
        f"meanwhile; raise it with: sudo sysctl fs.inotify.max_user_instances={more}"
    )


def _retire(store_path: str, old: int) -> bool:
    """Stop the daemon *old*, of an older git-snapshot (instance.start saw it), and wait
    until it is gone (its clean stop records what it saw): True when its lock is free for
    us, False when another daemon holds it by then (or it would not stop)."""
    deadline = _now() + REPLACE_WAIT_S
    asked = False
    while _now() < deadline:
        pid = instance.running(store_path)
        if pid is None:
            return True
        if pid > 0 and pid != old:
            return False
        if pid == old and not asked:
            log(f"stopping the watcher (pid {old}), which runs an older git-snapshot")
            with contextlib.suppress(OSError):
                os.kill(old, signal.SIGTERM)
            asked = True
        time.sleep(0.05)
    log(f"the watcher (pid {old}) did not stop in {REPLACE_WAIT_S:.0f}s: not replaced")
    return False


def _again() -> int:
    """Execute the daemon again (the same pid, its log and environment) with the code
    installed now; 1 when that cannot be done (then it is stopped: a hook starts it)."""
    argv = [sys.executable, "-m", "git_snapshot", "watch", "--foreground"]
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    try:
        os.execv(sys.executable, argv)
    except OSError as exc:
        log(f"cannot restart ({exc}): stopped; git snapshot watch starts it")
    return 1
