"""RED32 C2: readers running beside a `git snapshot repair` saw no index, or an empty one.

repair moved the live index aside before renaming the new one in: a reader opening the store
in that gap created a fresh, empty index ("list --json" printed [] with exit 0), or was told
the index "is missing" / "lists no packs" and to run repair, and a repair could then find that
empty index ("no such table: meta"). Now a reader sees the old index or the new one, never
none, and never creates one over a store that has packs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelpers import gs

# each reader opens the store afresh, as every command does, and counts the snapshots; it
# prints one JSON line: {"ok": n, "bad": ["what it saw", ...]}
_READER = r"""
import json, sys, time
from git_snapshot.errors import UserError
from git_snapshot.store import Store
path, until, want = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
ok, bad = 0, []
while time.time() < until:
    try:
        with Store(path) as s:
            n = len(s.snapshots())
        if n == want:
            ok += 1
        else:
            bad.append(f"{n} snapshots")
    except (UserError, Exception) as exc:
        bad.append(f"{type(exc).__name__}: {exc}")
print(json.dumps({"ok": ok, "bad": bad[:20], "nbad": len(bad)}))
"""

_REPAIRER = r"""
import sys, time
from git_snapshot.store import Store
from git_snapshot.store import repair as module
from git_snapshot.store.repair import repair
path, until, how = sys.argv[1], float(sys.argv[2]), sys.argv[3]
if how == "rename":  # as when there is no room to copy: the new index renamed over the old
    def no_room(*args):
        raise OSError(28, "No space left on device")
    module._copy_into = no_room
runs = 0
while time.time() < until:
    with Store(path, repairing=True) as s:
        report = repair(s)
    assert report.ok and report.snapshots == 5, report
    runs += 1
print(runs)
"""


@pytest.mark.parametrize("how", ["copy", "rename"])
def test_readers_beside_repairs_see_every_snapshot(repo: Path, store_dir: Path, how: str) -> None:
    for i in range(5):
        (repo / "f").write_text(f"{i}\n")
        gs(repo)
    until = str(time.time() + 8)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    repairer = subprocess.Popen(
        [sys.executable, "-c", _REPAIRER, str(store_dir), until, how],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", _READER, str(store_dir), until, "5"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for _ in range(2)
    ]
    out, err = repairer.communicate(timeout=120)
    assert repairer.returncode == 0, err.decode()
    assert int(out) >= 3  # it did repair, several times
    for reader in readers:
        out, err = reader.communicate(timeout=120)
        assert reader.returncode == 0, err.decode()
        seen = json.loads(out)
        assert seen["ok"] > 0 and seen["nbad"] == 0, seen
    assert len(gs(repo, "list").out.splitlines()) == 6  # the header and the five
    gs(repo, "verify")
