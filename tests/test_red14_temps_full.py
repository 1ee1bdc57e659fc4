"""A restore or export gives temp names in the user's folders only after the store's record
of its run names each folder (store/leftovers.Run): that record is the only proof that a
killed run's temp file is litter. With the store's disk full the record could not be written,
silently: the run went on, and if it was killed its temp files (a half-written copy of a
file, a half-written archive) stayed in the user's folders for ever, taken for the user's
(never removed; snapshotted and restored as theirs). Nothing of the user's was lost (a live
run's temp file is held by flock, never removed), but litter that looks like theirs is.

Now the store keeps a small spare file in temps/ (made while the disk has room): a record
write that finds the disk full gives it up and writes again, so the proof is written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from fullfs import fill
from fullfs import small_fs
from fullfs import unfill
from storehelpers import EXPORT_KILLER
from storehelpers import RESTORE_KILLER
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import restore
from storehelpers import scan
from storehelpers import take
from test_red11_temp_names import temps

from git_snapshot.store import Store
from git_snapshot.store import leftovers
from git_snapshot.store.export import export
from git_snapshot.store.safewrite import is_temp_name


def _killed(script: str, store: Path, target: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-c", script, str(store), str(target)], capture_output=True
    )
    assert res.returncode == -signal.SIGKILL, res.stderr


def test_a_restore_killed_while_the_stores_disk_is_full_leaves_proven_litter(
    tmp_path: Path,
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    build(src, D({b"big": F(os.urandom(300_000)), b"d": D({b"f": F(os.urandom(5000))})}))
    with small_fs(tmp_path) as mnt:
        with Store(mnt / "store") as store:
            take(store, "s", src)
            restore(store, store.get("s", "latest"), tmp_path / "first")  # temps/ is there
        fill(mnt)
        _killed(RESTORE_KILLER, mnt / "store", out)
        left = temps(out)
        assert left, "the kill left no temp file: the test proves nothing"
        assert os.listdir(mnt / "store" / leftovers.RUNS), "no record at all"
        leftovers.clean_runs(str(mnt / "store"))  # what the next restore or gc runs
        assert temps(out) == [], "a killed restore's temp file stayed, unproven"
        # and while the disk is still full, the next restore into it works and is whole
        with Store(mnt / "store") as store:
            restore(store, store.get("s", "latest"), out)
        assert scan(out, mtimes=False) == scan(src, mtimes=False)
        unfill(mnt)


def test_an_export_killed_while_the_stores_disk_is_full_leaves_proven_litter(
    tmp_path: Path,
) -> None:
    src, killed = tmp_path / "src", tmp_path / "killed"
    build(src, D({b"a": F(os.urandom(100_000)), b"b": F(b"b")}))
    killed.mkdir()
    with small_fs(tmp_path) as mnt:
        with Store(mnt / "store") as store:
            take(store, "s", src)
            export(store, store.get("s", "latest"), str(tmp_path / "first.tar"))
        fill(mnt)
        _killed(EXPORT_KILLER, mnt / "store", killed / "snap.tar")
        assert [n for n in os.listdir(killed) if is_temp_name(os.fsencode(n))]
        with Store(mnt / "store") as store:
            export(store, store.get("s", "latest"), str(killed / "snap.tar"))
        assert os.listdir(killed) == ["snap.tar"], os.listdir(killed)
        unfill(mnt)


def test_a_run_killed_before_its_first_temp_name_leaves_no_record(tmp_path: Path) -> None:
    """A record is named only once held and begun: a dead run's that names no folder yet
    goes at the next clean at once, not after a minute (an empty one made by name might be a
    live run's between its creation and its lock)."""
    store = tmp_path / "store"
    store.mkdir()
    script = (
        "import os, signal, sys\n"
        "from git_snapshot.store import leftovers\n"
        "leftovers.Run._watch = lambda self: None\n"  # (NO_JANITOR: its record left)
        "leftovers.Run(sys.argv[1])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    _killed(script, store, tmp_path)
    runs = store / leftovers.RUNS
    assert len(set(os.listdir(runs)) - {leftovers.SPARE}) == 1
    leftovers.clean_runs(str(store))
    assert set(os.listdir(runs)) <= {leftovers.SPARE}
