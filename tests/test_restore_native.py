"""A restore's writers' per-file loop in C (store/_readmany.c's put, called by
restore_write.Writing._put_files) gives what its Python twin (Writing._put_files_py) gives:
the same bytes, modes, mtimes, symlinks and holes, the same damaged objects named with their
key and why, the same names taken meanwhile written the careful way, and the same failure
(position, errno, strerror) when a write is refused; a restore killed in the middle of a C
write leaves no file cut short under its name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from storehelpers import Crafter
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import build
from storehelpers import diff
from storehelpers import entry_of
from storehelpers import flip_stored
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store import restore_write
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import digest
from git_snapshot.store.restorer import Report
from git_snapshot.store.restorer import Restorer

T0 = 1_600_000_000_123_456_789
NATIVE = restore_write._native_put
if NATIVE is None and os.environ.get("GIT_SNAPSHOT_REQUIRE_C") == "1":
    raise ImportError("_readmany.put is not built (GIT_SNAPSHOT_REQUIRE_C=1)")
needs_c = pytest.mark.skipif(NATIVE is None, reason="_readmany is not built")
pytestmark = needs_c

WAYS = [(0, False), (2, False), (2, True)]  # (threads, processes): this thread, threads, forks


def _sparse(size: int, data_at: list[int]) -> bytes:
    """*size* bytes of zeros but a few non-zero bytes at *data_at*: whole blocks of zeros."""
    b = bytearray(size)
    for at in data_at:
        b[at] = 0x41
    return bytes(b)


def _tree() -> D:
    licence = b"the same licence text in every folder\n" * 40
    big = os.urandom(300_000)  # a file of its own frame (a span), not in a group
    return D(
        {
            b"d%02d" % j: D(
                {
                    b"LICENSE": F(licence, 0o644, T0 + j),  # one content met many times: kept
                    b"empty": F(b"", 0o600, T0 - 7),
                    b"run.sh": F(b"#!/bin/sh\necho %d\n" % j, 0o755, T0 + 1),
                    b"sticky": F(b"s%d" % j, 0o1777, T0 + 2),
                    b"private": F(b"p%d" % j, 0o600, 999),
                    b"old": F(b"before 1970 %d" % j, 0o640, -1_500_000_001),
                    b"zeros-inside": F(b"x" * 100 + bytes(9000) + b"y" * 100, 0o644, T0),
                    b"sparse": F(_sparse(200_000, [0, 70_000, 199_999]), 0o644, T0 + 3),
                    b"big": F(big[j:] + b"%d" % j, 0o644, T0 + 4),
                    b"link": L(b"../d00/LICENSE", T0 + 5),
                    b"dangling": L(b"nowhere/%d" % j, T0 + 6),
                    **{b"f%02d" % i: F(os.urandom(300 + 17 * i), 0o644, T0 + i) for i in range(12)},
                },
                0o755,
                T0,
            )
            for j in range(12)
        }
    )


def _restore(
    store: Store, snap: Any, out: Path, native: bool, threads: int, processes: bool
) -> tuple[Report | None, str]:
    """Restore *snap* into *out* with the C loop or without it: the report, or the error."""
    saved = restore_write._native_put
    restore_write._native_put = NATIVE if native else None
    try:
        r = Restorer(store, threads=threads, processes=processes)
        try:
            return r.restore(snap, str(out), None), ""
        except UserError as exc:
            return r.report, str(exc)
    finally:
        restore_write._native_put = saved


def _damaged(
    store: Store, snap: Any, tmp_path: Path, native: bool, threads: int, processes: bool, said: str
) -> tuple[Path, dict[bytes, str]]:
    """Restore *snap* into tmp_path/c with the C loop or tmp_path/py without it, which fails
    saying *said*: where, and the damaged paths its report names, with why."""
    out = tmp_path / ("c" if native else "py")
    report, error = _restore(store, snap, out, native, threads, processes)
    assert said in error
    assert report is not None
    return out, dict(report.damaged)


def _blocks(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): p.lstat().st_blocks
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.mark.parametrize(("threads", "processes"), WAYS)
def test_the_c_loop_and_the_python_loop_give_the_same_tree(
    store: Store, tmp_path: Path, threads: int, processes: bool
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    snap = take(store, "s", src)
    want = snapshot_contents(store, snap)
    assert diff(want, scan(src)) == []
    got = {}
    for native in (True, False):
        out = tmp_path / ("c" if native else "py")
        report, error = _restore(store, snap, out, native, threads, processes)
        assert error == ""
        assert report is not None and report.files == len(want) - 12  # less the folders
        assert diff(want, scan(out)) == []
        got[native] = out
    # holes where the source has them: the same blocks either way, and fewer than the size
    c, py = _blocks(got[True]), _blocks(got[False])
    assert c == py
    sparse = os.lstat(got[True] / "d03" / "sparse")
    if os.lstat(got[False] / "d03" / "sparse").st_blocks * 512 < 200_000:  # a file system
        assert sparse.st_blocks * 512 < 200_000  # with holes (tmpfs, ext4, xfs...)


def test_the_c_loop_runs(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tree above is written by _readmany.put (not the Python twin), its groups and spans
    and symlinks each in one call of a few files or more."""
    calls: list[int] = []
    assert NATIVE is not None
    native = NATIVE

    def put(*args: Any) -> Any:
        calls.append(args[2] - args[1])
        return native(*args)

    src = tmp_path / "src"
    build(src, _tree())
    snap = take(store, "s", src)
    new_file = restore_write.Writing._new_file
    py: list[bytes] = []

    def spy(self: restore_write.Writing, parent: int, name: bytes, *rest: Any) -> bool:
        py.append(name)
        return new_file(self, parent, name, *rest)

    monkeypatch.setattr(restore_write.Writing, "_new_file", spy)
    restore_write._native_put = put
    try:
        Restorer(store, threads=0).restore(snap, str(tmp_path / "out"), None)
    finally:
        restore_write._native_put = native
    assert py == []  # not one file the Python way
    assert sum(calls) >= 12 * 19 and len(calls) < 12 * 19  # several files a call
    assert diff(snapshot_contents(store, snap), scan(tmp_path / "out")) == []


@pytest.mark.parametrize(("threads", "processes"), WAYS)
def test_a_damaged_object_is_named_with_its_key_by_either_loop(
    store: Store, store_dir: Path, tmp_path: Path, threads: int, processes: bool
) -> None:
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"small": F(b"a small file in a group\n" * 3, 0o644, T0),
                b"other": F(b"another small one\n", 0o644, T0),
                b"big": F(os.urandom(200_000), 0o644, T0),
                b"big2": F(os.urandom(150_000), 0o644, T0),
            }
        ),
    )
    snap = take(store, "s", src)
    bad = [entry_of(store, snap, b"big").ref, entry_of(store, snap, b"small").ref]
    for key in bad:
        flip_stored(store_dir, store, key)
    seen = {}
    said = "damaged path(s) could not be restored"
    for native in (True, False):
        out, named = _damaged(store, snap, tmp_path, native, threads, processes, said)
        assert set(named) >= {b"big", b"small"}, named  # (and the group's other members)
        for path, why in named.items():
            key = entry_of(store, snap, path).ref
            assert f"object {key.hex()[:16]} in pack " in why, why
        assert not (out / "big").exists()
        seen[native] = sorted(named.items())
        store.reader.close()
    assert seen[True] == seen[False]


@pytest.mark.parametrize(("threads", "processes"), WAYS)
def test_content_that_is_not_its_keys_is_named_by_either_loop(
    store: Store, tmp_path: Path, threads: int, processes: bool
) -> None:
    """A stored object that decompresses well but is not its key's content (a pack written
    wrong): a group's member and a file of its own frame are each named "does not match its
    hash", with their key, and not written; the rest of the group is."""
    c = Crafter(store)
    wrong = [(b"small", b"not what the key says\n" * 2), (b"large", os.urandom(600_000))]
    entries = [c.file(b"fine", b"a good member of the group\n", 0o640, T0)]
    for name, data in wrong:
        key = digest(b"the content the key was made from: " + name)
        c.writer.add(BLOB, key, data)
        entries.append(Entry(name, FILE, 0o644, T0, len(data), key))
    entries.append(c.file(b"zz", b"another good one\n", 0o600, T0 + 1))
    snap = c.commit("s", sorted(entries, key=lambda e: e.name))
    seen = {}
    said = "2 damaged path(s) could not be restored"
    for native in (True, False):
        out, named = _damaged(store, snap, tmp_path, native, threads, processes, said)
        assert set(named) == {b"small", b"large"}
        for name, why in named.items():
            key = digest(b"the content the key was made from: " + name)
            assert (
                why == f"object {key.hex()[:16]} in pack {why.split()[4]} does not match its hash"
            )
        assert (out / "fine").read_bytes() == b"a good member of the group\n"
        assert (out / "zz").read_bytes() == b"another good one\n"
        assert not (out / "small").exists() and not (out / "large").exists()
        seen[native] = sorted(named.items())
    assert seen[True] == seen[False]


def test_a_name_taken_meanwhile_goes_the_careful_way_in_either_loop(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file made under a new file's name after the plan (an editor): the writer's link
    fails with EEXIST, the name is handed back as taken and the restore writes it the careful
    way (_put_file), as the Python loop did."""
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"a": F(b"A" * 100, 0o644, T0),
                b"b": F(b"B" * 100, 0o644, T0),
                b"c": F(b"C" * 100, 0o644, T0),
                b"big": F(os.urandom(100_000), 0o644, T0),
                b"link": L(b"a", T0),
            }
        ),
    )
    snap = take(store, "s", src)
    create = restore_write.Writing._create_into
    handed_back: list[list[bytes]] = []

    def meanwhile(self: Restorer, work: list[Any], *args: Any) -> Any:
        for w in work:  # the user's files appear just before the writer gets there
            if w[1] in (b"b", b"big", b"link"):
                fd = os.open(w[1], os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=w[0])
                os.write(fd, b"the user's")
                os.close(fd)
        taken = args[1]
        got = create(self, work, *args)
        handed_back.append(sorted(work[k][1] for k in taken))
        return got

    monkeypatch.setattr(restore_write.Writing, "_create_into", meanwhile)
    trees = {}
    for native in (True, False):
        out = tmp_path / ("c" if native else "py")
        handed_back.clear()
        report, error = _restore(store, snap, out, native, 0, False)
        assert error == "" and report is not None, error
        assert handed_back == [[b"b", b"big", b"link"]]
        trees[native] = scan(out)
    assert diff(trees[False], trees[True]) == []


CHILD = """
import resource, signal, sys
from git_snapshot.store import Store
from git_snapshot.store import restore_write
from git_snapshot.store.restorer import Restorer
limit, ignore = int(sys.argv[3]), sys.argv[4] == "1"
if sys.argv[5] == "0":
    restore_write._native_put = None
serve = restore_write.Writing.serve

def limited(self, sock, parent_pid):  # in each writer process only
    # Python ignores SIGXFSZ (a write past the limit fails with EFBIG); by default it ends
    # the process
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN if ignore else signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    serve(self, sock, parent_pid)

restore_write.Writing.serve = limited
with Store(sys.argv[1]) as s:
    Restorer(s, threads=2, processes=True).restore(s.get("s", "latest"), sys.argv[2], None)
"""


def _fsize_tree() -> D:
    return D(
        {
            b"d%d" % j: D(
                {
                    **{b"f%02d" % i: F(os.urandom(500 + i), 0o640, T0 + i) for i in range(40)},
                    b"z-big": F(os.urandom(90_000), 0o644, T0),
                },
                0o755,
                T0,
            )
            for j in range(12)
        }
    )


def test_a_restore_killed_in_a_c_write_leaves_no_file_cut_short(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    """RLIMIT_FSIZE below a file's size in the writer processes: its pwrite, in C, gets
    SIGXFSZ, which kills that writer there (the C loop has no Python function a test could
    patch to kill it), and the restore stops. The file was being written unnamed: nothing of
    it, or of any other file, is left cut short, and the same restore again finishes it."""
    src = tmp_path / "src"
    build(src, _fsize_tree())
    snap = take(store, "s", src)
    want = snapshot_contents(store, snap)
    out = tmp_path / "out"
    ran = _child(store_dir, out, ignore=False, native=True)
    assert ran.returncode == 1, ran.stderr
    assert "a writer process ended before its work was done" in ran.stderr, ran.stderr
    got = scan(out)
    files = {p: s for p, s in got.items() if s.kind == "file"}
    assert 0 < len(files) < 12 * 41, "killed before or after it wrote"
    assert not any(b".gsnap-tmp-" in p for p in got)
    assert {p: s for p, s in files.items() if s != want[p]} == {}
    Restorer(store).restore(snap, str(out), None)
    assert diff(want, scan(out)) == []


def _child(
    store_dir: Path, out: Path, ignore: bool, native: bool
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", CHILD, str(store_dir), str(out), "65536"]
    argv += ["1" if ignore else "0", "1" if native else "0"]
    return subprocess.run(argv, check=False, timeout=120, capture_output=True, text=True)


def test_a_refused_write_stops_the_restore_at_that_file_in_either_loop(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    """The same limit with SIGXFSZ ignored: pwrite fails with EFBIG, and the restore stops
    naming the file and the error, as the Python loop does (_Done's failure; which folder's
    big file fails first depends on which writer gets there first)."""
    src = tmp_path / "src"
    build(src, _fsize_tree())
    take(store, "s", src)
    said = {}
    for native in (True, False):
        out = tmp_path / ("c" if native else "py")
        ran = _child(store_dir, out, ignore=True, native=native)
        assert ran.returncode == 1, ran.stderr
        (line,) = [ln for ln in ran.stderr.splitlines() if ln.startswith("git_snapshot")]
        assert "/z-big: " in line
        said[native] = re.sub(r"/d\d+/z-big", "/D/z-big", line.replace(str(out), "OUT"))
        assert os.strerror(27) in line  # EFBIG: File too large
        assert not any(out.glob("*/z-big"))
    assert said[True] == said[False]


def test_the_c_loop_stops_when_the_restore_is_gone(store: Store, tmp_path: Path) -> None:
    """A writer process checks its parent before each file (die_with_parent covers the rest):
    with a parent pid that is not its own parent's, the C loop writes nothing and says where
    it stopped, as the Python one does."""
    src = tmp_path / "src"
    build(src, D({b"f%d" % i: F(b"x%d" % i) for i in range(5)}))
    snap = take(store, "s", src)
    out = tmp_path / "out"
    out.mkdir()
    for native in (True, False):
        saved = restore_write._native_put
        restore_write._native_put = NATIVE if native else None
        try:
            w = Restorer(store)
            fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
            try:
                work: list[restore_write._Work] = [
                    (fd, e.name, e.mode, e.mtime_ns, e.ref, _loc(store, e.ref))
                    for _, e in store.walk(snap.root)
                ]
                w.proc_fd = -1
                assert w._create(work, parent_pid=os.getppid() + 1) == ([], [], None)
            finally:
                os.close(fd)
                if w.proc_fd >= 0:
                    os.close(w.proc_fd)
        finally:
            restore_write._native_put = saved
        assert list(out.iterdir()) == []


def _loc(store: Store, key: bytes) -> tuple[str, int, int, int, int]:
    loc = store.index.locate(key)
    assert loc is not None
    return (loc.pack, loc.offset, loc.length, loc.size, loc.inner)


@pytest.mark.parametrize(("pure", "want"), [("1", "False"), ("", "True")])
def test_pure_python_turns_the_c_loop_off(pure: str, want: str) -> None:
    """GIT_SNAPSHOT_PURE_PYTHON=1 (doctor, the walk's C modules) turns it off too."""
    ran = subprocess.run(
        [
            sys.executable,
            "-c",
            "from git_snapshot.store import restore_write as w; print(w.NATIVE)",
        ],
        env=dict(os.environ, GIT_SNAPSHOT_PURE_PYTHON=pure),
        capture_output=True,
        text=True,
        check=True,
    )
    assert ran.stdout.strip() == want


@pytest.mark.parametrize("mode", ["group", "span"])
def test_a_file_the_c_loop_cannot_write_unnamed_goes_the_named_way_from_there(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Where O_TMPFILE is refused (EOPNOTSUPP...) or /proc is missing (linkat ENOENT), put
    answers NAMED at that file: Writing._put_files turns `unnamed` off and its twin writes
    that file and the rest the named way (a flock'd temp name, then link). Here put answers
    so after the first file of the first call that has two or more."""
    assert NATIVE is not None
    native = NATIVE
    fired: list[int] = []

    def put(work: list[Any], i: int, j: int, content: Any, *rest: Any) -> Any:
        if fired or j - i < 2 or (content is None and mode == "group"):
            return native(work, i, j, content, *rest)
        if isinstance(content, list) != (mode == "span"):
            return native(work, i, j, content, *rest)
        first = content[:1] if isinstance(content, list) else content
        k, status, _, _, added = native(work, i, i + 1, first, *rest)
        assert status == 0
        fired.append(k)
        return k, 3, 0, None, added  # _NAMED at work[i + 1]

    def content(i: int) -> bytes:  # small: in a group; big (and compressible): its own frame
        if mode == "group":
            return os.urandom(900 + i)
        return b"".join(b"line %d of file %d\n" % (n, i) for n in range(150_000))

    src = tmp_path / "src"
    build(src, D({b"f%02d" % i: F(content(i), 0o640 + i % 2, T0 + i) for i in range(8)}))
    snap = take(store, "s", src)
    restore_write._native_put = put
    try:
        r = Restorer(store, threads=0)
        r.restore(snap, str(tmp_path / "out"), None)
    finally:
        restore_write._native_put = native
    assert fired and not r.unnamed
    got = scan(tmp_path / "out")
    assert diff(snapshot_contents(store, snap), got) == []  # no temp name left either
