"""Red team (session 31, A2): the store's disk is ext4 with its default 5 % kept for root, and
root filled it (a system service; a user who works as root in a container). The free-space
checks read f_bavail, which stays 0 for the blocks only root may use: ``prune`` gave up the
store's 1 MiB reserve (to root's pool), still found the disk "full", freed nothing and did not
make the reserve again; a ``forget`` that failed there left its tombstone pack behind while
it said "the store is intact". Now the room is measured as what this process can write, the
reserve is made again, and a failed forget removes its tombstone.

Needs root and a loop device (tests/fullfs.py's conditions); the image here keeps mkfs's
default root reserve (fullfs.small_fs's root_reserve)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import gs
from fullfs import fill
from fullfs import small_fs
from fullfs import unfill

pytestmark = pytest.mark.slow

RESERVE = 1 << 20


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with small_fs(tmp_path / "small", root_reserve=True) as mnt:
        monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(mnt / "store"))
        yield mnt


def _ids(repo: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(repo, "list", "--json"))]


def _three(repo: Path) -> None:
    gs(repo, "create")
    (repo / "big.bin").write_bytes(os.urandom(3_000_000))
    gs(repo, "create")
    (repo / "big.bin").write_bytes(os.urandom(3_000_000))
    gs(repo, "create")


def _reserve(store: Path) -> int:
    try:
        return (store / "reserve").stat().st_size
    except FileNotFoundError:
        return 0


def _used(mnt: Path) -> int:
    st = os.statvfs(mnt)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def test_prune_frees_space_on_a_disk_root_filled_and_keeps_its_reserve(
    repo: Path, disk: Path
) -> None:
    store = disk / "store"
    _three(repo)
    gs(repo, "forget", "2")  # ~2.9 MiB for prune to reclaim
    assert _reserve(store) >= RESERVE
    fill(disk)
    st = os.statvfs(disk)
    assert st.f_bavail == 0  # root's writes went into the reserved blocks
    used = _used(disk)
    ran = gs(repo, "prune", "--keep-last", "10", rc=None)
    assert ran.rc == 0, ran.err
    assert _used(disk) < used - (2 << 20), "prune freed nothing"
    assert _reserve(store) >= RESERVE, "prune gave up the reserve and did not make it again"
    assert _ids(repo) == [1, 3]
    unfill(disk)
    assert "unreferenced" not in gs(repo, "verify").out


def test_forget_on_a_disk_root_filled_takes_the_reserve_and_works(repo: Path, disk: Path) -> None:
    store = disk / "store"
    _three(repo)
    fill(disk)
    ran = gs(repo, "forget", "3", rc=None)
    assert ran.rc == 0, ran.err
    assert _ids(repo) == [1, 2]
    gs(repo, "prune", "--keep-last", "10")
    assert _reserve(store) >= RESERVE
    unfill(disk)
    assert "unreferenced" not in gs(repo, "verify").out


def test_a_forget_that_fails_on_a_full_disk_leaves_no_tombstone(repo: Path, disk: Path) -> None:
    """No reserve left and a few KiB free: the tombstone pack fits, the index transaction
    does not. The forget says the store is intact: it must be (no orphan tombstone, which a
    later repair would act on)."""
    store = disk / "store"
    _three(repo)
    packs = sorted(p.name for p in (store / "packs").iterdir())
    (store / "reserve").unlink()
    fill(disk, leave=16 << 10)
    ran = gs(repo, "forget", "3", rc=None)
    assert ran.rc != 0
    assert "intact" in ran.err, ran.err
    assert sorted(p.name for p in (store / "packs").iterdir()) == packs
    unfill(disk)
    assert _ids(repo) == [1, 2, 3]
    assert "unreferenced" not in gs(repo, "verify").out
