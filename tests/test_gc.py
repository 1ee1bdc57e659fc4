"""Garbage collection: its plan (what is live, what goes, what stays for repair), the order it
runs in, kills at each of its write points, and what it finds in tmp/."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs
from storehelpers import HELPER
from storehelpers import D
from storehelpers import F
from storehelpers import Seen
from storehelpers import build
from storehelpers import diff
from storehelpers import pack_bytes
from storehelpers import pack_names
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take
from test_cli_helpers import write
from test_filescache import Reads
from test_filescache import settle

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store import filescache
from git_snapshot.store import walker
from git_snapshot.store.gc import gc
from git_snapshot.store.gc import plan
from git_snapshot.store.gc import preview
from git_snapshot.store.gc import sweep_leftovers
from git_snapshot.store.index import Index
from git_snapshot.store.objects import FORGET
from git_snapshot.store.objects import RECORD
from git_snapshot.store.objects import digest
from git_snapshot.store.packs import PackWriter
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.records import decode_record
from git_snapshot.store.records import encode_record
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import forget_by_policy
from git_snapshot.store.verify import verify

TESTS = str(Path(__file__).resolve().parent)


def _three_snapshots(store: Store, src: Path) -> dict[int, dict[bytes, Seen]]:
    """Snapshot 1's pack ends up mostly dead (to repack), snapshot 2's wholly dead (to
    delete) once only snapshot 3 is kept."""
    build(src, D({b"small1": F(b"kept by every snapshot"), b"big": F(os.urandom(300_000))}))
    seen = {take(store, "s", src).id: scan(src)}
    (src / "big").write_bytes(os.urandom(300_000))
    seen[take(store, "s", src).id] = scan(src)
    (src / "big").unlink()
    (src / "small2").write_bytes(b"new in 3")
    seen[take(store, "s", src).id] = scan(src)
    return seen


def _restores(store: Store, expected: dict[int, dict[bytes, Seen]], into: Path) -> None:
    snaps = store.snapshots("s")
    assert sorted(s.id for s in snaps) == sorted(expected)
    for snap in snaps:
        out = into / f"r{snap.id}-{len(os.listdir(into)) if into.exists() else 0}"
        restore(store, snap, out)
        assert diff(expected[snap.id], scan(out)) == [], snap.id
    assert verify(store, read_data=True).ok


def _orphans(store_dir: Path, store: Store) -> set[str]:
    return pack_names(store_dir) - set(store.index.packs())


# -- the plan ----------------------------------------------------------------------------------


def test_the_plan_says_what_gc_then_does(store: Store, store_dir: Path, tmp_path: Path) -> None:
    expected = _three_snapshots(store, tmp_path / "src")
    forgetting = [s for s in store.snapshots("s") if s.id < 3]
    before = pack_bytes(store_dir)
    todo = preview(store, [s.rowid for s in forgetting])
    assert pack_bytes(store_dir) == before and len(store.snapshots("s")) == 3  # a preview
    assert len(todo.empty) == 1 and len(todo.sparse) == 1 and todo.dead
    assert todo.bytes_to_free > 2 * 300_000 * 0.95

    forget_by_policy(store, Policy(keep_last=1), ["s"])
    real = plan(store)
    assert (len(real.dead), len(real.empty), len(real.sparse)) == (
        len(todo.dead),
        len(todo.empty),
        len(todo.sparse),
    )
    before = pack_bytes(store_dir)
    report = gc(store)
    assert report.objects_removed == len(todo.dead)
    assert (report.packs_removed, report.packs_rewritten) == (1, 1)
    assert report.bytes_freed == before - pack_bytes(store_dir)
    assert abs(report.bytes_freed - todo.bytes_to_free) < 200, (report, todo.bytes_to_free)
    del expected[1], expected[2]
    _restores(store, expected, tmp_path / "out")


def test_prune_dry_run_prints_the_real_numbers(repo: Path, store_dir: Path) -> None:
    for _ in range(3):
        write(repo / "big.bin", os.urandom(500_000))
        gs(repo)
    before = pack_bytes(store_dir)
    out = gs(repo, "prune", "--keep-last", "1", "--dry-run").out
    assert "would forget 2 snapshot(s): 1, 2" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("would reclaim about "))
    assert "KiB" in line or "MiB" in line, line
    assert pack_bytes(store_dir) == before
    out = gs(repo, "prune", "--keep-last", "1").out
    assert "forgot 2 snapshot(s)" in out
    dry_objects = line.split("(")[1].split()[0]
    assert f"({dry_objects} objects" in out, (line, out)


def test_records_and_tombstones_are_live(store: Store, tmp_path: Path) -> None:
    _three_snapshots(store, tmp_path / "src")
    forget_by_policy(store, Policy(keep_last=1), ["s"])
    tombstones = [k for k, _, _, t in store.index.gc_objects() if t == FORGET]
    assert tombstones
    gc(store)
    (kept,) = store.snapshots("s")
    assert kept.record is not None and store.read_object(kept.record)  # moved, not lost
    types = {k: t for k, _, _, t in store.index.gc_objects()}
    assert all(types.get(k) == FORGET for k in tombstones)
    # the forgotten snapshots' records went with them
    assert [t for t in types.values() if t == RECORD] == [RECORD]


def _orphan_pack(store: Store, *objects: tuple[int, bytes]) -> str:
    """A pack in packs/ that no index row names (a snapshot killed before its commit)."""
    writer = PackWriter(store.path)
    for type_, data in objects:
        writer.add(type_, digest(data), data)
    (pack,) = writer.finish()
    return pack.name


def test_orphans_holding_an_unknown_record_stay_for_repair(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    _three_snapshots(store, tmp_path / "src")
    (snap,) = store.snapshots("s")[-1:]
    assert snap.record is not None
    killed, where = decode_record(store.read_object(snap.record))  # a record that reads back
    killed.message = "killed before its index row"
    record = encode_record(killed, where)
    with_record = _orphan_pack(store, (1, b"blob of a killed snapshot"), (RECORD, record))
    without = _orphan_pack(store, (1, b"blob only"))
    known_copy = _orphan_pack(store, (RECORD, store.read_object(snap.record)))  # a repack's
    todo = plan(store)
    assert set(todo.orphans) == {without, known_copy} and todo.kept_orphans == [with_record]
    report = gc(store)
    assert report.orphans_kept == 1
    assert _orphans(store_dir, store) == {with_record}
    assert "repair" in gs(tmp_path, "prune", "--all").out


def test_a_pack_doomed_by_a_killed_gc_goes_even_holding_a_record(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    """gc drops a dead pack's rows, then is killed before the unlink: the pack holds the
    forgotten snapshot's record, now unknown to the index, yet the next gc deletes it."""
    _three_snapshots(store, tmp_path / "src")
    forget_by_policy(store, Policy(keep_last=1), ["s"])
    todo = plan(store)
    store.index.gc_drop(todo.dead, [p.id for p in todo.empty], todo.doomed)  # then killed
    left = _orphans(store_dir, store)
    assert left and any(
        o.type == RECORD for n in left for o in scan_pack(str(store_dir / "packs" / n))
    )
    assert gc(store).orphans_kept == 0
    assert _orphans(store_dir, store) == set()


def test_a_gc_never_takes_the_tombstone_pack_of_a_forget_in_progress(
    store: Store, store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tombstone pack is in packs/ before its index rows: a gc in between must not see
    it as an orphan (forgetting holds the store's lock shared, as a snapshot does)."""
    _three_snapshots(store, tmp_path / "src")
    ran = []
    finish = PackWriter.finish

    def finish_then_gc(self: PackWriter) -> Any:
        done = finish(self)
        with Store(store_dir) as other:
            ran.append(gc(other, wait=False).ran)
        return done

    monkeypatch.setattr(PackWriter, "finish", finish_then_gc)
    forget_by_policy(store, Policy(keep_last=1), ["s"])
    monkeypatch.undo()
    assert ran == [False]
    tombstones = [k for k, _, _, t in store.index.gc_objects() if t == FORGET]
    assert tombstones and all(store.read_object(k) for k in tombstones)


def test_gc_refuses_an_index_that_lists_no_packs(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    _three_snapshots(store, tmp_path / "src")
    packs = pack_names(store_dir)
    store.index = Index(str(tmp_path / "empty.sqlite"))  # a lost index, recreated empty
    with pytest.raises(UserError, match="git snapshot repair"):
        gc(store)
    assert pack_names(store_dir) == packs


# -- the order on a full disk ------------------------------------------------------------------


def test_dead_packs_go_before_any_repack_writes(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _three_snapshots(store, tmp_path / "src")
    forget_by_policy(store, Policy(keep_last=1), ["s"])
    events: list[str] = []
    real_unlink, real_open = os.unlink, PackWriter._open

    def unlink(path: Any, *args: Any, **kw: Any) -> None:
        if "/packs/" in str(path):
            events.append("unlink")
        real_unlink(path, *args, **kw)

    def open_pack(self: PackWriter) -> Any:  # before every record a writer writes
        events.append("write")
        return real_open(self)

    monkeypatch.setattr(os, "unlink", unlink)
    monkeypatch.setattr(PackWriter, "_open", open_pack)
    gc(store)
    assert "write" in events and events.index("unlink") < events.index("write"), events


# -- kills at each write point of gc -----------------------------------------------------------

_CHILD = """
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from storehelpers import _install_kill_point
from git_snapshot.store import Store
from git_snapshot.store.gc import gc

point, nth = sys.argv[3], int(sys.argv[4])
with Store(sys.argv[2]) as store:
    if point == "unlink:after":
        seen, real = [0], os.unlink
        def unlink(path, *a, **kw):
            real(path, *a, **kw)
            if "/packs/" in str(path):
                seen[0] += 1
                if seen[0] == nth:
                    os.kill(os.getpid(), signal.SIGKILL)
        os.unlink = unlink
    else:
        _install_kill_point(point, nth)
    gc(store)
"""

GC_POINTS = [
    ("commit:before", 1),  # dropping the dead rows, not committed
    ("commit:after", 1),  # dead rows gone, their packs not yet unlinked
    ("unlink:after", 1),  # one dead pack unlinked
    ("fsync:after", 2),  # the repacked pack durable in tmp/
    ("rename:after", 1),  # the repacked pack in packs/, not indexed
    ("commit:after", 2),  # objects point at the new pack, the old one not yet unlinked
    ("unlink:after", 2),  # the old pack unlinked
]


@pytest.mark.slow
@pytest.mark.parametrize(("point", "nth"), GC_POINTS, ids=[f"{p}#{n}" for p, n in GC_POINTS])
def test_a_kill_anywhere_in_gc_loses_nothing_and_the_next_gc_finishes(
    point: str, nth: int, store_dir: Path, tmp_path: Path
) -> None:
    with Store(store_dir) as s:
        expected = _three_snapshots(s, tmp_path / "src")
        forget_by_policy(s, Policy(keep_last=1), ["s"])
    del expected[1], expected[2]
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, TESTS, str(store_dir), point, str(nth)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert res.returncode == -signal.SIGKILL, f"never reached {point}#{nth}: {res.stderr}"
    with Store(store_dir) as s:
        _restores(s, expected, tmp_path / "out")
        report = gc(s)
        assert report.orphans_kept == 0
        assert _orphans(store_dir, s) == set(), "a killed gc left packs behind"
        assert os.listdir(store_dir / "tmp") == []
        assert [p for p in plan(s).sparse] == [] and plan(s).dead == []
        _restores(s, expected, tmp_path / "out2")


# -- tmp/ --------------------------------------------------------------------------------------


def test_gc_removes_anything_left_in_tmp(store: Store, store_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    build(outside, D({b"precious": F(b"not the store's")}))
    tmp = store_dir / "tmp"
    build(tmp, D({b"hook-dir": D({b"deep": D({b"f": F(b"x")}, mode=0o500)}, mode=0o500)}))
    (tmp / "link-to-outside").symlink_to(outside)
    (tmp / "stale.pack.tmp").write_bytes(b"GSNPACK1")
    os.mkfifo(tmp / "fifo")
    gc(store)
    assert os.listdir(tmp) == []
    assert (outside / "precious").read_bytes() == b"not the store's"


def test_prune_after_a_killed_hook_left_a_directory(repo: Path, store_dir: Path) -> None:
    gs(repo)
    (store_dir / "tmp" / "scratch-x" / "sub").mkdir(parents=True)
    (store_dir / "tmp" / "scratch-x" / "sub" / "f").write_text("left by a killed hook")
    gs(repo, "prune", "--keep-last", "1")
    assert os.listdir(store_dir / "tmp") == []


def test_sweep_leftovers_skips_while_someone_works(store: Store, store_dir: Path) -> None:
    with Store(store_dir) as other, other.lock():  # a snapshot being written
        (store_dir / "tmp" / "x.pack.tmp").write_bytes(b"half a pack")
        assert sweep_leftovers(store) == 0
        with Store(store_dir):  # opening a store sweeps too: not now
            pass
        assert os.listdir(store_dir / "tmp") == ["x.pack.tmp"]
    assert sweep_leftovers(store) == 1
    assert os.listdir(store_dir / "tmp") == []
    assert sweep_leftovers(store) == 0  # nothing to do: not even a lock taken


def test_a_killed_snapshot_leaves_nothing_once_any_command_ran(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, D({f"f{i}".encode(): F(os.urandom(5000)) for i in range(30)}))
    res = subprocess.run(
        [sys.executable, HELPER, "snapshot", str(store_dir), "s", str(src)],
        env={**os.environ, "GS_KILL_AT": "pack_add:after", "GS_KILL_NTH": "10"},
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert res.returncode == -signal.SIGKILL
    assert os.listdir(store_dir / "tmp") != []  # a temp pack, half written
    gs(repo, "list")
    assert os.listdir(store_dir / "tmp") == []


# -- the files cache ---------------------------------------------------------------------------


def _generation(store: Store) -> str:
    return store.index.meta_get("generation", "0")


def _cache(store: Store) -> filescache.FilesCache:
    (name,) = os.listdir(store.cache_dir)
    return filescache.load(
        os.path.join(store.cache_dir, name), _generation(store), store.index.has_root
    )


def test_gc_keeps_a_files_cache_whose_objects_all_stay(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gc deletes objects, so it makes a new generation (the prepared trees and the trees a
    worker keeps name objects it may have deleted); the files cache of the last snapshot names
    only live objects and stays warm: the next snapshot reads no file (it read every file
    again, L 270k files: 92-95 s, session 16)."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    src = tmp_path / "src"
    expected = _three_snapshots(store, src)
    forget_by_policy(store, Policy(keep_last=1), ["s"])
    before = _generation(store)
    assert gc(store).objects_removed
    assert _generation(store) != before
    assert _cache(store).dirs  # carried over to the new generation
    settle()
    reads = Reads(monkeypatch, tmp_path)
    snap = take(store, "s", src)
    assert reads.paths == [] and reads.trees == 0
    assert diff(scan(src), snapshot_contents(store, snap)) == []
    expected[snap.id] = scan(src)
    (src / "small2").write_bytes(b"changed after the gc")
    settle()
    snap = take(store, "s", src)
    assert reads.paths == [b"src/small2"]
    assert diff(scan(src), snapshot_contents(store, snap)) == []
    expected[snap.id] = scan(src)
    del expected[1], expected[2]
    _restores(store, expected, tmp_path / "out")


def test_gc_drops_a_files_cache_naming_one_object_it_deleted(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache of the kept snapshot in which one file's key is a forgotten snapshot's object
    (a record gc did not expect: whatever put it there) is not carried: trusted, the next
    snapshot would hold that deleted object for a file the disk holds otherwise. It reads
    every file and is byte-exact."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    src = tmp_path / "src"
    build(src, D({b"a": F(b"one"), b"b": F(b"kept")}))
    settle()
    first = take(store, "s", src)
    (old_a,) = [e.ref for e in store.read_tree(first.root) if e.name == b"a"]
    (src / "a").write_bytes(b"two")
    settle()
    take(store, "s", src)
    cache = _cache(store)
    top = cache.dirs[b""]
    head = filescache.parse(top)
    assert head is not None and head[8] == 2  # a, b
    at = filescache.HEAD.size + filescache.STAT.size * 2  # a's key, "two"'s
    cache.dirs[b""] = top[:at] + old_a + top[at + filescache.KEY :]
    (path,) = (os.path.join(store.cache_dir, n) for n in os.listdir(store.cache_dir))
    filescache.save(path, _generation(store), cache, store.tmp_dir)
    forget_by_policy(store, Policy(keep_last=1), ["s"])
    assert old_a in plan(store).dead
    assert gc(store).caches_kept == 0
    assert not _cache(store).dirs
    reads = Reads(monkeypatch, tmp_path)
    snap = take(store, "s", src)
    assert sorted(reads.paths) == [b"src/a", b"src/b"]
    assert diff(scan(src), snapshot_contents(store, snap)) == []
    assert verify(store, read_data=True).ok
