"""Red team on store/_ctree.c (session 18), end to end: a worktree snapshotted again and again
after random edits, its files cache damaged between the snapshots (a record's lstats or keys
changed, its count made to lie, cut short, replaced by other bytes, two records swapped: a
cache saved with a good check, as a hostile or buggy writer would leave it), gives the same
snapshot whether the walk builds changed folders in C or in the twin (GIT_SNAPSHOT_PURE_PYTHON=1
in-process: walker._build): the same root key, counts, files cache; and unless the damage
gave a record a wrong key for a file whose lstat it holds (the cache is trusted on an lstat
that matches: by design, see filescache's docstring; such a key stays in the cache, and in
every later snapshot, until the file changes), the snapshot holds what the disk does."""

from __future__ import annotations

import os
import random
import shutil
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
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import ctree_py
from git_snapshot.store import filescache
from git_snapshot.store import walker
from git_snapshot.store.objects import CorruptObject

pytestmark = needs_c

_S, _K, _H = filescache.STAT.size, filescache.KEY, filescache.HEAD.size
ODD = [b"\xff\xfe", b"a b", b"new\nline", b"-", b".x", b"\x01", b"z" * 200, b"\xc3\xa9t\xc3\xa9"]
EDITS = ["mutate", "touch", "chmod", "file-to-dir", "odd-name", "rm-dir", "symlink", "none"]
# damage that may leave a record's key wrong for a file whose lstat it holds (trusted)
KEY_DAMAGE = {"keys", "count-down", "bytes", "swap"}
DAMAGE = ["none", "stats", "count-up", "cut", "drop", *sorted(KEY_DAMAGE)]


def _edit(src: Path, kind: str, rnd: random.Random) -> None:
    files = sorted(p for p in src.rglob("*") if p.is_file() and not p.is_symlink())
    dirs = sorted(p for p in src.rglob("*") if p.is_dir() and not p.is_symlink())
    if kind == "mutate":
        mutate(src, rnd.randrange(10**6), share=0.1)
    elif kind == "touch" and files:  # the lstat changes, the content does not
        # (back, not forward: an mtime ~1 s ahead made the file racy for the C snapshot and
        # settled for the twin's a moment later when the two fell either side of it)
        for p in rnd.sample(files, min(5, len(files))):
            st = p.lstat()
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns - 1_000_000_007))
    elif kind == "chmod" and files:
        for p in rnd.sample(files, min(3, len(files))):
            p.chmod(rnd.choice([0o600, 0o755, 0o640]))
    elif kind == "file-to-dir" and files:
        p = rnd.choice(files)
        p.unlink()
        p.mkdir()
        (p / "inside").write_bytes(b"was a file")
    elif kind == "odd-name":
        d = rnd.choice([src, *dirs])
        name = rnd.choice(ODD)
        target = os.path.join(os.fsencode(d), name)
        if not os.path.lexists(target):
            with open(target, "wb") as f:
                f.write(rnd.randbytes(rnd.randrange(100)))
    elif kind == "rm-dir" and dirs:
        shutil.rmtree(rnd.choice(dirs))
    elif kind == "symlink":
        d = rnd.choice([src, *dirs])
        name = b"link%d" % rnd.randrange(1000)
        target = os.path.join(os.fsencode(d), name)
        if not os.path.lexists(target):
            os.symlink(rnd.choice([b"f00001", b"../d000", b"nowhere"]), target)


def _damage(store: Store, kind: str, rnd: random.Random) -> None:
    """The store's one files cache, its records damaged as *kind* says, saved with a good
    check."""
    (name,) = os.listdir(store.cache_dir)
    path = os.path.join(store.cache_dir, name)
    gen = store.index.meta_get("generation", "0")
    cache = filescache.load(path, gen, store.index.has_root)
    assert cache.dirs, "the cache loads"
    dirs = cache.dirs
    for rel in rnd.sample(sorted(dirs), min(3, len(dirs))):
        rec = dirs[rel]
        head = filescache.HEAD.unpack_from(rec)
        n = head[8]
        b = bytearray(rec)
        if kind == "stats" and n:  # a byte of an lstat
            b[_H + rnd.randrange(_S * n)] ^= 1 << rnd.randrange(8)
        elif kind == "keys" and n:  # a byte of a key
            b[_H + _S * n + rnd.randrange(_K * n)] ^= 1 << rnd.randrange(8)
        elif kind in ("count-up", "count-down"):
            n2 = max(0, n + (rnd.randrange(1, 3) if kind == "count-up" else -1))
            b[_H - 8 : _H - 4] = n2.to_bytes(4, "little")
        elif kind == "cut":
            del b[rnd.randrange(_H, max(_H + 1, len(b))) :]
        elif kind == "bytes":
            b = bytearray(rnd.randbytes(rnd.randrange(_H + 200)))
        elif kind == "drop":
            del dirs[rel]
            continue
        elif kind == "swap":
            other = rnd.choice(sorted(dirs))
            dirs[rel], dirs[other] = dirs[other], dirs[rel]
            continue
        dirs[rel] = bytes(b)
    filescache.save(path, gen, cache, store.tmp_dir)


def _options() -> archiver.Options:
    return archiver.Options(
        classify=lambda rel, is_dir, parent: parent or len(rel) % 3,
        exclude=None,
    )


def _snapshot(base: Path, at: Path, src: Path, impl: Any, mp: pytest.MonkeyPatch) -> Any:
    mp.setattr(walker, "_build", impl)
    shutil.copytree(base, at)
    with Store(at) as s:
        snap = take(s, "s", src, _options())
        cache = files_cache(s)
        try:
            contents: Any = snapshot_contents(s, snap)
        except CorruptObject as exc:  # (a damaged key trusted: an object the store lacks)
            contents = str(exc)
    return (snap.root, snap.files, snap.bytes, cache.dirs, cache.root), contents


steps_st = st.lists(
    st.tuples(st.sampled_from(EDITS), st.sampled_from(DAMAGE), st.integers(0, 2**32)),
    min_size=1,
    max_size=4,
)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**16), steps=steps_st)
def test_c_and_twin_snapshot_alike_after_edits_and_a_damaged_cache(
    tmp_path_factory: pytest.TempPathFactory, seed: int, steps: list[tuple[str, str, int]]
) -> None:
    tmp = tmp_path_factory.mktemp("red18")
    try:
        src = tmp / "src"
        build_tree(src, random_tree(seed, 60, dirs=6))
        (src / "d000" / "deep").mkdir()
        (src / "d000" / "deep" / "x").write_bytes(b"x")
        base = tmp / "base"
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(walker, "RACY_NS", 0)  # (files written just now count as settled)
            with Store(base) as s:
                take(s, "s", src, _options())
            keys_damaged = False
            for k, (edit, damage, r) in enumerate(steps):
                rnd = random.Random(r)
                _edit(src, edit, rnd)
                if damage != "none":
                    with Store(base) as s:
                        _damage(s, damage, rnd)
                c, c_holds = _snapshot(base, tmp / f"c{k}", src, _ctree.build, mp)
                twin, twin_holds = _snapshot(base, tmp / f"py{k}", src, ctree_py.build, mp)
                assert c == twin, (edit, damage)
                assert c_holds == twin_holds
                keys_damaged = keys_damaged or damage in KEY_DAMAGE  # (it stays trusted)
                if not keys_damaged:
                    assert c_holds == scan(src), (edit, damage)
                shutil.rmtree(base)
                shutil.rmtree(tmp / f"py{k}")
                (tmp / f"c{k}").rename(base)
    finally:
        shutil.rmtree(tmp)
