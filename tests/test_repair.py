"""A lost or damaged index is rebuilt from the packs, never mistaken for an empty store; damage
is recorded and healed by the next snapshot (issue 7, items 2 and 3)."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from conftest import init_repo
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from storehelpers import HELPER
from storehelpers import D
from storehelpers import F
from storehelpers import Seen
from storehelpers import build
from storehelpers import diff
from storehelpers import entry_of
from storehelpers import flip_stored
from storehelpers import mutate
from storehelpers import random_tree
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.repair import repair
from git_snapshot.store.verify import verify

GS = [sys.executable, "-m", "git_snapshot.cli"]


@pytest.fixture
def history(store_dir: Path, tmp_path: Path) -> dict[int, dict[bytes, Seen]]:
    """Three snapshots of a changing tree; what each must restore to."""
    src = tmp_path / "src"
    build(src, random_tree(seed=5, files=120))
    expected = {}
    for round_ in range(3):
        with Store(store_dir) as s:
            expected[take(s, "s", src).id] = scan(src)
        mutate(src, seed=round_, share=0.3)
    return expected


def _lose_index(store_dir: Path) -> None:
    for name in os.listdir(store_dir):
        if name.startswith("index.sqlite"):
            os.unlink(store_dir / name)


def _repair(store_dir: Path) -> None:
    with Store(store_dir, repairing=True) as s:
        report = repair(s)
    assert report.ok, report


def _check(store_dir: Path, expected: dict[int, dict[bytes, Seen]], tmp_path: Path) -> None:
    with Store(store_dir) as s:
        snaps = s.snapshots("s")
        assert [x.id for x in snaps] == sorted(expected)
        for snap in snaps:
            out = tmp_path / f"check-{snap.id}-{len(os.listdir(tmp_path))}"
            restore(s, snap, out)
            assert diff(expected[snap.id], scan(out)) == [], snap.id
        assert verify(s, read_data=True).ok


def test_lost_index_is_named_and_prune_deletes_nothing(
    history: dict[int, dict[bytes, Seen]], store_dir: Path, tmp_path: Path
) -> None:
    packs = sorted(os.listdir(store_dir / "packs"))
    _lose_index(store_dir)
    repo = init_repo(tmp_path / "repo")
    for argv in (["list", "--all"], ["verify"], ["prune", "--all"], ["create"]):
        ran = run(repo, *GS, *argv, rc=1)
        assert "git snapshot repair" in ran.err and "is missing" in ran.err, ran.err
        assert len(ran.err.strip().splitlines()) == 1
    assert sorted(os.listdir(store_dir / "packs")) == packs  # nothing was deleted
    with pytest.raises(UserError, match="repair"):
        Store(store_dir)
    ran = run(tmp_path, *GS, "repair")
    assert "3 snapshot(s)" in ran.out and "was missing" in ran.out
    _check(store_dir, history, tmp_path)


def test_garbled_and_empty_indexes_are_named_then_rebuilt(
    history: dict[int, dict[bytes, Seen]], store_dir: Path, tmp_path: Path
) -> None:
    _lose_index(store_dir)
    (store_dir / "index.sqlite").write_bytes(b"this is not a database" * 100)
    ran = run(tmp_path, *GS, "list", "--all", rc=1)
    assert "cannot be read" in ran.err and "git snapshot repair" in ran.err
    run(tmp_path, *GS, "repair")
    _check(store_dir, history, tmp_path)
    _lose_index(store_dir)
    sqlite3.connect(store_dir / "index.sqlite").close()  # an empty database file
    for argv in (["list", "--all"], ["prune", "--all"]):
        ran = run(tmp_path, *GS, *argv, rc=1)
        assert "git snapshot repair" in ran.err
    run(tmp_path, *GS, "repair")
    _check(store_dir, history, tmp_path)


def test_numbers_are_not_reused_after_a_rebuild(
    history: dict[int, dict[bytes, Seen]], store_dir: Path, tmp_path: Path
) -> None:
    _lose_index(store_dir)
    _repair(store_dir)
    with Store(store_dir) as s:
        assert take(s, "s", tmp_path / "src").id == 4


def test_forgotten_snapshots_stay_forgotten(
    history: dict[int, dict[bytes, Seen]], store_dir: Path, tmp_path: Path
) -> None:
    with Store(store_dir) as s:
        s.forget([x for x in s.snapshots("s") if x.id == 2])
    del history[2]
    _lose_index(store_dir)
    _repair(store_dir)
    _check(store_dir, history, tmp_path)


def test_snapshot_killed_before_its_index_row_is_recovered(
    history: dict[int, dict[bytes, Seen]], store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    (src / "late").write_bytes(b"written just before the kill")
    res = subprocess.run(
        [sys.executable, HELPER, "snapshot", str(store_dir), "s", str(src)],
        env={**os.environ, "GS_KILL_AT": "commit:before", "GS_KILL_NTH": "2"},
        capture_output=True,
        check=False,
    )
    assert res.returncode == -signal.SIGKILL
    with Store(store_dir, repairing=True) as s:
        report = repair(s)
    assert report.recovered == [("s", 4)]
    history[4] = scan(src)
    _check(store_dir, history, tmp_path)


def test_a_missing_pack_leaves_the_rest_restorable_and_is_named(
    store_dir: Path, tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    build(a, D({b"x": F(os.urandom(3000))}))
    build(b, D({b"y": F(os.urandom(3000))}))
    with Store(store_dir) as s:
        snap_a = take(s, "a", a)
        packs_a = set(os.listdir(store_dir / "packs"))
        take(s, "b", b)
        key = entry_of(s, snap_a, b"x").ref
        loc = s.index.locate(key)
        assert loc is not None
    os.unlink(store_dir / "packs" / loc.pack)  # the pack with a's data and record
    assert loc.pack in packs_a
    _lose_index(store_dir)
    with Store(store_dir, repairing=True) as s:
        report = repair(s)
    assert report.ok  # a's record went with its pack: nothing refers to the lost data
    with Store(store_dir) as s:
        assert [x.source for x in s.snapshots()] == ["b"]
        assert verify(s, read_data=True).ok


def test_a_missing_object_is_recorded_and_stored_afresh_by_the_next_snapshot(
    store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, D({b"keep": F(b"k" * 100), b"lost": F(os.urandom(5000))}))
    with Store(store_dir) as s:
        first = take(s, "s", src)
        key = entry_of(s, first, b"lost").ref
        s.index.db.execute("DELETE FROM objects WHERE key=?", (key,))  # its copy is gone
        with pytest.raises(CorruptObject):
            s.read_object(key)  # any read finds it missing, and records that
        assert key in s.index.damaged()
        healed = take(s, "s", src)
        assert healed.added_bytes > 5000  # stored afresh, although the cache knew the file
        assert s.index.damaged() == {}
        for snap in (first, healed):  # the older snapshot is whole again too
            out = tmp_path / f"out{snap.id}"
            restore(s, snap, out)
            assert diff(scan(src), scan(out)) == []


def test_flipped_byte_is_recorded_and_the_next_snapshot_heals_every_snapshot(
    store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    data = os.urandom(20000)
    build(src, D({b"f": F(data), b"other": F(b"o" * 50)}))
    with Store(store_dir) as s:
        old = take(s, "s", src)
        flip_stored(store_dir, s, entry_of(s, old, b"f").ref)
    with Store(store_dir) as s:
        assert not verify(s, read_data=True).ok
        assert entry_of(s, old, b"f").ref in s.index.damaged()
        new = take(s, "s", src)
        assert new.added_bytes >= len(data)  # not "+0 B": the damaged copy is not reused
        assert s.index.damaged() == {}
        for snap in (old, new):  # the older snapshot reads the fresh copy too
            out = tmp_path / f"out{snap.id}"
            restore(s, snap, out)
            assert (out / "f").read_bytes() == data
        assert verify(s, read_data=True).ok


def test_an_older_index_never_gets_a_files_cache_naming_objects_it_lacks(
    store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, D({b"a": F(b"first")}))
    with Store(store_dir) as s:
        take(s, "s", src)
    backup = tmp_path / "index-backup.sqlite"
    with sqlite3.connect(store_dir / "index.sqlite") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(store_dir / "index.sqlite", backup)
    os.utime(src, None)
    (src / "b").write_bytes(os.urandom(4000))
    os.utime(src / "b", ns=(10**18, 10**18))  # not racy: goes into the files cache
    with Store(store_dir) as s:
        take(s, "s", src)
    _lose_index(store_dir)
    shutil.copy(backup, store_dir / "index.sqlite")  # the user restores an old index
    with Store(store_dir) as s:
        third = take(s, "s", src)
        out = tmp_path / "out"
        restore(s, third, out)  # would fail if the cache had handed over b's old key
        assert (out / "b").read_bytes() == (src / "b").read_bytes()
        assert verify(s, read_data=True).ok


def test_v1_snapshots_without_records_get_one_on_repair(
    history: dict[int, dict[bytes, Seen]], store_dir: Path, tmp_path: Path
) -> None:
    with Store(store_dir) as s:
        s.index.db.execute("UPDATE snapshots SET record = NULL WHERE seq = 1")
        s.index.db.execute(
            "DELETE FROM objects WHERE type = 3 AND key NOT IN "
            "(SELECT record FROM snapshots WHERE record IS NOT NULL)"
        )
    _repair(store_dir)  # the old index is readable: its row is kept
    with Store(store_dir) as s:
        (first,) = [x for x in s.snapshots("s") if x.id == 1]
        assert first.record is not None
    _lose_index(store_dir)
    _repair(store_dir)  # and now the packs alone know it
    _check(store_dir, history, tmp_path)


@pytest.mark.parametrize("nth", [1, 2, 3])
def test_repair_killed_while_swapping_is_finished_by_the_next_repair(
    history: dict[int, dict[bytes, Seen]], store_dir: Path, tmp_path: Path, nth: int
) -> None:
    _lose_index(store_dir)
    res = subprocess.run(
        [sys.executable, HELPER, "repair", str(store_dir)],
        env={**os.environ, "GS_KILL_AT": "cache:after", "GS_KILL_NTH": str(nth)},
        capture_output=True,
        check=False,
    )
    assert res.returncode in (-signal.SIGKILL, 0), res.stderr
    run(tmp_path, *GS, "repair")
    _check(store_dir, history, tmp_path)


def test_dry_run_changes_nothing(
    history: dict[int, dict[bytes, Seen]], store_dir: Path, tmp_path: Path
) -> None:
    _lose_index(store_dir)
    ran = run(tmp_path, *GS, "repair", "--dry-run")
    assert "would rebuild" in ran.out and "3 snapshot(s)" in ran.out
    assert not (store_dir / "index.sqlite").exists()
    assert os.listdir(store_dir / "tmp") == []


def test_a_damaged_record_is_named_by_verify_and_written_again_by_repair(
    history: dict[int, dict[bytes, Seen]], store_dir: Path, tmp_path: Path
) -> None:
    with Store(store_dir) as s:
        (second,) = [x for x in s.snapshots("s") if x.id == 2]
        assert second.record is not None
        loc = s.index.locate(second.record)
        assert loc is not None
    path = store_dir / "packs" / loc.pack
    raw = bytearray(path.read_bytes())
    raw[loc.offset + loc.length - 3] ^= 0xFF
    path.write_bytes(bytes(raw))
    with Store(store_dir) as s:
        report = verify(s, read_data=True)
        assert [(p.snapshot, p.path) for p in report.problems] == [(2, "(snapshot record)")]
    with Store(store_dir, repairing=True) as s:
        repair(s)  # the old index still knows snapshot 2: its record is written again
    _lose_index(store_dir)
    with Store(store_dir, repairing=True) as s:
        repair(s)  # and so the packs alone rebuild all three
    _check(store_dir, history, tmp_path)


def test_repair_places_an_object_at_its_intact_copy(store_dir: Path, tmp_path: Path) -> None:
    """A damaged object stored afresh lives in two packs: a rebuilt index must point at the
    intact copy, whichever pack it reads first."""
    src = tmp_path / "src"
    data = os.urandom(20000)
    build(src, D({b"f": F(data)}))
    with Store(store_dir) as s:
        old = take(s, "s", src)
        damaged = flip_stored(store_dir, s, entry_of(s, old, b"f").ref)
    with Store(store_dir) as s:
        assert not verify(s, read_data=True).ok
        take(s, "s", src)  # stores the intact copy in a new pack
    _lose_index(store_dir)
    damaged.rename(store_dir / "packs" / ("0" * 32 + ".pack"))  # read first
    with Store(store_dir, repairing=True) as s:
        repair(s)
    with Store(store_dir) as s:
        for snap in s.snapshots("s"):
            out = tmp_path / f"out{snap.id}"
            restore(s, snap, out)
            assert (out / "f").read_bytes() == data


def test_hooks_on_a_lost_or_garbled_index_name_repair(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    side_commit(repo, "feature", {"f.txt": b"f\n"})
    install(repo)
    gs(repo)
    _lose_index(store_dir)
    ran = git(repo, "checkout", "-q", "-b", "topic")  # a post-hook never fails git
    (line,) = ran.ours
    assert "git snapshot repair" in line, line
    (store_dir / "index.sqlite").write_bytes(b"garbage" * 1000)
    ran = git(repo, "merge", "--no-edit", "feature", rc=None)  # a pre-hook stops it
    assert ran.rc != 0 and not (repo / "f.txt").exists()
    (line,) = ran.ours
    assert "git snapshot repair" in line and "GIT_SNAPSHOT_SKIP=1" in line, line
    assert "internal error" not in line


def test_damage_below_a_damaged_directory_is_found_and_healed(
    store_dir: Path, tmp_path: Path
) -> None:
    """verify --read-data cannot walk below a damaged directory listing; it still reads what
    lies there, so the next snapshot stores both afresh (found by the stateful model)."""
    src = tmp_path / "src"
    data = os.urandom(20000)
    build(src, D({b"d": D({b"f": F(data), b"g": F(b"g" * 300)})}))
    with Store(store_dir) as s:
        old = take(s, "s", src)
        blob, tree = entry_of(s, old, b"d/f").ref, entry_of(s, old, b"d").ref
        flip_stored(store_dir, s, blob)
        flip_stored(store_dir, s, tree)
        assert not verify(s, read_data=True).ok
        assert {blob, tree} <= s.index.damaged().keys()
        new = take(s, "s", src)
        assert s.index.damaged() == {}
        for snap in (old, new):
            out = tmp_path / f"out{snap.id}"
            restore(s, snap, out)
            assert (out / "d" / "f").read_bytes() == data
