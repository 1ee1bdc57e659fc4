"""The changed folder's tree and record built in C (store/_ctree.c) are its Python twin's
(store/ctree_py.py) byte for byte: trees, records' stats and keys, counts, and the calls made
back into Python (labels, exclusions, the walk's other entries) in the same order, on
generated folders with odd names and damaged or hostile records; and a snapshot's trees and
files cache are the same whichever of the two the walk uses."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ctreehelp import files_cache
from ctreehelp import native as _ctree
from ctreehelp import needs_c
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import build as build_tree
from storehelpers import mutate
from storehelpers import random_tree
from storehelpers import take

import git_snapshot.store
from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import ctree
from git_snapshot.store import ctree_py
from git_snapshot.store import filescache
from git_snapshot.store import lstats
from git_snapshot.store import objects
from git_snapshot.store import walker

_S, _K, _H = filescache.STAT.size, filescache.KEY, filescache.HEAD.size
REG, DIR, LNK = 0o100644, 0o40755, 0o120777

names_st = st.lists(
    st.binary(min_size=1, max_size=12).filter(lambda b: b"/" not in b and b"\0" not in b),
    unique=True,
    max_size=40,
)


def _stat(draw: Any, mode: int) -> bytes:
    return filescache.STAT.pack(
        draw(st.sampled_from([0, 1, 100, 2**40])),
        draw(st.sampled_from([0, 1, 1_700_000_000_000_000_000, -5])),
        draw(st.sampled_from([0, 7])),
        draw(st.sampled_from([1, 2, 3])),
        mode,
    )


@st.composite
def folders(draw: Any) -> dict[str, Any]:
    """A listing (names, packed lstats) and an old record of it, more or less alike."""
    names = draw(names_st)
    if names and draw(st.integers(0, 7)) == 0:  # a name twice: names taken from a hostile record
        names.insert(draw(st.integers(0, len(names))), draw(st.sampled_from(names)))
    modes = [draw(st.sampled_from([REG, REG, REG, 0o100755, DIR, LNK, 0])) for _ in names]
    stats = [b"\0" * _S if m == 0 else _stat(draw, m) for m in modes]
    # the old record: the same names (same), or some of them and others, in any order
    same = draw(st.booleans())
    if same:
        onames = list(names)
        ostats = [s if draw(st.integers(0, 3)) else _stat(draw, REG) for s in stats]
    else:
        onames = [x for x in names if draw(st.booleans())] + draw(names_st)
        onames = list(dict.fromkeys(draw(st.permutations(onames))))
        at = {x: i for i, x in enumerate(names)}
        ostats = [
            stats[at[x]] if x in at and draw(st.integers(0, 3)) else _stat(draw, REG)
            for x in onames
        ]
    keys = [
        draw(st.sampled_from([filescache.NO_KEY, bytes([i % 256]) * 32, b"\xaa" * 32]))
        for i in range(len(onames))
    ]
    hn = len(onames)
    rec: bytes | None
    rec = filescache.record(b"k" * 32, 0, 0, None, 0, 0, 1, ostats, keys, b"\0".join(onames), hn)
    damage = draw(st.sampled_from(["none"] * 6 + ["short", "cut", "bytes", "none-rec", "hn"]))
    if damage == "short":  # fewer bytes than its count says
        rec = rec[: draw(st.integers(0, len(rec)))]
    elif damage == "cut":  # its stats and keys shifted
        rec = rec[:_H] + rec[_H + draw(st.integers(1, 8)) :]
    elif damage == "bytes":
        rec = draw(st.binary(max_size=300))
    elif damage == "none-rec":
        rec = None
    elif damage == "hn":  # a count the record does not hold
        hn = draw(st.sampled_from([hn + 1, 10**6, 2**40, 2**70, -1]))
    where = {x: i for i, x in enumerate(onames)}
    if draw(st.booleans()):  # a hostile index
        where[draw(st.sampled_from([*names, b"x"]))] = draw(st.sampled_from([-1, 2**62, hn + 3, 0]))
    return dict(
        names=names,
        stats=b"".join(stats),
        old=rec,
        hn=hn,
        same=same and damage not in ("hn",),
        where={} if same else where,
        damaged=draw(st.sampled_from([None, {}, {b"\xaa" * 32: "gone"}])),
        hidden=draw(st.sampled_from([None, set(), set(names[:1]), {b".git"}])),
        general=draw(st.integers(0, 9)) == 0,
        classify=draw(st.booleans()),
        exclude=draw(st.booleans()),
        rel=draw(st.sampled_from([b"", b"a/", b"x\xff/y/"])),
        label=draw(st.integers(0, 3)),
        inherit=draw(st.sampled_from([None, None, 0, 1, 2, 3])),
        skip=draw(st.sets(st.integers(0, 39))),
        done=draw(done_st(len(names))),
    )


@st.composite
def done_st(draw: Any, n: int) -> dict[int, Any] | None:
    """The folders a walk walked already (walker._Walker.tree's *done*), by index: each a
    folder's entry (build takes it, without other()) or something else (other()'s then:
    None, a file's entry, a folder's with a ref not of 32 bytes or a kind not exactly the
    int DIR), or a folder's that cannot be encoded (a name not bytes, a label over 255: the
    error raised before other() is called, by both); an index past the names is never looked
    up."""
    if draw(st.integers(0, 3)) == 0:
        return None
    out: dict[int, Any] = {}
    for i in draw(st.sets(st.integers(0, n + 2))):
        out[i] = draw(
            st.sampled_from(
                [
                    objects.Entry(
                        b"d%d" % i, objects.DIR, 0o755, i * 7 - 3, 0, bytes([i % 256]) * 32, i % 4
                    ),
                    (b"t", objects.DIR, 0o700, 2**70, 0, b"\x05" * 32, 1, 0),
                    None,
                    (b"f", objects.FILE, 0o644, 1, 2, b"\x06" * 32, 0, 0),
                    (b"s", objects.DIR, 0o755, 1, 0, b"\x07" * 31, 0, 0),
                    (b"b", True, 0o755, 1, 0, b"\x08" * 32, 0, 0),
                    (b"l", 2**80, 0o755, 1, 0, b"\x09" * 32, 0, 0),
                    # a folder's that cannot be encoded: an error before other() is called
                    (7, objects.DIR, 0o755, 1, 0, b"\x0a" * 32, 0, 0),
                    (b"x", objects.DIR, 0o755, 1, 0, b"\x0b" * 32, 300, 0),
                ]
            )
        )
    return out


def run(impl: Callable[..., Any], f: dict[str, Any]) -> tuple[Any, list[Any]]:
    """*impl*'s build of folder *f*, and every call it made back into Python."""
    calls: list[Any] = []

    def classify(rel: bytes, is_dir: bool, parent: int) -> int:
        calls.append(("classify", rel, is_dir, parent))
        return (len(rel) + parent) % 4

    def exclude(rel: bytes, is_dir: bool) -> bool:
        calls.append(("exclude", rel, is_dir))
        return rel.endswith(b"\x01")

    def other(todo: list[int]) -> list[tuple[Any, bytes, bytes]]:
        calls.append(("other", tuple(todo)))
        out: list[tuple[Any, bytes, bytes]] = []
        for i in todo:
            name = f["names"][i]
            if i in f["skip"]:
                out.append((None, filescache.NO_STAT, filescache.NO_KEY))
                continue
            e = (name, 1 + i % 3, 0o644, i * 1000 - 7, i, bytes([i % 256]) * (i % 40), i % 5, i % 2)
            out.append((e, f["stats"][_S * i : _S * (i + 1)], b"\x01" * 32))
        return out

    args = dict(f)
    args.pop("skip")
    done = args.pop("done", None)
    args["classify"] = classify if f["classify"] else None
    args["exclude"] = exclude if f["exclude"] else None
    try:
        if impl is ctree_py.build:
            got = impl(**args, other=other, done=done)
        else:
            got = impl(*args.values(), other, done)
    except Exception as exc:
        got = type(exc)
    return got, calls


@needs_c
@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(folders())
def test_c_is_its_twin(f: dict[str, Any]) -> None:
    assert run(_ctree.build, f) == run(ctree_py.build, f)


@needs_c
def test_a_big_folder() -> None:
    """10,000 entries, in reverse name order, every other one plain."""
    n = 10_000
    names = [b"n%06d" % (n - i) for i in range(n)]
    stats = b"".join(filescache.STAT.pack(i, i, i, i, REG) for i in range(n))
    ostats = [stats[_S * i : _S * (i + 1)] if i % 2 else filescache.NO_STAT for i in range(n)]
    keys = [bytes([i % 251 + 1]) * 32 for i in range(n)]
    rec = filescache.record(b"k" * 32, 0, 0, None, 0, 0, 1, ostats, keys, b"\0".join(names), n)
    f: dict[str, Any] = dict(
        names=names, stats=stats, old=rec, hn=n, same=True, where={}, damaged=None,
        hidden=None, general=False, classify=True, exclude=False, rel=b"big/", label=1,
        inherit=None, skip=set(range(0, n, 4)),
    )  # fmt: skip
    c, twin = run(_ctree.build, f), run(ctree_py.build, f)
    assert c == twin
    assert c[0][3] == n // 2  # the plain files


@needs_c
def test_an_empty_folder() -> None:
    f: dict[str, Any] = dict(
        names=[], stats=b"", old=None, hn=0, same=False, where={}, damaged=None, hidden=None,
        general=False, classify=False, exclude=False, rel=b"", label=0, inherit=None,
        skip=set(),
    )  # fmt: skip
    assert run(_ctree.build, f) == run(ctree_py.build, f)
    assert run(_ctree.build, f)[0][0] == b"GSTREE1\n"


@needs_c
@pytest.mark.parametrize("inherited", [False, True])
@pytest.mark.parametrize("label", [256, -1, "x", 2.0])
def test_a_label_out_of_range_fails_as_struct_does(label: Any, inherited: bool) -> None:
    """classify's answer out of a byte's range, or the folder's own label given to its files
    (inherited)."""
    names = [b"a"]
    stats = filescache.STAT.pack(1, 1, 1, 1, REG)
    rec = filescache.record(b"k" * 32, 0, 0, None, 0, 0, 1, [stats], [b"\x02" * 32], b"a", 1)
    for impl in (_ctree.build, ctree_py.build):
        with pytest.raises(struct.error):
            impl(
                names, stats, rec, 1, True, {}, None, None, False,
                lambda *a: label, None, b"", label if inherited else 0,
                label if inherited else None, lambda todo: [],
            )  # fmt: skip


def _bare(names: list[bytes], stats: bytes, other: Callable[[list[int]], Any]) -> Any:
    """C's build of a folder with no record, no labeller, no exclusion: every entry other()'s."""
    assert _ctree is not None
    return _ctree.build(
        names, stats, None, 0, False, {}, None, None, False, None, None, b"", 0, None, other
    )


@needs_c
def test_other_s_answer_is_checked() -> None:
    stats = filescache.STAT.pack(1, 1, 1, 1, DIR)
    bad: Any
    for bad in [
        None,
        [],
        [None],
        [(None, b"\0" * 40)],
        [(None, b"", b"\0" * 32)],
        [(None, b"\0" * 40, b"x")],
        [((1, 2), b"\0" * 40, b"\0" * 32)],
        [(("d", 2, 0o755, 0, 0, b"", 0, 0), b"\0" * 40, b"\0" * 32)],
        [((b"d", 256, 0o755, 0, 0, b"", 0, 0), b"\0" * 40, b"\0" * 32)],
        [((b"d", 2, 0o755, 0, -1, b"", 0, 0), b"\0" * 40, b"\0" * 32)],
    ]:

        def other(todo: list[int], bad: Any = bad) -> Any:
            return bad

        with pytest.raises((TypeError, ValueError, struct.error)):
            _bare([b"d"], stats, other)


@needs_c
def test_the_formats_c_was_written_for() -> None:
    assert ctree.INTERFACE == _ctree.INTERFACE == lstats.INTERFACE
    assert filescache.HEAD.size == _ctree.RECORD_HEAD
    assert filescache.STAT.size == _ctree.STAT_SIZE
    assert _ctree.KEY_SIZE == filescache.KEY
    assert objects.HEAD.size == _ctree.ENTRY_HEAD
    assert objects.TREE_MAGIC == b"GSTREE1\n"


def test_a_module_built_for_another_interface_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An older build (INTERFACE missing or another): the twin runs, not a C build() that
    takes other arguments (every snapshot would fail)."""
    import importlib
    import types

    for old in ({}, {"INTERFACE": ctree.INTERFACE - 1}):
        fake = types.ModuleType("git_snapshot.store._ctree")
        fake.__dict__.update(old, build=lambda *a: None)
        monkeypatch.setitem(sys.modules, "git_snapshot.store._ctree", fake)
        monkeypatch.setattr(git_snapshot.store, "_ctree", fake, raising=False)
        monkeypatch.delenv("GIT_SNAPSHOT_PURE_PYTHON", raising=False)
        try:
            chosen = importlib.reload(ctree)
            assert chosen.build is ctree_py.build and not chosen.NATIVE
        finally:
            monkeypatch.undo()
            importlib.reload(ctree)


def test_the_chooser() -> None:
    """ctree.build is the C one when it is built, unless GIT_SNAPSHOT_PURE_PYTHON=1."""
    if os.environ.get("GIT_SNAPSHOT_PURE_PYTHON") == "1" or _ctree is None:
        assert ctree.build is ctree_py.build and not ctree.NATIVE
    else:
        assert ctree.build is _ctree.build and ctree.NATIVE
    if os.environ.get("GIT_SNAPSHOT_REQUIRE_C") == "1":
        assert ctree.NATIVE


def _labels(rel: bytes, is_dir: bool, parent: int) -> int:
    return parent or (len(rel) % 3 if not is_dir else int(rel.endswith(b"3")))


@needs_c
@pytest.mark.parametrize("seed", range(4))
def test_a_snapshot_is_the_same_with_and_without_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """The same tree and store, edited, snapshotted with each: the same root, files cache
    and counts, after edits, additions, deletions, and a second round."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    src = tmp_path / "src"
    build_tree(src, random_tree(seed, 300, dirs=12))
    os.makedirs(src / "d001" / "deep" / "er")
    (src / "d001" / "deep" / "er" / "x").write_bytes(b"x")
    os.symlink("d001", src / "link")

    def opts() -> archiver.Options:
        return archiver.Options(
            classify=_labels,
            exclude=(lambda rel, is_dir: rel.endswith(b"7")) if seed % 2 else None,
            omit=frozenset({b"d000/f00001"}),
            rules=None if seed % 3 == 2 else "the same",  # (None: no tree kept whole)
        )

    base = tmp_path / "base"
    with Store(base) as s:
        take(s, "s", src, opts())
    for rnd in range(2):
        mutate(src, seed * 10 + rnd, share=0.1)
        roots = []
        for impl in (_ctree.build, ctree_py.build):
            monkeypatch.setattr(walker, "_build", impl)
            at = tmp_path / f"{impl.__module__}-{rnd}"
            shutil.copytree(base, at)
            with Store(at) as s:
                snap = take(s, "s", src, opts())
                cache = files_cache(s)
                roots.append((snap.root, snap.files, snap.bytes, cache.dirs, cache.root))
        assert roots[0] == roots[1]
        assert roots[0][3]  # (a files cache was written)
        shutil.rmtree(base)
        shutil.copytree(tmp_path / f"{_ctree.build.__module__}-{rnd}", base)


PROBE = """
import sys
import git_snapshot.store
from git_snapshot.store import Store
from git_snapshot.store.archiver import create_snapshot
with Store(sys.argv[1]) as s:
    create_snapshot(s, "s", sys.argv[2])
print("git_snapshot.store.ctree" in sys.modules)
"""


def test_an_unchanged_walk_imports_no_builder(tmp_path: Path) -> None:
    """ctree is imported by the first folder built again: an unchanged snapshot (every hook's
    common case) builds none (its C module is loaded for the lstats: store/lstats.py)."""
    src = tmp_path / "src"
    build_tree(src, random_tree(1, 50, dirs=3))
    time.sleep(walker.RACY_NS / 1e9 + 0.1)  # (else no record is trusted)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", PROBE, str(tmp_path / "store"), str(src)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs == [["True"], ["False"]]


@needs_c
def test_an_answer_changed_while_read_is_no_crash() -> None:
    """A field whose __index__ empties the answers' list (and drops its entries) as C reads
    it: C read a copy."""
    answers: list[Any] = []

    class Kind:
        def __index__(self) -> int:
            answers.clear()
            return 2

    stats = filescache.STAT.pack(1, 1, 1, 1, DIR) * 2

    def other(todo: list[int]) -> list[Any]:
        for i in todo:
            e = (b"d%d" % i, Kind(), 0o755, 0, 0, b"k" * 32, 0, 0)
            answers.append((e, b"\0" * 40, b"\0" * 32))
        return answers

    tree = _bare([b"d0", b"d1"], stats, other)[0]
    assert tree.count(b"k" * 32) == 2
