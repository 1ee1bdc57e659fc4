"""The fast restore path: names nothing holds yet are created directly, by writer threads or
writer processes.

Byte-exact with modes, symlinks, mtimes, sparse and big files, serial, threaded and forked;
damaged objects named (and recorded) while everything else is written; a full disk is one line
and leaves no file cut short; a killed parallel restore is finished by running it again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelpers import gs
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import build
from storehelpers import diff
from storehelpers import entry_of
from storehelpers import flip_stored
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take
from test_restore_safety import small_fs

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store.restore_plan import PARALLEL_MIN
from git_snapshot.store.restore_plan import WHOLE
from git_snapshot.store.restorer import Damaged

T0 = 1_600_000_000_123_456_789


def _mixed() -> D:
    """Files of every mode and size class, links, empty files, nested and read-only dirs."""
    modes = [0o644, 0o600, 0o755, 0o444, 0o664, 0o775, 0o640, 0o000]
    files: dict[bytes, F | L | D] = {}
    for i in range(160):
        files[b"f%03d" % i] = F(os.urandom(i * 37 % 5000), modes[i % 8], T0 + i * 1_000_001)
    files[b"empty"] = F(b"", 0o644, T0)
    files[b"link"] = L(b"f001", T0 + 5)
    files[b"dangling"] = L(b"../nowhere/x", T0 + 6)
    sparse = b"a" * 5000 + bytes(WHOLE // 2) + b"z"  # read whole, written with a hole
    big = os.urandom(1000) * (WHOLE // 1000 + 100)  # streamed to a temp file, renamed
    tree = D(
        {
            b"sub": D(files, 0o750, T0 + 7),
            b"ro": D({b"a": F(b"A" * 3000, 0o644, T0), b"b": F(b"B", 0o600, T0)}, 0o555, T0 + 8),
            b"deep": D({b"x": D({b"y": D({b"z": F(b"zz", 0o644, T0)}, 0o700, T0)})}, 0o755, T0),
            b"sparse": F(sparse, 0o644, T0 + 9),
            b"big": F(big, 0o600, T0 + 10),
            b"top": F(b"top\n", 0o644, T0 + 11),
        }
    )
    return tree


WRITERS = [(0, None), (3, False), (3, True)]  # serial; three threads; three processes
PARALLEL = [False, True]  # writer threads, writer processes


@pytest.mark.parametrize(("threads", "processes"), WRITERS)
def test_restore_is_byte_exact_serial_threaded_and_forked(
    store: Store, tmp_path: Path, threads: int, processes: bool | None
) -> None:
    src = tmp_path / "src"
    build(src, _mixed())
    snap = take(store, "s", src)
    out = tmp_path / "out"
    old = os.umask(0o027)  # strips bits some files need: they must get them back (fchmod)
    try:
        report = restore(store, snap, out, threads=threads, processes=processes)
    finally:
        os.umask(old)
    assert diff(snapshot_contents(store, snap), scan(out)) == []
    assert diff(scan(src), scan(out)) == []
    assert report.files == len([p for p, s in scan(src).items() if s.kind != "dir"])
    probe = tmp_path / "probe"
    with open(probe, "wb") as f:
        f.truncate(1 << 20)
    if os.stat(probe).st_blocks == 0:  # this file system has holes
        assert os.stat(out / "sparse").st_blocks * 512 < WHOLE // 4
    assert not [n for n in os.listdir(out / "sub") if n.startswith(".gsnap-tmp-")]


@pytest.mark.parametrize("processes", PARALLEL)
def test_restore_into_a_partly_filled_directory(
    store: Store, tmp_path: Path, processes: bool
) -> None:
    """Names already there go the careful way (replaced, never followed); the rest are new."""
    src = tmp_path / "src"
    build(src, D({b"d": D({b"f%03d" % i: F(b"%d" % i * 100) for i in range(50)})}))
    snap = take(store, "s", src)
    out = tmp_path / "out"
    outside = tmp_path / "outside"
    outside.write_bytes(b"keep")
    build(out, D({b"d": D({b"f001": F(b"old"), b"f002": L(os.fsencode(outside))})}))
    restore(store, snap, out, threads=2, processes=processes)
    assert diff(scan(src, mtimes=False), scan(out, mtimes=False)) == []
    assert outside.read_bytes() == b"keep"


@pytest.mark.parametrize("processes", PARALLEL)
def test_damaged_objects_are_named_and_recorded_and_the_rest_written(
    store: Store, store_dir: Path, tmp_path: Path, repo: Path, processes: bool
) -> None:
    spec = D(
        {b"d%d" % j: D({b"f%03d" % i: F(os.urandom(3000)) for i in range(100)}) for j in range(7)}
    )
    bad = [b"d0/f000", b"d3/f050", b"d6/f099"]
    for path in bad:  # frames of their own: damage to a group would take its other members
        d, f = path.split(b"/")
        spec.children[d].children[f] = F(os.urandom(300_000))  # type: ignore[union-attr]
    build(repo, spec)
    gs(repo)
    snap = store.get(store.snapshots()[0].source, "latest")
    assert snap.files >= PARALLEL_MIN  # the CLI takes the threaded path by itself
    for path in bad:
        flip_stored(store_dir, store, entry_of(store, snap, path).ref)
    out = tmp_path / "out"
    with pytest.raises(Damaged) as caught:
        restore(store, snap, out, threads=3, processes=processes)
    assert sorted(p for p, _ in caught.value.damaged) == bad
    assert set(store.index.damaged()) == {entry_of(store, snap, p).ref for p in bad}
    got = scan(out, mtimes=False)
    want = {p: s for p, s in scan(repo, mtimes=False).items() if not p.startswith(b".git")}
    assert diff({p: s for p, s in want.items() if p not in bad}, got) == []
    ran = gs(repo, "restore", str(snap.id), "--to", str(tmp_path / "cli"), rc=1)
    assert "3 damaged path(s)" in ran.err and "d3/f050" in ran.out + ran.err
    assert (tmp_path / "cli" / "d3" / "f051").read_bytes() == (repo / "d3" / "f051").read_bytes()


KILLED_RESTORE = """
import sys
from git_snapshot.store import Store
from git_snapshot.store.restorer import Restorer
with Store(sys.argv[1]) as s:
    forked = sys.argv[3] == "1"
    Restorer(s, threads=3, processes=forked).restore(s.get("s", "latest"), sys.argv[2], None)
"""


@pytest.mark.slow
@pytest.mark.parametrize("processes", PARALLEL)
def test_a_killed_parallel_restore_is_finished_by_running_it_again(
    store: Store, store_dir: Path, tmp_path: Path, processes: bool
) -> None:
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"d%02d" % j: D({b"f%03d" % i: F(os.urandom(2000 + i)) for i in range(150)})
                for j in range(20)
            }
        ),
    )
    snap = take(store, "s", src)
    out = tmp_path / "out"
    argv = [sys.executable, "-c", KILLED_RESTORE, str(store_dir), str(out), str(int(processes))]
    child = subprocess.Popen(argv)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        if out.exists() and sum(len(os.listdir(out / d)) for d in os.listdir(out)) > 300:
            break
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert out.exists()
    partial = scan(out, mtimes=False)
    assert 0 < len(partial) < 3020 or child.returncode == 0, "killed before or after it wrote"
    restore(store, snap, out)  # the same restore again finishes it
    assert diff(snapshot_contents(store, snap), scan(out)) == []


@pytest.mark.parametrize("processes", PARALLEL)
def test_a_full_disk_during_a_parallel_restore_is_one_line_and_cuts_no_file_short(
    store: Store, tmp_path: Path, processes: bool
) -> None:
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"d%d" % j: D({b"f%03d" % i: F(os.urandom(6000)) for i in range(200)})
                for j in range(4)
            }
        ),
    )
    snap = take(store, "s", src)
    with small_fs(tmp_path / "small", size="2m") as small:
        with pytest.raises(UserError) as caught:
            restore(store, snap, small / "out", threads=2, processes=processes)
        assert "No space left" in str(caught.value) and "free space" in str(caught.value)
        written = scan(small / "out", mtimes=False)
        assert written, "nothing was written: the test proves nothing"
        want = scan(src, mtimes=False)
        cut = [p for p, s in written.items() if s.kind == "file" and s != want[p]]
        assert cut == []


@pytest.mark.parametrize(("threads", "processes"), WRITERS)
def test_a_full_disk_names_the_file_it_could_not_create(
    store: Store, tmp_path: Path, threads: int, processes: bool | None
) -> None:
    """Small files whose contents lie in groups, created a group at a time: the one line names
    the file the disk refused, not the first of its group (which was written whole)."""
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"d%d" % j: D(
                    {b"f%03d" % i: F(b"line %d of file %d\n" % (i, j) * 100) for i in range(300)}
                )
                for j in range(4)
            }
        ),
    )
    snap = take(store, "s", src)
    with small_fs(tmp_path / "small", size="2m") as small:
        out = small / "out"
        with pytest.raises(UserError) as caught:
            restore(store, snap, out, threads=threads, processes=processes)
        said = str(caught.value)
        assert "No space left" in said, said
        named = said.split("restore stopped at ", 1)[1].split(": No space left", 1)[0]
        rel = os.path.relpath(named.strip("'\""), out)
        written = scan(out, mtimes=False)
        assert len(written) > 10, "the disk filled before any group was written"
        assert os.fsencode(rel) not in written, (rel, "was written whole: not the one refused")
