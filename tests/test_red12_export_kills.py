"""Red team (session 15): an export killed (SIGKILL) at each of its write system calls
(strace's fault injection: its store/temps record, the archive's temp file, the link that
names it, the removals). Afterwards the archive's name holds nothing or the whole archive,
never part of one; the next export leaves exactly the archive beside the user's files named
like temp files (kept), and no record in store/temps."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from reliabilityhelpers import KILLED
from reliabilityhelpers import sample
from reliabilityhelpers import strace_prefix
from reliabilityhelpers import write_points
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import take
from storehelpers import tar_members

from git_snapshot.store import Store
from git_snapshot.store import leftovers
from git_snapshot.store.export import export

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed"),
]

EXPORT = """
import sys
from git_snapshot.store import Store
from git_snapshot.store.export import export
with Store(sys.argv[1]) as store:
    export(store, store.get("s", "latest"), sys.argv[2], overwrite=True)
"""

USERS = ["snap.tar.1.tmp", ".gsnap-tmp-0123456789ab-snap.tar"]  # named like temp files
KILLS = 14


def test_an_export_killed_at_each_write_leaves_no_part_and_no_record(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    files = {b"big": os.urandom(300_000), b"small": b"small\n", b"d/f": os.urandom(5000)}
    build(
        src,
        D(
            {
                b"big": F(files[b"big"]),
                b"small": F(files[b"small"]),
                b"d": D({b"f": F(files[b"d/f"])}),
            }
        ),
    )
    take(store, "s", src)
    want = {os.fsdecode(k): v for k, v in files.items()}
    out = tmp_path / "out"
    archive = out / "snap.tar"
    log = tmp_path / "trace"

    def run(prefix: list[str]) -> int:
        argv = [*prefix, sys.executable, "-c", EXPORT, str(store_dir), str(archive)]
        return subprocess.run(argv, capture_output=True, timeout=120).returncode

    def fresh() -> None:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        for name in USERS:
            (out / name).write_text("the user's\n")

    fresh()
    assert run(strace_prefix(log)) == 0
    points = write_points(log.read_text())
    kills = 0
    for syscall, nth in [*sample(points, KILLS), ("link", 1)]:  # (link: the naming)
        fresh()
        rc = run(strace_prefix(log, syscall, nth))
        where = f"killed at {syscall} #{nth}"
        kills += rc in KILLED
        if archive.exists():  # named only once whole
            members = tar_members(archive)
            assert {k: v for k, v in members.items() if k in want} == want, where
        export(store, store.get("s", "latest"), str(archive), overwrite=True)
        assert sorted(os.listdir(out)) == sorted(["snap.tar", *USERS]), where
        for name in USERS:
            assert (out / name).read_text() == "the user's\n", where
        assert {k: v for k, v in tar_members(archive).items() if k in want} == want, where
        assert set(os.listdir(store_dir / leftovers.RUNS)) <= {leftovers.SPARE}, where
    assert kills >= KILLS // 2, f"only {kills} runs were killed"
