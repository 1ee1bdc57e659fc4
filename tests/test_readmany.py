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
import tempfile
from pathlib import Path
from typing import Any

import pytest
from ctreehelp import files_cache
from ctreehelp import keeps_nothing as _keeps_nothing
from ctreehelp import outcome as _outcome
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import build as build_tree
from storehelpers import mutate
from storehelpers import random_tree
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import filescache
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


def _generated(
    d: Path, folder: list[tuple[str, int, str | None, bool]]
) -> tuple[list[bytes], list[bytes], list[Any]]:
    """The entries of *folder* made in *d*, listed (each one's lstat, None if gone), then
    changed as their fates say: the names, each file's contents as listed, the lstats."""
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
    return names, contents, stats


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
        names, contents, stats = _generated(Path(tmp), folder)
        which = data.draw(st.permutations(range(len(names))))
        start = data.draw(st.integers(0, len(which)))
        got = [read(os.fsencode(tmp) + b"/", names, stats, which, start, budget) for read in READS]
        assert all(g == got[0] for g in got)
        answers = got[0]
        assert (len(answers) >= 1) == (start < len(which))
        total = 0
        for k, answer in zip(which[start:], answers):
            kind, _, fate, _ = folder[k]
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


class _Calls(list[tuple[Any, ...]]):
    def append_args(self, *args: Any) -> None:
        self.append(args)


STORES = [readmany_py.store] + ([native.store] if native is not None else [])
NO_STAT, NO_KEY, _S = filescache.NO_STAT, filescache.NO_KEY, filescache.STAT.size


def _packed(stats: list[Any]) -> bytes:
    return b"".join(
        NO_STAT
        if s is None
        else filescache.STAT.pack(s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino, s.st_mode)
        for s in stats
    )


@given(entries, st.integers(0, 200_000), st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_store_is_its_twin_and_stores_only_files_read_as_listed(
    folder: list[tuple[str, int, str | None, bool]], budget: int, data: st.DataObject
) -> None:
    """store() (a folder's files read as listed, given to the writer and answered with their
    entries in one call) gives its twin's answers and calls, and answers exactly the regular
    files within the budget, not in *done*, not named with the mark, that did not change
    since they were listed; a key already pending is not given again; the files cache gets a
    file's lstat and key only when it is older than *racy_after*."""
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        names, contents, stats = _generated(Path(tmp), folder)
        which = data.draw(st.permutations(range(len(names))))
        done = {i: None for i in data.draw(st.sets(st.sampled_from(which)))} if which else {}
        keys = [hashlib.sha256(c).digest() for c in contents]
        pending0 = set(data.draw(st.sets(st.sampled_from(keys)))) if keys else set()
        mtimes = sorted({max(s.st_mtime_ns, s.st_ctime_ns) for s in stats if s is not None})
        racy_after = data.draw(st.sampled_from([0, 1 << 62, *mtimes]))
        mark = b"n001"  # (n001 is named like a temp file: never stored)
        pre, packed = os.fsencode(tmp) + b"/", _packed(stats)
        runs = []
        for store in STORES:
            calls = _Calls()
            pending = set(pending0)
            got = store(
                pre, names, stats, packed, which, dict(done), pending,
                calls.append_args, racy_after, 7, mark, budget, 1, 1, NO_STAT, NO_KEY,
            )  # fmt: skip
            runs.append((got, calls, pending))
        assert all(r == runs[0] for r in runs)
        (answers, files, size, last), calls, pending = runs[0]
        order = []
        for i in which:
            kind, _, fate, _ = folder[i]
            s = stats[i]
            takes = (
                i not in done
                and kind in ("file", "empty")
                and s.st_size <= budget
                and not names[i].startswith(mark)
            )
            if not takes or fate is not None:
                assert i not in answers
                continue
            order.append(i)
            entry = (names[i], 1, s.st_mode & 0o7777, s.st_mtime_ns, s.st_size, keys[i], 7, 0)
            settled = max(s.st_mtime_ns, s.st_ctime_ns) < racy_after
            rec = (packed[_S * i : _S * (i + 1)], keys[i]) if settled else (NO_STAT, NO_KEY)
            assert answers[i] == (entry, *rec)
        assert list(answers) == order
        assert (files, size) == (len(order), sum(stats[i].st_size for i in order))
        assert last == (keys[order[-1]] if order else None)
        given_keys = [keys[i] for i in order if keys[i] not in pending0]
        assert [c[1] for c in calls] == list(dict.fromkeys(given_keys))  # each key once
        assert all(c == (1, keys.__getitem__(contents.index(c[2])), c[2], True) for c in calls)
        assert pending == pending0 | {keys[i] for i in order}


@pytest.mark.parametrize("store", STORES)
def test_store_leaves_walked_entries_temp_names_and_pending_keys(
    tmp_path: Path, store: Any
) -> None:
    """An entry already walked (in *done*), a temp-named file and one over the budget are
    not answered; a file whose key is pending is answered but not given to the writer
    again; the others are given once each, over two batches."""
    names = [b"f0", b"f1", b"f2", b".gsnap-tmp-x", b"f4", b"f5"]
    sizes = [40, 41, 42, 43, 500, 45]
    contents = [(name * 500)[:size] for name, size in zip(names, sizes)]
    for name, data in zip(names, contents):
        (tmp_path / os.fsdecode(name)).write_bytes(data)
    stats: list[Any] = [os.lstat(tmp_path / os.fsdecode(n)) for n in names]
    keys = [hashlib.sha256(data).digest() for data in contents]
    calls = _Calls()
    pending = {keys[2]}
    got, files, size, last = store(
        os.fsencode(tmp_path) + b"/", names, stats, _packed(stats), [5, 4, 3, 2, 1, 0],
        {1: None}, pending, calls.append_args, 1 << 62, 0, b".gsnap-tmp-", 100, 1, 1,
        NO_STAT, NO_KEY,
    )  # fmt: skip
    assert list(got) == [5, 2, 0]
    assert [c[1] for c in calls] == [keys[5], keys[0]]
    assert pending == {keys[5], keys[2], keys[0]}
    assert (files, size, last) == (3, 45 + 42 + 40, keys[0])


@needs_c
def test_store_keeps_nothing_and_fails_as_its_twin(tmp_path: Path) -> None:
    """store(): references and memory as they were after answers and errors (an error in
    the writer's add, a pending that is not a set, a stat that is no stat, a bad index), each
    error the twin's."""
    for i in range(20):
        (tmp_path / f"f{i}").write_bytes(b"x%d" % i * (i * 30))
    names = [b"f%d" % i for i in range(20)]
    stats: list[Any] = [os.lstat(tmp_path / os.fsdecode(n)) for n in names]
    pre, packed, which = os.fsencode(tmp_path) + b"/", _packed(stats), list(range(20))

    def add(*a: Any) -> None:
        pass

    def failing(*a: Any) -> None:
        raise OSError("disk full")

    def args(**kw: Any) -> tuple[Any, ...]:
        a = dict(
            pre=pre, names=names, stats=stats, packed=packed, which=which, done={}, pending=set(),
            add=add, racy_after=1 << 62, label=0, mark=b".gsnap", budget=200, blob=1, kind=1,
            no_stat=NO_STAT, no_key=NO_KEY,
        )  # fmt: skip
        a.update(kw)
        return tuple(a.values())

    # a file changed at the walk's racy bound or later is not cached; one before it is
    newest = max(stats[3].st_mtime_ns, stats[3].st_ctime_ns)
    for racy_after, rec in ((newest, (NO_STAT, NO_KEY)), (newest + 1, None)):
        for store in (native.store, readmany_py.store):
            answer = store(*args(racy_after=racy_after))[0][3]
            assert answer[1:] == (rec or (packed[_S * 3 : _S * 4], answer[0][5]))
    calls = [
        args(),
        args(add=failing),
        args(pending=frozenset()),
        args(stats=[*stats[:-1], object()]),
        args(which=[*which, 99]),
        args(which=[0, "1"]),
        args(packed=packed[:-1]),
        args(budget=-1),
    ]
    for call in calls:
        assert _outcome(native.store, call) == _outcome(readmany_py.store, call)
    _keeps_nothing(native.store, calls, [pre, *names, *stats, packed])


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
def test_a_stat_that_empties_the_lists_while_stored_is_no_crash(tmp_path: Path) -> None:
    """store(): a stat object's attribute runs Python that empties the caller's lists; the C
    holds each name and stat it looks at, and the next index is out of the lists' range."""
    (tmp_path / "a").write_bytes(b"abc")
    real = os.lstat(tmp_path / "a")
    names: list[bytes] = [b"a" * 200 + b"%d" % i for i in range(3)]  # (freed once cleared)
    for n in names:
        (tmp_path / os.fsdecode(n)).write_bytes(b"abc")
    stats: list[Any] = []

    class Evil:
        def __getattr__(self, attr: str) -> Any:
            names.clear()
            stats.clear()
            gc.collect()
            return getattr(real, attr)

    stats += [Evil(), Evil(), Evil()]
    packed = bytes(_S * 3)
    with pytest.raises(IndexError):
        native.store(
            os.fsencode(tmp_path) + b"/", names, stats, packed, [0, 1, 2], {}, set(),
            lambda *a: None, 0, 0, b".gsnap", 100, 1, 1, NO_STAT, NO_KEY,
        )  # fmt: skip


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
    _keeps_nothing(native.read, calls, [pre, *names, *stats])


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
    impls = {  # reads, and the folder's files stored by one call (readmany.store) or not
        "c": (native.read, native.store),
        "c-reads": (native.read, None),
        "twin": (readmany_py.read, readmany_py.store),
        "py": (None, None),
    }
    for rnd in range(2):
        if rnd:
            mutate(src, seed, share=0.2)
        got = []
        for name, (read, store) in impls.items():
            monkeypatch.setattr(walker, "_fast_read", read)
            monkeypatch.setattr(walker, "_fast_store", store)
            with Store(tmp_path / name) as s:
                snap = take(s, "s", src)
                cache = files_cache(s)
                got.append((snap.root, snap.files, snap.bytes, cache.dirs, cache.root))
        assert got[1:] == got[:1] * 3
