"""A first walk's small files read and hashed in C a batch at a time (store/_readmany.c) give
its twin's answers (store/readmany_py.py: reading._read_listed and SHA-256) on generated
folders whose files changed after they were listed in every way the walk must notice (grown,
shrunk, rewritten, touched, replaced by a symlink, a FIFO or a folder, gone, another inode),
raise what the twin raises on hostile arguments, keep nothing, and a walk stores the same
snapshot with and without them."""

from __future__ import annotations

import gc
import hashlib
import os
import stat
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from ctreehelp import files_cache
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import build as build_tree
from storehelpers import mutate
from storehelpers import random_tree
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import reading
from git_snapshot.store import readmany_py
from git_snapshot.store import walker
from git_snapshot.store.reading import ListedReads

try:
    from git_snapshot.store import _readmany as native
except ImportError:
    if os.environ.get("GIT_SNAPSHOT_REQUIRE_C") == "1":
        raise
    native = None  # type: ignore[assignment]

needs_c = pytest.mark.skipif(native is None, reason="_readmany is not built (no OpenSSL headers?)")
READS = [readmany_py.read] + ([native.read] if native is not None else [])

# what happens to a file between its listing and the read: None keeps it as listed
FATES = [
    None,
    "grow",
    "shrink",
    "rewrite",
    "touch",
    "chmod",
    "symlink",
    "fifo",
    "folder",
    "gone",
    "other-inode",
]
KINDS = ["file", "file", "file", "file", "empty", "symlink", "fifo", "folder", "gone"]


def _make(d: Path, name: str, kind: str, size: int, seed: int) -> bytes:
    path = d / name
    data = b""
    if kind == "file":
        data = hashlib.sha256(b"%d" % seed).digest() * (size // 32 + 1)
        data = data[:size]
        path.write_bytes(data)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        _put(path, kind, "target")
    return data


def _put(path: Path, kind: str, target: str) -> None:
    """A symlink (to *target*), a FIFO or a folder at *path* (other kinds: nothing)."""
    if kind == "symlink":
        os.symlink(target, path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()


def _change(path: Path, fate: str) -> None:
    if fate == "grow":
        with open(path, "ab") as f:
            f.write(b"+")
    elif fate == "shrink":
        os.truncate(path, max(0, path.stat().st_size - 1))
    elif fate == "rewrite":
        path.write_bytes(path.read_bytes()[::-1] + b"")
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))  # (an mtime set back)
    elif fate == "touch":
        os.utime(path, ns=(1, 10**18))
    elif fate == "chmod":
        path.chmod(0o000)  # (root reads it anyway; its ctime changed)
    elif fate in ("symlink", "fifo", "folder", "gone", "other-inode"):
        data = path.read_bytes()
        path.unlink()
        _put(path, fate, "elsewhere")
        if fate == "other-inode":
            keep = path.with_name(path.name + ".keep")  # (the old inode number not reused)
            keep.write_bytes(b"")
            path.write_bytes(data)


entries = st.lists(
    st.tuples(
        st.sampled_from(KINDS), st.integers(0, 70_000), st.sampled_from(FATES), st.booleans()
    ),
    min_size=0,
    max_size=24,
)


@given(
    entries,
    st.integers(0, 200_000),
    st.data(),
)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_c_is_its_twin_and_hands_back_every_changed_file(
    folder: list[tuple[str, int, str | None, bool]], budget: int, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        d = Path(tmp)
        names: list[bytes] = []
        contents: list[bytes] = []
        for i, (kind, size, _, odd) in enumerate(folder):
            name = f"n{i:03}" + (" \udcff\u00e9.x" if odd else "")
            contents.append(_make(d, name, kind, size, i))
            names.append(os.fsencode(name))
        stats: list[Any] = [
            os.lstat(d / os.fsdecode(n)) if kind != "gone" else None
            for n, (kind, _, _, _) in zip(names, folder)
        ]
        for (kind, _, fate, _), bname in zip(folder, names):
            if fate is not None and kind in ("file", "empty"):
                _change(d / os.fsdecode(bname), fate)
        which = data.draw(st.permutations(range(len(names))))
        start = data.draw(st.integers(0, len(which)))
        got = [read(os.fsencode(tmp) + b"/", names, stats, which, start, budget) for read in READS]
        assert all(g == got[0] for g in got)
        answers = got[0]
        assert (len(answers) >= 1) == (start < len(which))
        total = 0
        for k, answer in zip(which[start:], answers):
            kind, size, fate, _ = folder[k]
            readable = kind in ("file", "empty") and stats[k].st_size <= budget
            if readable:
                total += stats[k].st_size
            if answer is None:  # handed back: only if it changed, or is no file to read
                assert fate is not None or not readable
            else:
                assert fate is None and readable
                assert answer == (contents[k], hashlib.sha256(contents[k]).digest())
        # at most the budget, unless the first file alone is more
        assert total <= budget or len(answers) == 1
        # no folder but the first, and where it stopped: the next one was over the budget,
        # or a folder (walked before the files after it: no batch held meanwhile)
        assert all(folder[k][0] != "folder" for k in which[start + 1 : start + len(answers)])
        if start + len(answers) < len(which):
            nxt = stats[which[start + len(answers)]]
            over = stat.S_ISREG(nxt.st_mode) and total + nxt.st_size > budget
            assert over or stat.S_ISDIR(nxt.st_mode)


def test_an_unreadable_file_is_handed_back(tmp_path: Path) -> None:
    """A file this process may not open (EACCES as a user, ELOOP on a symlink made since, a
    name too long, a NUL in a name) is None: the walk's careful read says what went wrong."""
    (tmp_path / "a").write_bytes(b"data")
    (tmp_path / "b").write_bytes(b"more")
    names = [b"a", b"b", b"x" * 5000, b"c\0d"]
    stats = [os.lstat(tmp_path / "a"), os.lstat(tmp_path / "b")] * 2
    (tmp_path / "b").unlink()
    os.symlink("a", tmp_path / "b")
    for read in READS:
        got = read(os.fsencode(tmp_path) + b"/", names, stats, [0, 1, 2, 3], 0, 100)
        assert got == [(b"data", hashlib.sha256(b"data").digest()), None, None, None]


class _Stat:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def _stat(**change: Any) -> Any:
    fields = dict(st_size=3, st_mtime_ns=1, st_ctime_ns=1, st_ino=1, st_dev=1, st_mode=0o100644)
    return _Stat(**{**fields, **change})


HOSTILE: list[tuple[str, tuple[Any, ...]]] = [
    ("pre not bytes", ("x", [b"a"], [_stat()], [0], 0, 10)),
    ("names not a list", (b"/", (b"a",), [_stat()], [0], 0, 10)),
    ("which not a list", (b"/", [b"a"], [_stat()], (0,), 0, 10)),
    ("budget < 0", (b"/", [b"a"], [_stat()], [0], 0, -1)),
    ("budget too big", (b"/", [b"a"], [_stat()], [0], 0, (1 << 30) + 1)),
    ("start < 0", (b"/", [b"a"], [_stat()], [0], -1, 10)),
    ("start > len", (b"/", [b"a"], [_stat()], [0], 2, 10)),
    ("index < 0", (b"/", [b"a"], [_stat()], [-1], 0, 10)),
    ("index too big", (b"/", [b"a"], [_stat()], [1], 0, 10)),
    ("index no int", (b"/", [b"a"], [_stat()], [0.0], 0, 10)),
    ("index a bool", (b"/", [b"a"], [_stat()], [False], 0, 10)),
    ("stats shorter", (b"/", [b"a", b"b"], [_stat()], [1], 0, 10)),
    ("name not bytes", (b"/", ["a"], [_stat()], [0], 0, 10)),
    ("no st_ino", (b"/", [b"a"], [object()], [0], 0, 10)),
    ("a float field", (b"/", [b"a"], [_stat(st_size=3.0)], [0], 0, 10)),
    ("an int subclass", (b"/", [b"a"], [_stat(st_mode=True)], [0], 0, 10)),
    ("huge fields", (b"/", [b"a"], [_stat(st_ino=1 << 70, st_mtime_ns=-(1 << 70))], [0], 0, 9)),
    ("negative fields", (b"/", [b"a"], [_stat(st_dev=-1, st_size=-5)], [0], 0, 10)),
    ("over the budget", (b"/", [b"a"], [_stat(st_size=11)], [0], 0, 10)),
    ("not regular", (b"/", [b"a"], [_stat(st_mode=0o20666)], [0], 0, 10)),
    ("empty", (b"/", [], [], [], 0, 10)),
]


def _outcome(read: Any, args: tuple[Any, ...]) -> Any:
    try:
        return read(*args)
    except Exception as exc:
        return type(exc)


@needs_c
@pytest.mark.parametrize(("case", "args"), HOSTILE, ids=[c for c, _ in HOSTILE])
def test_hostile_arguments_raise_what_the_twin_raises(case: str, args: tuple[Any, ...]) -> None:
    assert _outcome(native.read, args) == _outcome(readmany_py.read, args)


@needs_c
def test_a_stat_that_empties_the_lists_while_read_is_no_crash(tmp_path: Path) -> None:
    """A stat object's attribute runs Python that empties the caller's lists: the C keeps
    its own references and re-reads the lists' lengths."""
    (tmp_path / "a").write_bytes(b"abc")
    real = os.lstat(tmp_path / "a")
    names: list[bytes] = [b"a", b"a", b"a"]
    stats: list[Any] = []
    which = [0, 1, 2]

    class Evil:
        def __getattr__(self, attr: str) -> Any:
            names.clear()
            stats.clear()
            which.clear()
            gc.collect()
            return getattr(real, attr)

    stats += [Evil(), Evil(), Evil()]
    got = native.read(os.fsencode(tmp_path) + b"/", names, stats, which, 0, 100)
    assert got == [(b"abc", hashlib.sha256(b"abc").digest())]


@needs_c
def test_nothing_is_kept(tmp_path: Path) -> None:
    """Answers, refusals and errors: the references to what it was given are what they were,
    and the memory it allocates does not grow with the calls."""
    for i in range(20):
        (tmp_path / f"f{i}").write_bytes(b"x" * (i * 300))
    names = [b"f%d" % i for i in range(20)] + [b"gone"]
    stats: list[Any] = [os.lstat(tmp_path / os.fsdecode(n)) for n in names[:-1]]
    stats.append(_stat())
    which = list(range(21))
    pre = os.fsencode(tmp_path) + b"/"
    calls = [
        (pre, names, stats, which, 0, 4000),  # batches
        (pre, names, stats, which, 0, 1 << 20),  # all, one gone
        (pre, names, stats, which, 5, 0),  # over the budget
        (pre, names, [*stats[:-1], object()], which, 0, 1 << 20),  # an error midway
        (pre, names, stats, [*which, 99], 0, 1 << 20),  # an index out of range at the end
    ]
    watched = [pre, *names, *stats]

    def run(times: int) -> None:
        for _ in range(times):
            for args in calls:
                _outcome(native.read, args)

    run(3)
    gc.collect()
    before = [sys.getrefcount(x) for x in watched]
    tracemalloc.start()
    try:
        run(20)
        gc.collect()
        first = tracemalloc.get_traced_memory()[0]
        run(200)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - first
    finally:
        tracemalloc.stop()
    assert [sys.getrefcount(x) for x in watched] == before
    assert grown < 4096, grown


def test_listed_reads_takes_a_batch_at_a_time(tmp_path: Path) -> None:
    """ListedReads reads the batch that starts at the file taken (never the ones before it
    that were not taken), at most the budget a batch, in the folder's order."""
    calls: list[tuple[int, int]] = []
    sizes = [10, 20, 0, 40, 5, 5, 5]
    for i, n in enumerate(sizes):
        (tmp_path / f"f{i}").write_bytes(b"y" * n)
    os.mkdir(tmp_path / "f7")
    names = [b"f%d" % i for i in range(8)]
    stats = [os.lstat(tmp_path / os.fsdecode(n)) for n in names]

    def counted(
        pre: bytes, names: list[bytes], stats: list[Any], which: list[int], at: int, _: int
    ) -> Any:
        got = readmany_py.read(pre, names, stats, which, at, 45)
        calls.append((at, len(got)))
        return got

    reads = ListedReads(
        counted, os.fsencode(tmp_path) + b"/", names, stats, [7, 0, 1, 2, 3, 4, 5, 6]
    )
    for i in (1, 3, 4, 6):  # 0 and 2 never taken
        got = reads.take(i)
        assert got is not None and got[0] == b"y" * sizes[i]
    assert calls == [(2, 2), (4, 2), (7, 1)]  # 20+0 (40 more: over), 40+5, then 6 alone


@needs_c
@pytest.mark.parametrize("seed", range(3))
def test_a_snapshot_is_the_same_with_and_without_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """A first snapshot and one after edits of the same tree, with the C reads (batches of a
    few KiB, so that folders take several) and with the Python ones: the same roots, counts
    and files caches."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    monkeypatch.setattr(reading, "BATCH_BYTES", 5000)
    src = tmp_path / "src"
    build_tree(src, random_tree(seed, 300, dirs=12, max_size=9000))
    impls = {"c": native.read, "py": None}
    for rnd in range(2):
        if rnd:
            mutate(src, seed, share=0.2)
        got = []
        for name, impl in impls.items():
            monkeypatch.setattr(walker, "_fast_read", impl)
            with Store(tmp_path / name) as s:
                snap = take(s, "s", src)
                cache = files_cache(s)
                got.append((snap.root, snap.files, snap.bytes, cache.dirs, cache.root))
        assert got[0] == got[1]
