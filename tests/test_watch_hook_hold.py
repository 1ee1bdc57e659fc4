"""A hook's sync holds the daemon's own snapshot off (watch/daemon.HOOK_HOLD_S): the hook
snapshots what was marked before it, and a watch snapshot started beside it that commits
after it left the store's last snapshot off the dirty set's base (every snapshot after it
then walked the whole tree: ~1-2 s of CPU each on 200k files, themselves overtaken by the
next hooks). The real daemon, real hooks."""

from __future__ import annotations

import os
import time
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

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"),
    pytest.mark.slow,
]


def _daemon_snapshots(w: Watcher) -> int:
    return w.log().count(": snapshot ")


def test_no_watch_snapshot_beside_a_hook(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    config(watchQuiet=2)
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    before = _daemon_snapshots(watcher)
    started = time.monotonic()  # its sync comes after this
    gs(repo, *_hook(repo)[1:])  # synced: it snapshots what was marked before it
    (repo / "src" / "b.txt").write_text("two\n")  # changed after the hook's sync
    time.sleep(max(0.0, started + wdaemon.HOOK_HOLD_S - 1.5 - time.monotonic()))
    # watchQuiet has passed since the change, but the hook may still be committing: no
    # watch snapshot beside it
    assert _daemon_snapshots(watcher) == before, watcher.log()
    # and then the change made after it is saved by the daemon
    wait_for(lambda: _daemon_snapshots(watcher) > before, what="the watch snapshot")
    last = wait_for(lambda: [s for s in _snaps(repo) if s.trigger == "watch"], what="it")[-1]
    assert gs(repo, "cat", str(last.id), "src/b.txt") == "two\n"
