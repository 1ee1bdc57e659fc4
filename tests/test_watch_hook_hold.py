"""A hook's sync holds the daemon's own snapshot off while the hook's snapshot may be under
way (watch/daemon.HOOK_HOLD_S, dirtyset.covered): a watch snapshot started beside it that
commits after it left the store's last snapshot off the dirty set's base (every snapshot after
it then walked the whole tree: ~1-2 s of CPU each on 200k files, themselves overtaken by the
next hooks). Once the hook's snapshot is committed, a change made after it is snapshotted
after the quiet period as usual (not HOOK_HOLD_S later). The real daemon, real hooks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import gs
from test_prep_daemon import _hook
from test_prep_daemon import _snaps
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import wait_for
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.watch import daemon as wdaemon
from git_snapshot.watch import dirtyset

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"),
    pytest.mark.slow,
]


def _daemon_snapshots(w: Watcher) -> int:
    return w.log().count(": snapshot ")


def _nth_snapshot_line(log: str, n: int) -> int:
    """Where the daemon's snapshot line number *n* (from 0) begins in *log*."""
    at = -1
    for _ in range(n + 1):
        at = log.index(": snapshot ", at + 1)
    return at


@contextlib.contextmanager
def _held(daemon: subprocess.Popen[bytes]) -> Iterator[None]:
    """The daemon stopped (as load holds it) for the block: what the block writes, and a
    sync token it writes, are read by the daemon's next read together, before it can take
    the quiet period as passed (a test held between its write and its sync for longer than
    watchQuiet had the daemon snapshot the write first, rightly)."""
    os.kill(daemon.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(daemon.pid, signal.SIGCONT)


def _write_and_sync(
    daemon: subprocess.Popen[bytes], store_dir: Path, repo: Path, path: str, text: str
) -> float:
    """*text* written to *path* and a hook's sync of it, both read by the daemon at once;
    the time (taken before the daemon could read either) from which its hold counts."""
    with _held(daemon):
        (repo / path).write_text(text)
        dirtyset.sync_start(str(store_dir), str(repo))  # (its token, read with the write)
        before = time.time()
    assert dirtyset.sync(str(store_dir), str(repo), timeout=30)
    return before


def _hook_held(store_dir: Path, repo: Path) -> None:
    """The hook, its hold kept up until it ends: this process synced (a hook that starts at
    once) and syncs again every second while the hook runs, so the daemon snapshots nothing
    before the hook does however long the hook's start takes (under load it took over
    watchQuiet: the daemon snapshotted the change first, the hook's was unchanged)."""
    hook = subprocess.Popen(_hook(repo), cwd=repo)
    while True:
        try:
            assert hook.wait(timeout=1.0) == 0
            return
        except subprocess.TimeoutExpired:
            assert dirtyset.sync(str(store_dir), str(repo), timeout=30)


def _watched(
    tmp_path: Path, store_dir: Path, w: Watcher, quiet: float
) -> tuple[Path, subprocess.Popen[bytes]]:
    config(watchQuiet=quiet)
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    daemon = w.start()
    w.watching(repo)
    return repo, daemon


def test_no_watch_snapshot_beside_a_hook_that_snapshots(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """A hook synced and has not committed its snapshot (this process, between its sync and
    its commit): no watch snapshot for the changes before or after its sync, until
    HOOK_HOLD_S; then it comes."""
    repo, daemon = _watched(tmp_path, store_dir, watcher, 2)
    started = _write_and_sync(daemon, store_dir, repo, "src/a.txt", "one\n")  # a.txt marked
    (repo / "src" / "b.txt").write_text("two\n")
    # watchQuiet (2 s) passes, but the hook may still be committing: no watch snapshot
    # beside it until HOOK_HOLD_S after the sync, then one saves both. Each is sent after
    # the hold and committed after it is sent: one committed earlier was taken beside the
    # hook (read from the store afterwards: a sleep then a look at the log failed when this
    # process was held past the sleep's 1.5 s margin)
    last = wait_for(
        lambda: [s for s in _snaps(repo) if s.trigger == "watch" and s.created > started],
        what="the watch snapshot",
    )[-1]
    watch = [s for s in _snaps(repo) if s.trigger == "watch" and s.created > started]
    assert all(s.created >= started + wdaemon.HOOK_HOLD_S for s in watch), (watch, watcher.log())
    assert gs(repo, "cat", str(last.id), "src/a.txt") == "one\n"
    assert gs(repo, "cat", str(last.id), "src/b.txt") == "two\n"


def test_a_change_after_a_hook_is_snapshotted_after_the_quiet_period(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """The hold ends once the hook's snapshot is committed: a change made after it has its
    watch snapshot watchQuiet after it, not HOOK_HOLD_S after the hook's sync (files written
    then would stay that much longer without a copy)."""
    repo, daemon = _watched(tmp_path, store_dir, watcher, 1)
    before = _daemon_snapshots(watcher)
    _write_and_sync(daemon, store_dir, repo, "src/a.txt", "one\n")
    _hook_held(store_dir, repo)
    assert _snaps(repo)[-1].trigger == "post-checkout"
    (repo / "src" / "b.txt").write_text("two\n")
    # (the daemon may first snapshot a.txt's change, which the hook's holds: unchanged, no
    # record; the watch snapshot in the store is b.txt's)
    last = wait_for(
        lambda: [s for s in _snaps(repo) if s.trigger == "watch"], what="the watch snapshot"
    )[-1]
    # (its log line comes after the worker's answer: after the store has it)
    wait_for(lambda: _daemon_snapshots(watcher) > before, what="the watch snapshot's line")
    # the hold ended as the hook's snapshot was committed, before any watch snapshot; not
    # HOOK_HOLD_S after the sync (a budget on the wall clock failed under load)
    log = watcher.log()
    ended = log.find(wdaemon.HOLD_ENDED)
    assert 0 <= ended < _nth_snapshot_line(log, before), log
    assert gs(repo, "cat", str(last.id), "src/b.txt") == "two\n"
