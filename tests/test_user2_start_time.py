"""When did the git command above a hook start? (session 14, USER2)

proc took it as /proc/stat's btime (whole seconds, truncated) plus the process's start ticks:
up to a second early (0.105 s on the machine where this was found), and off by any step of
the clock since boot. A file the user wrote that long before `git checkout -b` counted as
written by the checkout: edit, `git commit -am`, `git checkout -b topic` within that window
printed "git checkout destroyed 1 file with uncommitted edits: a.txt (an earlier version ...;
restore with: git snapshot restore 1 a.txt)", seen 2 times in 3 with the watcher on."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from git_snapshot import gitrepo
from git_snapshot import proc
from git_snapshot import stopped
from git_snapshot.store import Store
from git_snapshot.store.index import Snapshot

TICK = 0.01  # /proc's start time counts clock ticks (USER_HZ = 100)


def test_a_process_start_time_is_when_it_started() -> None:
    before = time.time()
    child = subprocess.Popen(["sleep", "5"])
    after = time.time()
    try:
        got = proc._stat(child.pid)
    finally:
        child.kill()
        child.wait()
    assert got is not None
    started = got[1]
    # never late (a loss git wrote at once would be missed), early by a tick at most
    assert before - TICK - 0.002 <= started <= after + 0.002, (before - started, after - started)


def test_a_hook_of_the_noted_command_knows_its_note_though_its_start_time_jitters(
    repo: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stopped compared the git command's [pid, start time] of its pre-hook's note and of a
    later hook with ==: a start time computed anew by each hook (now, from the clocks) differs
    by microseconds, and pre-merge-commit of the very merge that wrote the note claimed it as
    an operation "stopped" before it."""
    ids = iter([[4242, 1796288690.0873482], [4242, 1796288690.0873547]])
    monkeypatch.setattr(stopped, "_command_id", lambda: next(ids))
    r = gitrepo.find_repo(str(repo))
    stopped.begin(
        r,
        Snapshot(0, "s", 1, 1.0, "manual", "", str(repo), bytes(32), 0, 0, 0, 0),
        "git merge topic",
        [],
    )
    assert stopped.consume(store, r, "pre-merge-commit") is None
    assert os.path.exists(os.path.join(r.git_dir, stopped.PENDING))  # left for post-merge
