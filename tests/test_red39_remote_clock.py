"""RED39 F3: a remote ordered one machine's snapshots by the wall clock. A snapshot taken
while the laptop's clock was a day behind passed for the oldest: ``cat --remote ... latest``
and a pull's ``latest`` gave the one before it, and ``remote prune --keep-last 1`` deleted the
real newest for good. DESIGN: "Order is always the snapshot id, never the wall clock". One
store's snapshots now keep their number order on a remote (each snapshot document names the
store that took it); only different machines' are merged by time (RED26, RED31 C2).

The skewed clock is in the snapshotting process only: its time.time() moved by SKEW_S."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow

SKEWED = r"""
import os, sys, time
real = time.time
time.time = lambda: real() + float(os.environ["SKEW_S"])
from git_snapshot.hookmain import main
sys.argv = ["git-snapshot", *sys.argv[1:]]
sys.exit(main())
"""


def _snapshot_skewed(env: dict[str, str], repo: Path, tmp: Path, skew: float, msg: str) -> None:
    script = tmp / "skewed.py"
    script.write_text(SKEWED)
    subprocess.run(
        [sys.executable, str(script), "-m", msg],
        cwd=repo,
        env={**os.environ, **env, "SKEW_S": str(skew)},
        check=True,
        capture_output=True,
    )


def test_one_machines_snapshots_keep_their_number_order_on_a_remote(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "proj")
    url = f"file://{tmp_path}/remote"
    lap = machine(tmp_path, "lap")
    on(lap, repo, "remote", "add", "nas", url)
    (repo / "notes.txt").write_text("old\n")
    on(lap, repo, "-m", "old work")
    (repo / "notes.txt").write_text("newest\n")
    _snapshot_skewed(lap, repo, tmp_path, -86400.0, "newest work")  # the clock a day behind
    assert on(lap, repo, "cat", "latest", "notes.txt").out == "newest\n"
    on(lap, repo, "push", "nas")
    key = Path(lap["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key"
    new = machine(tmp_path, "new")
    on(new, tmp_path, "remote", "add", "nas", url, "--key", str(key))
    args = ("--remote", "nas", "--repo", "proj")
    assert on(new, tmp_path, "cat", *args, "latest", "notes.txt").out == "newest\n"
    listed = on(new, tmp_path, "list", "--remote", "nas", "--all").out
    assert listed.index("old work") < listed.index("newest work"), listed
    on(new, tmp_path, "pull", "nas")
    assert on(new, tmp_path, "cat", "--repo", "proj", "latest", "notes.txt").out == "newest\n"
    on(new, tmp_path, "remote", "prune", "nas", "--keep-last", "1")
    assert on(new, tmp_path, "cat", *args, "latest", "notes.txt").out == "newest\n"
    listed = on(lap, repo, "list", "--remote", "nas").out
    assert "newest work" in listed and "old work" not in listed, listed
