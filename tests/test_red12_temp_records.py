"""Red team (session 15): a killed restore's or export's record in the store's temps/ (the
proof that its temp files are leftovers) went nowhere: one tiny file per killed run, for
ever. Now the end of each restore or export (clean_runs) handles a dead run's record: its temp
files in the folders it names are removed, then the record goes. A live run's record (held)
stays; a record naming a folder that is no longer where it was stays a week (the walk of
that folder, wherever it went, still finds its leftovers proven), then goes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from storehelpers import EXPORT_KILLER
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import live_run
from storehelpers import take
from test_red11_temp_names import killed_restore
from test_red11_temp_names import temps

from git_snapshot.store import Store
from git_snapshot.store import leftovers
from git_snapshot.store.export import export
from git_snapshot.store.gc import gc
from git_snapshot.store.leftovers import clean_runs
from git_snapshot.store.safewrite import is_temp_name

WEEK = 7 * 24 * 3600


def records(store_dir: Path) -> list[str]:
    runs = store_dir / leftovers.RUNS
    return sorted(set(os.listdir(runs)) - {leftovers.SPARE}) if runs.is_dir() else []


def age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_a_killed_restores_leftovers_then_its_record_go(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    _src, out = killed_restore(store_dir, tmp_path, store)
    assert len(records(store_dir)) == 1
    clean_runs(str(store_dir))
    assert temps(out) == []
    assert records(store_dir) == []


def test_the_next_export_removes_a_killed_exports_record(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, D({b"a": F(os.urandom(100_000)), b"b": F(b"b")}))
    take(store, "s", src)
    killed, elsewhere = tmp_path / "killed", tmp_path / "elsewhere"
    killed.mkdir()
    elsewhere.mkdir()
    res = subprocess.run(
        [sys.executable, "-c", EXPORT_KILLER, str(store_dir), str(killed / "snap.tar")],
        capture_output=True,
    )
    assert res.returncode == -signal.SIGKILL, res.stderr
    assert [n for n in os.listdir(killed) if is_temp_name(os.fsencode(n))]
    assert len(records(store_dir)) == 1
    export(store, store.get("s", "latest"), str(elsewhere / "snap.tar"))
    assert os.listdir(killed) == []
    assert records(store_dir) == []


def test_a_live_runs_record_and_temp_files_stay(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, D({b"a.txt": F(b"a\n")}))
    run, [name] = live_run(store_dir, src, b"f")  # a restore writing in src/ right now
    (src / os.fsdecode(name)).write_bytes(b"half")
    age(store_dir / leftovers.RUNS / run.tag, 2 * WEEK)  # however old
    clean_runs(str(store_dir))
    assert records(store_dir) == [run.tag]
    assert temps(src) == [name]
    run.close()
    assert records(store_dir) == []


def test_a_moved_folders_leftover_stays_proven_for_a_week(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    _src, out = killed_restore(store_dir, tmp_path, store)
    moved = tmp_path / "moved"
    os.rename(out, moved)
    (tag,) = records(store_dir)
    clean_runs(str(store_dir))
    assert records(store_dir) == [tag]  # its folder is not where it was: kept
    take(store, "m", moved)  # the walk of the moved folder still knows its leftovers
    assert temps(moved) == []
    clean_runs(str(store_dir))
    assert records(store_dir) == [tag]
    age(store_dir / leftovers.RUNS / tag, WEEK + 60)
    clean_runs(str(store_dir))
    assert records(store_dir) == []


def test_a_run_that_just_made_its_record_keeps_it(store: Store, store_dir: Path) -> None:
    """A run creates its record, then locks it: an empty record may be that moment's."""
    runs = store_dir / leftovers.RUNS
    runs.mkdir(exist_ok=True)
    (runs / "abc123").write_bytes(b"")
    clean_runs(str(store_dir))
    assert records(store_dir) == ["abc123"]
    age(runs / "abc123", 120)
    clean_runs(str(store_dir))
    assert records(store_dir) == []


def test_hostile_records_neither_fail_nor_reach_outside(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    build(victim, D({b".gsnap-tmp-abc123000000-x": F(b"mine\n")}))
    st = os.stat(victim)
    runs = store_dir / leftovers.RUNS
    runs.mkdir(exist_ok=True)
    bad = {
        "abc123": b"%d %d zz-not-hex\n\x00\xff garbage\n99999999999999999999999 1 00\n"
        % (st.st_dev, st.st_ino),
        "def456": b"%d %d %s\n" % (st.st_dev + 1, st.st_ino, os.fsencode(victim).hex().encode()),
        "not-a-tag..": b"",
    }
    for name, data in bad.items():
        (runs / name).write_bytes(data)
    (runs / "sub").mkdir()
    os.symlink(victim, runs / "0a0a0a")
    clean_runs(str(store_dir))
    assert (victim / ".gsnap-tmp-abc123000000-x").read_bytes() == b"mine\n"
    assert set(records(store_dir)) >= {"abc123", "def456", "not-a-tag..", "sub", "0a0a0a"}
    for name in ("abc123", "def456"):
        age(runs / name, WEEK + 60)
    clean_runs(str(store_dir))
    assert (victim / ".gsnap-tmp-abc123000000-x").read_bytes() == b"mine\n"
    assert "abc123" not in records(store_dir) and "def456" not in records(store_dir)


def test_a_fifo_for_a_record_does_not_hang_a_snapshot(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    """verdict() opened temps/<tag> to read it: a FIFO there blocked the walk for ever."""
    runs = store_dir / leftovers.RUNS
    runs.mkdir(exist_ok=True)
    os.mkfifo(runs / "abc123")
    src = tmp_path / "src"
    build(src, D({b".gsnap-tmp-abc123000000-x": F(b"mine\n")}))
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from git_snapshot.store import leftovers; "
            "print(leftovers.verdict_at(sys.argv[1], sys.argv[2].encode()))",
            str(store_dir),
            str(src / ".gsnap-tmp-abc123000000-x"),
        ],
        capture_output=True,
        timeout=20,
    )
    assert res.stdout == b"False\n", res
    clean_runs(str(store_dir))
    assert (runs / "abc123").exists()


def test_gc_handles_a_killed_restores_record(store: Store, store_dir: Path, tmp_path: Path) -> None:
    _src, out = killed_restore(store_dir, tmp_path, store)
    assert len(records(store_dir)) == 1
    gc(store)
    assert temps(out) == []
    assert records(store_dir) == []
