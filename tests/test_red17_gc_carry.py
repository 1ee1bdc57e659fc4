"""Red team (session 17) on gc's carried files cache (gc._carry_caches): gc killed between
its new generation and the carry, or in the middle of the carry's append (a torn write, as a
crash leaves it). The cache is then of the old generation or fails its check: the next
snapshot reads every file again and is byte-exact, and every snapshot restores as taken."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from storehelpers import diff
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take
from test_filescache import Reads
from test_filescache import settle
from test_gc import TESTS
from test_gc import _restores
from test_gc import _three_snapshots

from git_snapshot.store import Store
from git_snapshot.store import walker
from git_snapshot.store.gc import gc
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import forget_by_policy

_CHILD = """
import os, signal, sys
from git_snapshot.store import Store, gc as gcmod

where = sys.argv[2]
with Store(sys.argv[1]) as store:
    if where == "before-carry":  # the new generation committed, no cache carried yet
        def carry(*a, **kw):
            os.kill(os.getpid(), signal.SIGKILL)
        gcmod._carry_caches = carry
    else:  # half of the carry's append written, then the crash
        real = os.pwrite
        def pwrite(fd, data, offset):
            if "/cache/" in os.readlink(f"/proc/self/fd/{fd}"):
                real(fd, bytes(data[: len(data) // 2]), offset)
                os.kill(os.getpid(), signal.SIGKILL)
            return real(fd, data, offset)
        os.pwrite = pwrite
    gcmod.gc(store)
"""


@pytest.mark.parametrize("where", ["before-carry", "torn-append"])
def test_gc_killed_around_the_carry_loses_nothing(
    where: str, store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(walker, "RACY_NS", 0)
    src = tmp_path / "src"
    with Store(store_dir) as s:
        expected = _three_snapshots(s, src)
        forget_by_policy(s, Policy(keep_last=1), ["s"])
        generation = s.index.meta_get("generation", "0")
    del expected[1], expected[2]
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, str(store_dir), where],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONPATH": TESTS + os.pathsep + os.environ.get("PYTHONPATH", "")},
    )
    assert res.returncode == -signal.SIGKILL, f"never reached {where}: {res.stderr}"
    with Store(store_dir) as s:
        assert s.index.meta_get("generation", "0") != generation  # gc_drop committed
        _restores(s, expected, tmp_path / "out")
        settle()
        reads = Reads(monkeypatch, tmp_path)
        snap = take(s, "s", src)
        # the cache was not trusted: every file read again (small1, small2)
        assert sorted(reads.paths) == [b"src/small1", b"src/small2"]
        assert diff(scan(src), snapshot_contents(s, snap)) == []
        expected[snap.id] = scan(src)
        report = gc(s)  # the killed gc's work finishes
        assert report.ran
        (src / "small1").write_bytes(b"after both gcs")
        settle()
        snap = take(s, "s", src)
        assert diff(scan(src), snapshot_contents(s, snap)) == []
        expected[snap.id] = scan(src)
        _restores(s, expected, tmp_path / "out2")
