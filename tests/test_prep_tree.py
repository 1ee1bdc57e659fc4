"""The prepared tree (watch/take.prepare): the watcher's worker rebuilds the dirty set's base
with the marks so far and stores it without a snapshot record; a snapshot that finds it
current commits it, rebuilding only what was marked after it. Whatever goes through a
prepared tree must be byte for byte the full walk's (real git, real files; the daemon's
marking played by the test as in tests/test_watch_dirtyset.py)."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import snapshot_contents
from test_watch_dirtyset import OPS
from test_watch_dirtyset import Daemon
from test_watch_dirtyset import _apply
from test_watch_dirtyset import _full
from test_watch_dirtyset import _make_tree
from test_watch_dirtyset import _on_disk
from test_watch_dirtyset import _rewritable
from test_watch_dirtyset import _same

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store import walker
from git_snapshot.store.verify import verify
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance
from git_snapshot.watch import prep
from git_snapshot.watch import take


@pytest.fixture
def watched(repo: Path, store_dir: Path) -> Iterator[tuple[Store, Path, Daemon]]:
    _make_tree(repo)
    with Store() as store, instance.hold(store.path) as got:
        assert got
        dirtyset.watching(store.path, str(repo))
        daemon = Daemon(store, repo)
        yield store, repo, daemon
        daemon.stop.set()


def _take(store: Store, top: Path, trigger: str = "watch") -> Any:
    return worktree.take(store, gitrepo.find_repo(str(top)), trigger=trigger)


def _prep(store: Store, top: Path) -> prep.Prep | None:
    begun = dirtyset.begin(store.path, str(top))
    assert begun is not None
    return prep.prepared(store.path, str(top), begun)


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The trees the rebuilds started from."""
    from git_snapshot.store import rebuild

    seen: list[bytes] = []
    real = rebuild.old_trees

    def spy(store: Store, marks: Any, root: bytes, *args: Any) -> Any:
        seen.append(root)
        return real(store, marks, root, *args)

    monkeypatch.setattr(rebuild, "old_trees", spy)
    return seen


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """An event set once a hook's wait_prepared holds it for a preparation (the wait's first
    turn of waiting, prep._warm_commit), and that wait unbounded in practice (60 s, not
    PREP_WAIT_S: a worker slowed by a loaded machine is still waited for)."""
    import functools

    event = threading.Event()
    real_warm = prep._warm_commit

    def warm() -> None:
        event.set()
        real_warm()

    monkeypatch.setattr(prep, "_warm_commit", warm)
    monkeypatch.setattr(prep, "wait_prepared", functools.partial(prep.wait_prepared, timeout=60))
    return event


# wait_prepared's timeout where nothing ends a wait: one that waited would return after it
NOT_ENDED = 60.0


def _not_waited(store: Store, top: Path, begun: dirtyset.Begun) -> None:
    assert prep.wait_prepared(store.path, str(top), begun, timeout=NOT_ENDED) < NOT_ENDED


def _bounded(store: Store, top: Path, begun: dirtyset.Begun) -> None:
    """A wait nothing ends lasts its timeout (and ends: the slack is a loaded machine's)."""
    assert 0.3 <= prep.wait_prepared(store.path, str(top), begun, timeout=0.3) < NOT_ENDED


def _packed(store: Store) -> int:
    """The bytes in the store's packs."""
    folder = os.path.join(store.path, "packs")
    return sum(os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder))


def _verified(store: Store) -> None:
    report = verify(store, read_data=True)
    assert report.ok, report


def test_a_hook_commits_the_prepared_tree_without_asking_git(
    watched: tuple[Store, Path, Daemon], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, top, daemon = watched
    _take(store, top)  # the epoch's first snapshot: the base
    (top / "a" / "b" / "c" / "f0.txt").write_text("edited\n")
    (top / "e" / "new.txt").write_text("new\n")
    daemon.entries(top / "a" / "b" / "c" / "f0.txt", top / "e" / "new.txt")
    packed = _packed(store)
    out = take.prepare(str(top))
    assert out["prepared"] is not None, out
    p = _prep(store, top)
    assert p is not None and not p.marked
    assert p.written > 0  # the changed files and trees went into packs then
    daemon.ack_syncs()

    def no_git(*args: Any) -> Any:
        raise AssertionError("git's labels asked for: the prepared tree has them")

    with monkeypatch.context() as m:
        m.setattr(gitrepo, "labels", no_git)
        m.setattr(gitrepo, "tracked", no_git)
        res = _take(store, top, trigger="post-checkout")
    assert res.new and res.snapshot.root == p.root
    # what it added is what the preparation stored, with its record (not "+0 B"); the
    # packs grew by that and their own headers
    assert 0 < p.written <= res.snapshot.added_bytes <= _packed(store) - packed
    assert _same(res.snapshot) == _same(_full(top, tmp_path / "x"))
    assert sorted(res.changed) == [b"a/b/c/f0.txt"]
    with dirtyset._db(store.path, str(top)) as con:  # used: the base moved onto it
        assert con.execute("SELECT * FROM prep").fetchall() == []
    _verified(store)


def test_marks_after_the_prepared_tree_are_rebuilt_on_it(
    watched: tuple[Store, Path, Daemon], tmp_path: Path, starts: list[bytes]
) -> None:
    store, top, daemon = watched
    _take(store, top)
    (top / "a" / "d" / "f1.txt").write_text("one\n")
    daemon.entries(top / "a" / "d" / "f1.txt")
    assert take.prepare(str(top))["prepared"] is not None
    (top / "a" / "d" / "f1.txt").write_text("two\n")  # after it: looked at again
    (top / "e" / "f2.txt").unlink()
    daemon.entries(top / "a" / "d" / "f1.txt", top / "e" / "f2.txt")
    p = _prep(store, top)
    assert p is not None and p.marked
    del starts[:]
    res = _take(store, top)
    assert starts == [p.root]
    assert _same(res.snapshot) == _same(_full(top, tmp_path / "x"))
    assert sorted(res.changed) == [b"a/d/f1.txt", b"e/f2.txt"]
    assert snapshot_contents(store, res.snapshot)[b"a/d/f1.txt"].data == b"two\n"


def test_a_prepared_tree_of_another_base_or_labels_is_not_used(
    watched: tuple[Store, Path, Daemon], tmp_path: Path
) -> None:
    store, top, daemon = watched
    _take(store, top)
    (top / "e" / "f0.txt").write_text("x\n")
    daemon.entries(top / "e" / "f0.txt")
    assert take.prepare(str(top))["prepared"] is not None
    # the base moves without it (an older hook, a manual snapshot: it walks, then finishes)
    begun = dirtyset.begin(store.path, str(top))
    assert begun is not None
    res = _take(store, top)  # this one commits it...
    assert _prep(store, top) is None  # ...and it is gone with the base it was built on
    (top / "e" / "f1.txt").write_text("y\n")
    daemon.entries(top / "e" / "f1.txt")
    assert take.prepare(str(top))["prepared"] is not None
    (top / "e" / ".gitignore").write_text("f1.txt\n")  # the labels change after it
    daemon.entries(top / "e" / ".gitignore")
    res = _take(store, top)
    assert _same(res.snapshot) == _same(_full(top, tmp_path / "x"))


def test_gc_between_the_prepared_tree_and_the_hook(
    watched: tuple[Store, Path, Daemon], tmp_path: Path, starts: list[bytes]
) -> None:
    """A gc that deletes objects makes the store's generation another: a prepared tree made
    before it is never committed (its objects may be gone), even by gc code that does not
    know prepared trees."""
    from git_snapshot.store.gc import gc

    store, top, daemon = watched
    _take(store, top)
    for k in range(3):  # each prepared tree supersedes the last: its trees are garbage
        (top / "a" / "d" / f"g{k}.txt").write_text(f"{k}\n" * 100)
        daemon.entries(top / "a" / "d" / f"g{k}.txt")
        assert take.prepare(str(top))["prepared"] is not None
    (top / "a" / "d" / "g1.txt").unlink()  # its blob: in no tree any more
    daemon.entries(top / "a" / "d" / "g1.txt")
    assert take.prepare(str(top))["prepared"] is not None
    p = _prep(store, top)
    assert p is not None
    report = gc(store)
    assert report.objects_removed > 0
    assert store.index.meta_get("generation", "0") != p.generation
    base = dirtyset.begin(store.path, str(top))
    assert base is not None
    del starts[:]
    res = _take(store, top)  # from the base, not the prepared tree
    assert starts == [base.base_root]
    assert res.snapshot.root == p.root  # (the same tree: its objects stored again)
    assert _same(res.snapshot) == _same(_full(top, tmp_path / "x"))
    _verified(store)


# --------------------------------------------------------------------------- random edits

WHEN = st.lists(st.sampled_from(["take", "prep", "prep+take", "none"]), min_size=6, max_size=6)


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=OPS, when=WHEN)
@example(
    steps=[("modify", 0, 4, "x", False), ("create", 1, 3, "y", False)],
    when=["prep", "prep+take", "take", "take", "take", "take"],
)
@example(
    steps=[("mkdir", 0, 1, "x", False), ("rmtree", 0, 1, "x", False), ("modify", 0, 1, "x", True)],
    when=["prep", "prep", "take", "take", "take", "take"],
)
@example(
    steps=[("modify", 0, 4, "x", False), ("overflow", 0, 0, "x", False)],
    when=["prep", "take", "take", "take", "take", "take"],
)
@example(
    steps=[("special", 2, 1, "x", False), ("cachedir", 2, 0, "x", False)],
    when=["prep", "prep", "take", "take", "take", "take"],
)
def test_random_edits_through_prepared_trees_give_the_full_walk_root(
    watched: tuple[Store, Path, Daemon],
    tmp_path: Path,
    steps: list[tuple[str, int, int, str, bool]],
    when: list[str],
) -> None:
    store, _, _ = watched
    top = Path(tempfile.mkdtemp(prefix="ex", dir=tmp_path))
    git(top, "init", "-q")
    _make_tree(top)
    dirtyset.watching(store.path, str(top))
    daemon = Daemon(store, top)
    snap = _take(store, top).snapshot  # the base
    used = 0
    for k, (op, i, j, name, by_folder) in enumerate(steps):
        _apply(top, daemon, op, i, j, name, by_folder)
        act = when[k] if k < len(steps) - 1 else "prep+take"
        if "prep" in act:
            take.prepare(str(top))
        if "take" not in act:
            continue
        before = snap
        used += _prep(store, top) is not None
        res = _take(store, top)
        snap = res.snapshot
        full = _full(top, tmp_path / "x")
        assert _same(snap) == _same(full), (op, i, j, name, by_folder, act)
        if res.changed is not None and res.base == before.root:
            # a superset when it went through prepared trees (a path changed and back)
            assert set(res.changed) >= set(_rewritable(store, before.root, snap.root))
        for rel, (ino, mtime, ctime, size, oid, _label) in (res.ids or {}).items():
            try:
                st_ = os.lstat(top / os.fsdecode(rel))
            except FileNotFoundError:
                continue  # deleted since it was read (hooks skip it so)
            if (ino, mtime, ctime, size) != (
                st_.st_ino,
                st_.st_mtime_ns,
                st_.st_ctime_ns,
                st_.st_size,
            ):
                continue  # written since it was read: hooks read it again
            if oid:
                import hashlib

                data = (top / os.fsdecode(rel)).read_bytes()
                assert oid == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    left_out = [os.fsencode(p) for p, _ in snap.meta["skipped_paths"]]
    disk = {
        k: v
        for k, v in _on_disk(top).items()
        if not any(k == p or k.startswith(p + b"/") for p in left_out)
    }
    assert disk == snapshot_contents(store, snap)
    _verified(store)


def _worker(held: threading.Event, job: Callable[[], Any]) -> Callable[[], list[Any]]:
    """A thread that runs *job* once a hook waits (*held*); its join: [held, job's answer]."""
    out: list[Any] = []

    def run() -> None:
        out.append(held.wait(timeout=60))
        out.append(job())

    t = threading.Thread(target=run)
    t.start()

    def join() -> list[Any]:
        t.join()
        return out

    return join


def test_a_hook_waits_for_a_prepared_tree_under_way(
    watched: tuple[Store, Path, Daemon], tmp_path: Path, starts: list[bytes], held: threading.Event
) -> None:
    """The worker started preparing before the hook: the hook waits for it (bounded, while
    the worker lives) and commits it instead of doing the same work beside it."""
    store, top, daemon = watched
    _take(store, top)
    (top / "e" / "f0.txt").write_text("edited\n")
    daemon.entries(top / "e" / "f0.txt")
    begun = dirtyset.begin(store.path, str(top))
    assert begun is not None
    prep.preparing(store.path, str(top), begun.seq)  # as take.prepare says it starts
    join = _worker(held, lambda: take.prepare(str(top))["prepared"])  # (clears the row)
    daemon.ack_syncs()
    res = _take(store, top, trigger="post-checkout")
    assert join() == [True, begun.seq]  # it prepared while the hook waited
    p_root = starts[-1]  # the hook rebuilt (nothing) from the prepared tree, not the base
    assert starts == [begun.base_root, p_root] and p_root != begun.base_root  # worker, hook
    assert res.snapshot.root == p_root
    assert _same(res.snapshot) == _same(_full(top, tmp_path / "x"))


def test_a_dead_or_newer_preparation_is_not_waited_for(
    watched: tuple[Store, Path, Daemon],
) -> None:

    store, top, daemon = watched
    _take(store, top)
    (top / "e" / "f0.txt").write_text("edited\n")
    daemon.entries(top / "e" / "f0.txt")
    begun = dirtyset.begin(store.path, str(top))
    assert begun is not None
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    with dirtyset._db(store.path, str(top)) as con:  # a worker killed while it prepared
        con.execute("INSERT OR REPLACE INTO preparing VALUES (1, ?, ?, ?)", (begun.seq, dead, 0))
    _not_waited(store, top, begun)
    prep.preparing(store.path, str(top), begun.seq + 1)  # changes after this one began
    _not_waited(store, top, begun)
    prep.preparing(store.path, str(top), begun.seq)  # alive, never done: bounded
    _bounded(store, top, begun)


def test_what_a_hook_rebuilds_itself_is_not_prepared_beside_it() -> None:
    """A hook's sync holds off preparing the changes made before it (the hook rebuilds them
    itself: a preparation beside it would only compete for the cores); changes made after
    the sync are prepared as usual, and snapshot.watchPrepare 0 prepares nothing."""
    from types import SimpleNamespace

    from git_snapshot.watch import daemon as wdaemon
    from git_snapshot.watch.config import WatchConfig

    me = SimpleNamespace(cfg=WatchConfig(prepare=0.3))
    tree = SimpleNamespace(
        prep_change=100.0, rescan_at=None, retry_at=0.0, synced_at=0.0, wanted_seq=None
    )
    due = wdaemon.Daemon.prep_due
    assert due(me, tree) == 100.3  # type: ignore[arg-type]
    tree.synced_at = 100.1  # a hook synced after that change
    assert due(me, tree) == 100.1 + wdaemon.PREP_HOLD_S  # type: ignore[arg-type]
    tree.prep_change = 100.5  # a change after the sync
    assert due(me, tree) == 100.8  # type: ignore[arg-type]
    me.cfg = WatchConfig(prepare=0)
    assert due(me, tree) is None  # type: ignore[arg-type]


def test_a_hook_waits_for_the_preparation_the_daemon_promised(
    watched: tuple[Store, Path, Daemon], tmp_path: Path, starts: list[bytes], held: threading.Event
) -> None:
    """The daemon, answering a hook's sync while its worker could prepare, promises a
    preparation of the marks so far (prep.want): the hook waits for it, also while no
    preparation is under way yet (the worker ends an older step first, or is about to
    start), and commits it; the preparation's record ends the wait."""
    store, top, daemon = watched
    _take(store, top)
    (top / "e" / "f0.txt").write_text("edited\n")
    daemon.entries(top / "e" / "f0.txt")
    seq = prep.want(store.path, str(top))  # (the daemon is this process: alive)
    begun = dirtyset.begin(store.path, str(top))
    assert begun is not None and seq == begun.seq
    # no row in preparing until the hook waits: only the promise holds it
    join = _worker(held, lambda: take.prepare(str(top), upto=seq)["prepared"])
    daemon.ack_syncs()
    res = _take(store, top, trigger="post-checkout")
    # it waited for the worker rather than rebuilding beside it
    assert join() == [True, seq]
    p_root = starts[-1]
    assert starts == [begun.base_root, p_root] and p_root != begun.base_root  # worker, hook
    assert res.snapshot.root == p_root
    assert _same(res.snapshot) == _same(_full(top, tmp_path / "x"))
    with dirtyset._db(store.path, str(top)) as con:
        assert con.execute("SELECT * FROM wanted").fetchall() == []  # set_prepared ended it


def test_a_promise_ends_when_withdrawn_its_daemon_dies_or_the_epoch_ends(
    watched: tuple[Store, Path, Daemon],
) -> None:
    store, top, daemon = watched
    _take(store, top)
    (top / "e" / "f0.txt").write_text("edited\n")
    daemon.entries(top / "e" / "f0.txt")
    seq = prep.want(store.path, str(top))
    begun = dirtyset.begin(store.path, str(top))
    assert begun is not None
    _bounded(store, top, begun)
    prep.unwant(store.path, str(top))  # the preparation failed or had nothing to do
    _not_waited(store, top, begun)
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    with dirtyset._db(store.path, str(top)) as con:  # a daemon killed after its promise
        con.execute("INSERT OR REPLACE INTO wanted VALUES (1, ?, ?, ?)", (seq, dead, 0))
    _not_waited(store, top, begun)
    prep.want(store.path, str(top))
    older = begun.replace(seq=seq - 1)  # one for marks after this snapshot's: not waited for
    _not_waited(store, top, older)
    dirtyset.mark_all(store.path, str(top), "overflow")  # a new epoch drops it
    _not_waited(store, top, begun)


def test_a_preparation_for_a_hook_holds_only_the_marks_it_wants(
    watched: tuple[Store, Path, Daemon], tmp_path: Path
) -> None:
    """``prepare(upto=S)`` (the job the daemon gives for a waiting hook) holds the marks up
    to S only: a change made after the hook's sync is left for the next one, and the hook,
    whose marks end at S, can commit it."""
    store, top, daemon = watched
    _take(store, top)
    (top / "e" / "f0.txt").write_text("edited\n")
    daemon.entries(top / "e" / "f0.txt")
    seq = prep.want(store.path, str(top))
    (top / "e" / "f1.txt").write_text("after the hook's sync\n")
    daemon.entries(top / "e" / "f1.txt")
    assert take.prepare(str(top), upto=seq)["prepared"] == seq
    p = _prep(store, top)
    assert p is not None and p.seq == seq and p.entries == {b"e/f1.txt"}  # marked after it


def test_the_daemon_prepares_at_once_what_a_waiting_hook_wants() -> None:
    """With a hook's promise (wanted_seq) the preparation is due at once, despite the hold
    of an earlier sync and snapshot.watchPrepare's delay; a promise is given only when the
    worker lives and prepares this worktree, or is idle with something to prepare."""
    from types import SimpleNamespace

    from git_snapshot.watch import daemon as wdaemon
    from git_snapshot.watch.config import WatchConfig

    me: Any = SimpleNamespace(cfg=WatchConfig(prepare=0.3))
    tree: Any = SimpleNamespace(
        prep_change=100.0, rescan_at=None, retry_at=0.0, synced_at=100.1, wanted_seq=None
    )
    due = wdaemon.Daemon.prep_due
    assert due(me, tree) == 100.1 + wdaemon.PREP_HOLD_S
    tree.wanted_seq = 7
    assert due(me, tree) == 0.0
    tree.prep_change = None  # nothing left to prepare
    assert due(me, tree) is None

    class Alive:
        def poll(self) -> None:
            return None

    ws = SimpleNamespace(polling=0, big={})
    tree = SimpleNamespace(prep_change=100.0, rescan_at=None, ws=ws)
    me = SimpleNamespace(cfg=WatchConfig(prepare=0.3), child=Alive(), child_prep=None, busy=False)
    may = wdaemon.Daemon.may_prepare_for_hook
    assert may(me, tree)
    me.busy = True  # a snapshot or bursts under way
    assert not may(me, tree)
    me.child_prep = tree  # preparing this worktree (an older part)
    assert may(me, tree)
    me.child = None  # no worker (a cold one would import first)
    assert not may(me, tree)
    me.child, me.child_prep, me.busy = Alive(), None, False
    ws.big = {"nm": SimpleNamespace(scan=True)}  # a tree only scanned: nothing is prepared
    assert not may(me, tree)
    ws.big = {}
    me.cfg = WatchConfig(prepare=0)
    assert not may(me, tree)
    # a part prepared in a gap of the writes costs a hook nothing now: started early
    assert WatchConfig().prepare == 0.1


@pytest.fixture
def kept_trees() -> Iterator[None]:
    """Trees kept across rebuilds, as in the watcher's worker (rebuild.keep_trees)."""
    from git_snapshot.store import rebuild

    rebuild.keep_trees()
    try:
        yield
    finally:
        rebuild.keep_trees(False)


def test_kept_trees_are_what_reading_them_gives_and_serve_the_next_rebuild(
    watched: tuple[Store, Path, Daemon],
    tmp_path: Path,
    kept_trees: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker keeps the trees its rebuilds split and made (rebuild.keep_trees): each is
    exactly its key's stored tree, a later rebuild reads fewer trees from the store, every
    snapshot is the full walk's; a gc that deletes objects (a new generation) drops them."""
    from git_snapshot.store import rebuild
    from git_snapshot.store import treebytes
    from git_snapshot.store.gc import gc

    store, top, daemon = watched
    _take(store, top)
    loaded: list[int] = []
    real_load = treebytes.load

    def count(store_: Store, keys: Any) -> Any:
        keys = list(keys)
        loaded.append(len(keys))
        return real_load(store_, keys)

    monkeypatch.setattr(treebytes, "load", count)
    edits: list[Callable[[], object]] = [
        lambda: (top / "a" / "b" / "c" / "f0.txt").write_text("one\n"),
        lambda: (top / "a" / "b" / "c" / "new.txt").write_text("new\n"),
        lambda: (top / "a" / "b" / "c" / "f0.txt").unlink(),
        lambda: (top / "e" / "sub").mkdir(),
        lambda: (top / "a" / "b" / "c" / "new.txt").rename(top / "e" / "moved.txt"),
    ]
    reads = []
    for k, edit in enumerate(edits):
        edit()
        # older than the rebuild's start by more than a clock tick: else a marked entry gone
        # from a folder changed then may have moved while it ran, and it looks again
        # (Rebuild.look_again), reading the trees it did not keep
        time.sleep(2 * walker.COARSE_NS / 1e9)
        daemon.entries(top / "a" / "b" / "c" / "f0.txt", top / "a" / "b" / "c" / "new.txt")
        daemon.entries(top / "e" / "sub", top / "e" / "moved.txt")
        del loaded[:]
        assert take.prepare(str(top))["prepared"] is not None
        reads.append(sum(loaded))
        daemon.ack_syncs()
        res = _take(store, top, trigger="post-checkout")
        assert _same(res.snapshot) == _same(_full(top, tmp_path / f"x{k}"))
        assert rebuild._KEPT
        for key, entries in rebuild._KEPT.items():
            assert entries == treebytes.split(store.read_object(key))
            assert list(entries) == sorted(entries)
    assert reads[0] > 0 and max(reads[1:]) == 0  # the same folders: all kept
    _verified(store)
    (top / "a" / "b" / "c" / "gone.txt").write_text("garbage soon\n" * 50)
    daemon.entries(top / "a" / "b" / "c" / "gone.txt")
    assert take.prepare(str(top))["prepared"] is not None
    (top / "a" / "b" / "c" / "gone.txt").unlink()
    daemon.entries(top / "a" / "b" / "c" / "gone.txt")
    daemon.ack_syncs()
    _take(store, top, trigger="post-checkout")
    assert gc(store).objects_removed > 0
    assert rebuild._kept(store) == {}  # another generation: nothing kept is trusted


def test_kept_trees_past_their_bound(
    watched: tuple[Store, Path, Daemon],
    tmp_path: Path,
    kept_trees: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past KEEP_ENTRIES the least recently used trees go, also in the middle of reading a
    level of them: the rebuild never misses one (it was read as damaged: no preparation)."""
    from git_snapshot.store import rebuild

    store, top, daemon = watched
    _take(store, top)
    monkeypatch.setattr(rebuild, "KEEP_ENTRIES", 4)
    for k in range(3):
        for d in ("a/b/c", "a/d", "e"):
            (top / d / f"k{k}.txt").write_text(f"{k}\n")
            daemon.entries(top / d / f"k{k}.txt")
        out = take.prepare(str(top))
        assert out.get("from") and out["prepared"] is not None, out
        daemon.ack_syncs()
        res = _take(store, top, trigger="post-checkout")
        assert _same(res.snapshot) == _same(_full(top, tmp_path / f"x{k}"))
        assert rebuild._kept_entries <= 4 + 20


def test_a_rebuild_drops_the_kept_trees_it_replaced(
    watched: tuple[Store, Path, Daemon], tmp_path: Path, kept_trees: None
) -> None:
    """A preparation's rebuild keeps the trees it made and drops from the kept trees the
    start's tree of every folder it replaced (once committed, no rebuild of the worktree
    starts from it again; kept, such trees pushed the live ones out past KEEP_ENTRIES), so
    the kept entries count only what is kept."""
    from git_snapshot.store import rebuild
    from git_snapshot.store import treebytes

    store, top, daemon = watched
    res = _take(store, top)
    folders = (b"a", b"a/b", b"a/b/c", b"e")

    def keys(root: bytes) -> dict[bytes, bytes]:
        out = {b"": root}
        for rel in folders:
            parent, _, name = rel.rpartition(b"/")
            entries = treebytes.split(store.read_object(out[parent]))
            assert entries is not None
            out[rel] = rebuild._ref(entries[name])
        return out

    for k in range(2):
        before = keys(res.snapshot.root)
        (top / "a" / "b" / "c" / "f0.txt").write_text(f"edit {k}\n")
        (top / "e" / "f0.txt").write_text(f"edit {k}\n")
        daemon.entries(top / "a" / "b" / "c" / "f0.txt", top / "e" / "f0.txt")
        assert take.prepare(str(top))["prepared"] is not None
        daemon.ack_syncs()
        res = _take(store, top, trigger="post-checkout")
        assert _same(res.snapshot) == _same(_full(top, tmp_path / f"x{k}"))
        after = keys(res.snapshot.root)
        kept = rebuild._KEPT
        assert kept is not None
        for rel in (b"", b"a", b"a/b", b"a/b/c", b"e"):
            assert before[rel] != after[rel] and before[rel] not in kept and after[rel] in kept
        assert rebuild._kept_entries == sum(len(e) for e in kept.values())


def test_a_waiting_hook_imports_what_committing_needs_meanwhile(
    watched: tuple[Store, Path, Daemon],
) -> None:
    """While it waits for the worker, a hook imports the archiver, the rebuild and zstd's
    backend (what committing the prepared tree imports after the wait); one that does not
    wait imports none of them."""
    import subprocess
    import sys

    store, top, daemon = watched
    _take(store, top)
    (top / "e" / "f0.txt").write_text("edited\n")
    daemon.entries(top / "e" / "f0.txt")
    code = (
        "import sys\n"
        "from git_snapshot.watch import dirtyset\n"
        "from git_snapshot.watch import prep\n"
        "b = dirtyset.begin(sys.argv[1], sys.argv[2])\n"
        "prep.wait_prepared(sys.argv[1], sys.argv[2], b, timeout=0.2)\n"
        "print(sorted(m for m in ('git_snapshot.store.archiver', 'git_snapshot.store.rebuild',"
        " 'zstandard.backend_c') if m in sys.modules))\n"
    )

    def modules() -> str:
        out = subprocess.run(
            [sys.executable, "-c", code, store.path, str(top)],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    assert modules() == "[]"
    prep.want(store.path, str(top))  # (this process is the promising daemon: alive)
    assert modules() == str(
        ["git_snapshot.store.archiver", "git_snapshot.store.rebuild", "zstandard.backend_c"]
    )
