"""RED39 A2 (finding 4): automatic gc runs at most daily, after the last one. One hook run
with the clock a year ahead (a bad RTC, fixed later by NTP) recorded that gc a year in the
future, and no automatic gc ran again for that year: forgotten snapshots' data piled up
until a prune by hand. A last gc recorded in the future is no reason to wait.

Real git and ``git snapshot run``; the clock is ahead in the one process only."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from clihelpers import git
from clihelpers import gs
from clihelpers import gs_ahead

from git_snapshot.store import Store

YEAR = 365 * 86400.0


def _run(repo: Path, skew: float = 0.0) -> None:
    """``git snapshot run -- true`` over 100 KB of new data, by a clock *skew* seconds ahead."""
    (repo / "big").write_bytes(os.urandom(100_000))
    gs_ahead(repo, skew, "run", "--", "true")


def test_a_gc_stamped_in_the_future_does_not_stop_automatic_gc(repo: Path, store_dir: Path) -> None:
    git(repo, "config", "snapshot.keepLast", "1")
    git(repo, "config", "snapshot.keepWithin", "1s")
    # runs 10 s apart (keepWithin 1s keeps none but the newest and any from the future)
    for n in range(3):
        _run(repo, 10.0 * n)
    _run(repo, YEAR)  # retention forgets, gc runs: stamped a year ahead
    with Store(str(store_dir)) as store:
        assert float(store.index.meta_get("last_gc", "0")) > time.time() + YEAR / 2  # (setup)
    for n in range(3, 6):  # the right time again; each forgets the one before
        _run(repo, 10.0 * n)
    with Store(str(store_dir)) as store:
        last = float(store.index.meta_get("last_gc", "0"))
    assert last < time.time() + 3600, last  # a gc ran again, at the right time
    dry = json.loads(gs(repo, "prune", "--dry-run", "--json").out)
    # what the runs forgot was reclaimed but for the last's 100 KB (the next gc a day after)
    assert dry["forgotten"] == [] and dry["bytes_freed"] < 150_000, dry


def test_a_damaged_last_gc_is_a_gc_due_not_a_hooks_traceback(repo: Path, store_dir: Path) -> None:
    """A ``last_gc`` that is no number (a hand-edited or damaged index) made every hook's
    retention end in an internal error; it is a gc due, which then writes a good one."""
    git(repo, "config", "snapshot.keepLast", "1")
    git(repo, "config", "snapshot.keepWithin", "1s")
    _run(repo)
    with Store(str(store_dir)) as store, store.index.db:
        store.index.db.execute("UPDATE meta SET value = 'not a time' WHERE key = 'last_gc'")
        store.index.db.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('last_gc', 'not a time')"
        )
    _run(repo, 10.0)  # retention forgets the first: gc due (gs_ahead checks no traceback)
    with Store(str(store_dir)) as store:
        assert float(store.index.meta_get("last_gc", "0")) > time.time() - 3600
