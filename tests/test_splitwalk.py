"""The two-process walk (store/splitwalk.py): a snapshot walked by two processes is the one a
single walk makes, byte for byte, whatever changed, with everything it names stored; the
child answers whole units, changed or not, or else the folders inside one it could answer;
a file changed again after the child read it is walked by the parent; a child that dies or
answers garbage changes nothing; no child is left behind and none is forked beside another
thread."""

from __future__ import annotations

import marshal
import os
import random
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import build
from storehelpers import entry_of
from storehelpers import mutate
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take
from test_filescache import _apply
from test_filescache import _edit
from test_filescache import settle

from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import filescache
from git_snapshot.store import forked
from git_snapshot.store import splitwalk
from git_snapshot.store import walker

USED: list[int] = []
ENDED: list[int] = []  # units the parent read the child's answers for
CHANGED: list[int] = []  # of the folders taken, changed ones
REAL_OTHER_THREADS = forked.other_threads


@pytest.fixture(autouse=True)
def split_small_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every walk with a files cache is split, however small; what the child did is noted."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    monkeypatch.setattr(walker, "SPLIT_FOLDERS", 0)
    monkeypatch.setattr(splitwalk, "MIN_FILES", 0)
    monkeypatch.setattr(splitwalk, "UNITS", 4)  # units of about 13 files: the p folders
    # the parent waits for the child at each unit (it never does otherwise): so the child's
    # answers are used, not outrun by a parent walking a tiny tree
    monkeypatch.setattr(splitwalk, "WAIT", True)
    # pytest-xdist's worker keeps a thread of its own (idle, holding nothing we use)
    monkeypatch.setattr(forked, "other_threads", lambda: False)
    real = splitwalk.Split.close

    def close(self: splitwalk.Split) -> None:
        USED.append(self.used)
        ENDED.append(len(self.ended))
        CHANGED.append(self.used_changed)
        real(self)

    monkeypatch.setattr(splitwalk.Split, "close", close)
    USED.clear()
    ENDED.clear()
    CHANGED.clear()


def tree() -> D:
    """Eight folders of files, some nested: units enough for both processes."""
    return D(
        {
            b"d": D({b"c.txt": F(b"two"), b"e": D({b"a": F(b"3")})}),
            **{
                f"p{i}".encode(): D(
                    {
                        **{f"f{j}".encode(): F(b"x" * (i * 7 + j)) for j in range(6)},
                        b"sub": D({b"g": F(b"%d" % i)}),
                    }
                )
                for i in range(8)
            },
        }
    )


def _no_child_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_an_unchanged_tree_is_mostly_walked_by_the_child(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, tree())
    settle()
    with Store(tmp_path / "split") as store, Store(tmp_path / "one") as one:
        first = take(store, "s", src)
        assert USED == []  # a first walk has no cache to split by
        for _ in range(3):
            again = take(store, "s", src)
            assert again.root == first.root
        assert max(USED) > 0, USED  # the child's answers were taken
        assert (again.files, again.bytes) == (first.files, first.bytes)
        assert take(one, "s", src).root == first.root
    _no_child_left()


@pytest.mark.parametrize("read_limit", [splitwalk.READ_LIMIT, 4])
def test_changed_units_are_walked_by_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_limit: int
) -> None:
    """Every unit changes (p0..p7 and d), but not their subfolders: the child answers the
    units, the parent storing the files it read; when it reads none (they are all at least
    *read_limit* bytes), it answers their unchanged subfolders (p0/sub .. p7/sub)."""
    monkeypatch.setattr(splitwalk, "READ_LIMIT", read_limit)
    src = tmp_path / "src"
    build(src, tree())
    settle()
    with Store(tmp_path / "split") as store:
        take(store, "s", src)
        for i in range(8):
            (src / f"p{i}" / "f0").write_bytes(b"changed")
        (src / "d" / "c.txt").write_bytes(b"changed")
        settle()
        got = take(store, "s", src)
        # eight answers; d, the first unit, is the parent's before it waits, unless the child
        # got there first (a parent slow to start, on a loaded machine): nine
        assert USED in ([8], [9])
        read = read_limit > len(b"changed")  # the child read the changed files
        assert (USED if read else [0]) == CHANGED
        assert snapshot_contents(store, got) == scan(src)  # the files the parent stored
    with Store(tmp_path / "fresh") as fresh:
        assert take(fresh, "s", src).root == got.root
    _no_child_left()


def _taking(monkeypatch: pytest.MonkeyPatch, before: Any) -> list[bool]:
    """The parent's takes of changed answers, each answer as *before(folder, answer)* gives
    it: whether each was taken."""
    real = splitwalk.Split._changed
    answered: list[bool] = []

    def changed(self: splitwalk.Split, walker: Any, rel: bytes, *args: Any) -> Any:
        e = real(self, walker, rel, *args[:-1], before(rel, args[-1]))  # type: ignore[call-arg]
        answered.append(e is not None)
        return e

    monkeypatch.setattr(splitwalk.Split, "_changed", changed)
    return answered


@pytest.mark.parametrize("early", [True, False])
def test_a_file_changed_after_the_child_read_it_is_walked_by_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, early: bool
) -> None:
    """The parent reads the file again as the answer comes (*early*, its unit not the
    parent's yet) or as it takes the folder: its bytes no longer give the child's key, and
    the folder is walked here."""
    src = tmp_path / "src"
    build(src, tree())
    settle()
    real = splitwalk._stored

    def stored(walker: Any, trees: Any, blobs: Any) -> bool:
        if any(path.endswith(b"/p5/f0") for path, _ in blobs):
            (src / "p5" / "f0").write_bytes(b"changed again")
        return real(walker, trees, blobs)

    with Store(tmp_path / "split") as store:
        take(store, "s", src)
        (src / "p5" / "f0").write_bytes(b"changed")
        settle()
        monkeypatch.setattr(splitwalk, "_stored", stored)
        if not early:  # every answer read at the take (the unit is the parent's by then)
            monkeypatch.setattr(splitwalk.Split, "_early", lambda *a: None)
        answered = _taking(monkeypatch, lambda rel, answer: answer)
        got = take(store, "s", src)
        # an answer that fails early is dropped (never taken), one that fails at the take
        # is not taken: either way p5 is walked here
        assert answered == ([] if early else [False]) and CHANGED == [0]
        assert snapshot_contents(store, got) == scan(src)
    with Store(tmp_path / "fresh") as fresh:
        assert take(fresh, "s", src).root == got.root
    _no_child_left()


def test_a_changed_answer_is_stored_as_it_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a changed folder's answer needs is stored when the answer comes, while the child
    still walks, not when the parent's walk reaches the folder: at the take, its files and
    trees are stored already (and read once by the parent)."""
    src = tmp_path / "src"
    build(src, tree())
    settle()
    ready: list[bool] = []
    real = splitwalk.Split._changed

    def changed(self: splitwalk.Split, walker: Any, *args: Any) -> Any:
        answer = args[-1]
        ready.append(all(k in walker.pending for _, k in answer[4]) and bool(answer[4]))
        return real(self, walker, *args)

    with Store(tmp_path / "split") as store:
        take(store, "s", src)
        for i in range(1, 8):
            (src / f"p{i}" / "f0").write_bytes(b"changed %d" % i)
        settle()
        monkeypatch.setattr(splitwalk.Split, "_changed", changed)
        reads: list[bytes] = []
        read_whole = archiver.read_whole

        def counted(path: bytes, limit: int) -> Any:
            if os.getpid() == parent:
                reads.append(path)
            return read_whole(path, limit)

        read_small = splitwalk._read_small

        def counted_small(path: bytes) -> Any:
            if os.getpid() == parent:
                reads.append(path)
            return read_small(path)

        parent = os.getpid()
        monkeypatch.setattr(archiver, "read_whole", counted)
        monkeypatch.setattr(splitwalk, "_read_small", counted_small)
        got = take(store, "s", src)
        # p1..p7 come before the parent claims them (it waits at p0's unit, and the child
        # walks from the last unit): each stored as it came
        assert ready and all(ready) and [len(ready)] == CHANGED
        assert reads and len(reads) == len(set(reads))  # no file read twice by the parent
        assert snapshot_contents(store, got) == scan(src)
    with Store(tmp_path / "fresh") as fresh:
        assert take(fresh, "s", src).root == got.root
    _no_child_left()


def test_each_answer_names_all_it_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two units of the same trees, changed alike: the child's answer for the one it walks
    second must name the tree both need, as the parent may not take the other answer (here:
    it names a file that is not there, and the folder changes again)."""
    src = tmp_path / "src"
    build(src, tree())
    same = 1_600_000_000_000_000_000
    for p in (src / "p1", src / "p2"):
        (p / "sub" / "g").write_bytes(b"same")
        for i, f in enumerate(sorted([*p.iterdir(), p / "sub" / "g"])):
            if f.is_file():
                f.write_bytes(b"same %d" % i)
            os.utime(f, ns=(same, same))
    settle()
    taken: list[bytes] = []

    def before(rel: bytes, answer: Any) -> Any:
        taken.append(rel)
        if len(taken) == 2:  # its walk here does not give the tree the other one needs
            (src / os.fsdecode(rel) / "f1").write_bytes(b"changed again")
            return (*answer[:4], [*answer[4], (os.fsencode(src / "gone"), bytes(32))])
        return answer

    with Store(tmp_path / "split") as store:
        first = take(store, "s", src)
        t1, t2 = (entry_of(store, first, p).ref for p in (b"p1", b"p2"))
        assert t1 == t2  # the same tree
        for p in (src / "p1", src / "p2"):
            (p / "f0").write_bytes(b"changed alike")
            os.utime(p / "f0", ns=(same, same))
        settle()
        answered = _taking(monkeypatch, before)
        got = take(store, "s", src)
        assert sorted(taken) == [b"p1", b"p2"] and answered == [True, False]
        assert snapshot_contents(store, got) == scan(src)  # the first one's tree is stored
    with Store(tmp_path / "fresh") as fresh:
        assert take(fresh, "s", src).root == got.root
    _no_child_left()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rounds=st.lists(st.lists(_edit, min_size=0, max_size=5), min_size=1, max_size=4))
def test_a_split_walk_is_the_single_walk(
    tmp_path_factory: pytest.TempPathFactory, rounds: list[list[tuple[str, list[bytes], bytes]]]
) -> None:
    """After random edits (an empty round: nothing changed), the split walk with the files
    cache gives the trees a fresh single walk without any cache gives, and so does the
    next one, from the cache the split walk saved."""
    base = tmp_path_factory.mktemp("sw")
    src = base / "src"
    build(src, tree())
    settle()
    with Store(base / "split") as split, Store(base / "fresh") as fresh:
        take(split, "s", src)
        before = len(USED)  # (examples share the fixture)
        for edits in rounds:
            for op, parts, data in edits:
                _apply(src, op, [b"p3", *parts] if len(parts) % 2 else parts, data)
            settle()
            got = take(split, "s", src)
            shutil.rmtree(fresh.cache_dir, ignore_errors=True)
            want = take(fresh, "s", src)
            assert got.root == want.root  # the same trees, byte for byte
            assert snapshot_contents(split, got) == scan(src)  # all stored
            assert (got.files, got.bytes, got.skipped) == (want.files, want.bytes, want.skipped)
    assert len(USED) - before == len(rounds)  # every walk after the first was split
    _no_child_left()


def _child_that(monkeypatch: pytest.MonkeyPatch, does: Any) -> None:
    def child(
        walker: Any, root: bytes, todo: list[bytes], fd: int, passed: Any, trace: Any
    ) -> None:
        does(fd, todo)

    monkeypatch.setattr(splitwalk, "_child", child)


@pytest.mark.parametrize(
    ("does", "liar"),
    [  # (the first three never answer; the others lie, and every answer is read)
        (does, i >= 3)
        for i, does in enumerate(
            [
                lambda fd, todo: os._exit(3),  # dies at once
                lambda fd, todo: os.write(fd, b"\xff\xff\xff\x7fgarbage"),  # a length past the end
                lambda fd, todo: os.write(fd, b"\x05\x00\x00\x00nope!" * 3),  # not marshal
                # claims every unit unchanged, naming folders the cache never had
                lambda fd, todo: [
                    os.write(fd, len(m).to_bytes(4, "little") + m)
                    for m in [
                        marshal.dumps((rel, [(rel, [rel + b"/ghost"], [], [], [])])) for rel in todo
                    ]
                ],
                # answers of the wrong shape: folders that are not a list of paths, not 5-tuples, a
                # damaged record, folders outside the one answered for
                lambda fd, todo: [
                    os.write(fd, len(m).to_bytes(4, "little") + m)
                    for rel in todo
                    for m in [
                        marshal.dumps((rel, [(rel, [rel, 3], [], [], [])])),
                        marshal.dumps((rel, [rel])),
                        marshal.dumps(([rel], [])),
                        marshal.dumps((rel, [(rel, 7, [], [], [])])),
                        marshal.dumps((rel, [(rel, [rel], [(rel, b"not a record")], [], [])])),
                        marshal.dumps((rel, [(rel, [rel], [rel], [], [])])),
                        # a folder the cache has, not below rel
                        marshal.dumps(
                            (rel, [(rel, [rel, b"p1" if rel == b"p0" else b"p0"], [], [], [])])
                        ),
                    ]
                ],
            ]
        )
    ],
)
def test_a_child_that_dies_or_lies_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, does: Any, liar: bool
) -> None:
    """Nothing a child that dies or sends garbage or lies says is taken (the liars' answers
    are read: the parent parses each of them)."""
    src = tmp_path / "src"
    build(src, tree())
    settle()
    with Store(tmp_path / "s") as store:
        first = take(store, "s", src)
        (src / "p5" / "f1").write_bytes(b"changed")  # a unit the child would claim
        settle()
        _child_that(monkeypatch, does)
        got = take(store, "s", src)
    with Store(tmp_path / "fresh") as fresh:
        want = take(fresh, "s", src)
    assert got.root == want.root != first.root
    assert USED and max(USED) == 0
    if liar:
        assert max(ENDED) > 0  # its answers were read
    _no_child_left()


def test_a_file_path_with_a_nul_is_not_stored(tmp_path: Path) -> None:
    """A (lying) child's answer naming a file whose path has a NUL: not stored, the folder
    walked here (read_whole raised ValueError, out of the take and the snapshot)."""

    class Walker:
        def __init__(self) -> None:
            self.pending: set[bytes] = set()
            self.writer = None
            self.misses = 0

    assert splitwalk._stored(Walker(), [], [(os.fsencode(tmp_path) + b"/a\0b", bytes(32))]) is False


def test_no_fork_beside_another_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "other_threads", REAL_OTHER_THREADS)
    src = tmp_path / "src"
    build(src, tree())
    settle()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    with Store(tmp_path / "s") as store:
        take(store, "s", src)
        other.start()
        try:
            take(store, "s", src)
        finally:
            stop.set()
            other.join()
    assert USED == []  # never started


def _nested(seed: int, files: int) -> D:
    """Folders three deep (8 x 8 x 4), *files* small files spread over them."""
    rnd = random.Random(seed)
    root = D()
    leaves: list[D] = []
    for i in range(8):
        top = root.children[b"t%d" % i] = D()
        for j in range(8):
            mid = top.children[b"m%d" % j] = D()
            leaves.append(mid)
            for k in range(4):
                leaf = mid.children[b"l%d" % k] = D()
                leaves.append(leaf)
    for n in range(files):
        rnd.choice(leaves).children[b"f%05d" % n] = F(rnd.randbytes(rnd.randrange(2000)))
    return root


@pytest.mark.slow
def test_a_racing_split_walk_is_the_single_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the parent and the child really run (neither waits), rounds of random edits: the
    same trees as a fresh single walk, everything stored."""
    monkeypatch.setattr(splitwalk, "WAIT", False)
    monkeypatch.setattr(splitwalk, "UNITS", 32)
    src = tmp_path / "src"
    build(src, _nested(1, 4000))
    settle()
    with Store(tmp_path / "split") as split, Store(tmp_path / "fresh") as fresh:
        take(split, "s", src)
        for r in range(4):
            mutate(src, r, share=0.02)
            settle()
            got = take(split, "s", src)
            shutil.rmtree(fresh.cache_dir, ignore_errors=True)
            want = take(fresh, "s", src)
            assert got.root == want.root
            assert snapshot_contents(split, got) == scan(src)
    _no_child_left()


def test_a_traced_split_walk_says_what_each_process_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIT_SNAPSHOT_SPLIT_TRACE: both processes append what they did (units, where they met,
    CPU, waits for a core, page faults); the snapshot is the untraced one."""
    src = tmp_path / "src"
    build(src, tree())
    settle()
    trace = tmp_path / "trace.txt"
    with Store(tmp_path / "s") as store:
        first = take(store, "s", src)
        plain = take(store, "s", src)
        monkeypatch.setenv(splitwalk.TRACE_ENV, str(trace))
        traced = take(store, "s", src)
    assert traced.root == plain.root == first.root
    lines = [line.split() for line in trace.read_text().splitlines()]
    events = [(who, event) for who, event, *_ in lines]
    for needed in ("start", "forked", "unit", "end", "usage"):
        assert ("P", needed) in events, events
    assert ("C", "begin") in events and ("C", "unit") in events, events
    for _who, _event, ms, *_ in lines:
        assert float(ms) >= 0
    start = next(line for line in lines if line[:2] == ["P", "start"])
    assert "units=" in start[3] and start[4].startswith("records=")
    usage = next(line for line in lines if line[:2] == ["P", "usage"])
    assert any(f.startswith("wait=") for f in usage) and any(f.startswith("minflt=") for f in usage)
    # each unit is answered by the child or walked by the parent, once
    parent_units = [int(line[3]) for line in lines if line[:2] == ["P", "unit"]]
    assert len(parent_units) == len(set(parent_units))
    _no_child_left()


def test_the_parent_takes_units_in_the_order_the_child_leaves_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The units are listed in the directory's order (the files cache's); a changed folder is
    read in name order, but its folders are walked in the directory's, so the parent meets
    the units in the order the child takes them from the other end (in name order they could
    be the very ones the child starts with, then walked twice)."""
    src = tmp_path / "src"
    folders: dict[bytes, F | L | D] = {
        f"q{i}".encode(): D({**{f"f{j}".encode(): F(b"y" * (i + j)) for j in range(6)}})
        for i in reversed(range(8))  # made in reverse name order
    }
    build(src, D(folders))
    listed = [n for n in os.listdir(src) if n.startswith("q")]
    if listed == sorted(listed):
        pytest.skip("this file system lists the folders in name order")
    settle()
    trace = tmp_path / "trace.txt"
    with Store(tmp_path / "s") as store:
        take(store, "s", src)
        take(store, "s", src)
        (src / "new.txt").write_bytes(b"the root changed")  # its listing, read in name order
        settle()
        monkeypatch.setenv(splitwalk.TRACE_ENV, str(trace))
        got = take(store, "s", src)
    with Store(tmp_path / "one") as one:
        assert take(one, "s", src).root == got.root
    units = [
        int(f[3]) for f in map(str.split, trace.read_text().splitlines()) if f[:2] == ["P", "unit"]
    ]
    assert len(units) == 8
    assert units == sorted(units), units
    _no_child_left()


def test_units_come_in_the_order_a_walk_meets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder too big to be a unit is cut where the walk meets it, before the folders the
    record lists after it (they were listed first, so the parent met units out of order)."""
    from git_snapshot.store import filescache

    monkeypatch.setattr(splitwalk, "UNITS", 2)

    def rec(files: int, subs: list[bytes]) -> bytes:
        stats = [filescache.STAT.pack(0, 0, 0, i + 1, 0o40755) for i in range(len(subs))]
        keys = [filescache.NO_KEY] * len(subs)
        return filescache.record(
            bytes(32), files, 0, None, 0, 0, 1, stats, keys, b"\0".join(subs), len(subs)
        )

    dirs = {
        b"": rec(10, [b"a", b"big", b"c"]),
        b"a": rec(1, []),
        b"big": rec(8, [b"y", b"x"]),
        b"big/y": rec(4, []),
        b"big/x": rec(4, []),
        b"c": rec(1, []),
    }
    assert splitwalk.units(dirs) == [b"a", b"big/y", b"big/x", b"c"]

    # a folder with more entries of its own than a unit holds: its pieces, first
    dirs[b"c"] = rec(6, [b"f%d" % i for i in range(6)])
    assert splitwalk.units(dirs) == [
        b"a",
        b"big/y",
        b"big/x",
        splitwalk.piece(b"c", 0, 3),
        splitwalk.piece(b"c", 3, 6),
    ]


def flat() -> D:
    """tree() and a folder of 40 files and a subfolder: more entries than a unit holds (99
    files in all, UNITS 4), so it is cut into two pieces."""
    return D(
        {
            **tree().children,
            b"big": D(
                {
                    **{f"b{j:02}".encode(): F(b"b" * j) for j in range(40)},
                    b"sub": D({b"g": F(b"g")}),
                }
            ),
        }
    )


def _lending(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each listing of a folder cut into pieces was lent the child's lstats."""
    real = splitwalk.Split.stats
    lent: list[bool] = []

    def stats(self: splitwalk.Split, walker: Any, here: bytes, des: list[Any]) -> Any:
        got = real(self, walker, here, des)
        if here in self.pieces:
            lent.append(got[1])
        return got

    monkeypatch.setattr(splitwalk.Split, "stats", stats)
    return lent


def _last_listed(folder: Path) -> Path:
    """The entry a listing gives last (the files cache keeps the directory's order): in the
    folder's last piece, which the child takes first."""
    with os.scandir(folder) as it:
        return folder / [de.name for de in it if de.is_file()][-1]


def test_a_big_folders_entries_are_lstated_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child lstats a piece of a big folder's own entries: unchanged, the parent takes
    the record; a file changed in a piece, every lstat is the parent's; a folder below
    changed, the entries are lstat'ed again here. Each time, the single walk's snapshot."""
    src = tmp_path / "src"
    build(src, flat())
    settle()
    lent = _lending(monkeypatch)
    with Store(tmp_path / "split") as store, Store(tmp_path / "one") as one:
        first = take(store, "s", src)
        assert take(store, "s", src).root == first.root
        assert lent == [True]
        for change in (_last_listed(src / "big"), src / "big" / "sub" / "g"):
            change.write_bytes(b"changed")
            settle()
            lent.clear()
            got = take(store, "s", src)
            assert lent == [change.parent.name == "sub"]  # (a piece changed: not lent)
            shutil.rmtree(one.cache_dir, ignore_errors=True)
            assert take(one, "s", src).root == got.root != first.root
            assert snapshot_contents(store, got) == scan(src)
    _no_child_left()


def test_a_lent_lstat_is_never_paired_with_a_newer_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child says a piece is as recorded when a file in it has changed (as if it had
    changed just after the child looked), and a folder below the big one changed: the walk
    that goes on entry by entry lstats every entry again, never keeping the record's key
    for a file whose newer lstat it packs."""
    src = tmp_path / "src"
    build(src, flat())
    settle()
    lent = _lending(monkeypatch)
    monkeypatch.setattr(splitwalk, "_as_recorded", lambda *args: True)
    with Store(tmp_path / "split") as store:
        first = take(store, "s", src)
        _last_listed(src / "big").write_bytes(b"changed, size and all")
        (src / "big" / "sub" / "g").write_bytes(b"changed")
        settle()
        got = take(store, "s", src)
        assert lent == [True]
        assert snapshot_contents(store, got) == scan(src)
    with Store(tmp_path / "one") as one:
        assert take(one, "s", src).root == got.root != first.root
    _no_child_left()


CHILD_SCRIPT = """
import os, sys
sys.path[:0] = [sys.argv[1]]
from git_snapshot.store import Store, archiver, forked, splitwalk, walker
from git_snapshot.store.archiver import create_snapshot
walker.RACY_NS = 0
walker.SPLIT_FOLDERS = 0
splitwalk.MIN_FILES = 0
splitwalk.UNITS = 4
splitwalk.WAIT = True
forked.other_threads = lambda: False
src, out = sys.argv[2], sys.argv[3]
real, slices = splitwalk._answering, []

class Order(list):
    def __getitem__(self, at):
        if isinstance(at, slice):
            slices.append(1)
        return super().__getitem__(at)

def answering(walker, *args):
    walker.dirs.order = Order()
    with open(out, "a") as f:  # in the child, as it starts its walk
        had = sorted(m for m in ("signal", "enum") if m in sys.modules)
        f.write("modules %s\\n" % " ".join(had))
    return real(walker, *args)

splitwalk._answering = answering
real_write = os.write
def write(fd, data):
    with open(out, "a") as f:
        f.write("slices %d\\n" % len(slices))
    return real_write(fd, data)
splitwalk.os.write = write
assert "signal" not in sys.modules, "the parent has it already: nothing to check"
with Store(sys.argv[4]) as store:
    for _ in range(3):
        create_snapshot(store, "s", src)
"""


def test_the_child_starts_without_importing_signal_and_lists_folders_once_per_unit(
    tmp_path: Path,
) -> None:
    """In a fresh interpreter (as a hook's): the child sets its alarm without the signal
    module (enum, functools, collections: ~5 ms before its walk starts), and lists an
    unchanged folder's folders once per unit it answers, not at every level below it."""
    import subprocess
    import sys

    src = tmp_path / "src"
    deep: D = D({b"f": F(b"leaf")})
    for level in range(10):
        deep = D({f"l{level}".encode(): deep, f"g{level}".encode(): F(b"%d" % level)})
    others = {
        f"p{i}".encode(): D({f"x{j}".encode(): F(b"%d" % (i * 9 + j)) for j in range(9)})
        for i in range(6)
    }
    build(src, D({b"a": deep, **others}))  # a: one unit (11 of 65 files), 11 levels deep
    settle()
    out = tmp_path / "out.txt"
    source = os.path.dirname(os.path.dirname(os.path.abspath(splitwalk.__file__)))
    subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD_SCRIPT,
            os.path.dirname(source),
            str(src),
            str(out),
            str(tmp_path / "store"),
        ],
        check=True,
    )
    lines = out.read_text().splitlines()
    modules = [line for line in lines if line.startswith("modules")]
    assert modules and all(line == "modules " for line in modules), modules
    counts = [int(line.split()[1]) for line in lines if line.startswith("slices")]
    assert len(counts) >= 7, lines  # the units answered (a, p0..p5)
    # one listing per answer sent, however deep the unit
    assert max(b - a for a, b in zip([0, *counts], counts)) == 1, counts


def test_a_walk_lets_each_replaced_record_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A walk that makes a folder's record anew lets go of the old one, the child's answers
    taken included (a walk reading every file again held both sets at its end: L 2 x 22 MB);
    the snapshot is as before, and an unchanged walk after it still leaves the cache file
    alone (its record count is the one loaded, not what is left of it)."""
    src = tmp_path / "src"
    build(src, tree())
    settle()
    held: list[int] = []
    real = archiver._cache_file

    def cache_file(walker: Any, *args: Any) -> Any:
        held.append(len(walker.old_dirs))
        return real(walker, *args)

    monkeypatch.setattr(archiver, "_cache_file", cache_file)
    with Store(tmp_path / "split") as store:
        take(store, "s", src)
        for p in sorted(src.rglob("*")):
            if p.is_file():
                p.write_bytes(p.read_bytes() + b"!")
        settle()
        got = take(store, "s", src)
        assert held[-1] == 0  # every folder changed: no old record is held at the end
        assert max(CHANGED) > 0  # some of them taken from the child's answers
        assert snapshot_contents(store, got) == scan(src)
        path = filescache.cache_path(store.cache_dir, "s", os.fspath(src))
        written = os.stat(path).st_ino
        assert take(store, "s", src).root == got.root
        assert os.stat(path).st_ino == written  # not written again
    with Store(tmp_path / "fresh") as fresh:
        assert take(fresh, "s", src).root == got.root
    _no_child_left()
