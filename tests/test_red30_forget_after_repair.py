"""Red team (session 30): a snapshot is forgotten by what it is, not by its index row.

``forget`` (and retention's, after a hook or in ``prune``) chooses its snapshots, then takes
the store's lock and drops their rows. A ``repair`` that ran in between (it waits for the same
lock) rebuilt the index from the packs, numbering its rows afresh: the rows chosen before it
were other snapshots' then. ``forget 5`` dropped snapshot 6, said it forgot 5, and the next
prune deleted 6's data for good. Now the row dropped is the one with the chosen snapshot's
repository, number and record; one gone meanwhile is not there to drop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from clihelpers import gs

from git_snapshot.commands.common import choose
from git_snapshot.store import Store
from git_snapshot.store.repair import repair
from git_snapshot.store.retention import forget


def _six(repo: Path) -> None:
    for i in range(1, 7):
        (repo / "f").write_text(f"v{i}\n")
        gs(repo, "create", "-m", f"s{i}")
    gs(repo, "forget", "2")  # a gap: a rebuilt index numbers its rows otherwise


def _ids(repo: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(repo, "list", "--json"))]


def test_forget_chosen_before_a_repair_drops_the_chosen_snapshot(
    repo: Path, store_dir: Path
) -> None:
    _six(repo)
    with Store(store_dir) as store:
        chosen = choose(store, str(repo), "5")[1]
    with Store(store_dir) as store:
        repair(store)
    with Store(store_dir) as store:
        forget(store, [chosen])
    assert _ids(repo) == [1, 3, 4, 6]
    gs(repo, "prune", "--keep-last", "10")
    out = repo.parent / "out6"
    gs(repo, "restore", "6", "--to", str(out))
    assert (out / "f").read_text() == "v6\n"


def test_forget_of_a_snapshot_gone_meanwhile_drops_nothing_else(
    repo: Path, store_dir: Path
) -> None:
    _six(repo)
    with Store(store_dir) as store:
        chosen = choose(store, str(repo), "5")[1]
    gs(repo, "forget", "5")
    with Store(store_dir) as store:
        repair(store)
        forget(store, [chosen])
    assert _ids(repo) == [1, 3, 4, 6]


def test_forget_queued_behind_a_repair_with_real_processes(repo: Path, store_dir: Path) -> None:
    """The race as a user meets it: the store's lock held (a long snapshot), a repair
    waiting for it, then ``git snapshot forget 5``, which reads its row, then waits too."""
    _six(repo)
    hold = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",
            str(store_dir / "lock"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert hold.stdout is not None and hold.stdin is not None
    assert hold.stdout.readline() == "held\n"
    env = dict(os.environ, GIT_SNAPSHOT_WATCH="0")
    cmd = [sys.executable, "-m", "git_snapshot"]
    fixing = subprocess.Popen([*cmd, "repair"], cwd=repo, env=env, stdout=subprocess.DEVNULL)
    _waits_for_the_lock(fixing.pid)
    dropping = subprocess.Popen([*cmd, "forget", "5"], cwd=repo, env=env, text=True,
                                stdout=subprocess.PIPE)  # fmt: skip
    _waits_for_the_lock(dropping.pid)
    hold.stdin.close()
    assert fixing.wait(60) == 0 and hold.wait(60) == 0
    hold.stdout.close()
    out, _ = dropping.communicate(timeout=60)
    assert dropping.returncode == 0 and "forgot snapshot 5 " in out, out
    assert _ids(repo) == [1, 3, 4, 6]


def _waits_for_the_lock(pid: int) -> None:
    """Until the process *pid* waits for a file lock (a ``->`` line of /proc/locks)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open("/proc/locks") as f:
            if any("->" in line and f" {pid} " in line for line in f):
                return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} never waited for the store's lock")
