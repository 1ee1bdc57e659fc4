"""A burst under way when the daemon stops (watch stop, a logout's SIGTERM, an upgrade's
restart) is recorded before it goes: it used to record only the bursts that had ended (no
deletion for burstSeconds), so an `rm -rf` a moment before the stop was reported nowhere."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import in_process
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)


def test_a_burst_under_way_is_recorded_when_the_daemon_stops(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    config(burstFiles=50, burstSeconds=60)  # the burst lasts until the stop
    repo = make_repo(tmp_path)
    data = repo / "data"
    data.mkdir()
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    for i in range(60):
        (data / f"f{i}.csv").write_text(f"{i}\n")
    snaps = wait_for(
        lambda: [s for s in watch_snaps(repo) if "data/f59.csv" in paths_in(s)],
        what="a snapshot holding data/",
    )
    seen = watcher.tree(repo)["events"]
    subprocess.run(["rm", "-rf", str(data)], check=True)
    wait_for(lambda: watcher.tree(repo)["events"] >= seen + 61, what="the deletions seen")
    watcher.stop()
    entries = json.loads(gs(repo, "losses", "--json"))
    assert entries and entries[-1]["snapshot"] == snaps[-1].id, watcher.log()
    assert len(entries[-1]["lost"]) == 60


def test_the_events_queued_when_the_daemon_stops_are_read_before_it_goes(
    tmp_path: Path, store_dir: Path
) -> None:
    """An rm -rf whose events were still queued when the daemon was told to stop (the
    signal came after its loop's last read: a loaded machine, a logout's SIGTERM right
    after the command) was never read: no burst, no entry, the loss reported nowhere."""
    config(burstFiles=50, burstSeconds=60)
    repo = make_repo(tmp_path)
    data = repo / "data"
    data.mkdir()
    for i in range(60):
        (data / f"f{i}.csv").write_text(f"{i}\n")
    add(store_dir, repo)
    with in_process(store_dir, repo) as daemon:
        daemon.maybe_snapshot(time.time())  # the snapshot when watching starts: data/
        daemon.worker_ready()
        held = daemon.trees[str(repo)].last_snapshot
        assert held is not None and held["new"]
        shutil.rmtree(data)
        daemon.shutdown()  # (its loop read nothing since: the events are queued)
    entries = json.loads(gs(repo, "losses", "--json"))
    assert entries and entries[-1]["snapshot"] == held["id"], entries
    assert len(entries[-1]["lost"]) == 60
