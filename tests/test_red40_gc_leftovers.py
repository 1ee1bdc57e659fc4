"""RED40 B F1: a gc killed between its index transaction (the packs' rows gone, their files
noted as doomed) and its unlinks leaves pack files that the next gc deletes whatever they
hold. verify called such a pack "a snapshot interrupted before it was listed" (it holds a
forgotten snapshot's record) and sent the user to repair; after a killed tombstone merge,
repair then said a forget "was interrupted ... run git snapshot forget again", while every
forgotten snapshot stayed forgotten. Neither is true: they are gc's leftovers.
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

# prune SIGKILLed right after an index transaction that drops pack rows and notes their files
# as doomed, before it unlinks them: gc_drop's (wholly dead packs) or a repack's gc_move (the
# merge of tombstone packs)
KILLED_GC = """
import os, sys
from git_snapshot.store import index
real = getattr(index.Index, sys.argv[1])
def killed(self, *args):
    real(self, *args)
    os.kill(os.getpid(), 9)
setattr(index.Index, sys.argv[1], killed)
from git_snapshot.cli import main
sys.exit(main(["prune"]))
"""

FILES = 10


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    install(repo)
    return repo


def _ids(repo: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(repo, "list", "--json").out)]


def _killed_prune(repo: Path, after: str) -> None:
    ran = subprocess.run([sys.executable, "-c", KILLED_GC, after], cwd=repo, check=False)
    assert ran.returncode == -9


def _untrue(text: str) -> None:
    """None of the lines that name a snapshot or a forget as interrupted."""
    assert "interrupted before it was listed" not in text
    assert "from interrupted snapshots" not in text
    assert "forget that was interrupted" not in text
    assert "forget again" not in text


def test_verify_names_a_killed_gcs_dropped_pack_as_its_leftover(hooked: Path) -> None:
    for k in range(1, 5):  # each snapshot rewrites every file: its pack is its own
        for i in range(FILES):
            write(hooked / "src" / str(i), f"version {k} of {i}\n".encode() * 50)
        gs(hooked, "-m", f"s{k}")
    gs(hooked, "forget", "2")  # its pack now holds nothing live: gc drops it whole
    _killed_prune(hooked, "gc_drop")
    ran = gs(hooked, "verify")
    _untrue(ran.out + ran.err)
    assert "left by an interrupted garbage collection" in ran.out, ran
    assert "git snapshot prune" in ran.out
    got = json.loads(gs(hooked, "verify", "--json").out)
    assert got["ok"] and got["unindexed_packs"] == [] and len(got["gc_leftover_packs"]) == 1
    dry = gs(hooked, "repair", "--dry-run")
    _untrue(dry.out + dry.err)
    gs(hooked, "prune")
    ran = gs(hooked, "verify")
    assert "garbage collection" not in ran.out and ran.out.startswith("ok:"), ran
    assert _ids(hooked) == [1, 3, 4]


def test_a_killed_tombstone_merge_is_no_interrupted_forget(hooked: Path, store_dir: Path) -> None:
    for k in range(1, 6):
        write(hooked / "w", f"version {k}\n".encode())
        gs(hooked, "-m", f"v{k}")
    for snap in (1, 2, 3, 4):  # four tombstone packs: gc merges them
        gs(hooked, "forget", str(snap))
    # the merged pack listed; the four and the pack of the forgotten data not yet unlinked
    _killed_prune(hooked, "gc_move")
    ran = gs(hooked, "verify")
    _untrue(ran.out + ran.err)
    assert "5 pack(s) left by an interrupted garbage collection" in ran.out, ran
    fixed = gs(hooked, "repair")
    _untrue(fixed.out + fixed.err)
    assert _ids(hooked) == [5]  # every forgotten snapshot stays forgotten
    gs(hooked, "prune")  # the leftovers, entered by repair, go as the next gc's own
    ran = gs(hooked, "verify", "--read-data")
    assert ran.out.startswith("ok:"), ran
    assert _ids(hooked) == [5]
    assert len(list((store_dir / "packs").iterdir())) == 2  # snapshot 5's, the tombstones'
