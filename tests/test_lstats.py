"""A trusted folder's lstats in C (``_ctree.lstats``) give its twin's (store/lstats.py: each
``os.lstat`` and STAT's packing of it): the same packed bytes and stat objects equal to
os.lstat's in every field, None where one of the names fails, the twin's exception on hostile
arguments and times; nothing kept. The walk uses it when it is built, and an unchanged
snapshot is the same with it and without it."""

from __future__ import annotations

import os
import stat
import struct
import tempfile
from pathlib import Path
from typing import Any

import pytest
from ctreehelp import files_cache
from ctreehelp import keeps_nothing
from ctreehelp import native
from ctreehelp import needs_c
from ctreehelp import outcome
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import build as build_tree
from storehelpers import mutate
from storehelpers import random_tree
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import lstats
from git_snapshot.store import walker
from git_snapshot.store.filescache import STAT

KINDS = ["file", "empty", "exec", "folder", "symlink", "dangling", "fifo", "gone"]
NAMES = st.binary(min_size=1, max_size=40).filter(
    lambda b: b not in (b".", b"..") and b"/" not in b and b"\0" not in b
)


def _make(d: Path, name: bytes, kind: str, i: int) -> None:
    path = os.path.join(os.fsencode(d), name)
    if kind in ("file", "exec"):
        with open(path, "wb") as f:
            f.write(b"x" * (i * 37 % 5000))
        if kind == "exec":
            os.chmod(path, 0o755)
    elif kind == "empty":
        open(path, "wb").close()
    elif kind == "folder":
        os.mkdir(path)
    elif kind == "symlink":
        os.symlink(b"../elsewhere/" + name, path)
    elif kind == "dangling":
        os.symlink(b"nowhere", path)
    elif kind == "fifo":
        os.mkfifo(path)


def _same(a: Any, b: Any) -> None:
    """Two lstats() results alike: None both, or the same bytes and every stat field."""
    if a is None or b is None:
        assert a is b
        return
    assert a[0] == b[0]
    assert [s.__reduce__() for s in a[1]] == [s.__reduce__() for s in b[1]]
    assert all(type(s) is os.stat_result for s in a[1])


@needs_c
@given(st.lists(st.tuples(NAMES, st.sampled_from(KINDS)), max_size=30, unique_by=lambda t: t[0]))
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
def test_c_is_its_twin(entries: list[tuple[bytes, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, kind) in enumerate(entries):
            _make(Path(tmp), name, kind, i)
        pre = os.fsencode(tmp) + b"/"
        names = [name for name, _ in entries]
        got, want = native.lstats(pre, names), lstats.lstats(pre, names)
        _same(got, want)
        assert (got is None) == any(kind == "gone" for _, kind in entries)
        if want is not None:  # the twin is what it says: os.lstat, packed as STAT
            assert want[0] == b"".join(
                struct.pack("<qqqQQ", s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino, s.st_mode)
                for s in map(os.lstat, [pre + n for n in names])
            )


def test_a_fixed_folder(tmp_path: Path) -> None:
    """Every kind in one folder, the twin and C alike; a name gone, or the folder a file now:
    None; no names: nothing."""
    for i, kind in enumerate(KINDS[:-1]):
        _make(tmp_path, kind.encode(), kind, i)
    pre = os.fsencode(tmp_path) + b"/"
    names = [k.encode() for k in KINDS[:-1]]
    for fn in [lstats.lstats] + ([native.lstats] if native is not None else []):
        got = fn(pre, names)
        assert got is not None
        packed, sts = got
        assert len(packed) == 40 * len(names)
        assert [stat.S_IFMT(s.st_mode) for s in sts] == [
            stat.S_IFREG,
            stat.S_IFREG,
            stat.S_IFREG,
            stat.S_IFDIR,
            stat.S_IFLNK,
            stat.S_IFLNK,
            stat.S_IFIFO,
        ]
        assert sts[2].st_mode & 0o777 == 0o755
        assert fn(pre, [*names, b"gone"]) is None
        assert fn(pre + b"file/", [b"x"]) is None  # (ENOTDIR)
        assert fn(pre, []) == (b"", [])


@needs_c
def test_a_time_past_an_int64_s_nanoseconds_is_packed_as_its_bound(tmp_path: Path) -> None:
    """A file dated after 2262 (its mtime_ns beyond an int64): os.lstat gives the exact
    number, both pack the int64's bound (objects.held_ns; RED26, tests/test_red26_far_dates.py)."""
    far = tmp_path / "far"
    far.write_bytes(b"x")
    try:
        os.utime(far, ns=(0, (1 << 63) + 5 * 10**9))
    except OSError:
        pytest.skip("this file system cannot date a file so far")
    pre = os.fsencode(tmp_path) + b"/"
    got = native.lstats(pre, [b"far"])
    _same(got, lstats.lstats(pre, [b"far"]))
    assert got is not None
    ((size, mtime, _, _, _),) = STAT.iter_unpack(got[0])
    assert size == 1 and mtime == min(got[1][0].st_mtime_ns, (1 << 63) - 1)


HOSTILE = [
    ("no args", ()),
    ("pre not bytes", ("/tmp/", [b"a"])),
    ("names a tuple", (b"/", (b"tmp",))),  # (no error: both take any iterable)
    ("a name str", (b"/", ["tmp"])),
    ("a name None", (b"/", [b"tmp", None])),
    ("NUL in a name", (b"/", [b"t\0mp"])),
    ("NUL in pre", (b"/\0", [b"tmp"])),
    ("too many", (b"/", [b"tmp"], 3)),
]


@needs_c
@pytest.mark.parametrize(("case", "args"), HOSTILE, ids=[c for c, _ in HOSTILE])
def test_hostile_arguments_raise_what_the_twin_raises(case: str, args: tuple[Any, ...]) -> None:
    """TypeError and ValueError as the twin's os.lstat and string concatenation raise them."""
    got, want = outcome(native.lstats, args), outcome(lstats.lstats, args)
    if isinstance(want, tuple):
        _same(got, want)
    else:
        assert isinstance(want, type) and issubclass(want, Exception), want
        assert got is want


@needs_c
def test_nothing_is_kept(tmp_path: Path) -> None:
    for i in range(30):
        _make(tmp_path, b"f%d" % i, KINDS[i % 7], i)
    pre = os.fsencode(tmp_path) + b"/"
    names = [b"f%d" % i for i in range(30)]
    calls = [(pre, names), (pre, [*names, b"gone"]), (pre, [*names, None]), (pre, [])]
    keeps_nothing(native.lstats, calls, [pre, names, *names])


def test_the_walk_uses_the_c_when_built() -> None:
    pure = os.environ.get(lstats.PURE_ENV) == "1"
    assert (native is not None and hasattr(native, "lstats") and not pure) == lstats.NATIVE
    assert lstats.best is (native.lstats if lstats.NATIVE else lstats.lstats)
    assert (native.INTERFACE if native is not None else lstats.INTERFACE) == lstats.INTERFACE


@needs_c
@pytest.mark.parametrize("seed", range(3))
def test_a_snapshot_is_the_same_with_and_without_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Unchanged and edited snapshots of the same tree, every folder's names trusted, with the
    C lstats and the twin's: the same roots, counts and files caches."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    src = tmp_path / "src"
    build_tree(src, random_tree(seed, 300, dirs=12, max_size=3000))
    impls = {"c": native.lstats, "twin": lstats.lstats}
    calls: dict[str, int] = {}

    def counted(name: str) -> Any:
        def fn(pre: bytes, names: list[bytes]) -> Any:
            calls[name] = calls.get(name, 0) + 1
            return impls[name](pre, names)

        return fn

    for rnd in range(3):
        if rnd == 2:
            mutate(src, seed, share=0.2)
        got = []
        for name in impls:
            calls.clear()
            monkeypatch.setattr(walker, "_lstats", counted(name))
            with Store(tmp_path / name) as s:
                snap = take(s, "s", src)
                cache = files_cache(s)
                got.append((snap.root, snap.files, snap.bytes, cache.dirs, cache.root))
            # a first walk lists every folder; the next takes the names of all but the root's
            # (12 folders), the one after the edits those of the folders they left alone
            assert calls.get(name, 0) >= (0, 12, 1)[rnd], (rnd, calls)
        assert got[1] == got[0]
