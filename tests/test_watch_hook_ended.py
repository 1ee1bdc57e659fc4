"""A hook's committed snapshot holds every change the daemon had marked: the daemon then takes
no watch snapshot of its own for them (it used to take one, 'unchanged', a quiet period after
the hook: a worker job for nothing). A change made after the hook's snapshot still gets its
watch snapshot. The real daemon, real hooks."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from clihelpers import gs
from test_prep_daemon import _hook
from test_prep_daemon import _snaps
from test_watch_daemon import Watcher
from test_watch_daemon import wait_for
from test_watch_daemon import watcher  # noqa: F401  (the fixture)
from test_watch_hook_hold import _daemon_snapshots
from test_watch_hook_hold import _hook_held
from test_watch_hook_hold import _watched
from test_watch_hook_hold import _write_and_sync

from git_snapshot.watch import daemon as wdaemon

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"),
    pytest.mark.slow,
]


def _changed_since(w: Watcher, repo: Path) -> object:
    return w.tree(repo).get("changed_since")


def _nothing_pending(w: Watcher, repo: Path, after: float) -> bool:
    """The daemon's status, written after *after*, has no change waiting for a snapshot of
    *repo* (one is sent, or none is due). *after* must come before the daemon can settle
    the change: it writes its status only when something changed, so a time taken once the
    hook has ended may come after its last write (the wait then never ends: 6 of 28 runs at
    load 6-10)."""
    st = w.status()
    return bool(st.get("updated", 0) > after and w.tree(repo).get("changed_since") is None)


def test_no_unchanged_watch_snapshot_after_a_hook(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo, daemon = _watched(tmp_path, store_dir, watcher, 2)
    before = _daemon_snapshots(watcher)
    # (the hook's sync holds the daemon's snapshot of a.txt back)
    synced = _write_and_sync(daemon, store_dir, repo, "src/a.txt", "one\n")
    _hook_held(store_dir, repo)
    assert _snaps(repo)[-1].trigger == "post-checkout"
    # the daemon sees that the hook's snapshot holds every mark: nothing left to snapshot
    # (before: a watch snapshot was sent for a.txt, which found the hook's unchanged); a
    # status after the hook's sync (a.txt marked then) says so
    wait_for(lambda: _nothing_pending(watcher, repo, synced), what="a.txt's change forgotten")
    # a change after it: the daemon's next snapshot is the first since the hook, and new
    (repo / "src" / "b.txt").write_text("two\n")
    wait_for(lambda: _daemon_snapshots(watcher) > before, what="the watch snapshot")
    log = watcher.log()
    lines = [ln for ln in log.splitlines() if ": snapshot " in ln][before:]
    assert len(lines) == 1 and "(new," in lines[0], log
    assert wdaemon.HOOK_CLEAN in log, log
    last = [s for s in _snaps(repo) if s.trigger == "watch"][-1]
    assert gs(repo, "cat", str(last.id), "src/a.txt") == "one\n"
    assert gs(repo, "cat", str(last.id), "src/b.txt") == "two\n"


def test_a_change_while_the_hook_runs_is_snapshotted(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """A file written while a hook runs (before its sync, or after it: while its snapshot
    may be under way, its walk reading the file or not) is in a snapshot once all settles:
    the hook's, or the daemon's after it (marked after the hook's marks, it is not
    forgotten with them). Written at a few points of the hook's run."""
    repo, _ = _watched(tmp_path, store_dir, watcher, 1)
    for i in range(4):
        (repo / "src" / "a.txt").write_text(f"a{i}\n")
        hook = subprocess.Popen(_hook(repo), cwd=repo)
        time.sleep(0.15 * i)  # (not a budget: only where in the hook's run the write falls)
        (repo / "src" / "b.txt").write_text(f"b{i}\n")
        written = time.time()  # (before the daemon can have settled it)
        assert hook.wait(timeout=120) == 0

        def settled(i: int = i, written: float = written) -> bool:
            if not _nothing_pending(watcher, repo, written):
                return False
            last = _snaps(repo)[-1]
            return str(gs(repo, "cat", str(last.id), "src/b.txt", rc=None)) == f"b{i}\n"

        wait_for(settled, what=f"b{i} in the last snapshot")
