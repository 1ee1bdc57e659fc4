"""RED26 (session 26): a file dated after 2262-04-11 (or before 1677-09-21) stopped every
snapshot of its worktree. Its mtime in nanoseconds does not fit the int64 that the files
cache's STAT, a folder record's head and a tree entry's HEAD hold; `touch -d 2300-01-01 a`
made every `git snapshot` and every hook end in "internal error: error('argument out of
range')", and nothing of the worktree was protected from then on. Now such a time is held as
the int64's bound wherever it is packed: the file's content, mode and name are kept, its
mtime restored as 2262-04-11 (the nearest the format holds), and a later walk compares the
time os.lstat gives with that bound: never equal, so such a file is read again, never kept
by a stat it shares with another time."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from ctreehelp import native as _ctree
from ctreehelp import needs_c
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import build
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store import ctree_py
from git_snapshot.store import filescache
from git_snapshot.store import forked
from git_snapshot.store import lstats
from git_snapshot.store import objects
from git_snapshot.store import splitwalk
from git_snapshot.store import walker
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance

MAX, MIN = 2**63 - 1, -(2**63)
FUTURE = 2**63 + 5_000_000_000  # 2262-04-11, and five seconds
PAST = -(2**63) - 5_000_000_000


def _keeps(folder: str, ns: int) -> bool:
    """Whether *folder*'s file system keeps a file time of *ns* as given (ext4 clamps times
    before 1901; tmpfs keeps any)."""
    probe = os.path.join(folder, "probe")
    open(probe, "wb").close()
    try:
        os.utime(probe, ns=(ns, ns))
        return os.lstat(probe).st_mtime_ns == ns
    finally:
        os.unlink(probe)


@pytest.fixture
def far(tmp_path: Path) -> Iterator[tuple[Path, list[int]]]:
    """A temporary folder, and the far times its file system keeps (tmp_path's, or one on
    /dev/shm when only that keeps both)."""
    here = str(tmp_path)
    made = None
    if not _keeps(here, PAST) and os.path.isdir("/dev/shm") and _keeps("/dev/shm", PAST):
        here = made = tempfile.mkdtemp(prefix="gs-far-", dir="/dev/shm")
    try:
        times = [t for t in (FUTURE, PAST) if _keeps(here, t)]
        if FUTURE not in times:
            pytest.skip("no file system here keeps a time past 2262")
        yield Path(here), times
    finally:
        if made is not None:
            shutil.rmtree(made)


def _date(path: Path, ns: int) -> None:
    os.utime(path, ns=(ns, ns), follow_symlinks=False)


def _tree(src: Path, times: list[int]) -> None:
    build(
        src,
        D(
            {
                b"plain.txt": F(b"plain\n"),
                b"d": D({b"in.txt": F(b"in a far folder\n"), b"other.txt": F(b"o\n")}),
                b"e": D({b"x.txt": F(b"x\n")}),
                b"link": L(b"plain.txt"),
            }
        ),
    )
    for i, t in enumerate(times):
        (src / f"far{i}.txt").write_bytes(b"dated %d\n" % t)
        _date(src / f"far{i}.txt", t)
        (src / "e" / f"far{i}.txt").write_bytes(b"in e %d\n" % i)
        _date(src / "e" / f"far{i}.txt", t)
    _date(src / "link", FUTURE)
    _date(src / "d" / "in.txt", FUTURE)
    _date(src / "d", FUTURE)


def _held(seen: dict[bytes, Any]) -> dict[bytes, Any]:
    """*seen* with every mtime as the store holds it (the int64's bounds)."""
    return {
        k: v.__class__(v.kind, v.mode, max(MIN, min(MAX, v.mtime_ns)), v.data)
        for k, v in seen.items()
    }


@pytest.fixture(params=["c", "twin"])
def impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "c":
        if _ctree is None:
            pytest.skip("the C speedups are not built")
        monkeypatch.setattr(walker, "_build", _ctree.build)
        monkeypatch.setattr(walker, "_lstats", _ctree.lstats)
    else:
        monkeypatch.setattr(walker, "_build", ctree_py.build)
        monkeypatch.setattr(walker, "_lstats", lstats.lstats)
        monkeypatch.setattr(walker, "_fast_read", None)
        monkeypatch.setattr(walker, "_fast_store", None)
    return str(request.param)


def _split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walker, "SPLIT_FOLDERS", 0)
    monkeypatch.setattr(splitwalk, "MIN_FILES", 0)
    monkeypatch.setattr(splitwalk, "UNITS", 2)
    monkeypatch.setattr(splitwalk, "WAIT", True)
    monkeypatch.setattr(forked, "other_threads", lambda: False)


@pytest.mark.parametrize("split", [False, True], ids=["one-process", "split"])
def test_far_dated_entries_are_kept_by_every_walk_and_restored(
    far: tuple[Path, list[int]], impl: str, split: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    top, times = far
    monkeypatch.setattr(walker, "RACY_NS", 0)  # the second walk trusts the records
    if split:
        _split(monkeypatch)
    src = top / "src"
    _tree(src, times)
    with Store(top / "store") as store:
        first = take(store, "s", src)  # everything read
        assert snapshot_contents(store, first) == _held(scan(src))
        again = take(store, "s", src)  # the records' names trusted, their stats compared
        assert again.root == first.root
        (src / "e" / "x.txt").write_bytes(b"edited\n")  # a folder with far files built again
        (src / "d" / "new.txt").write_bytes(b"new\n")  # and the far folder
        _date(src / "d", FUTURE)
        step = take(store, "s", src)
        assert snapshot_contents(store, step) == _held(scan(src))
        assert take(store, "s", src).root == step.root
        restore(store, step, top / "back")
        assert scan(top / "back") == _held(scan(src))
        far_back = os.lstat(top / "back" / "far0.txt").st_mtime_ns
        assert far_back == MAX  # 2262-04-11T23:47:16.854775807Z


def test_the_packings_hold_a_far_time_as_the_int64_bound() -> None:
    st = SimpleNamespace(
        st_size=1, st_mtime_ns=FUTURE, st_ctime_ns=PAST, st_ino=2, st_mode=0o100644
    )
    near = SimpleNamespace(st_size=1, st_mtime_ns=MAX, st_ctime_ns=MIN, st_ino=2, st_mode=0o100644)
    got = filescache.pack_stats([st, None, near])  # type: ignore[list-item]
    held = filescache.STAT.pack(1, MAX, MIN, 2, 0o100644)
    assert got == held + filescache.NO_STAT + held
    e = objects.Entry(b"a", objects.FILE, 0o644, FUTURE, 3, b"k" * 32)
    tree = objects.encode_tree([e])
    (back,) = objects.decode_tree(tree)
    assert back.mtime_ns == MAX and back._replace(mtime_ns=FUTURE) == e
    rec = filescache.record(b"k" * 32, 1, 2, (3, PAST, FUTURE), 1, 2, 0, b"", b"", b"", 0)
    assert filescache.HEAD.unpack_from(rec)[3:6] == (3, MIN, MAX)


@needs_c
def test_the_c_tree_builder_encodes_a_far_time_as_its_twin_does() -> None:
    entry = (b"a", objects.FILE, 0o644, PAST, 3, b"k" * 32, 0, 0)
    args: list[Any] = [[b"a"], filescache.NO_STAT, b"", 0, True, None, None, None, True]
    args += [None, None, b"", 0, 0, lambda todo: [(entry, filescache.NO_STAT, filescache.NO_KEY)]]
    assert _ctree.build(*args) == ctree_py.build(*args)
    (back,) = objects.decode_tree(_ctree.build(*args)[0])
    assert back.mtime_ns == MIN


def test_a_repo_with_a_far_dated_file_is_snapshot_and_compared(
    far: tuple[Path, list[int]],
) -> None:
    top, _ = far
    repo = committed_repo(top / "repo")
    (repo / "far.txt").write_text("dated 2300\n")
    _date(repo / "far.txt", FUTURE)
    r = gs(repo)  # (gs fails on an internal error)
    assert "snapshot 1:" in r.out, r.out
    r = gs(repo, "diff", "1")  # the snapshot against the worktree: the same content
    assert "far.txt" not in r.out, r.out
    assert gs(repo, "cat", "1", "far.txt").out == "dated 2300\n"
    gs(repo, "install")  # the hooks, as a user installs them: one snapshot per checkout
    (repo / "far.txt").write_text("dated 2300, edited\n")  # the same size would do too
    _date(repo / "far.txt", FUTURE)
    r = git(repo, "checkout", "-b", "other")  # (git fails the test on an internal error)
    assert "git-snapshot: snapshot 2 (post-checkout): 2 files" in r.err, r.err
    assert gs(repo, "cat", "2", "far.txt").out == "dated 2300, edited\n"


def test_a_snapshot_rebuilt_from_the_watchers_marks_holds_a_far_time(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    """The watcher's path (store/rebuild.py): a far-dated folder and file, named by events,
    rebuilt from the base's trees: the same snapshot a full walk gives."""
    (repo / "d").mkdir()
    (repo / "d" / "x.txt").write_text("x\n")
    with Store() as store, instance.hold(store.path) as got:
        assert got
        dirtyset.watching(store.path, str(repo))
        found = gitrepo.find_repo(str(repo))
        worktree.take(store, found, trigger="watch")  # the base: a full walk
        (repo / "d" / "far.txt").write_text("far\n")
        _date(repo / "d" / "far.txt", FUTURE)
        _date(repo / "d", FUTURE)
        dirtyset.mark(store.path, str(repo), [], [str(repo / "d" / "far.txt"), str(repo / "d")])
        snap = worktree.take(store, found, trigger="watch").snapshot
        assert snapshot_contents(store, snap)[b"d/far.txt"].mtime_ns == MAX
    with Store(tmp_path / "full") as other:
        full = worktree.take(other, found, trigger="manual").snapshot
    assert (snap.root, snap.files, snap.bytes) == (full.root, full.files, full.bytes)
