"""A restore SIGKILLed while it creates a new file (one whose name held nothing) leaves nothing
half-written under a real name: each file present is whole, with its mode and mtime, or it is
absent (session 10). Before, a new file of at most restorer.WHOLE was created under its own
name and then written: a kill between the two (or before its mtime was set) left it cut short
under its real name, where nothing said it was not the restored file.

The child process SIGKILLs itself at the n-th write of a new file's content (half of it
written), or right after it (content whole, mtime not yet set), in the calling thread or in a
writer process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store

T0 = 1_600_000_000_123_456_789

CHILD = """
import os, signal, sys
from git_snapshot.store import Store
from git_snapshot.store import restore_write
from git_snapshot.store import restorer
store, out, point, nth, threads, processes = sys.argv[1:7]
count = [0]
pwrite_all = restore_write._pwrite_all

def kill() -> None:
    count[0] += 1
    if count[0] == int(nth):
        os.kill(os.getpid(), signal.SIGKILL)

def pwrite(fd, data, offset):
    if point == "half":
        half = len(data) // 2
        pwrite_all(fd, data[:half], offset)
        kill()
        pwrite_all(fd, data[half:], offset + half)
    else:
        pwrite_all(fd, data, offset)
        kill()

restore_write._pwrite_all = pwrite
restore_write._native_put = None  # the C loop calls no _pwrite_all
if os.environ.get("GS_NO_TMPFILE"):  # a file system without O_TMPFILE: a temp name
    restore_write._TMPFILE = 0
with Store(store) as s:
    r = restorer.Restorer(s, threads=int(threads), processes=processes == "1")
    try:
        r.restore(s.get("s", "latest"), out, None)
    except Exception as exc:  # a writer process killed itself: the restore stops
        print(exc, file=sys.stderr)
"""


def _tree() -> D:
    return D(
        {
            b"d%d" % j: D(
                {
                    b"f%03d" % i: F(os.urandom(1000 + 37 * i), 0o640 + (i % 2), T0 + i)
                    for i in range(40)
                },
                0o755,
                T0,
            )
            for j in range(15)
        }
    )


@pytest.mark.parametrize(
    ("point", "threads", "processes", "tmpfile"),
    [
        ("half", 0, False, True),
        ("after", 0, False, True),
        ("half", 2, True, True),
        ("after", 2, True, True),
        ("half", 0, False, False),
    ],
)
def test_a_killed_restore_leaves_no_new_file_cut_short(
    store: Store,
    store_dir: Path,
    tmp_path: Path,
    point: str,
    threads: int,
    processes: bool,
    tmpfile: bool,
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    snap = take(store, "s", src)
    want = snapshot_contents(store, snap)
    out = tmp_path / "out"
    argv = [sys.executable, "-c", CHILD, str(store_dir), str(out), point, "30"]
    env = dict(os.environ, GS_NO_TMPFILE="" if tmpfile else "1")
    argv += [str(threads), str(int(processes))]
    ran = subprocess.run(argv, check=False, timeout=120, env=env)
    if threads == 0:
        assert ran.returncode == -9, "the restore was not killed: the test proves nothing"
    got = scan(out)
    left = [p for p in got if b".gsnap-tmp-" in p]
    if tmpfile:  # nothing of it is left behind
        assert left == []
    else:  # one temp file, never under a real name, which the next restore there removes
        assert len(left) <= 1
        got = {p: s for p, s in got.items() if p not in left}
    files = {p: s for p, s in got.items() if s.kind == "file"}
    assert 0 < len(files) < 600, "killed before or after it wrote"
    wrong = {p: (s, want[p]) for p, s in files.items() if s != want[p]}
    assert wrong == {}
    restore(store, snap, out)  # the same restore again finishes it
    assert diff(want, scan(out)) == []


def test_a_symlink_left_with_another_mtime_gets_its_own_again(store: Store, tmp_path: Path) -> None:
    """A restore killed between a new symlink's symlink() and its utimensat leaves it with the
    time of the kill; the same restore again gives it its mtime (it only compared the target,
    so the wrong mtime stayed for good)."""
    src = tmp_path / "src"
    build(src, D({b"d": D({b"link": L(b"target/x", T0 + 5), b"f": F(b"x", 0o644, T0)})}))
    snap = take(store, "s", src)
    out = tmp_path / "out"
    restore(store, snap, out)
    os.utime(out / "d" / "link", ns=(T0 + 99, T0 + 99), follow_symlinks=False)
    restore(store, snap, out)
    assert os.lstat(out / "d" / "link").st_mtime_ns == T0 + 5
    assert diff(snapshot_contents(store, snap), scan(out)) == []
