"""Session 44 (fixF1; red44 F1, repro/two_stores_watcher.sh): one daemon per store. A daemon
of store A (started by a hook that ran without the shell's GIT_SNAPSHOT_STORE) records a
burst; its line is held in the git dir and was printed by the next command of store B as
B's own, with A's number: pasted there, `restore 1 notes/` restored B's snapshot 1, which
holds other bytes. Now the line names its store, and its command restores A's snapshot.

The real daemon, real inotify, real git.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import put_venv_on_path
from test_red31_watch_bursts import _idle  # (the daemon has looked, nothing pending)
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import wait_for

from git_snapshot.watch import instance

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/sys/fs/inotify").exists(), reason="inotify (Linux) only"),
]
N = 5


def test_a_burst_line_of_another_stores_daemon_restores_that_stores_snapshot(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    monkeypatch.delenv(instance.ENV_AUTOSTART, raising=False)
    config(watchQuiet=0.4, watchMaxDelay=30, watchPoll=0.5, watchSlowScan=0.5)
    config(burstFiles=3, burstSeconds=3)
    repo = make_repo(tmp_path)  # (its snapshot 1 is in store B, the test's)
    notes = repo / "notes"
    notes.mkdir()
    for i in range(N):
        (notes / f"n{i}.txt").write_text(f"OLD note {i}\n")
    for m in ("again", "again2", "again3"):
        gs(repo, "create", "-m", m)  # store B: its snapshots 2-4 hold the OLD notes
    for i in range(N):
        (notes / f"n{i}.txt").write_text(f"PRECIOUS note {i}\n")
    a = tmp_path / "storeA"
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(a))  # the daemon's environment: store A
    watcher = Watcher(a)
    try:
        add(a, repo)
        watcher.start()
        watcher.watching(repo)
        _idle(watcher, repo)
        monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(store_dir))  # the terminal's: store B
        seen = len(watcher.bursts())
        for f in notes.iterdir():
            f.unlink()
        notes.rmdir()
        wait_for(lambda: watcher.bursts()[seen:], timeout=60, what="the burst recorded")
    finally:
        watcher.stop()
        instance.stop(str(a))
    ran = gs(repo, "list")  # store B's command prints the held line
    (line,) = [ln for ln in ran.err.splitlines() if "restore with: " in ln]
    cmd = line.split("restore with: ", 1)[1]
    assert cmd.startswith(f"GIT_SNAPSHOT_STORE={a} "), line
    res = subprocess.run(["sh", "-c", cmd], cwd=repo, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert (notes / "n0.txt").read_text() == "PRECIOUS note 0\n"
