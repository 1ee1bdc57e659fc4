"""The files cache (store/filescache.py): a folder whose listing is its record's keeps its tree,
a file whose lstat is its record's keeps its key, and a cache that is damaged, truncated, of
another generation or crafted is discarded or ignored record by record, never trusted into a
snapshot that differs from the disk."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import note
from hypothesis import settings
from hypothesis import strategies as st
from readhelp import python_reads  # noqa: F401  (pytestmark below)
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import build
from storehelpers import diff
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store import ctree
from git_snapshot.store import filescache
from git_snapshot.store import walker
from git_snapshot.store.objects import TREE
from git_snapshot.store.packs import PackWriter

pytestmark = pytest.mark.usefixtures("python_reads")  # (they watch os.open/os.read)

_real_open = os.open


@pytest.fixture(autouse=True)
def no_racy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written a moment ago may be cached (each test sleeps past the clock's grain)."""
    monkeypatch.setattr(walker, "RACY_NS", 0)


@pytest.fixture(autouse=True)
def mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cache here is loaded the way a big one is (mapped): the small ones of the rest of
    the suite are read."""
    monkeypatch.setattr(filescache, "MAP_MIN", 0)


def settle() -> None:
    time.sleep(0.02)  # the file system's coarse clock moves past the last write


class Reads:
    """Which files below *root* a snapshot opened, and how many trees it encoded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
        self.root = os.fsencode(root) + b"/"
        self.paths: list[bytes] = []
        self.trees = 0
        monkeypatch.setattr(os, "open", self._open)
        monkeypatch.setattr(walker, "_fast_read", None)  # (tests/readhelp.py: C reads unseen)
        real_add = PackWriter.add

        def add(writer: Any, type_: int, *a: Any, **kw: Any) -> Any:
            self.trees += type_ == TREE
            return real_add(writer, type_, *a, **kw)

        monkeypatch.setattr(PackWriter, "add", add)

    def _open(self, path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        p = os.fsencode(path)
        if p.startswith(self.root):
            self.paths.append(p[len(self.root) :])
        return _real_open(path, flags, mode, **kw)

    def clear(self) -> None:
        self.paths.clear()
        self.trees = 0


def _tree() -> D:
    return D(
        {
            b"a.txt": F(b"alpha\n" * 40),
            b"b.bin": F(os.urandom(3000), 0o755),
            b"sub": D(
                {
                    b"c.txt": F(b"gamma"),
                    b"deep": D({b"d.txt": F(b"delta" * 3), b"e": F(b"")}),
                    b"link": L(b"../a.txt"),
                }
            ),
            b"other": D({b"f.txt": F(b"phi" * 9)}),
        }
    )


FILES = [b"src/a.txt", b"src/b.bin", b"src/other/f.txt", b"src/sub/c.txt"]
FILES += [b"src/sub/deep/d.txt", b"src/sub/deep/e"]


def _cache_file(store: Store) -> Path:
    (name,) = os.listdir(store.cache_dir)
    return Path(store.cache_dir, name)


@pytest.fixture
def store(store_dir: Path) -> Any:
    with Store(store_dir) as s:
        yield s


def test_unchanged_folders_keep_their_trees_and_files_are_not_read(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    settle()
    reads = Reads(monkeypatch, tmp_path)
    first = take(store, "s", src)
    assert sorted(reads.paths) == FILES
    reads.clear()
    second = take(store, "s", src)
    assert reads.paths == [] and reads.trees == 0  # nothing read, nothing encoded
    assert second.root == first.root
    # one file rewritten in place, same size, its mtime put back: only its folder and the
    # folders above it are encoded again, only it is read
    path = src / "sub" / "deep" / "d.txt"
    before = os.lstat(path)
    settle()
    path.write_bytes(b"DELTA" * 3)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    settle()
    reads.clear()
    third = take(store, "s", src)
    assert reads.paths == [b"src/sub/deep/d.txt"]
    assert reads.trees == 3  # sub/deep, sub and the top: not "other"
    assert diff(scan(src), snapshot_contents(store, third)) == []


def _damage_truncate(path: Path, store: Store) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _damage_flip(path: Path, store: Store) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))


def _damage_magic(path: Path, store: Store) -> None:
    data = path.read_bytes()
    path.write_bytes(b"GSCACHE2" + data[8:])


def _damage_generation(path: Path, store: Store) -> None:
    """Saved under another generation (garbage collection since: its keys may be gone)."""
    generation = store.index.meta_get("generation", "0")
    cache = filescache.load(str(path), generation, store.index.has_root)
    assert cache.dirs
    filescache.save(str(path), generation + "x", cache, store.tmp_dir)


def _damage_garbage(path: Path, store: Store) -> None:
    path.write_bytes(os.urandom(200))


def _damage_empty(path: Path, store: Store) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize(
    "damage",
    [
        _damage_truncate,
        _damage_flip,
        _damage_magic,
        _damage_generation,
        _damage_garbage,
        _damage_empty,
    ],
)
def test_a_damaged_or_stale_cache_is_discarded(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Any
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    settle()
    take(store, "s", src)
    # a change the cache would hide if it were trusted blindly: same size and mtime, new
    # content (its ctime moves, which is what the cache keeps as well)
    path = src / "a.txt"
    before = os.lstat(path)
    settle()
    path.write_bytes(b"ALPHA\n" * 40)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    damage(_cache_file(store), store)
    settle()
    reads = Reads(monkeypatch, tmp_path)
    snap = take(store, "s", src)
    assert sorted(reads.paths) == FILES  # everything read again
    assert diff(scan(src), snapshot_contents(store, snap)) == []
    reads.clear()
    take(store, "s", src)
    assert reads.paths == []  # and the cache saved afresh


def _hostile(rec: bytes) -> list[object]:
    """Records a crafted or damaged cache could hold in place of *rec* (checksum valid)."""
    head = list(filescache.HEAD.unpack_from(rec))
    n = head[8]
    body = rec[filescache.HEAD.size :]
    huge = head.copy()
    huge[8] = 1 << 30
    fewer = head.copy()
    fewer[8] = max(0, n - 1)
    zero_keys = body[: filescache.STAT.size * n] + bytes(filescache.KEY * n)
    zero_keys += body[(filescache.STAT.size + filescache.KEY) * n :]
    return [
        None,
        "a string",
        12,
        (rec,),
        rec[:10],
        rec[: len(rec) // 2],
        filescache.HEAD.pack(*huge) + body,
        filescache.HEAD.pack(*fewer) + body,
        rec[: filescache.HEAD.size] + zero_keys,
        rec + b"\0extra",
    ]


@pytest.mark.parametrize("which", range(10))
def test_crafted_records_are_ignored_not_trusted(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: int
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    settle()
    take(store, "s", src)
    path = _cache_file(store)
    generation = store.index.meta_get("generation", "0")
    cache = filescache.load(str(path), generation, store.index.has_root)
    assert set(cache.dirs) == {b"", b"sub", b"sub/deep", b"other"}
    for rel in cache.dirs:
        cache.dirs[rel] = _hostile(cache.dirs[rel])[which]  # type: ignore[assignment]
    cache.skipped = {b"sub": ((1, 2),)}  # type: ignore[dict-item]
    filescache.save(str(path), generation, cache, store.tmp_dir)
    # the content changes under an unchanged size and mtime, as above
    f = src / "sub" / "c.txt"
    before = os.lstat(f)
    settle()
    f.write_bytes(b"GAMMA")
    os.utime(f, ns=(before.st_atime_ns, before.st_mtime_ns))
    settle()
    snap = take(store, "s", src)
    assert diff(scan(src), snapshot_contents(store, snap)) == []
    assert filescache.summary(cache.dirs[b"sub"], ((1, 2),)) is None


def test_other_rules_keep_file_keys_but_label_afresh(tmp_path: Path) -> None:
    """git add of an untracked file changes its label and nothing on disk: the folder's tree
    must not be kept (the labels' digest is part of what a record was made under)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    gitrepo_run = _git(repo)
    gitrepo_run("init", "-q")
    (repo / "d").mkdir()
    (repo / "d" / "x.txt").write_text("x\n")
    (repo / "README").write_text("r\n")
    gitrepo_run("add", "README")
    gitrepo_run("commit", "-q", "-m", "r")
    settle()
    r = gitrepo.find_repo(str(repo))
    with Store() as store:
        first = worktree.take(store, r, trigger="manual").snapshot
        labels = {p: e.label for p, e in store.walk(first.root)}
        assert labels[b"d/x.txt"] == worktree.UNTRACKED
        gitrepo_run("add", "d/x.txt")
        second = worktree.take(store, r, trigger="manual").snapshot
        labels = {p: e.label for p, e in store.walk(second.root)}
        assert labels[b"d/x.txt"] == worktree.TRACKED


def _git(repo: Path) -> Any:
    from clihelpers import git

    return lambda *args: git(repo, *args)


# -- with the cache == without it, after random edits ----------------------------------------

NAMES = [b"a", b"b", b"c.txt", b"d", b"e"]
_edit = st.tuples(
    st.sampled_from(["write", "same_size", "touch_back", "delete", "mkdir", "chmod", "rename"]),
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=3),  # a path below the top
    st.binary(min_size=0, max_size=40),
)


def _apply(root: Path, op: str, parts: list[bytes], data: bytes) -> None:
    path = Path(os.fsdecode(os.path.join(os.fsencode(root), *parts)))
    parent = path.parent
    if not parent.is_dir():
        try:
            parent.mkdir(parents=True)
        except (FileExistsError, NotADirectoryError):
            return  # a file on the way
    exists = path.is_file() and not path.is_symlink()
    if op == "write" or (op in ("same_size", "touch_back") and not exists):
        if path.is_dir() and not path.is_symlink():
            return
        path.write_bytes(data)
    elif op in ("same_size", "touch_back"):
        # the rewrite the cache must not hide: same size, the mtime put back
        before = os.lstat(path)
        old = path.read_bytes()
        new = bytes((b + 1) % 256 for b in old) if op == "same_size" else old[::-1]
        path.write_bytes(new)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif op == "delete":
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    elif op == "mkdir":
        if not path.exists():
            path.mkdir()
    elif op == "chmod" and exists:
        path.chmod(path.stat().st_mode ^ 0o100)
    elif op == "rename" and (exists or path.is_dir()):
        target = parent / (path.name + "r")
        if not target.exists():
            path.rename(target)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rounds=st.lists(st.lists(_edit, min_size=1, max_size=6), min_size=1, max_size=3))
def test_a_snapshot_with_the_cache_is_the_one_without_it(
    tmp_path_factory: pytest.TempPathFactory, rounds: list[list[tuple[str, list[bytes], bytes]]]
) -> None:
    base = tmp_path_factory.mktemp("fc")
    src = base / "src"
    build(src, D({b"a": F(b"one"), b"d": D({b"c.txt": F(b"two"), b"e": D({b"a": F(b"3")})})}))
    settle()
    with Store(base / "cached") as cached, Store(base / "fresh") as fresh:
        take(cached, "s", src)
        for edits in rounds:
            for op, parts, data in edits:
                _apply(src, op, parts, data)
            settle()
            with_cache = take(cached, "s", src)
            shutil.rmtree(fresh.cache_dir, ignore_errors=True)
            without = take(fresh, "s", src)
            assert with_cache.root == without.root  # the same trees, byte for byte
            assert (with_cache.files, with_cache.bytes) == (without.files, without.bytes)


def test_the_whole_cache_is_written_beside_the_commit_and_only_a_cache_is_lost(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A walk that saves the whole cache again writes it in a thread of its own (beside the
    pool's last frames and the index's commit), put in place once the snapshot is committed;
    when writing it fails, the snapshot is taken all the same, without a cache."""
    import threading

    src = tmp_path / "src"
    build(src, _tree())
    take(store, "src", src)
    settle()
    who: list[int] = []
    real = filescache.update

    def update(*a: Any) -> Any:
        who.append(threading.get_ident())
        return real(*a)

    monkeypatch.setattr(filescache, "update", update)
    (src / "sub" / "c.txt").write_bytes(b"gamma, changed")
    settle()
    snap = take(store, "src", src)
    assert who and threading.get_ident() not in who
    assert scan(src) == snapshot_contents(store, snap)
    cache = filescache.load(
        str(_cache_file(store)), store.index.meta_get("generation", "0"), store.index.has_root
    )
    assert cache.root == snap.root

    def full(*a: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(filescache, "update", full)
    (src / "other" / "f.txt").write_bytes(b"phi, changed")
    settle()
    later = take(store, "src", src)
    assert scan(src) == snapshot_contents(store, later)
    assert filescache.load(
        str(_cache_file(store)), store.index.meta_get("generation", "0"), store.index.has_root
    ).root in (snap.root, b"")
    assert os.listdir(store.tmp_dir) == []


def _loaded(store: Store) -> filescache.FilesCache:
    generation = store.index.meta_get("generation", "0")
    return filescache.load(str(_cache_file(store)), generation, store.index.has_root)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rounds=st.lists(st.lists(_edit, min_size=1, max_size=6), min_size=1, max_size=4))
def test_appended_records_load_as_the_whole_cache_the_walk_left(
    tmp_path_factory: pytest.TempPathFactory, rounds: list[list[tuple[str, list[bytes], bytes]]]
) -> None:
    """A walk that changed few records appends them (and a mark for each folder gone) to the
    file it loaded: loaded again, it gives the very records, skipped paths and root that the
    whole file written again gives."""
    base = tmp_path_factory.mktemp("fa")
    src = base / "src"
    build(src, D({b"a": F(b"one"), b"d": D({b"c.txt": F(b"two"), b"e": D({b"a": F(b"3")})})}))
    settle()
    appended = 0
    with Store(base / "append") as app, Store(base / "whole") as whole:
        take(app, "s", src)
        take(whole, "s", src)
        for edits in rounds:
            for op, parts, data in edits:
                _apply(src, op, parts, data)
            settle()
            ident = os.stat(_cache_file(app)).st_ino
            a = take(app, "s", src)
            with pytest.MonkeyPatch.context() as m:
                m.setattr(filescache, "MAX_APPENDS", 0)  # always the whole file
                w = take(whole, "s", src)
            assert a.root == w.root
            got, want = _loaded(app), _loaded(whole)
            assert want.tail is not None and want.tail.appended == []
            assert (got.dirs, got.skipped, got.root, got.rules) == (
                want.dirs,
                want.skipped,
                want.root,
                want.rules,
            )
            if got.tail is not None and got.tail.appended:
                assert os.stat(_cache_file(app)).st_ino == ident  # appended in place
                appended += 1
    note(f"{appended} rounds appended")  # (0 when no edit changed the tree)


def test_a_torn_or_failed_append_costs_a_reread_never_a_wrong_snapshot(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    settle()
    take(store, "s", src)
    path = _cache_file(store)
    size = path.stat().st_size
    (src / "sub" / "c.txt").write_bytes(b"gamma, changed")
    settle()
    second = take(store, "s", src)
    cache = _loaded(store)
    assert cache.root == second.root and cache.tail is not None and cache.tail.appended
    assert path.stat().st_size > size  # appended to
    # a write that fails half-way (a full disk): cut off again, the cache as it was
    real = os.pwrite
    calls: list[int] = []

    def pwrite(fd: int, data: Any, offset: int) -> int:
        calls.append(offset)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return real(fd, data[: len(data) // 2], offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    (src / "other" / "f.txt").write_bytes(b"phi, changed")
    settle()
    before = path.stat().st_size
    third = take(store, "s", src)
    monkeypatch.setattr(os, "pwrite", real)
    assert len(calls) == 2 and path.stat().st_size == before
    assert _loaded(store).root == second.root  # the last cache that was whole
    assert diff(scan(src), snapshot_contents(store, third)) == []
    # the cache names the second snapshot: the third's change is read again, and only it
    reads = Reads(monkeypatch, tmp_path)
    fourth = take(store, "s", src)
    assert reads.paths == [b"src/other/f.txt"]
    assert diff(scan(src), snapshot_contents(store, fourth)) == []
    # an append torn by a crash: the check fails, everything is read again
    (src / "a.txt").write_bytes(b"alpha, changed")
    settle()
    take(store, "s", src)
    assert _loaded(store).tail.appended  # type: ignore[union-attr]
    data = path.read_bytes()
    path.write_bytes(data[:-3])
    assert _loaded(store).dirs == {}
    # the content changes under an unchanged size and mtime: trusted, a cache would hide it
    f = src / "sub" / "deep" / "d.txt"
    st_before = os.lstat(f)
    settle()
    f.write_bytes(b"DELTA" * 3)
    os.utime(f, ns=(st_before.st_atime_ns, st_before.st_mtime_ns))
    settle()
    reads.clear()
    last = take(store, "s", src)
    assert sorted(reads.paths) == FILES
    assert diff(scan(src), snapshot_contents(store, last)) == []


def test_appends_stop_at_the_dead_share_and_the_file_is_written_whole(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    settle()
    take(store, "s", src)
    monkeypatch.setattr(filescache, "MAX_APPENDS", 3)
    seen = []
    for i in range(5):
        (src / "sub" / "c.txt").write_bytes(b"gamma %d" % i)
        settle()
        snap = take(store, "s", src)
        cache = _loaded(store)
        assert cache.root == snap.root and cache.tail is not None
        seen.append(len(cache.tail.appended))
    assert seen == [1, 2, 3, 0, 1]
    # a folder gone: marked so in the appended chunk, gone from the records loaded
    assert b"sub/deep" in _loaded(store).dirs
    shutil.rmtree(src / "sub" / "deep")
    settle()
    snap = take(store, "s", src)
    cache = _loaded(store)
    assert cache.root == snap.root and len(cache.tail.appended) == 2  # type: ignore[union-attr]
    assert b"sub/deep" not in cache.dirs and set(cache.dirs) == {b"", b"sub", b"other"}
    # dead bytes past DEAD of the live ones: whole again
    monkeypatch.setattr(filescache, "DEAD", 0.0)
    monkeypatch.setattr(filescache, "SMALL", 0)
    (src / "sub" / "c.txt").write_bytes(b"gamma again")
    settle()
    take(store, "s", src)
    assert _loaded(store).tail.appended == []  # type: ignore[union-attr]


def _two_appends(store: Store, tmp_path: Path) -> tuple[str, str, list[Any]]:
    """A cache file of the _tree snapshot, and two appenders made from two loads of it (two
    snapshots of the worktree ending together: the store's lock is shared), with other
    records of other lengths: ([appender A, appender B], their records)."""
    src = tmp_path / "src"
    build(src, _tree())
    settle()
    take(store, "s", src)
    path = str(_cache_file(store))
    generation = store.index.meta_get("generation", "0")
    out = []
    for who, extra in ((b"A", 1), (b"B", 300)):
        cache = filescache.load(path, generation, store.index.has_root)
        assert cache.tail is not None
        rec = cache.dirs[b"sub"]
        cache.dirs[b"sub"] = rec[: filescache.HEAD.size] + rec[filescache.HEAD.size :]  # (a copy)
        cache.dirs[b"new-" + who] = rec + who * extra
        w = filescache.update(
            path, generation, cache, cache.tail, [b"new-" + who], {}, store.tmp_dir
        )
        assert isinstance(w, filescache.Appender)
        out.append((w, dict(cache.dirs)))
    return path, generation, out


def test_two_appends_at_once_leave_one_of_them_whole_or_a_discarded_cache(
    store: Store, tmp_path: Path
) -> None:
    path, generation, ((a, a_dirs), (b, b_dirs)) = _two_appends(store, tmp_path)
    base = Path(path).read_bytes()

    def loaded() -> dict[bytes, bytes]:
        return filescache.load(path, generation, store.index.has_root).dirs

    a.publish()
    b.publish()  # the file grew since B loaded it: B's records are not appended
    assert loaded() == a_dirs
    # had both passed that test together (no lock), each write lands at the old end: the
    # file is the later one's whole, or fails its check; never a mix that passes it
    for first, second, want in ((a, b, b_dirs), (b, a, None)):
        one, two = b"".join(first.parts), b"".join(second.parts)
        Path(path).write_bytes(base + one)
        with open(path, "r+b") as f:
            f.seek(len(base))
            f.write(two)
        assert loaded() == (want if len(two) >= len(one) else {})


def test_an_append_cut_anywhere_fails_the_check(store: Store, tmp_path: Path) -> None:
    """A kill while the records and their check are written (its parts in turn, no mark written
    after it): any prefix of the append is a cache that fails its check (a re-read)."""
    path, generation, ((a, a_dirs), _) = _two_appends(store, tmp_path)
    base, data = Path(path).read_bytes(), b"".join(a.parts)
    for cut in range(1, len(data)):
        Path(path).write_bytes(base + data[:cut])
        assert filescache.load(path, generation, store.index.has_root).dirs == {}, cut
    Path(path).write_bytes(base + data)
    assert filescache.load(path, generation, store.index.has_root).dirs == a_dirs


def test_a_load_waits_for_an_append_under_way(store: Store, tmp_path: Path) -> None:
    import fcntl
    import threading

    path, generation, ((a, a_dirs), _) = _two_appends(store, tmp_path)
    got: list[dict[bytes, bytes]] = []
    with open(path, "r+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # as Appender.publish holds it
        f.seek(0, os.SEEK_END)
        data = b"".join(a.parts)
        f.write(data[:10])  # half an append
        f.flush()
        t = threading.Thread(
            target=lambda: got.append(filescache.load(path, generation, lambda r: True).dirs)
        )
        t.start()
        t.join(0.3)
        assert t.is_alive() and not got  # not read half-written
        f.write(data[10:])
        f.flush()
    t.join(10)
    assert got == [a_dirs]


def test_a_change_of_a_twentieth_or_more_is_written_whole(tmp_path: Path) -> None:
    """Appended records cost every later load and fork (dead records read, the changed ones
    apart from their neighbours: the unchanged snapshot after L's appended 1 % step +8 ms):
    only a change under DEAD (5 %) of the file is appended."""
    path, tmp = str(tmp_path / "c.cache"), str(tmp_path)
    dirs = {b"d%05d" % i: bytes([i % 251]) * 1000 for i in range(2000)}  # ~2 MB
    filescache.save(path, "g", filescache.FilesCache(dict(dirs), {}, b"r" * 32), tmp)
    for share, kind in ((0.01, filescache.Appender), (0.1, filescache.Writer)):
        cache = filescache.load(path, "g", lambda r: True)
        changed = sorted(cache.dirs)[: int(len(dirs) * share)]
        for rel in changed:
            cache.dirs[rel] = rel * 166  # (each its own bytes: marshal shares equal objects)
        w = filescache.update(path, "g", cache, cache.tail, changed, {}, tmp)
        assert isinstance(w, kind)
        w.discard()


def test_a_change_past_the_room_is_written_whole_without_making_the_delta(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The changed records' bytes are counted until they pass the room for an append: a
    walk that changed many (M's 1 % step) writes the whole file without building the delta
    (nor looking at the folders gone) in the thread that ends the snapshot last. A folder
    named twice counts once, as in the delta (the same choices as before)."""
    path, tmp = str(tmp_path / "c.cache"), str(tmp_path)
    dirs = {b"d%05d" % i: bytes([i % 251]) * 1000 for i in range(2000)}  # ~2 MB
    filescache.save(path, "g", filescache.FilesCache(dict(dirs), {}, b"r" * 32), tmp)

    def no_delta(*args: Any) -> dict[bytes, bytes]:
        raise AssertionError("the delta was made")

    cache = filescache.load(path, "g", lambda r: True)
    changed = sorted(cache.dirs)[:200]  # 10 %: past DEAD
    for rel in changed:
        cache.dirs[rel] = rel * 166
    with monkeypatch.context() as m:
        m.setattr(filescache, "_delta", no_delta)
        w = filescache.update(path, "g", cache, cache.tail, changed, dict(dirs), tmp)
    assert isinstance(w, filescache.Writer)
    w.discard()

    cache = filescache.load(path, "g", lambda r: True)
    changed = sorted(cache.dirs)[:20]  # 1 %, each named 8 times: 8 % if counted so
    for rel in changed:
        cache.dirs[rel] = rel * 166
    w = filescache.update(path, "g", cache, cache.tail, changed * 8, {}, tmp)
    assert isinstance(w, filescache.Appender)
    w.publish()
    assert filescache.load(path, "g", lambda r: True).dirs == cache.dirs


def test_the_cache_is_marshalled_without_references_and_a_file_with_them_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records, trailers and appended chunks are marshalled at version 2, which has no
    references: version 4 enters every object something else holds too (a walk's paths and
    records) in a table for repeats the cache never has, at every write and every load. A
    file written with references (by the code before) loads the same."""
    import marshal

    path, tmp = str(tmp_path / "c.cache"), str(tmp_path)
    dirs = {b"d%05d" % i: bytes([i % 251]) * 300 for i in range(400)}
    held = list(dirs.items())  # another reference to each path and record, as a walk holds
    skipped: dict[bytes, tuple[tuple[str, str], ...]] = {b"d00001": (("d00001/x", "excluded"),)}

    def chunks(data: bytes) -> list[bytes]:
        """The file's marshalled parts: its whole chunks, then each appended chunk."""
        end = len(data) - filescache._CHECK.size - filescache._LEN.size
        (size,) = filescache._LEN.unpack_from(data, end)
        trailer = data[end - size : end]
        *_, n, appended = marshal.loads(trailer)
        out, at = [trailer], len(filescache._MAGIC)
        for _ in range(n):
            (size,) = filescache._LEN.unpack_from(data, at)
            out.append(data[at + 4 : at + 4 + size])
            at += 4 + size
        for at in appended:
            (size,) = filescache._LEN.unpack_from(data, at)
            out.append(data[at + 4 : at + 4 + size])
        return out

    filescache.save(path, "g", filescache.FilesCache(dict(held), skipped, b"r" * 32), tmp)
    cache = filescache.load(path, "g", lambda r: True)
    cache.dirs[b"d00002"] = b"changed" * 10
    w = filescache.update(path, "g", cache, cache.tail, [b"d00002"], {}, tmp)
    assert isinstance(w, filescache.Appender)
    w.publish()
    with open(path, "rb") as f:
        parts = chunks(f.read())
    assert len(parts) == 3  # the last trailer, the whole chunk, the appended one
    for part in parts:
        assert part == marshal.dumps(marshal.loads(part), 2)
    assert filescache.load(path, "g", lambda r: True).dirs == cache.dirs

    monkeypatch.setattr(filescache, "_VERSION", 4)
    filescache.save(path, "g", filescache.FilesCache(dict(held), skipped, b"r" * 32), tmp)
    with open(path, "rb") as f:
        assert any(p != marshal.dumps(marshal.loads(p), 2) for p in chunks(f.read()))
    again = filescache.load(path, "g", lambda r: True)
    assert again.dirs == dirs and again.skipped == skipped
    assert held


def test_a_walk_that_changed_every_record_holds_no_copy_of_them_all(tmp_path: Path) -> None:
    """A second snapshot that read every file again (a young copy's records are not yet
    trusted) changes every record: the cache is written whole, in chunks, without first
    marshalling all the changed records to weigh them (L: 22 MB more at that command's peak,
    142 -> 169 MB)."""
    import tracemalloc

    path, tmp = str(tmp_path / "c.cache"), str(tmp_path)
    dirs = {b"d%05d" % i: bytes([i % 251]) * 2000 for i in range(4000)}  # 8 MB
    filescache.save(path, "g", filescache.FilesCache(dict(dirs), {}, b"r" * 32), tmp)
    cache = filescache.load(path, "g", lambda r: True)
    changed = sorted(cache.dirs)
    for rel in changed:
        cache.dirs[rel] = rel * 400  # (each its own bytes)
    tracemalloc.start()
    try:
        w = filescache.update(path, "g", cache, cache.tail, changed, {}, tmp)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(w, filescache.Writer)
    w.publish()
    assert filescache.load(path, "g", lambda r: True).dirs == cache.dirs
    assert peak < 4 * filescache.Writer.CHUNK, peak  # the records: 8 MB


def test_a_load_maps_the_file_and_copies_only_the_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache file is mapped, not read into memory whole first (M's 7.3 MB: ~1,800 page
    faults of every hook, before its walk starts): a load holds the records it returns and
    no copy of the file; the mapping is gone when it returns. Where nothing can be mapped,
    the file is read as before, with the same answer."""
    import mmap
    import tracemalloc

    path, tmp = str(tmp_path / "c.cache"), str(tmp_path)
    dirs = {b"d%05d" % i: bytes([i % 251]) * 2000 for i in range(4000)}  # 8 MB
    filescache.save(path, "g", filescache.FilesCache(dict(dirs), {}, b"r" * 32), tmp)
    size = os.path.getsize(path)
    tracemalloc.start()
    try:
        cache = filescache.load(path, "g", lambda r: True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert cache.dirs == dirs and cache.tail is not None and cache.tail.size == size
    assert peak < 1.25 * size, (peak, size)  # the records (~the file), not twice the file
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
        assert path not in maps.read()

    def no_map(*a: Any, **kw: Any) -> Any:
        raise OSError("this file system maps nothing")

    monkeypatch.setattr(mmap, "mmap", no_map)
    again = filescache.load(path, "g", lambda r: True)
    assert again.dirs == dirs and again.tail is not None
    assert (again.tail.size, again.tail.check) == (size, cache.tail.check)


def test_the_cache_is_checked_by_crc32_alone_and_a_format_5_file_is_still_read(
    tmp_path: Path,
) -> None:
    """Format 6: the CRC-32 of the file (and a zero word where format 5 had its Adler-32: a
    second pass over every byte at every load, M 2.4 ms, L ~8-15 ms). A format-5 file (both
    sums) is still read and checked as such, never appended to: its next save is whole."""
    import struct
    import zlib

    path, tmp = str(tmp_path / "c.cache"), str(tmp_path)
    dirs = {b"d%03d" % i: bytes([i]) * 300 for i in range(200)}
    filescache.save(path, "g", filescache.FilesCache(dict(dirs), {}, b"r" * 32), tmp)
    data = Path(path).read_bytes()
    assert data.startswith(b"GSCACHE6")
    assert data[-8:] == struct.pack("<II", zlib.crc32(data[:-8]), 0)
    assert filescache.load(path, "g", lambda r: True).dirs == dirs
    bad = bytearray(data)
    bad[100] ^= 0x10
    Path(path).write_bytes(bytes(bad))
    assert filescache.load(path, "g", lambda r: True).dirs == {}  # damage: discarded

    old = b"GSCACHE5" + data[8:-8]  # as format 5 wrote it
    Path(path).write_bytes(old + struct.pack("<II", zlib.crc32(old), zlib.adler32(old)))
    five = filescache.load(path, "g", lambda r: True)
    assert five.dirs == dirs and five.tail is None  # read; not appended to
    Path(path).write_bytes(old + struct.pack("<II", zlib.crc32(old), 0))
    assert filescache.load(path, "g", lambda r: True).dirs == {}  # format 5 needs its Adler
    five.dirs[b"d000"] = b"\1" * 300
    w = filescache.update(path, "g", five, five.tail, [b"d000"], {}, tmp)
    assert isinstance(w, filescache.Writer)
    w.publish()
    assert Path(path).read_bytes().startswith(b"GSCACHE6")
    assert filescache.load(path, "g", lambda r: True).dirs[b"d000"] == b"\1" * 300


# A load in its own process, its mapping made unreadable as the kernel sees a page it cannot
# give back (a disk's read error, or the file cut short under it by a writer that ignores the
# lock): the file is cut to 100 bytes right after it is mapped. Prints the records loaded.
_UNREADABLE_PAGES = """
import mmap, os, sys
from git_snapshot.store import filescache

path = sys.argv[1]

class Unreadable(mmap.mmap):
    def __new__(cls, *a, **kw):
        m = super().__new__(cls, *a, **kw)
        os.truncate(path, 100)
        return m

mmap.mmap = Unreadable
print(len(filescache.load(path, "g", lambda r: True).dirs))
"""


def test_a_mapped_page_that_cannot_be_read_costs_a_reread_never_the_process(
    tmp_path: Path,
) -> None:
    """Reading a mapped page the disk cannot give back kills the process (SIGBUS: the hook,
    or the watcher's daemon; and every later hook, as long as the file stays), where read()
    said OSError and the cache was discarded. Every page is read in at the load's start
    (MADV_POPULATE_READ, which reports such a page as an error): on an error the file is
    read instead, as before, and whatever read() says is the answer (here: a damaged file,
    discarded; the next save replaces it)."""
    import subprocess
    import sys

    import git_snapshot

    path, tmp = str(tmp_path / "c.cache"), str(tmp_path)
    dirs = {b"d%05d" % i: bytes([i % 251]) * 2000 for i in range(1000)}  # 2 MB
    filescache.save(path, "g", filescache.FilesCache(dict(dirs), {}, b"r" * 32), tmp)
    top = os.path.dirname(os.path.dirname(git_snapshot.__file__))
    env = dict(os.environ, PYTHONPATH=top)
    done = subprocess.run(
        [sys.executable, "-c", _UNREADABLE_PAGES, path], env=env, capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (0, "0\n"), done.stderr


_records = st.dictionaries(st.binary(max_size=40), st.binary(max_size=3000), max_size=300)


@given(dirs=_records, piece=st.integers(1, 70))
def test_a_chunk_written_in_pieces_is_the_dicts_marshal(
    tmp_path_factory: pytest.TempPathFactory, dirs: dict[bytes, bytes], piece: int
) -> None:
    """A chunk is marshalled PIECE records at a time (M's whole cache: 1,149 page faults of a
    1 MiB marshal buffer -> 120) and its bytes are still those of the one dict's marshal, so a
    load reads it as before."""
    import marshal

    tmp = tmp_path_factory.mktemp("pieces")
    w = filescache.Writer(str(tmp / "c.cache"), str(tmp))
    old = filescache.PIECE
    filescache.PIECE = piece
    try:
        w.chunk(dirs)
    finally:
        filescache.PIECE = old
    w.f.close()
    data = (tmp / os.path.basename(w.tmp)).read_bytes()
    whole = marshal.dumps(dirs, 2)
    assert data[len(filescache._MAGIC) :] == (
        filescache._LEN.pack(len(whole)) + whole if dirs else b""
    )


def test_a_chunk_of_what_is_not_bytes_drops_it(tmp_path: Path) -> None:
    """A record or path that is not bytes (a damaged cache's, carried over) is dropped by the
    whole write, and by a chunk given one (a first walk's spill): the rest of the piece it
    lies in is written, with the length its bytes have."""
    path, tmp = str(tmp_path / "c.cache"), str(tmp_path)
    dirs: dict[Any, Any] = {b"a": b"rec", "é": b"x", b"b": "not bytes", b"c": b"rec c"}
    filescache.save(path, "g", filescache.FilesCache(dirs, {}, b"r" * 32), tmp)
    assert filescache.load(path, "g", lambda r: True).dirs == {b"a": b"rec", b"c": b"rec c"}
    w = filescache.Writer(path, tmp)
    not_bytes: Any = {"é": b"x"}
    w.chunk(not_bytes)  # nothing left of it: no chunk
    w.chunk({b"d": b"rec d", b"e": bytearray(b"x")})  # type: ignore[dict-item]
    w.finish("g", b"r" * 32, None, {})
    assert w.chunks == 1
    assert filescache.load(path, "g", lambda r: True).dirs == {b"d": b"rec d"}


def test_a_whole_write_cuts_chunks_of_about_chunk_bytes_between_pieces(tmp_path: Path) -> None:
    """The whole write passes over the records once, cutting them into pieces of PIECE
    records and the pieces into chunks once they hold Writer.CHUNK bytes or more: each chunk
    is the marshal of its own dict (as a load reads it), and the records come back in their
    order."""
    import marshal

    path, tmp = str(tmp_path / "c.cache"), str(tmp_path)
    dirs = {b"d%05d" % i: bytes([i % 251]) * (100 + i % 900) for i in range(6000)}  # ~3 MB
    filescache.save(path, "g", filescache.FilesCache(dict(dirs), {}, b"r" * 32), tmp)
    data = (tmp_path / "c.cache").read_bytes()
    end = len(data) - filescache._CHECK.size - filescache._LEN.size
    (size,) = filescache._LEN.unpack_from(data, end)
    n = marshal.loads(data[end - size : end])[4]
    at, sizes, seen = len(filescache._MAGIC), [], list[bytes]()
    for _ in range(n):
        (size,) = filescache._LEN.unpack_from(data, at)
        part = data[at + 4 : at + 4 + size]
        chunk = marshal.loads(part)
        assert part == marshal.dumps(chunk, 2)
        assert len(chunk) % filescache.PIECE == 0 or len(seen) + len(chunk) == len(dirs)
        sizes.append(size)
        seen += chunk
        at += 4 + size
    assert n > 2 and all(s >= filescache.Writer.CHUNK for s in sizes[:-1])
    assert all(s < filescache.Writer.CHUNK + 80_000 for s in sizes)  # (one piece more)
    assert seen == list(dirs)
    loaded = filescache.load(path, "g", lambda r: True)
    assert loaded.dirs == dirs and list(loaded.dirs) == list(dirs)


def test_an_append_holds_its_records_once(tmp_path: Path) -> None:
    """The appended chunk's parts (length, records, trailer, length, check) are checked and
    written one after the other, never joined: a join copied the records twice more (a big
    append's page faults, in the thread that ends the snapshot last). The file is the same."""
    import tracemalloc

    path, tmp = str(tmp_path / "c.cache"), str(tmp_path)
    dirs = {b"d%05d" % i: bytes([i % 251]) * 1000 for i in range(4000)}  # ~4 MB
    filescache.save(path, "g", filescache.FilesCache(dict(dirs), {}, b"r" * 32), tmp)
    cache = filescache.load(path, "g", lambda r: True)
    changed = sorted(cache.dirs)[::2]
    for rel in changed:  # ~2 MB of new records
        cache.dirs[rel] = rel * 166
    tracemalloc.start()
    try:
        with pytest.MonkeyPatch.context() as m:
            m.setattr(filescache, "DEAD", 1.0)
            w = filescache.update(path, "g", cache, cache.tail, changed, {}, tmp)
        size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(w, filescache.Appender)
    records = sum(len(k) + len(cache.dirs[k]) for k in changed)
    assert peak < 1.5 * records, (records, size, peak)  # one copy (the marshalled chunk)
    w.publish()
    assert filescache.load(path, "g", lambda r: True).dirs == cache.dirs


def _written(dirs: dict[Any, Any], tmp: Path, chunk: int, piece: int, native: bool) -> bytes:
    """The bytes Writer.chunk writes for *dirs* (chunks of *chunk* bytes, pieces of *piece*
    records), by ctree.fill (C) or by the twin (marshal in Python)."""
    w = filescache.Writer(str(tmp / f"c{int(native)}.cache"), str(tmp))
    w.CHUNK = chunk  # (the instance's)
    old_fill, old_piece = ctree.fill, filescache.PIECE
    ctree.fill = old_fill if native else None
    filescache.PIECE = piece
    try:
        w.chunk(dirs)
        w.chunk(dirs)  # (a second call: a spill's next chunk, from the start of its dict)
    finally:
        ctree.fill, filescache.PIECE = old_fill, old_piece
    w.f.close()
    data = (tmp / os.path.basename(w.tmp)).read_bytes()
    os.unlink(w.tmp)
    return data


_odd = st.one_of(st.binary(max_size=40), st.text(max_size=3), st.none(), st.integers())
# the C module is built (CI requires it: GIT_SNAPSHOT_REQUIRE_C), and not set aside by
# GIT_SNAPSHOT_PURE_PYTHON
_needs_c = pytest.mark.skipif(ctree.fill is None, reason="the C module is not in use")


@_needs_c
@given(
    dirs=st.dictionaries(
        st.one_of(st.binary(max_size=40), _odd),
        st.one_of(st.binary(max_size=3000), _odd),
        max_size=300,
    ),
    chunk=st.sampled_from([0, 1, 100, 4000, 30_000, 1 << 20]),
    piece=st.integers(1, 70),
)
def test_the_c_fill_writes_the_twins_bytes(
    tmp_path_factory: pytest.TempPathFactory, dirs: dict[Any, Any], chunk: int, piece: int
) -> None:
    """The whole write's chunks copied in C without the GIL (ctree.fill) are the twin's bytes
    (marshal's, PIECE records at a time, cut into chunks of Writer.CHUNK bytes or more at a
    piece's end), pairs that are not both bytes left out as the twin leaves them out."""
    tmp = tmp_path_factory.mktemp("fill")
    assert _written(dirs, tmp, chunk, piece, True) == _written(dirs, tmp, chunk, piece, False)


@_needs_c
def test_the_c_fill_holds_and_lets_go_of_what_it_copies() -> None:
    """fill takes a reference to each path and record while it copies them without the GIL,
    and gives each back; a wrong argument raises, never copies."""
    import sys

    fill = ctree.fill
    assert fill is not None
    recs = {b"p%d" % i: b"r" * 10 + b"%d" % i for i in range(200)}
    before = [sys.getrefcount(r) for r in recs.values()]
    buf = bytearray()
    pos, got = 0, 0
    while pos >= 0:
        pos, end, count = fill(recs, pos, buf, 5, 50, 7)
        got += count
        assert end >= 5 and len(buf) >= end
    assert got == 200 and [sys.getrefcount(r) for r in recs.values()] == before
    bads: list[tuple[Any, ...]] = [
        (recs, 0, b"", 0, 1, 1),
        ([], 0, buf, 0, 1, 1),
        (recs, 0, buf, 0, 1, 0),
    ]
    for bad in bads:
        with pytest.raises((TypeError, ValueError)):
            fill(*bad)
    assert [sys.getrefcount(r) for r in recs.values()] == before
