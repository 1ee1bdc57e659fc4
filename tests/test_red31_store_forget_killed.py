"""Red team (session 31, A1): a ``forget`` killed after its tombstone pack was renamed into
``packs/`` but before its index transaction. The index is where a forget takes effect (data
first, index rows last): the snapshot stays listed, and the tombstone is an orphan that gc
reclaims. ``repair`` used to enter that orphan (the tombstone then live for good) and report
"1 forgotten snapshot(s) stay forgotten" while it kept the snapshot listed; once the index was
lost, the next repair dropped the snapshot without a word. Now a repair with a readable index
agrees with it: the forget did not happen, the orphan tombstone is removed, and every later
command (a repair from the packs alone too) keeps the snapshot."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import gs

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed"),
]


def _ids(repo: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(repo, "list", "--json"))]


def _three(repo: Path) -> None:
    gs(repo, "create")
    (repo / "only-in-2.txt").write_text("precious\n")
    gs(repo, "create", "-m", "keepme")
    (repo / "only-in-2.txt").unlink()
    gs(repo, "create")


def _packs(store_dir: Path) -> set[str]:
    return {p.name for p in (store_dir / "packs").rglob("*.pack")}


def _killed_forget(repo: Path, store_dir: Path, tmp_path: Path) -> None:
    """``forget 2`` killed at the first fsync after which its tombstone pack is in packs/
    while the index still lists snapshot 2 (found by trying each fsync on a copy)."""
    backup = tmp_path / "store-before"
    shutil.copytree(store_dir, backup, symlinks=True)
    before = _packs(store_dir)
    for nth in range(1, 12):
        shutil.rmtree(store_dir)
        shutil.copytree(backup, store_dir, symlinks=True)
        argv = [
            *("strace", "-qq", "-o", str(tmp_path / "trace"), "-e", "trace=fsync"),
            *("-e", f"inject=fsync:signal=KILL:when={nth}"),
            *(sys.executable, "-m", "git_snapshot", "forget", "2"),
        ]
        ran = subprocess.run(argv, cwd=repo, capture_output=True, timeout=120, check=False)
        if ran.returncode == 0:
            break
        if _packs(store_dir) - before and 2 in _ids(repo):
            return
    pytest.fail("no fsync left the tombstone pack in packs/ with snapshot 2 still listed")


def _has_2(repo: Path) -> None:
    assert _ids(repo) == [1, 2, 3]
    assert gs(repo, "cat", "2", "only-in-2.txt").out == "precious\n"


def test_repair_after_a_killed_forget_keeps_the_snapshot_for_good(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    _three(repo)
    _killed_forget(repo, store_dir, tmp_path)
    assert _ids(repo) == [1, 2, 3]  # the forget did not happen
    ran = gs(repo, "repair")
    assert "stay forgotten" not in ran.out, ran.out  # nothing of this store was forgotten
    _has_2(repo)
    for p in store_dir.glob("index.sqlite*"):  # the index is lost later
        p.unlink()
    ran = gs(repo, "repair")
    assert "stay forgotten" not in ran.out, ran.out
    _has_2(repo)
    assert "unreferenced" not in gs(repo, "verify").out


def test_prune_after_a_killed_forget_keeps_the_snapshot_for_good(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    _three(repo)
    _killed_forget(repo, store_dir, tmp_path)
    gs(repo, "prune", "--keep-last", "10")
    _has_2(repo)
    for p in store_dir.glob("index.sqlite*"):
        p.unlink()
    gs(repo, "repair")
    _has_2(repo)


def test_index_lost_right_after_a_killed_forget_finishes_that_forget_and_says_so(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    """Nothing tells a tombstone whose forget never committed from one that did once the
    index is gone: the user asked to forget snapshot 2, so the rebuilt index drops it, and
    repair names it (not a bare count), consistently with every later command."""
    _three(repo)
    _killed_forget(repo, store_dir, tmp_path)
    for p in store_dir.glob("index.sqlite*"):
        p.unlink()
    ran = gs(repo, "repair")
    assert "stay forgotten" in ran.out and "2 of " in ran.out, ran.out
    assert _ids(repo) == [1, 3]
    gs(repo, "repair")
    assert _ids(repo) == [1, 3]
