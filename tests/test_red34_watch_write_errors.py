"""RED34 A1: the watcher's own writes failing (its store's disk full) must not end it.

Its log is `<store>/watch/daemon.log`: on a full disk a log line raised ENOSPC, and
write_status's error handler logs, so the daemon died with an internal error at its next
status write; the `rm -rf` whose burst it held was never recorded, not even once space was
freed. Here the log goes to /dev/full (every write: ENOSPC) and the status's temp name is
made a folder (every status write fails), then the loss log cannot be written for a while:
the daemon lives on, says what is wrong in `watch status`, and records the loss once it can.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from test_watch_daemon import EXE
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.commands import watch as watch_cmd

pytestmark = pytest.mark.slow


def _start_logging_to_dev_full(watcher: Watcher) -> subprocess.Popen[bytes]:  # noqa: F811
    with open("/dev/full", "wb") as full:
        proc = subprocess.Popen(
            [EXE, "watch", "--foreground"], stdin=subprocess.DEVNULL, stdout=full, stderr=full
        )
    watcher.procs.append(proc)  # (stopped by the fixture)
    wait_for(
        lambda: proc.poll() is not None or watcher.status().get("pid") == proc.pid,
        what="the daemon's status",
    )
    assert proc.poll() is None, "the daemon ended: it could not write its log"
    return proc


def _saved(repo: Path, n: int) -> None:
    wait_for(
        lambda: any(f"data/f{n - 1}.txt" in paths_in(s) for s in watch_snaps(repo)),
        what="a watch snapshot holding data/",
    )


def test_the_watcher_lives_and_records_the_loss_when_its_own_writes_fail(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    config(burstFiles=50, burstSeconds=1)
    repo = make_repo(tmp_path)
    (repo / "data").mkdir()
    for i in range(60):
        (repo / "data" / f"f{i}.txt").write_text(f"{i}\n")
    add(store_dir, repo)
    proc = _start_logging_to_dev_full(watcher)
    watcher.watching(repo)
    _saved(repo, 60)
    # the status cannot be written any more, nor the loss log (as on a full disk)
    (store_dir / "watch" / "status.json.tmp").mkdir()
    losses = store_dir / "losses"
    aside = store_dir / "losses.aside"
    if losses.exists():
        losses.rename(aside)
    losses.write_text("in the way\n")
    shutil.rmtree(repo / "data")
    wait_for(
        lambda: proc.poll() is not None or "cannot write" in _status_text(store_dir),
        what="watch status saying what is wrong",
    )
    assert proc.poll() is None, "the daemon died"
    status = _status_text(store_dir)
    problem = [ln for ln in status.splitlines() if "cannot write" in ln]
    assert len(problem) == 1, status
    # space again: the burst it kept is recorded, and status says nothing is wrong
    losses.unlink()
    if aside.exists():
        aside.rename(losses)
    (store_dir / "watch" / "status.json.tmp").rmdir()
    entries = wait_for(
        lambda: json.loads(gs(repo, "losses", "--json").out or "[]"),
        timeout=90,
        what="the loss entry, once the loss log can be written",
    )
    assert proc.poll() is None
    assert len(entries[-1]["lost"]) == 60, entries
    try:
        wait_for(lambda: "cannot write" not in _status_text(store_dir), timeout=30)
    except AssertionError:
        raise AssertionError(f"the problem stays: {_status_text(store_dir)}") from None


def _status_text(store_dir: Path) -> str:
    env = {**os.environ, "GIT_SNAPSHOT_STORE": str(store_dir)}
    return subprocess.run(
        [EXE, "watch", "status"], capture_output=True, text=True, env=env, check=False
    ).stdout


def test_watch_status_drops_an_error_an_newer_watch_snapshot_has_outdated() -> None:
    """A watch snapshot committed after the failure (space freed) ends it, even before the
    daemon's status says so (it is written once a second, after the worker's answer)."""
    w = {"last_error": "the disk is full", "last_error_at": 100.0}
    assert watch_cmd._current_error(w, {"id": 2, "created": 150.0}) is None
    assert watch_cmd._current_error(w, {"id": 1, "created": 50.0}) == "the disk is full"
    assert watch_cmd._current_error(w, None) == "the disk is full"
