"""Review 38 RC of RED38 C1: a watcher that restarts itself (its code changed on disk)
executes itself again, the same pid. When its stop could not record every loss (the store's
disk full), it keeps its status file for the next watcher to compare from (gap()); the next
watcher is that same pid, and it took a status carrying its own pid as its own and compared
nothing: the burst's loss report was never written."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from git_snapshot.watch import config as wconfig
from git_snapshot.watch import daemon
from git_snapshot.watch import instance
from git_snapshot.watch import source


def test_a_daemon_executed_again_compares_from_what_it_left_unrecorded(store_dir: Path) -> None:
    state = instance.ensure_state_dir(str(store_dir))
    since = time.time() - 5
    left = {
        "pid": os.getpid(),  # (written by this process before its execv: the same pid)
        "started": since - 60,
        "updated": since + 1,
        "worktrees": [{"path": "/work/proj", "unrecorded_since": since}],
    }
    Path(state, instance.STATUS).write_text(json.dumps(left))
    d = daemon.Daemon(str(store_dir), wconfig.WatchConfig(), source.Inotify(), code_stamp="x")
    try:
        assert d.left == {"/work/proj": since}
    finally:
        d.src.close()
