"""The daemon's worker is replaced after WORKER_JOBS *snapshots*, as the docs say, not after
as many jobs of any kind: preparations come 0.1 s after every pause in the writes (dozens a
minute while someone edits), and counting them ended a warm worker every few minutes, its
imports, kept trees and warmed base lost, so the hook after it rebuilt its changes itself.
A worker replaced for its count is started again at once, so the next job finds it warm."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_watch_daemon import add
from test_watch_daemon import in_process
from test_watch_daemon import make_repo

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def test_preparations_do_not_end_the_worker_snapshots_do(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from git_snapshot.watch import daemon as wdaemon

    monkeypatch.setattr(wdaemon, "WORKER_JOBS", 2)
    r = make_repo(tmp_path)
    add(store_dir, r)
    with in_process(store_dir, r) as d:
        tree = d.trees[str(r)]
        d.maybe_snapshot(time.time())  # the first snapshot (due at once after add)
        assert d.child_tree is tree
        d.worker_ready()
        assert tree.last_snapshot is not None
        worker = d.child
        assert worker is not None
        for i in range(4):  # more preparations than WORKER_JOBS: the same worker
            (r / "src" / f"p{i}.txt").write_text(f"{i}\n")
            d.prepare(tree, time.time())
            d.worker_ready()
            assert tree.last_prep is not None
            assert d.child is worker and worker.poll() is None
        for i in range(2):  # WORKER_JOBS snapshots: replaced
            (r / "src" / f"s{i}.txt").write_text(f"{i}\n")
            tree.first_change = tree.last_change = time.time() - 3600
            d.maybe_snapshot(time.time())
            assert d.child_tree is tree
            d.worker_ready()
            assert tree.last_error is None
        assert worker.poll() is not None  # it ended
        assert d.child is not None and d.child is not worker  # and a fresh one is started
        assert d.child.poll() is None
