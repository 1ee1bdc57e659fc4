"""RED39 G4: the same restore run a second time after a first run that ran to its end said
"what was there before is in snapshot 2", naming the first run's pre-restore snapshot, which
holds the bytes the first run replaced, not what the second found. A run after one that
stopped part way (RED34 D5) names the first run's snapshot alone: a run after a finished one
names its own, then the first run's as what was there before the first run (a run killed
after its last write leaves the same: tests/test_review39_again_killed_at_end.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clihelpers import gs

# the words naming the first run's pre-restore snapshot beside a run's own
FIRST_RUN = "and before the first run of this restore in snapshot"


def _restored_once(repo: Path) -> None:
    (repo / "f").write_text("v1\n")
    gs(repo, "-m", "one")  # 1
    (repo / "f").write_text("v2\n")
    first = gs(repo, "restore", "1", "f").out
    assert first.strip().endswith("what was there before is in snapshot 2"), first


def test_the_same_restore_after_a_finished_one_names_its_own(repo: Path) -> None:
    _restored_once(repo)
    last = gs(repo, "restore", "1", "f").out.strip().splitlines()[-1]
    assert last.endswith(f"; what was there before is in snapshot 3, {FIRST_RUN} 2"), last
    assert gs(repo, "cat", "3", "f").out == (repo / "f").read_text() == "v1\n"


def test_a_whole_tree_restore_again_names_its_own(repo: Path) -> None:
    (repo / "d").mkdir()
    (repo / "d" / "a").write_text("a1\n")
    (repo / "b").write_text("b1\n")
    gs(repo, "-m", "one")  # 1
    (repo / "d" / "a").write_text("a2\n")
    (repo / "new").write_text("kept: no --delete\n")
    gs(repo, "restore", "1")  # 2 before it
    last = gs(repo, "restore", "1").out.strip().splitlines()[-1]
    assert last.endswith(f"; what was there before is in snapshot 3, {FIRST_RUN} 2"), last


def test_with_delete_after_a_finished_one_names_its_own(repo: Path) -> None:
    _restored_once(repo)
    (repo / "d").mkdir()
    (repo / "d" / "x").write_text("x\n")
    gs(repo, "-m", "d")  # 3
    (repo / "d" / "y").write_text("y\n")
    gs(repo, "restore", "--delete", "3", "d")  # 4 before it; y deleted
    assert not (repo / "d" / "y").exists()
    last = gs(repo, "restore", "--delete", "3", "d").out.strip().splitlines()[-1]
    assert last.endswith(f"; what was there before is in snapshot 5, {FIRST_RUN} 4"), last


def killed_restore(repo: Path, script: str) -> subprocess.CompletedProcess[bytes]:
    """f00.txt to f19.txt saved in snapshot 1, then edited; ``restore 1`` run by *script*,
    which exits 9 (as if killed) at a rename into place."""
    for i in range(20):
        (repo / f"f{i:02}.txt").write_text(f"first {i}\n")
    gs(repo, "-m", "one")  # 1
    for i in range(20):
        (repo / f"f{i:02}.txt").write_text(f"edited {i}\n")
    ran = subprocess.run(
        [sys.executable, "-c", script, str(repo)], capture_output=True, timeout=120, check=False
    )
    assert ran.returncode == 9, ran.stderr
    return ran


# a restore killed at its 10th rename into place (SIGKILL's way: no note of what it wrote)
_KILLED = """
import os, sys
from git_snapshot.cli import main

real_rename, seen = os.rename, [0]

def rename(*args, **kwargs):
    if b".gsnap-tmp-" in os.fsencode(args[0]):
        seen[0] += 1
        if seen[0] >= 10:
            os._exit(9)
    return real_rename(*args, **kwargs)

os.rename = rename
sys.exit(main(["-C", sys.argv[1], "restore", "1"]))
"""


def test_a_run_after_a_killed_one_still_names_the_first_runs(repo: Path) -> None:
    """Killed with no note of what it wrote, the first run is known stopped by what it left:
    the run again names the first run's snapshot, which holds the edits (RED34 D5)."""
    killed_restore(repo, _KILLED)
    last = gs(repo, "restore", "1").out.strip().splitlines()[-1]
    assert last.endswith("; what was there before is in snapshot 2"), last
    assert gs(repo, "cat", "2", "f19.txt").out == "edited 19\n"
