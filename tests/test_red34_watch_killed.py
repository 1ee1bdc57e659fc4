"""RED34 A1 finding 6: a watcher killed (SIGKILL, the OOM killer, a crash) lost the burst it
held: an `rm -rf` of saved files a second before the kill was never recorded, and the
watcher the next hook started did not notice. The watcher started after one that did not
stop cleanly (its status file is left) now compares the worktree with the snapshot from
before what that one had not recorded: a burst's worth of files gone, or a folder, is a loss
entry, as the burst would have made; a few files deleted are not."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.watch import instance

pytestmark = pytest.mark.slow


def _kill(pid: int) -> None:
    """SIGKILL the daemon and its worker and recorder (as the OOM killer may)."""
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    for p in [pid, *(int(k) for k in kids.split())]:
        os.kill(p, signal.SIGKILL)


def _watched_with_proj(tmp_path: Path, store_dir: Path, watcher: Watcher) -> tuple[Path, int]:  # noqa: F811
    config(burstFiles=50, burstSeconds=5)
    repo = make_repo(tmp_path)
    (repo / "proj").mkdir()
    for i in range(150):
        (repo / "proj" / f"p{i}").write_text(f"p{i}\n")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    snaps = wait_for(
        lambda: [s for s in watch_snaps(repo) if "proj/p149" in paths_in(s)],
        what="a watch snapshot holding proj/",
    )
    wait_for(lambda: not watcher.tree(repo).get("changed_since"), what="nothing pending")
    return repo, snaps[-1].id


def _losses(repo: Path) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = json.loads(gs(repo, "losses", "--json").out or "[]")
    return entries


def test_an_rm_rf_the_killed_watcher_held_is_recorded_by_the_next(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    put_venv_on_path(monkeypatch)
    repo, saved = _watched_with_proj(tmp_path, store_dir, watcher)
    install(repo)  # (the watcher runs: it starts none)
    seen = watcher.tree(repo)["events"]
    shutil.rmtree(repo / "proj")
    wait_for(lambda: watcher.tree(repo)["events"] >= seen + 150, what="the deletions seen")
    _kill(watcher.procs[-1].pid)
    watcher.procs[-1].wait()
    git(repo, "checkout", "-q", "-b", "other")  # its hook starts the watcher again
    entries = wait_for(
        lambda: [e for e in _losses(repo) if e.get("snapshot") == saved],
        what="the loss entry of the rm -rf",
    )
    assert len(entries) == 1, entries
    lost = entries[0]["lost"]
    assert isinstance(lost, list) and len(lost) == 150, entries
    assert instance.running(str(store_dir)), "the hook started no watcher"


def test_a_killed_watcher_with_nothing_deleted_leaves_no_report(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo, _ = _watched_with_proj(tmp_path, store_dir, watcher)
    for i in range(3):  # a few files deleted: no burst
        (repo / "proj" / f"p{i}").unlink()
    time.sleep(0.5)
    _kill(watcher.procs[-1].pid)
    watcher.procs[-1].wait()
    watcher.start()
    watcher.watching(repo)
    wait_for(
        lambda: "compared" in watcher.log() or "no loss" in watcher.log(),
        what="the comparison after the kill",
    )
    wait_for(lambda: not watcher.tree(repo).get("changed_since"), what="nothing pending")
    assert _losses(repo) == [], watcher.log()
