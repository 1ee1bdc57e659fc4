"""A git command's overwrites, with the watcher on and a hook slower than burstSeconds after
git's last write (a big tree, a loaded machine): the burst ended before the hook's report was
written, the recorder found no report naming its paths (bursts._named_by_hook), and both
reported them ("earlier, at 22:02: 120 files under d/ were overwritten", a second entry in
`losses`, the watcher's claiming an exact copy). The daemon now records a burst that ends while
a hook that synced runs after that hook ends (daemon.HOOK_REPORT_HOLD_S). Here the hook is
made slow by this test holding the store's exclusive lock (its snapshot waits for it, after
its sync). Real daemon, real hook."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
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

from git_snapshot.store import Store

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"),
    pytest.mark.slow,
]

WAITS = "a burst waits for the hook's report"


def _ancestors(pid: int) -> Iterator[int]:
    while pid > 1:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
                pid = int(f.read().rpartition(")")[2].split()[1])  # (its parent)
        except (OSError, ValueError, IndexError):
            return
        yield pid


def _lock_waiter_under(lock: Path, parent: int) -> bool:
    """Whether a process below *parent* waits to flock *lock* (/proc/locks: '->' lines)."""
    try:
        inode = os.stat(lock).st_ino
        with open("/proc/locks", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    for ln in lines:
        fields = ln.split()
        if len(fields) > 6 and fields[1] == "->" and fields[6].endswith(f":{inode}"):
            pid = int(fields[5])
            if pid == parent or parent in _ancestors(pid):
                return True
    return False


def test_a_slow_hooks_overwrites_are_reported_once(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    put_venv_on_path(monkeypatch)
    config(burstFiles=50, burstSeconds=1)
    repo = make_repo(tmp_path)
    (repo / "d").mkdir()
    for i in range(120):
        (repo / "d" / f"f{i}.txt").write_text(f"{i}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "files")
    for i in range(120):  # (before the watcher: no burst of their own)
        (repo / "d" / f"f{i}.txt").write_text(f"edit {i}\n")
    add(store_dir, repo)
    daemon = watcher.start()
    watcher.watching(repo)
    install(repo)  # (with the watcher running: it starts none)
    wait_for(
        lambda: any("d/f119.txt" in paths_in(s) for s in watch_snaps(repo)),
        what="a watch snapshot holding the edits",
    )
    with Store(store_dir) as store, store.lock(exclusive=True):
        # the hook syncs, then waits for the lock to snapshot: slower than burstSeconds.
        # The daemon is stopped (as load holds it) until the hook waits: it reads git's
        # writes and the hook's sync token together, whatever the hook's start took (a hook
        # that had not synced when the burst ended is not waited for: under load its start
        # took longer than burstSeconds)
        os.kill(daemon.pid, signal.SIGSTOP)
        try:
            checkout = subprocess.Popen(
                ["git", "checkout", "--", "."],
                cwd=repo,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            wait_for(
                lambda: _lock_waiter_under(store_dir / "lock", checkout.pid),
                what="the hook waiting for the store's lock",
            )
        finally:
            os.kill(daemon.pid, signal.SIGCONT)
        # (without the hold: "a burst of 120 changes: recorded against snapshot 2" here)
        wait_for(lambda: WAITS in watcher.log(), what="the burst held for the hook")
        assert "a burst of" not in watcher.log(), watcher.log()
    _, err = checkout.communicate(timeout=120)
    assert checkout.returncode == 0, err
    assert "destroyed 120 files with uncommitted edits" in err, err
    said = wait_for(watcher.bursts, what="the burst recorded")
    # (in parts when a snapshot committed during git's writes, all logged at once): each
    # found the hook's report had named its files
    assert all(ln.endswith(": nothing lost") for ln in said), watcher.log()
    entries = json.loads(gs(repo, "losses", "--json").out)
    assert [e["command"] for e in entries] == ["git checkout"], (entries, watcher.log())
