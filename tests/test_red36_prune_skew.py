"""RED36 B3: ``prune --keep-daily N`` (``--keep-hourly N``) counted the days (hours) in the
order of the snapshots' numbers, so one snapshot taken while the clock was days behind took a
slot, and the only snapshot of a day inside the last N was forgotten. --help says "the newest
snapshot of each of the last N days that have one": the days are counted back from the newest
by time (as restic and borg count them), the newest by number of each day kept; a day after
today's (a clock that was ahead) is kept beside them, not counted.

The skewed clock is in the snapshotting process only: its time.time() moved by SKEW_S."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from clihelpers import gs
from hookhelpers import install

SKEWED = r"""
import os, sys, time
real = time.time
time.time = lambda: real() + float(os.environ["SKEW_S"])
from git_snapshot.hookmain import main
sys.argv = ["git-snapshot", *sys.argv[1:]]
sys.exit(main())
"""


def _snapshot_at(repo: Path, tmp: Path, skew: float, text: str) -> None:
    """A snapshot of *repo* holding f = *text*, taken by a clock *skew* seconds off."""
    (repo / "f").write_text(text + "\n")
    script = tmp / "skewed.py"
    script.write_text(SKEWED)
    subprocess.run(
        [sys.executable, str(script), "-m", text],
        cwd=repo,
        env={**os.environ, "SKEW_S": str(skew)},
        check=True,
        capture_output=True,
    )


def _would_forget(repo: Path, *args: str) -> list[int]:
    out = json.loads(gs(repo, "prune", *args, "--dry-run", "--json").out)
    return sorted(s["id"] for s in out["forgotten"])


def _history(repo: Path, tmp: Path, unit: float, skew: float) -> None:
    install(repo)
    for n, off in enumerate((-3 * unit, -2 * unit, -unit, skew, 0.0), 1):
        _snapshot_at(repo, tmp, off, f"snapshot {n}")


def test_keep_daily_counts_the_last_days_by_time(repo: Path, tmp_path: Path) -> None:
    _history(repo, tmp_path, 86400.0, -5 * 86400.0)  # the 4th taken with a clock 5 days behind
    # today (5), yesterday (3), the day before (2, its only snapshot); not 3 days ago, nor
    # the day 5 days ago the 4th is stamped
    assert _would_forget(repo, "--keep-daily", "3") == [1, 4]
    text = gs(repo, "prune", "--keep-daily", "3", "--dry-run").out
    assert "would forget 2 snapshot(s): 1, 4" in text, text


def test_keep_hourly_counts_the_last_hours_by_time(repo: Path, tmp_path: Path) -> None:
    _history(repo, tmp_path, 3600.0, -5 * 3600.0)
    assert _would_forget(repo, "--keep-hourly", "3") == [1, 4]


def test_a_day_after_today_is_kept_and_not_counted(repo: Path, tmp_path: Path) -> None:
    _history(repo, tmp_path, 86400.0, 2 * 86400.0)  # the 4th taken with a clock 2 days ahead
    assert _would_forget(repo, "--keep-daily", "3") == [1]
