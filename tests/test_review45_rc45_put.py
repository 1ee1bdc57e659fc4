"""Review RC45 of cw45 (a restore's writers' per-file loop in C, _readmany.put, and its twin
Writing._put_files_py):

- put read each file's name and link target from work[k], a tuple it did not own, with the GIL
  let go, and indexed the caller's lists after Python code had run (a key's __hash__ in the
  kept dict or the shared set): a work list changed meanwhile crashed the interpreter
  (segmentation fault). put now holds its own references to work[i:j] and a span's contents.
- os.fchmod (the twin's) is tried again on EINTR, put's fchmod was not: a restore stopped
  ('restore stopped at d/f: Interrupted system call') where the twin restored everything.
- A group that could not be read with an empty message: put named its members 'is
  unreadable: ' (as before cw45), the twin 'is unreadable: object lies past the end of its
  group', which was not what happened.

The system-call faults are injected with strace (skipped where it is missing or may not
trace); every answer is compared between the C loop and the Python one."""

from __future__ import annotations

import hashlib
import os
import shutil
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
from git_snapshot.store import restore_write

T0 = 1_600_000_000_123_456_789
needs_c = pytest.mark.skipif(restore_write._native_put is None, reason="_readmany is not built")

HASH_CLEARS_WORK = """
import hashlib, os, sys
from git_snapshot.store import _readmany
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
work = []

class Key(bytes):
    def __hash__(self):  # run by the kept dict's lookup, with put in the middle of work
        work.clear()
        return bytes.__hash__(self)

key = Key(hashlib.sha256(b"m").digest())
for i in range(3):
    work.append((fd, b"n%d-" % i + b"x" * 40, 0o644, 5, key, ("p", 0, 0, 1, 0)))
print(_readmany.put(work, 0, 3, b"m", None, 0, -2, 0o22, [], [], {}, set(), 100))
"""


@needs_c
def test_put_reads_nothing_the_caller_frees_meanwhile(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ran = subprocess.run(
        [sys.executable, "-c", HASH_CLEARS_WORK, str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert ran.returncode == 0, (ran.returncode, ran.stderr)  # was -11 (SIGSEGV)
    assert ran.stdout.strip() == "(3, 0, 0, None, 0)"  # the three files, done
    assert sorted(p.name for p in out.iterdir()) == [f"n{i}-" + "x" * 40 for i in range(3)]


def _writing() -> restore_write.Writing:
    w = restore_write.Writing.__new__(restore_write.Writing)
    w.umask, w.unnamed, w.proc_fd, w.temps = 0o022, True, -1, None
    w.kept, w.shared, w.kept_bytes = {}, set(), 0
    return w


@needs_c
@pytest.mark.parametrize("why", ["", "zstd: data corrupted", None])
def test_a_group_that_cannot_be_read_names_its_members_alike_in_both_loops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, why: str | None
) -> None:
    """_members hands put and its twin b"" and str(exc) when the group could not be read;
    with why None, b"" is a group the members lie past the end of."""
    key = hashlib.sha256(b"abc").digest()
    seen = {}
    for native in (True, False):
        monkeypatch.setattr(
            restore_write, "_native_put", restore_write._choose_put() if native else None
        )
        out = tmp_path / ("c" if native else "py")
        out.mkdir()
        fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
        try:
            work: list[restore_write._Work] = [
                (fd, b"a", 0o644, T0, key, ("p", 0, 9, 3, 0)),
                (fd, b"b", 0o644, T0, key, ("p", 0, 9, 3, 3)),
            ]
            taken: list[int] = []
            damaged: list[tuple[int, bytes, str]] = []
            got = _writing()._put_files(work, 0, 2, b"", why, 0, taken, damaged)
        finally:
            os.close(fd)
        assert got == (2, restore_write._DONE, None)
        assert taken == [] and list(out.iterdir()) == []
        seen[native] = damaged
    said = "object lies past the end of its group" if why is None else why
    want = f"object {key.hex()[:16]} in pack p is unreadable: {said}"
    assert seen[True] == seen[False] == [(0, key, want), (1, key, want)]


CHILD = """
import os, sys
from git_snapshot.store import Store
from git_snapshot.store import restore_write
from git_snapshot.store.restorer import Restorer
assert restore_write._native_put is not None, "no C loop"
if sys.argv[3] == "py":
    restore_write._native_put = None
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 0
with Store(sys.argv[1]) as s:
    Restorer(s, threads=threads, processes=threads > 0).restore(
        s.get("s", "latest"), sys.argv[2], None
    )
"""


def _can_trace() -> bool:
    if shutil.which("strace") is None:
        return False
    ran = subprocess.run(["strace", "-qq", "-o", "/dev/null", "true"], check=False)
    return ran.returncode == 0


def _sparse(size: int) -> bytes:
    b = bytearray(size)
    b[0], b[-1] = 1, 2
    return bytes(b)


def _tree(folders: int) -> D:
    tree: dict[bytes, F | L | D] = {
        **{b"f%02d" % i: F(os.urandom(300 + 41 * i), 0o640 + i % 2, T0 + i) for i in range(20)},
        b"sticky": F(b"s", 0o1644, T0),
        b"sparse": F(_sparse(70_000), 0o1600, T0 + 1),
        b"big": F(os.urandom(150_000), 0o600, T0 + 2),
        b"link": L(b"f01", T0 + 3),
    }
    return D({b"d%02d" % j: D(tree, 0o755, T0 + j) for j in range(folders)})


@needs_c
@pytest.mark.skipif(not _can_trace(), reason="no strace here, or it may not trace")
@pytest.mark.parametrize(
    "fault",
    [
        "fchmod:EINTR:2",  # tried again by both (was: the C loop stopped the restore)
        "pwrite64:ENOSPC:20",  # a full disk: the restore stops at that file
        "ftruncate:ENOSPC:3",  # a sparse file's end
        "linkat:ENOENT:10",  # no /proc after all: that file and the rest the named way
        "linkat:EEXIST:10",  # a name taken meanwhile: the careful way
        "utimensat:EPERM:25",  # a file the system refuses an mtime: named unwritable
    ],
)
def test_a_failing_system_call_gives_the_same_restore_in_both_loops(
    store: Store, store_dir: Path, tmp_path: Path, fault: str
) -> None:
    call, error, nth = fault.split(":")
    build(tmp_path / "src", _tree(2))
    take(store, "s", tmp_path / "src")
    seen = {}
    for loop in ("c", "py"):
        out = tmp_path / loop
        argv = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={call}", "-e"]
        argv += [f"inject={call}:error={error}:when={nth}"]
        argv += [sys.executable, "-c", CHILD, str(store_dir), str(out), loop]
        ran = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
        assert "no C loop" not in ran.stderr
        last = ran.stderr.strip().splitlines()[-1:] if ran.returncode else []
        got = {p: (s.kind, s.data) if s.kind == "dir" else s for p, s in scan(out).items()}
        assert not any(b".gsnap-tmp-" in p for p in got)  # (a folder left: the time it stopped)
        seen[loop] = (ran.returncode, [ln.replace(str(out), "OUT") for ln in last], got)
    assert seen["c"] == seen["py"]


@needs_c
@pytest.mark.skipif(not _can_trace(), reason="no strace here, or it may not trace")
@pytest.mark.parametrize(
    ("call", "nth", "threads"),
    [
        ("pwrite64", 40, 0),  # a file half written (or before its first byte)
        ("ftruncate", 4, 0),  # a sparse file written, its size not yet
        ("fchmod", 3, 0),  # written, its mode not yet
        ("utimensat", 40, 0),  # written, its mtime not yet
        ("linkat", 40, 0),  # whole, not yet named
        ("symlinkat", 4, 0),
        ("pwrite64", 30, 2),  # in a writer process
        ("linkat", 30, 2),
    ],
)
def test_a_restore_killed_at_each_call_of_the_c_loop_leaves_nothing_cut_short(
    store: Store, store_dir: Path, tmp_path: Path, call: str, nth: int, threads: int
) -> None:
    """What tests/test_restore_killed_new.py checks of the Python loop (it kills through
    _pwrite_all, which the C loop never calls: since cw45 it turns the C loop off), here of
    the C loop: SIGKILLed at the n-th call of each system call it makes (strace), the restore
    leaves every file present whole, with its mode and mtime, no temp name, and the same
    restore again finishes it."""
    build(tmp_path / "src", _tree(8))
    snap = take(store, "s", tmp_path / "src")
    want = snapshot_contents(store, snap)
    out = tmp_path / "out"
    argv = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={call}", "-e"]
    argv += [f"inject={call}:signal=KILL:when={nth}"]
    argv += [sys.executable, "-c", CHILD, str(store_dir), str(out), "c", str(threads)]
    ran = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    assert "no C loop" not in ran.stderr
    if threads:  # a writer process killed: the restore stops
        assert "a writer process ended before its work was done" in ran.stderr, ran.stderr
    else:
        assert ran.returncode in (-9, 128 + 9), (ran.returncode, ran.stderr)
    got = scan(out)
    assert not any(b".gsnap-tmp-" in p for p in got)
    made = {p: s for p, s in got.items() if s.kind != "dir"}
    assert 0 < len(made) < 8 * 24, "killed before or after it wrote"
    assert {p: (s, want[p]) for p, s in made.items() if s != want[p]} == {}
    restore(store, snap, out)
    assert diff(want, scan(out)) == []
