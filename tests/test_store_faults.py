"""Faults: kills at every write point, concurrency, full disks, damaged packs, hostile trees,
and retention with garbage collection."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import HELPER
from storehelpers import KILL_POINTS
from storehelpers import Crafter
from storehelpers import D
from storehelpers import F
from storehelpers import Seen
from storehelpers import build
from storehelpers import diff
from storehelpers import entry_of
from storehelpers import flip_byte
from storehelpers import full_disk_for
from storehelpers import mutate
from storehelpers import pack_bytes
from storehelpers import pack_names
from storehelpers import random_tree
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store import walker
from git_snapshot.store.export import export
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import RECORD
from git_snapshot.store.objects import Entry
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.prune import Policy
from git_snapshot.store.prune import forget_by_policy
from git_snapshot.store.prune import gc
from git_snapshot.store.prune import parse_duration
from git_snapshot.store.verify import verify


@pytest.fixture
def store(store_dir: Path) -> Iterator[Store]:
    with Store(store_dir) as s:
        yield s


def _child(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, HELPER, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def _check_store(
    store_dir: Path, source: str, expected: dict[int, dict[bytes, Seen]], restore_into: Path
) -> list[Snapshot]:
    """verify(read_data) is clean, and every snapshot of *source* restores to what it held."""
    with Store(store_dir) as s:
        report = verify(s, read_data=True)
        assert report.ok, report.problems
        snaps = s.snapshots(source)
        assert sorted(x.id for x in snaps) == sorted(expected), (
            [x.id for x in snaps],
            sorted(expected),
        )
        for snap in snaps:
            out = restore_into / f"r{snap.id}-{time.monotonic_ns()}"
            restore(s, snap, out)
            assert diff(expected[snap.id], scan(out)) == [], f"snapshot {snap.id}"
        return snaps


def _assert_clean_after_gc(store_dir: Path) -> None:
    with Store(store_dir) as s:
        gc(s)
        assert os.listdir(store_dir / "tmp") == []
        # gc keeps only orphans holding the record of a snapshot killed before its index
        # commit: repair's to bring back
        orphans = pack_names(store_dir) - set(s.index.packs())
        for name in orphans:
            held = scan_pack(str(store_dir / "packs" / name))
            assert any(o.type == RECORD and not s.index.has(o.key) for o in held), name
        report = verify(s, read_data=True)
        assert report.ok and report.orphan_packs == [], report
        assert set(report.unindexed_packs) == orphans, report  # verify points at repair


# -- kills at chosen write points ------------------------------------------------------------------

# the snapshot is committed when the kill comes at or after these points (index transaction 1
# reserves the snapshot's number, transaction 2 commits it)
_COMMITTED = {("commit:after", 2), ("cache:before", 1), ("cache:after", 1)}
CASES = [(p, 1, 0) for p in KILL_POINTS] + [
    ("commit:before", 2, 0),
    ("commit:after", 2, 0),
    ("rename:after", 2, 64 << 10),  # two packs in place, more in tmp/, none indexed
    ("pack_add:after", 40, 64 << 10),  # several packs sealed, one half written
    ("fsync:after", 3, 64 << 10),
]


@pytest.mark.parametrize(
    ("point", "nth", "max_pack"),
    CASES,
    ids=[f"{p}#{n}" + ("-small" if m else "") for p, n, m in CASES],
)
def test_kill_at_write_point(
    point: str, nth: int, max_pack: int, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, random_tree(seed=1, files=200))
    (src / "big").write_bytes(os.urandom((4 << 20) + 1000))  # the streamed path
    expected: dict[int, dict[bytes, Seen]] = {}
    with Store(store_dir) as s:
        expected[take(s, "s", src).id] = scan(src)
    mutate(src, seed=2, share=0.3)
    (src / "big").write_bytes(os.urandom((4 << 20) + 2000))
    for i in range(20):
        (src / f"added-{i}").write_bytes(os.urandom(8000))
    now = scan(src)

    env = {"GS_KILL_AT": point, "GS_KILL_NTH": str(nth)}
    if max_pack:
        env["GS_MAX_PACK"] = str(max_pack)
    res = _child("snapshot", str(store_dir), "s", str(src), env=env)
    assert res.returncode == -signal.SIGKILL, f"never reached {point}: {res.stderr}"
    if (point, nth) in _COMMITTED:
        expected[2] = now
    _check_store(store_dir, "s", expected, tmp_path)

    with Store(store_dir) as s:  # the next snapshot works and is complete
        nxt = take(s, "s", src)
        # a number handed out to a snapshot that never committed is not reused
        assert nxt.id in (2, 3) and nxt.id > max(expected)
        expected[nxt.id] = now
    _check_store(store_dir, "s", expected, tmp_path)
    _assert_clean_after_gc(store_dir)
    _check_store(store_dir, "s", expected, tmp_path)


def test_kill_while_saving_the_files_cache_leaves_no_litter(
    store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, random_tree(seed=3, files=50))
    res = _child("snapshot", str(store_dir), "s", str(src), env={"GS_KILL_AT": "cache:before"})
    assert res.returncode == -signal.SIGKILL
    with Store(store_dir) as s:
        gc(s)
    litter = [n for n in os.listdir(store_dir / "cache") if n.endswith(".tmp")]
    assert litter == []


@pytest.mark.slow
def test_random_kills_never_damage_the_store(store_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, random_tree(seed=7, files=3000, dirs=60))
    expected: dict[int, dict[bytes, Seen]] = {}
    t0 = time.monotonic()
    res = _child("snapshot", str(store_dir), "s", str(src))
    duration = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    expected[json.loads(res.stdout)["id"]] = scan(src)
    rnd = random.Random(1234)
    killed = 0
    for round_ in range(30):
        mutate(src, seed=100 + round_, share=0.03)
        (src / f"big-{round_ % 3}").write_bytes(os.urandom(rnd.randrange(1, 6) << 20))
        now = scan(src)
        proc = subprocess.Popen(
            [sys.executable, HELPER, "snapshot", str(store_dir), "s", str(src)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(rnd.uniform(0, duration * 1.2))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        if proc.returncode == -signal.SIGKILL:
            killed += 1
        else:
            assert proc.returncode == 0, err
        with Store(store_dir) as s:
            report = verify(s, read_data=True)
            assert report.ok, (round_, report.problems)
            new = [x for x in s.snapshots("s") if x.id not in expected]
            assert len(new) <= 1
            for x in new:
                assert diff(now, snapshot_contents(s, x)) == [], round_
                expected[x.id] = now
            nxt = take(s, "s", src)
            assert diff(now, snapshot_contents(s, nxt)) == []
            expected[nxt.id] = now
            old = s.get("s", rnd.choice(sorted(expected)))
            assert diff(expected[old.id], snapshot_contents(s, old)) == []
    assert killed >= 10, f"only {killed} of 30 children were killed before they finished"
    with Store(store_dir) as s:
        for snap in s.snapshots("s"):
            assert diff(expected[snap.id], snapshot_contents(s, snap)) == [], snap.id
        for snap in rnd.sample(s.snapshots("s"), 4):
            out = tmp_path / f"final-{snap.id}"
            restore(s, snap, out)
            assert diff(expected[snap.id], scan(out)) == []
    _assert_clean_after_gc(store_dir)


# -- concurrency -----------------------------------------------------------------------------------


def _spawn_loop(
    store_dir: Path,
    source: str,
    directory: Path,
    count: int,
    go: Path,
    mutating: bool,
    pause: float = 0.0,
    until: Path | None = None,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            HELPER,
            "loop",
            str(store_dir),
            source,
            str(directory),
            str(count),
            str(go),
            "1" if mutating else "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GS_LOOP_PAUSE": str(pause), "GS_LOOP_UNTIL": str(until or "")},
    )


def _finish(proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "locked" not in err and "busy" not in err, err
    return [json.loads(line) for line in out.splitlines()]


def test_eight_processes_snapshot_at_once(store_dir: Path, tmp_path: Path) -> None:
    """A store that does not exist yet, 4 processes on one source and 4 on their own."""
    store_dir.rmdir()
    shared = tmp_path / "shared"
    build(shared, random_tree(seed=11, files=200))
    go = tmp_path / "go"
    procs = [_spawn_loop(store_dir, "shared", shared, 3, go, False) for _ in range(4)]
    own = []
    for i in range(4):
        d = tmp_path / f"own{i}"
        build(d, random_tree(seed=20 + i, files=100))
        own.append((f"own{i}", d, _spawn_loop(store_dir, f"own{i}", d, 3, go, True)))
    time.sleep(0.3)  # let them all start and wait at the line
    go.touch()
    ids = [[r["id"] for r in _finish(p)] for p in procs]
    for per_proc in ids:
        assert per_proc == sorted(per_proc) and len(set(per_proc)) == 3
    assert sorted(i for per in ids for i in per) == list(range(1, 13))
    for source, d, p in own:
        rows = _finish(p)
        assert [r["id"] for r in rows] == [1, 2, 3], source
        with Store(store_dir) as s:
            for r in rows:
                snap = s.get(source, r["id"])
                assert snapshot_contents(s, snap)[b"counter"].data == r["counter"].encode()
            assert diff(scan(d), snapshot_contents(s, s.get(source, 3))) == []
    with Store(store_dir) as s:
        assert verify(s, read_data=True).ok
        for snap in s.snapshots("shared"):
            assert diff(scan(shared), snapshot_contents(s, snap)) == []


@pytest.mark.slow
def test_gc_while_others_snapshot_loses_nothing(store_dir: Path, tmp_path: Path) -> None:
    go, stop, ran = tmp_path / "go", tmp_path / "stop", tmp_path / "gc-ran"
    dirs = []
    for i in range(4):
        d = tmp_path / f"src{i}"
        build(d, random_tree(seed=40 + i, files=150))
        dirs.append(d)
    for _round in range(2):
        # short random pauses between snapshots give the exclusive gc lock a chance, and the
        # loops go on until gc has removed something (however loaded the machine)
        procs = [
            _spawn_loop(store_dir, f"src{i}", d, 25, go, True, pause=0.04, until=ran)
            for i, d in enumerate(dirs)
        ]
        gcp = subprocess.Popen(
            [sys.executable, HELPER, "gcloop", str(store_dir), str(go), str(stop), str(ran)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        go.touch()
        results = [_finish(p) for p in procs]
        stop.touch()
        (gc_out,) = _finish(gcp)
        # gc really ran between the snapshots, and really deleted things
        assert gc_out["during"] >= 1 and gc_out["forgotten"] > 0, gc_out
        go.unlink()
        stop.unlink()
        ran.unlink()
        with Store(store_dir) as s:
            report = verify(s, read_data=True)
            assert report.ok, report.problems
            for i, rows in enumerate(results):
                counters = {r["id"]: r["counter"].encode() for r in rows}
                snaps = s.snapshots(f"src{i}")
                assert snaps, "the newest snapshot is always kept"
                for snap in snaps:
                    if snap.id in counters:
                        got = snapshot_contents(s, snap)[b"counter"].data
                        assert got == counters[snap.id]
                latest = s.get(f"src{i}", "latest")
                out = tmp_path / f"latest-{i}-{_round}"
                restore(s, latest, out)
                assert diff(scan(dirs[i]), scan(out)) == []


# -- a full disk -----------------------------------------------------------------------------------


def _in_store_tmp(store_dir: Path) -> Any:
    tmp = os.path.realpath(store_dir / "tmp") + "/"
    return lambda path: path.startswith(tmp)


def _small_change(src: Path) -> None:
    """New content that fits the pack writer's buffer: it reaches the disk when the pack is
    sealed, outside the reading of any one file."""
    for i in range(5):
        (src / f"new-{i}").write_bytes(os.urandom(300))


def test_full_disk_while_sealing_a_pack_leaves_the_store_intact(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, random_tree(seed=5, files=100))
    first = take(store, "s", src)
    expected = {first.id: scan(src)}
    packs_before = pack_names(store_dir)
    _small_change(src)
    with full_disk_for(_in_store_tmp(store_dir), budget=0) as caught:  # noqa: SIM117
        with pytest.raises((OSError, UserError)) as info:
            take(store, "s", src)
    assert caught, "the pack writer never opened a temp pack"
    assert "space" in str(info.value).lower()
    assert [x.id for x in store.snapshots("s")] == [first.id]
    assert pack_names(store_dir) == packs_before
    _check_store(store_dir, "s", expected, tmp_path)
    _assert_clean_after_gc(store_dir)
    nxt = take(store, "s", src)  # space is back
    expected[nxt.id] = scan(src)
    _check_store(store_dir, "s", expected, tmp_path)


def test_full_disk_while_storing_a_file_fails_the_snapshot(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, random_tree(seed=5, files=100))
    first = take(store, "s", src)
    expected = {first.id: scan(src)}
    (src / "big").write_bytes(os.urandom(3 << 20))  # streamed: written while it is read
    with full_disk_for(_in_store_tmp(store_dir), budget=200_000):
        try:
            snap: Snapshot | None = take(store, "s", src)
        except (OSError, UserError) as exc:
            assert "space" in str(exc).lower()
            snap = None
    if snap is not None:
        skipped = store.get("s", snap.id).meta["skipped_paths"]
        pytest.fail(f"the snapshot was committed without the file: skipped {skipped}")
    assert [x.id for x in store.snapshots("s")] == [first.id]
    _check_store(store_dir, "s", expected, tmp_path)
    _assert_clean_after_gc(store_dir)


def test_full_disk_is_a_user_error(store: Store, store_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _small_change(src)
    with full_disk_for(_in_store_tmp(store_dir), budget=0), pytest.raises(UserError) as info:
        take(store, "s", src)
    msg = str(info.value)
    assert "space" in msg.lower() and str(store_dir) in msg and "\n" not in msg


def test_full_disk_while_saving_the_files_cache_keeps_the_snapshot(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, random_tree(seed=8, files=20))
    cache_dir = os.path.realpath(store_dir / "cache") + "/"
    with full_disk_for(lambda p: p.startswith(cache_dir), budget=0):
        try:
            snap: Snapshot | None = take(store, "s", src)
        except OSError:
            snap = None
    assert [x.id for x in store.snapshots("s")] == [1], "the snapshot was committed"
    assert [n for n in os.listdir(store_dir / "cache") if n.endswith(".tmp")] == []
    assert snap is not None, "create_snapshot failed although its snapshot was committed"


# -- damage ----------------------------------------------------------------------------------------


def test_flipped_byte_names_snapshot_and_path(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    victim = os.urandom(300_000)  # a frame of its own: the small files' group stays whole
    build(src, D({b"dir": D({b"victim.bin": F(victim), b"ok": F(b"fine")}), b"top": F(b"t")}))
    first = take(store, "s", src)
    (src / "top").write_text("changed")
    second = take(store, "s", src)  # shares the victim blob
    loc = store.index.locate(entry_of(store, first, b"dir/victim.bin").ref)
    assert loc is not None
    store.reader.close()
    flip_byte(store_dir / "packs" / loc.pack, loc.offset + loc.length // 2, 0x55)

    report = verify(store, read_data=True)
    got = sorted((p.snapshot, p.path) for p in report.problems)
    assert got == [(first.id, "dir/victim.bin"), (second.id, "dir/victim.bin")]
    assert all(p.source == "s" for p in report.problems)
    only_first = verify(store, [first], read_data=True)
    assert [(p.snapshot, p.path) for p in only_first.problems] == [(first.id, "dir/victim.bin")]

    out = tmp_path / "out"
    with pytest.raises(UserError):
        restore(store, first, out, ["dir/victim.bin"])
    assert not (out / "dir" / "victim.bin").exists()
    assert [n for n in os.listdir(out / "dir") if n.startswith(".gsnap-")] == []
    restore(store, first, out, ["dir/ok"])  # the rest is still there
    assert (out / "dir" / "ok").read_bytes() == b"fine"


def test_truncated_pack_is_named_by_a_structure_check(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, D({b"a": F(os.urandom(5000)), b"b": F(os.urandom(5000))}))
    snap = take(store, "s", src)
    (pack,) = store.index.packs()
    size = os.path.getsize(store_dir / "packs" / pack)
    store.reader.close()
    os.truncate(store_dir / "packs" / pack, size - 100)
    report = verify(store)  # no read_data: sizes alone show it
    assert not report.ok
    assert report.problems[0].snapshot == snap.id
    assert any(pack in p.message and "truncated" in p.message for p in report.problems)


def test_missing_pack_names_the_paths_it_held(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, D({b"a.bin": F(os.urandom(3000)), b"b": F(b"b"), b"old": D({b"c": F(b"c")})}))
    first = take(store, "s", src)
    (first_pack,) = store.index.packs()
    (src / "new.txt").write_text("added later")
    second = take(store, "s", src)  # a new root tree in a new pack; the rest is in the first
    assert len(store.index.packs()) == 2
    os.unlink(store_dir / "packs" / first_pack)
    report = verify(store)
    got = {(p.snapshot, p.path) for p in report.problems}
    assert got == {
        (first.id, "."),
        (first.id, "(snapshot record)"),  # it went with the pack too
        (second.id, "a.bin"),
        (second.id, "b"),
        (second.id, "old"),
    }
    assert all(first_pack in p.message for p in report.problems)


# -- hostile snapshot records ----------------------------------------------------------------------


@pytest.fixture
def arena(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(target, sentinel): a restore target and a file just outside it that must not change."""
    sentinel = tmp_path / "sentinel"
    sentinel.write_bytes(b"keep me")
    target = tmp_path / "arena" / "target"
    target.parent.mkdir()
    yield target, sentinel
    assert sentinel.read_bytes() == b"keep me"
    assert sorted(os.listdir(tmp_path / "arena")) in ([], ["target"])


def _refused_before_writing(store: Store, snap: Snapshot, target: Path) -> None:
    """The restore of *snap* into *target* is refused before it writes anything."""
    with pytest.raises(UserError):
        restore(store, snap, target)
    assert not target.exists(), "something was written before the check"


UNSAFE_NAMES = [b"..", b".", b"a/b", b"", b"x\0y", b"../sentinel"]


@pytest.mark.parametrize("name", UNSAFE_NAMES, ids=repr)
@pytest.mark.parametrize("depth", [0, 2])
def test_unsafe_names_are_refused(
    name: bytes, depth: int, store: Store, arena: tuple[Path, Path], tmp_path: Path
) -> None:
    target, _ = arena
    c = Crafter(store)
    entries = sorted([c.file(name, b"evil"), c.file(b"zz-fine", b"fine")])
    for level in range(depth):
        entries = [c.dir(b"d%d" % level, entries)]
    snap = c.commit("hostile", entries)
    _refused_before_writing(store, snap, target)
    if name != b"a/b":  # see test_export_refuses_what_restore_refuses
        with pytest.raises(UserError):
            export(store, snap, str(tmp_path / "out.tar"))
        assert [n for n in os.listdir(tmp_path) if n.startswith("out.tar")] == []


@pytest.mark.parametrize("case", ["slash", "duplicate", "link-then-dir"])
def test_export_refuses_what_restore_refuses(case: str, store: Store, tmp_path: Path) -> None:
    c = Crafter(store)
    if case == "slash":
        entries = [c.file(b"a/b", b"evil")]
    elif case == "duplicate":
        entries = [c.file(b"a", b"1"), c.file(b"a", b"2")]
    else:
        entries = [c.link(b"a", b"/etc"), c.dir(b"a", [c.file(b"passwd", b"evil")])]
    snap = c.commit("hostile", entries)
    with pytest.raises(UserError):
        restore(store, snap, tmp_path / "target")
    with pytest.raises(UserError):
        export(store, snap, str(tmp_path / "out.tar"))


def test_duplicate_and_unordered_names_are_refused(store: Store, arena: tuple[Path, Path]) -> None:
    target, _ = arena
    c = Crafter(store)
    dup = c.commit("hostile", [c.file(b"a", b"1"), c.file(b"a", b"2")])
    unordered = c.commit("hostile", [c.file(b"b", b"1"), c.file(b"a", b"2")])
    for snap in (dup, unordered):
        _refused_before_writing(store, snap, target)


def test_symlink_then_directory_of_the_same_name_is_refused(
    store: Store, arena: tuple[Path, Path], tmp_path: Path
) -> None:
    """The classic: restore a link to outside, then write 'through' it into the directory."""
    target, _ = arena
    c = Crafter(store)
    snap = c.commit(
        "hostile",
        [
            c.link(b"a", os.fsencode(tmp_path)),
            c.dir(b"a", [c.file(b"sentinel", b"overwritten!")]),
        ],
    )
    _refused_before_writing(store, snap, target)


def test_chosen_path_through_a_symlink_entry_is_refused(
    store: Store, arena: tuple[Path, Path], tmp_path: Path
) -> None:
    target, _ = arena
    c = Crafter(store)
    snap = c.commit("hostile", [c.link(b"a", os.fsencode(tmp_path))])
    with pytest.raises(UserError):
        restore(store, snap, target, ["a/sentinel"])


def test_unknown_entry_kind_is_refused(store: Store, arena: tuple[Path, Path]) -> None:
    target, _ = arena
    c = Crafter(store)
    weird = Entry(b"dev", 9, 0o644, 10**18, 0, b"")
    snap = c.commit("hostile", [c.file(b"a", b"1"), weird])
    _refused_before_writing(store, snap, target)


def test_set_id_bits_are_stripped(store: Store, arena: tuple[Path, Path]) -> None:
    target, _ = arena
    c = Crafter(store)
    snap = c.commit(
        "hostile",
        sorted(
            [
                c.file(b"suid", b"#!/bin/sh\n", mode=0o4755),
                c.file(b"sgid", b"x", mode=0o2711),
                c.dir(b"sticky", [c.file(b"f", b"f", mode=0o6777)], mode=0o3777),
            ]
        ),
    )
    restore(store, snap, target)
    modes = {k: v.mode for k, v in scan(target).items()}
    assert modes == {
        b"suid": 0o755,
        b"sgid": 0o711,
        b"sticky": 0o1777,  # the sticky bit kept; set-gid off a folder anyone writes into
        b"sticky/f": 0o777,
    }


def test_entry_pointing_at_a_missing_object_is_a_user_error(
    store: Store, arena: tuple[Path, Path]
) -> None:
    target, _ = arena
    c = Crafter(store)
    ghost = Entry(b"ghost", FILE, 0o644, 10**18, 5, b"\x01" * 32)
    ghost_dir = Entry(b"ghost-dir", DIR, 0o755, 10**18, 0, b"\x02" * 32)
    snap = c.commit("hostile", [ghost])
    with pytest.raises(UserError):
        restore(store, snap, target)
    assert [n for n in os.listdir(target) if n.startswith(".gsnap-")] == []
    report = verify(store)
    assert [(p.snapshot, p.path) for p in report.problems] == [(snap.id, "ghost")]
    snap2 = Crafter(store).commit("hostile2", [ghost_dir])
    with pytest.raises(UserError):
        restore(store, snap2, target)


# -- retention and garbage collection --------------------------------------------------------------


def _snaps(created: list[float]) -> list[Snapshot]:
    return [
        Snapshot(100 + i, "s", i + 1, c, "t", "", "/w", b"", 0, 0, 0, 0)
        for i, c in enumerate(created)
    ]


def test_policy_keep_last_and_keep_within() -> None:
    now = 1_000_000.0
    snaps = _snaps([now - h * 3600 for h in range(10, 0, -1)])  # ids 1..10, 10h..1h old

    def ids(sel: list[Snapshot]) -> list[int]:
        return sorted(s.id for s in sel)

    assert ids(Policy(keep_last=3).select(snaps, now)) == list(range(1, 8))
    assert ids(Policy(keep_within=3.5 * 3600).select(snaps, now)) == list(range(1, 8))
    assert ids(Policy(keep_last=2, keep_within=5.5 * 3600).select(snaps, now)) == [1, 2, 3, 4, 5]
    assert ids(Policy(keep_last=0).select(snaps, now)) == list(range(1, 10))
    assert ids(Policy(keep_within=1.0).select(snaps, now)) == list(range(1, 10))
    assert Policy().select(snaps, now) == []
    assert Policy(keep_last=1).select([], now) == []
    assert Policy(keep_last=100).select(snaps, now) == []


@settings(max_examples=200, deadline=None)
@given(
    created=st.lists(st.floats(0, 1e6), min_size=1, max_size=12),
    keep_last=st.none() | st.integers(0, 5),
    keep_within=st.none() | st.floats(0, 1e6),
)
def test_policy_never_forgets_the_newest(
    created: list[float], keep_last: int | None, keep_within: float | None
) -> None:
    snaps = _snaps(created)
    gone = Policy(keep_last, keep_within).select(snaps, now=1e6)
    newest = max(snaps, key=lambda s: s.id)
    assert newest not in gone
    if keep_last:
        newest_n = sorted(snaps, key=lambda s: s.id)[-keep_last:]
        assert not set(map(id, gone)) & set(map(id, newest_n))
    if keep_within is not None:
        assert all(s.created < 1e6 - keep_within for s in gone)
    if keep_last is None and keep_within is None:
        assert gone == []


def test_parse_duration() -> None:
    assert parse_duration("1d12h") == 36 * 3600
    assert parse_duration("2w") == 14 * 86400
    assert parse_duration("90m") == 5400
    for bad in ("", "12", "d", "1x", "-1d", "0d"):
        with pytest.raises(UserError):
            parse_duration(bad)


def test_forget_and_gc_reclaim_space(store: Store, store_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, D({b"keep.txt": F(b"always here"), b"sub": D({b"x": F(b"x")})}))
    expected: dict[int, dict[bytes, Seen]] = {}
    for i in range(4):
        (src / "big").write_bytes(os.urandom(1 << 20))
        (src / "sub" / f"f{i}").write_bytes(os.urandom(1000))
        snap = take(store, "s", src)
        expected[snap.id] = scan(src)
    before = pack_bytes(store_dir)
    dry = forget_by_policy(store, Policy(keep_last=2), ["s"], dry_run=True)
    assert [s.id for s in dry] == [1, 2] and len(store.snapshots("s")) == 4
    gone = forget_by_policy(store, Policy(keep_last=2), ["s"])
    assert [s.id for s in gone] == [1, 2]
    assert before <= pack_bytes(store_dir) < before + 1000  # forgetting adds a tombstone
    before = pack_bytes(store_dir)
    report = gc(store)
    assert report.ran and report.objects_removed >= 2
    after = pack_bytes(store_dir)
    assert before - after > (2 << 20) * 0.95, (before, after)
    assert report.bytes_freed == before - after
    for k in (1, 2):
        del expected[k]
    _check_store(store_dir, "s", expected, tmp_path)
    with Store(store_dir) as s2:
        nxt = take(s2, "s", src)
        assert nxt.id == 5, "ids are never reused"


def test_gc_with_nothing_to_collect_changes_nothing(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, random_tree(seed=9, files=500, max_size=60))
    take(store, "s", src)
    files_before = {n: os.path.getsize(store_dir / "packs" / n) for n in pack_names(store_dir)}
    report = gc(store)
    assert (report.objects_removed, report.packs_removed, report.packs_rewritten) == (0, 0, 0)
    assert {n: os.path.getsize(store_dir / "packs" / n) for n in pack_names(store_dir)} == (
        files_before
    )


def test_gc_repacks_mostly_dead_packs(store: Store, store_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, D({b"small": F(b"live"), b"big": F(os.urandom(1 << 20))}))
    take(store, "s", src)
    (src / "big").unlink()
    snap = take(store, "s", src)
    forget_by_policy(store, Policy(keep_last=1), ["s"])
    first_pack_before = pack_names(store_dir)
    report = gc(store)
    assert report.packs_rewritten >= 1
    assert pack_names(store_dir) != first_pack_before
    assert pack_bytes(store_dir) < 100_000
    assert verify(store, read_data=True).ok
    assert snapshot_contents(store, snap)[b"small"].data == b"live"


def test_gc_invalidates_the_files_cache(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache of a directory whose snapshots were collected must not be trusted."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    gc(store)  # not the first gc: each one must invalidate the caches again
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    build(d1, D({b"only-in-d1": F(os.urandom(2000)), b"sub": D({b"y": F(os.urandom(100))})}))
    build(d2, D({b"other": F(b"d2")}))
    time.sleep(0.02)
    take(store, "s", d1)  # caches d1's file and tree keys
    take(store, "s", d2)
    forget_by_policy(store, Policy(keep_last=1), ["s"])
    assert gc(store).objects_removed >= 3
    again = take(store, "s", d1)  # unchanged on disk: the cache would say "known"
    assert verify(store, read_data=True).ok
    assert diff(scan(d1), snapshot_contents(store, again)) == []


def test_gc_does_not_wait_when_told_not_to(store_dir: Path) -> None:
    with Store(store_dir) as writer, Store(store_dir) as collector:
        with writer.lock():  # a snapshot in progress
            assert gc(collector, wait=False).ran is False
        assert gc(collector, wait=False).ran is True


def test_crafted_snapshot_helper_roundtrips(store: Store, tmp_path: Path) -> None:
    """The hand-made snapshots above are real ones when their names are fine."""
    c = Crafter(store)
    snap = c.commit(
        "crafted", [c.dir(b"d", [c.file(b"f", b"data", mode=0o600)]), c.link(b"l", b"d/f")]
    )
    out = tmp_path / "out"
    restore(store, snap, out)
    got = scan(out, mtimes=False)
    assert got[b"d/f"] == Seen("file", 0o600, 0, b"data")
    assert got[b"l"] == Seen("link", 0, 0, b"d/f")
    assert verify(store, [snap], read_data=True).ok
