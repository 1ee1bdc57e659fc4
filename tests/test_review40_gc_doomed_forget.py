"""review40 RB1 (of RED40 B F1's fix): a forget killed before its index transaction leaves
its tombstone pack as an orphan, and the snapshots it names stay listed (it never took
effect). The next gc reclaims that orphan: its index transaction notes it as doomed, and a
kill before the unlink leaves it on disk. repair skipped every doomed pack as a gc's copy
(4427f70) and entered it: the snapshot stayed (the old index lists it), but its tombstone
was now a pack of the index, kept by every gc, so the next index rebuilt from the packs
alone (an index lost) dropped a snapshot that no command had said was forgotten.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

# the command in argv[2:] SIGKILLed right after (argv[1] "after") or right before ("before")
# the Index method argv[2]
KILLED = """
import os, sys
from git_snapshot.store import index
when, method, args = sys.argv[1], sys.argv[2], sys.argv[3:]
real = getattr(index.Index, method)
def killed(self, *a, **k):
    if when == "before":
        os.kill(os.getpid(), 9)
    real(self, *a, **k)
    os.kill(os.getpid(), 9)
setattr(index.Index, method, killed)
from git_snapshot.cli import main
sys.exit(main(args))
"""


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    install(repo)
    return repo


def _ids(repo: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(repo, "list", "--json").out)]


def _killed(repo: Path, when: str, method: str, *args: str) -> None:
    ran = subprocess.run([sys.executable, "-c", KILLED, when, method, *args], cwd=repo)
    assert ran.returncode == -9


def test_a_reclaimed_unfinished_forget_still_forgets_nothing(hooked: Path, store_dir: Path) -> None:
    for k in range(1, 4):
        write(hooked / "w", f"version {k}\n".encode())
        gs(hooked, "-m", f"v{k}")
    before = _ids(hooked)
    _killed(hooked, "before", "forget", "forget", "2")  # its tombstone pack, no index row
    assert _ids(hooked) == before
    _killed(hooked, "after", "gc_drop", "prune")  # that orphan doomed, not yet unlinked
    assert _ids(hooked) == before
    ran = gs(hooked, "verify")
    assert "left by an interrupted garbage collection" in ran.out, ran
    fixed = gs(hooked, "repair")
    assert _ids(hooked) == before, fixed  # snapshot 2 stays: the forget never took effect
    assert "forget that was interrupted" in fixed.out, fixed
    assert "snapshot(s) 2 of" in fixed.out, fixed
    gs(hooked, "prune")
    assert gs(hooked, "verify", "--read-data").out.startswith("ok:")
    assert _ids(hooked) == before
    for part in store_dir.glob("index.sqlite*"):  # the index lost: rebuilt from the packs
        part.unlink()
    gs(hooked, "repair")
    assert _ids(hooked) == before
