"""Bursts are recorded by a process of their own, not by the daemon's worker: recording one
diffs it against its snapshot (~1 s of CPU for 2,000 files on L), and a hook that synced
meanwhile found the worker busy, got no preparation and rebuilt its changes itself. Now the
worker prepares for the hook while the burst is recorded (here the recorder is stopped with
SIGSTOP the whole time), and the worktree's watch snapshot waits for the entry."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_watch_daemon import add
from test_watch_daemon import in_process
from test_watch_daemon import make_repo

from git_snapshot import gitrepo
from git_snapshot import lossrecord
from git_snapshot.store import Store
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance


def hook_sync(daemon: Any, store_dir: Path, repo: Path) -> bool:
    """A hook's sync (in a thread) answered by *daemon*'s loop, as far as a token goes."""
    answered: list[bool] = []
    hook = threading.Thread(
        target=lambda: answered.append(dirtyset.sync(str(store_dir), str(repo), timeout=20))
    )
    hook.start()
    while hook.is_alive():
        daemon.on_events(daemon.src.read())
        time.sleep(0.005)
    return answered == [True]


pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def test_a_hook_gets_its_preparation_while_a_burst_is_recorded(
    tmp_path: Path, store_dir: Path
) -> None:

    r = make_repo(tmp_path)
    add(store_dir, r)
    with instance.hold(str(store_dir)) as mine:  # (the dirty set trusts a live daemon)
        assert mine
        with in_process(store_dir, r) as daemon:
            tree = daemon.trees[str(r)]
            pkgs = r / "packages"
            pkgs.mkdir()
            for i in range(5):
                (pkgs / f"f{i}.js").write_text(f"module {i}\n")
            daemon.on_events(daemon.src.read())
            daemon.maybe_snapshot(time.time() + 3600)  # the snapshot holding them: the base
            assert daemon.child_tree is tree
            daemon.worker_ready()
            snap = tree.last_snapshot
            assert snap is not None and snap["new"]
            shutil.rmtree(pkgs)
            (r / "src" / "edited.txt").write_text("an edit after the burst\n")
            daemon.on_events(daemon.src.read())
            later = time.time() + 60  # the burst has ended; a watch snapshot is due too
            daemon.timers(later)
            daemon.maybe_snapshot(later)
            recorder = daemon.recorder
            assert recorder is not None and daemon.child_bursts is not None
            os.kill(recorder.pid, signal.SIGSTOP)  # recording it takes a while
            assert daemon.child_tree is None  # the watch snapshot waits for the entry
            assert hook_sync(daemon, store_dir, r)
            assert tree.wanted_seq is not None  # a preparation is promised to the hook
            daemon.maybe_snapshot(time.time())
            assert daemon.child_prep is tree and daemon.child_tree is None
            daemon.worker_ready()  # prepared while the burst is still being recorded
            assert tree.last_prep is not None and tree.last_prep["seq"] is not None
            assert daemon.recorder is recorder and recorder.poll() is None
            with Store() as store:
                assert lossrecord.history(store, gitrepo.find_repo(str(r))) == []  # not yet
            os.kill(recorder.pid, signal.SIGCONT)
            daemon.recorder_ready()
            with Store() as store:
                (entry,) = lossrecord.history(store, gitrepo.find_repo(str(r)))
            assert entry["snapshot"] == snap["id"] and len(entry["lost"]) == 5
            daemon.maybe_snapshot(time.time() + 3600)  # now the watch snapshot
            assert daemon.child_tree is tree
            daemon.worker_ready()
