"""Red team (session 9): an inotify queue overflow during a burst of deletions drops events, so
the loss entry may name fewer paths than went (files deleted in a folder that still exists
are not widened to it). The entry says so ('events_lost'), and its line says how to see the
rest; the flag survives the daemon's hand-over to its worker (JSON)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from clihelpers import gs

from git_snapshot import gitrepo
from git_snapshot import lossrecord
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.watch import bursts
from git_snapshot.watch.bursts import BurstDetector


def _logs(repo: Path) -> Path:
    logs = repo / "logs"
    logs.mkdir()
    for i in range(300):
        (logs / f"run{i}.log").write_text(f"log {i}\n")
    (logs / "keep.txt").write_text("kept\n")  # the folder stays
    return logs


def _burst_with_an_overflow(repo: Path) -> tuple[bursts.Burst, int]:
    logs = _logs(repo)
    g = gitrepo.find_repo(str(repo))
    with Store() as store:
        snap = worktree.take(store, g, trigger="watch").snapshot
    d = BurstDetector()
    t = time.time()
    for i in range(300):  # find logs -name '*.log' -delete
        os.unlink(logs / f"run{i}.log")
        if i < 150:  # the rest of the events were dropped by the kernel
            d.feed(t + i * 0.001, str(logs / f"run{i}.log"), bursts.DELETE)
    d.overflowed(t + 0.2)
    (burst,) = d.take(t + 60)
    return burst, snap.id


def test_an_entry_of_a_burst_that_lost_events_says_so(repo: Path) -> None:
    burst, snap = _burst_with_an_overflow(repo)
    assert burst.lost_events
    with Store() as store:
        entry = bursts.record(store, str(repo), burst, store.snapshots()[-1])
    assert entry is not None and entry["events_lost"] is True
    assert len(entry["lost"]) == 150  # what the events named: not all that went
    ran = gs(repo, "losses", "--json")
    (line,) = [ln for ln in ran.err.splitlines() if "were deleted" in ln]
    assert "events were lost" in line, line
    m = re.search(r"compare with: (git snapshot .*)$", line)
    assert m, line
    assert json.loads(ran.out)[-1]["events_lost"] is True
    assert f"diff {snap} --stat" in m.group(1)
    assert "events were lost" in gs(repo, "losses")


def test_a_burst_without_an_overflow_is_not_flagged(repo: Path) -> None:
    _logs(repo)
    d = BurstDetector()
    d.overflowed(0.0)  # long before
    for i in range(150):
        d.feed(1000.0 + i * 0.001, f"{repo}/logs/run{i}.log", bursts.DELETE)
    (burst,) = d.take(2000.0)
    assert not burst.lost_events


def test_the_flag_survives_the_hand_over_to_the_worker(repo: Path) -> None:
    """The daemon hands bursts to its worker as JSON (watch/daemon._burst_json, then
    watch/take.record_bursts): the entry the worker writes keeps the flag."""
    from git_snapshot.watch.daemon import _burst_json
    from git_snapshot.watch.take import record_bursts

    burst, _ = _burst_with_an_overflow(repo)
    record_bursts(str(repo), [json.loads(json.dumps(_burst_json(burst)))])
    with Store() as store:
        (entry,) = lossrecord.history(store, gitrepo.find_repo(str(repo)))
    assert entry.get("events_lost") is True, entry
