"""A full disk stops writes, not reads, and prune frees space on it: on a real, loop-mounted
ext4 file system filled to the last byte (tests/fullfs.py; skipped with the reason where a
file system cannot be mounted)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from fullfs import fill
from fullfs import free_bytes
from fullfs import store_on_small_fs
from fullfs import unfill
from hookhelpers import commit
from hookhelpers import head
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import take
from test_cli_helpers import state_diff
from test_cli_helpers import tree_state
from test_cli_helpers import write

from git_snapshot.store import Store
from git_snapshot.store.gc import gc
from git_snapshot.store.reserve import RESERVE_BYTES
from git_snapshot.store.reserve import ensure_reserve
from git_snapshot.store.reserve import reserve_path
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import forget_by_policy

BIG = 4 << 20


@pytest.fixture
def small_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """GIT_SNAPSHOT_STORE on a 64 MiB file system of its own."""
    with store_on_small_fs(tmp_path, monkeypatch) as store:
        yield store


def _history(repo: Path, snapshots: int = 3) -> None:
    """Snapshots that each hold a big file of their own: forgetting them frees megabytes."""
    for i in range(snapshots):
        write(repo / "big.bin", os.urandom(BIG))
        write(repo / f"note{i}.txt", f"note {i}\n")
        gs(repo)


def _one_line(ran: Ran, *words: str) -> None:
    """A write refused on a full disk: exit 1, one line naming the store's disk."""
    assert ran.rc == 1, (ran.rc, ran.err)  # never a signal death (negative rc)
    assert len(ran.err_lines) == 1, ran.err
    for w in words:
        assert w in ran.err, ran.err


@pytest.mark.slow
@pytest.mark.parametrize(
    "leave",
    [0, 8192, 64 << 10, 600 << 10],
    ids=["full", "8KiB-free", "64KiB-free", "600KiB-free"],
)
def test_reads_work_and_prune_frees_space_on_a_full_disk(
    repo: Path, small_store: Path, tmp_path: Path, leave: int
) -> None:
    _history(repo)
    want = tree_state(repo)
    mnt = small_store.parent
    fill(mnt, leave=leave)
    assert free_bytes(mnt) <= leave + 4096

    # reads work
    assert "3" in gs(repo, "list").out
    gs(repo, "show", "3")
    gs(repo, "diff", "2", "3")
    gs(repo, "diff", "3")
    assert gs(repo, "verify", "--read-data").out.startswith("ok: 3 snapshots")
    out = tmp_path / "restored"  # on another disk
    gs(repo, "restore", "3", "--to", str(out))
    assert state_diff(want, tree_state(out, skip=())) == []

    # a write fails with one line naming the disk (a file that cannot fit: 100 KB of "x"
    # compress into a few hundred bytes, and a snapshot of them could fit in 600 KiB)
    (repo / "new.txt").write_bytes(os.urandom(leave + (512 << 10)))
    _one_line(gs(repo, rc=None), str(small_store))

    # prune frees space, even with nothing at all free
    before = free_bytes(mnt)
    ran = gs(repo, "prune", "--keep-last", "1")
    assert "forgot 2 snapshot(s): 1, 2" in ran.out, ran.out
    assert free_bytes(mnt) - before > 2 * BIG * 0.9, (before, free_bytes(mnt))
    gs(repo, "verify", "--read-data")
    out2 = tmp_path / "restored-after-prune"
    gs(repo, "restore", "3", "--to", str(out2))
    (out2 / "new.txt").unlink(missing_ok=True)
    assert state_diff(want, tree_state(out2, skip=())) == []

    # with the space back, snapshots work again
    unfill(mnt)
    gs(repo)


@pytest.mark.slow
def test_prune_with_nothing_to_free_on_a_full_disk_fails_in_one_line(
    repo: Path, small_store: Path
) -> None:
    _history(repo, snapshots=1)
    fill(small_store.parent)
    (small_store / "reserve").unlink(missing_ok=True)  # no reserve to fall back on
    ran = gs(repo, "prune", "--keep-last", "1", rc=None)
    assert ran.rc in (0, 1), ran.err  # nothing to forget: may succeed; never a crash
    if ran.rc == 1:
        _one_line(ran, "disk", str(small_store.parent))
    gs(repo, "verify", "--read-data")


def test_the_reserve_holds_real_blocks_and_only_where_there_is_room(small_store: Path) -> None:
    with Store(small_store) as store:
        path = Path(reserve_path(store))
        path.unlink(missing_ok=True)
        assert ensure_reserve(store)
        st = path.stat()
        assert st.st_size == RESERVE_BYTES and st.st_blocks * 512 >= RESERVE_BYTES
        path.unlink()
        fill(small_store.parent, leave=RESERVE_BYTES)  # room for it, but not twice
        assert not ensure_reserve(store) and not path.exists()
        assert os.listdir(store.tmp_dir) == []  # and no temp file left behind


def test_gc_gives_up_the_reserve_when_the_disk_is_full_and_makes_it_again(
    small_store: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    with Store(small_store) as store:
        for i in range(2):
            build(src, D({b"big": F(os.urandom(BIG)), b"n": F(str(i).encode())}))
            take(store, "s", src)
        assert ensure_reserve(store)
        fill(small_store.parent)
        forget_by_policy(store, Policy(keep_last=1), ["s"])  # needs the reserve's room
        assert not os.path.exists(reserve_path(store))
        report = gc(store)
        assert report.bytes_freed > BIG * 0.9
        assert os.path.getsize(reserve_path(store)) == RESERVE_BYTES  # made again


def test_gc_commits_on_a_full_disk_by_giving_up_the_reserve(
    small_store: Path, tmp_path: Path
) -> None:
    """The transaction that drops dead packs needs room in SQLite's write-ahead log."""
    src = tmp_path / "src"
    with Store(small_store) as store:
        for i in range(3):
            build(src, D({b"big": F(os.urandom(BIG)), b"n": F(str(i).encode())}))
            take(store, "s", src)
        forget_by_policy(store, Policy(keep_last=1), ["s"])
        store.index.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no log space to reuse
        assert ensure_reserve(store)
        fill(small_store.parent)
        report = gc(store)
        assert report.bytes_freed > 2 * BIG * 0.9
        assert os.path.getsize(reserve_path(store)) == RESERVE_BYTES
        assert not store.index.db.in_transaction


@pytest.mark.slow
def test_a_pre_hook_on_a_full_disk_stops_the_merge_in_one_line(
    repo: Path, small_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's disk is full: the merge is stopped before it touches anything, with one
    line naming the disk and how to go on without a backup; with that, it goes on."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    side_commit(repo, "feature", {"f.txt": b"f\n"})
    commit(repo, "m.txt", b"m\n")
    install(repo)
    gs(repo)
    write(repo / "big.bin", os.urandom(BIG))  # new data: the snapshot must write
    old = head(repo)
    fill(small_store.parent)
    try:
        ran = git(repo, "merge", "--no-edit", "feature", rc=None)
        assert ran.rc != 0 and head(repo) == old and not (repo / "f.txt").exists()
        (line,) = ran.ours
        assert "disk is full" in line and "GIT_SNAPSHOT_SKIP=1" in line, line
        for argv in (["list"], ["verify"]):  # reads still work
            gs(repo, *argv)
    finally:
        unfill(small_store.parent)
    git(repo, "merge", "--no-edit", "feature", GIT_SNAPSHOT_SKIP="1")
    assert (repo / "f.txt").exists()
