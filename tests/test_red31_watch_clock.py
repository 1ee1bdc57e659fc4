"""Red team (session 31, D5): the wall clock stepping back.

Every timer of the daemon (the quiet period, watchMaxDelay, the burst windows, retries, the
worker's timeout) was measured with time.time(): a wall clock stepped back an hour (NTP, a VM
resumed, `date -s`) held every watch snapshot for that hour. Intervals are monotonic now; wall
time is only what is recorded. The step is simulated for the daemon's processes alone: a
sitecustomize adds the offset written in a file to time.time()/time_ns()."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)
SITE = """import time
_f = {offset!r}
_rt, _rtn = time.time, time.time_ns
def _off():
    try:
        with open(_f) as fh:
            return float(fh.read().strip() or 0)
    except OSError:
        return 0.0
time.time = lambda: _rt() + _off()
time.time_ns = lambda: _rtn() + int(_off() * 1e9)
"""


def test_a_clock_stepping_back_does_not_hold_watch_snapshots(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = tmp_path / "fake"
    fake.mkdir()
    offset = tmp_path / "offset"
    offset.write_text("0\n")
    (fake / "sitecustomize.py").write_text(SITE.format(offset=str(offset)))
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    monkeypatch.setenv("PYTHONPATH", str(fake))
    watcher.start()
    watcher.watching(repo)
    monkeypatch.delenv("PYTHONPATH")  # (the test's own commands: the true clock)
    (repo / "notes.txt").write_text("an hour of work\n")
    time.sleep(0.1)
    offset.write_text("-3600\n")  # the daemon's clock steps back an hour
    try:
        wait_for(
            lambda: [s for s in watch_snaps(repo) if "notes.txt" in paths_in(s)],
            timeout=20,
            what="the watch snapshot of the edit",
        )
        status = watcher.status()
        assert status["updated"] >= status["started"]  # (both wall, as the clock reads)
    finally:
        offset.write_text("0\n")
