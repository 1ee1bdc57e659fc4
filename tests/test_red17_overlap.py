"""Red team (session 17) on overlapping snapshots of one watched worktree (store/overlap.py,
archiver._overlapped / _clean_since_last): up to three snapshots read the dirty set, edits
go on, they commit in any order; some are full walks that never saw the dirty set (a hook
without a live daemon), some are forgotten before the others commit, a gc may run between.

Each snapshot runs in a thread of its own with a Store of its own (as a process would),
stopped right before create_snapshot takes the store's lock (it has read the marks and
git's labels) until the schedule lets it commit. The oracle, for every snapshot S committed
while P was the worktree's last snapshot:

- every path holds, in S, what P holds or what the disk held when S committed (a watch
  snapshot looks at what changed since its base and at what differs between its base and
  P, so it is nowhere older than P);
- a path no edit touched after S read the marks holds what the disk holds (a full walk:
  every path);
- its counts are its tree's;

and a last snapshot, once every edit is done, is the full walk's, byte for byte.
The edits are test_watch_dirtyset's and these: a folder moved away and back (it keeps its
mtime), a folder replaced by a file or a symlink, a file touched (mtime only), rewritten
with the same bytes, written back to what the first snapshot held, a folder chmodded."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import Seen
from storehelpers import snapshot_contents
from test_overlap import _counts
from test_watch_dirtyset import NAMES
from test_watch_dirtyset import Daemon
from test_watch_dirtyset import _apply
from test_watch_dirtyset import _dirs
from test_watch_dirtyset import _files
from test_watch_dirtyset import _full
from test_watch_dirtyset import _make_tree
from test_watch_dirtyset import _on_disk
from test_watch_dirtyset import _rewritable
from test_watch_dirtyset import _same
from test_watch_dirtyset import watched  # noqa: F401  (the fixture)

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import walker
from git_snapshot.store.gc import gc
from git_snapshot.watch import dirtyset


@pytest.fixture(autouse=True)
def no_racy(monkeypatch: pytest.MonkeyPatch) -> None:
    """As test_overlap: folders written a moment ago may be kept from the files cache."""
    monkeypatch.setattr(walker, "RACY_NS", 0)


# --------------------------------------------------------------------------- the edits

MORE = ["mvback", "dir2file", "dir2link", "touch", "samebytes", "revert", "chmoddir"]
# test_watch_dirtyset's edits (one line per kind there), and MORE
KINDS = "create modify delete rename chmod mkdir rmtree symlink ignore mvdir add overflow"
KINDS += " cachedir special"
OP = st.tuples(
    st.sampled_from([*KINDS.split(), *MORE]),
    st.integers(0, 50),
    st.integers(0, 50),
    NAMES,
    st.booleans(),
)
OPS = st.lists(OP, max_size=4)
Op = tuple[str, int, int, str, bool]


def _edit(top: Path, daemon: Daemon, first: dict[bytes, Seen], op: Op) -> None:
    """One edit, marked as the daemon's events mark it: test_watch_dirtyset._apply's, or one
    of MORE (*first*: what the first snapshot held, for 'revert')."""
    kind, i, j, name, by_folder = op
    if kind not in MORE:
        _apply(top, daemon, kind, i, j, name, by_folder)
        return
    dirs, files = _dirs(top), _files(top)
    d = dirs[i % len(dirs)]
    regular = [f for f in files if f.is_file() and not f.is_symlink()]
    f = regular[j % len(regular)] if regular else None

    def touched(*paths: Path) -> None:
        if by_folder:
            daemon.mark(*{p.parent for p in paths})
        else:
            daemon.entries(*paths)

    def gone(folder: Path) -> list[Path]:  # rmtree's events: every entry below, the folder
        below = [Path(x) / n for x, subs, names in os.walk(folder) for n in subs + names]
        shutil.rmtree(folder)
        return [*below, folder]

    if kind == "mvback" and d != top:
        # away and back: the folder keeps its own mtime (and what it holds); its parent's
        # events name both names, and the daemon lists what appeared at each
        away = d.parent / (d.name + "-away")
        d.rename(away)
        away.rename(d)
        touched(d, away)
        daemon.mark(away)
        daemon.mark_tree(d)
    elif kind == "dir2file" and d != top:
        paths = gone(d)
        d.write_bytes(os.urandom(j))
        touched(*paths)
    elif kind == "dir2link" and d != top:
        paths = gone(d)
        d.symlink_to(name)
        touched(*paths)
    elif kind == "touch" and f is not None:
        t = 1_500_000_000_000_000_000 + j * 1_000_000_007
        os.utime(f, ns=(t, t))
        touched(f)
    elif kind == "samebytes" and f is not None:
        f.write_bytes(f.read_bytes())
        touched(f)
    elif kind == "revert" and f is not None:
        rel = os.fsencode(f.relative_to(top))
        was = first.get(rel)
        if was is not None and was.kind == "file":
            f.write_bytes(was.data)
            os.utime(f, ns=(was.mtime_ns, was.mtime_ns))
            touched(f)
    elif kind == "chmoddir" and d != top:
        d.chmod(0o700 if d.stat().st_mode & 0o077 else 0o755)
        touched(d)


def _values(contents: dict[bytes, Seen], *snaps: Any) -> dict[bytes, Seen]:
    """What must be as on disk: files and links whole, folders' modes (their mtime moves
    with anything made or removed in them); not what *snaps* left out (fifos, cache
    folders)."""
    out = [os.fsencode(p) for s in snaps for p, _ in s.meta["skipped_paths"]]
    return {
        k: Seen("dir", v.mode, 0, b"") if v.kind == "dir" else v
        for k, v in contents.items()
        if v.kind != "other" and not any(k == p or k.startswith(p + b"/") for p in out)
    }


# --------------------------------------------------------------------------- the snapshots

_local = threading.local()


class Taker(threading.Thread):
    """One snapshot of the worktree, in a thread with a Store of its own: *kind* 'watch' (the
    dirty set, as the watcher's worker), 'hook' (the dirty set read after a sync, as a hook
    or a manual snapshot) or 'full' (no dirty set: a hook that found no live daemon). It
    stops before create_snapshot until ``commit``."""

    def __init__(self, store_path: str, top: Path, kind: str) -> None:
        super().__init__(daemon=True)
        self.store_path, self.top, self.kind = store_path, top, kind
        self.read = threading.Event()  # it has read the marks: waiting to commit
        self.go = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        _local.me = self
        try:
            with Store(self.store_path) as store:
                trigger = "manual" if self.kind == "hook" else "watch"
                self.result = worktree.take(
                    store, gitrepo.find_repo(str(self.top)), trigger=trigger
                )
        except BaseException as exc:  # handed to the test
            self.error = exc
        finally:
            self.read.set()

    def begin(self) -> None:
        self.start()
        assert self.read.wait(60)
        assert self.error is None, self.error

    def commit(self) -> Any:
        self.go.set()
        self.join(60)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def stopping(monkeypatch: pytest.MonkeyPatch) -> None:
    """create_snapshot in a Taker waits for its commit; a 'full' one sees no dirty set."""
    real_create, real_plan = archiver.create_snapshot, worktree._dirty_plan

    def create_snapshot(*args: Any, **kwargs: Any) -> Any:
        me = getattr(_local, "me", None)
        if me is not None:
            me.read.set()
            assert me.go.wait(60)
        return real_create(*args, **kwargs)

    def dirty_plan(*args: Any, **kwargs: Any) -> Any:
        me = getattr(_local, "me", None)
        if me is not None and me.kind == "full":
            return None
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(archiver, "create_snapshot", create_snapshot)
    monkeypatch.setattr(worktree, "_dirty_plan", dirty_plan)


# a step: ("edit", ops), ("read", k), ("commit", k), ("together", (j, k)): both released at
# once, ("forget", k), ("gc", 0)
Step = tuple[str, Any]


@st.composite
def schedules(draw: st.DrawFn) -> tuple[list[str], list[Step]]:
    """Two or three snapshots, each read before it commits, edits anywhere, and now and
    then one forgotten once committed, or a gc."""
    n = draw(st.integers(2, 3))
    kinds = [draw(st.sampled_from(["watch", "watch", "hook", "full"])) for _ in range(n)]
    kinds[0] = "watch"  # (at least one from the dirty set)
    read: list[int] = []
    committed: list[int] = []
    steps: list[Step] = [("edit", draw(OPS))]
    while len(committed) < n:
        can = [("read", k) for k in range(n) if k not in read][:1]
        can += [("commit", k) for k in read if k not in committed]
        waiting = [k for k in read if k not in committed]
        if len(waiting) >= 2 and draw(st.integers(0, 3)) == 0:
            pair = tuple(waiting[:2])
            steps += [("together", pair), ("edit", draw(OPS))]
            committed += pair
            continue
        what, k = draw(st.sampled_from(can))
        steps.append((what, k))
        (read if what == "read" else committed).append(k)
        steps.append(("edit", draw(OPS)))
        if what == "commit" and draw(st.integers(0, 5)) == 0:
            steps.append(("forget", draw(st.sampled_from(committed))))
        if what == "commit" and draw(st.integers(0, 5)) == 0:
            steps.append(("gc", 0))
    return kinds, steps


def _disk(top: Path, *snaps: Any) -> dict[bytes, Seen]:
    return _values(_on_disk(top), *snaps)


def _held(store: Store, snap: Any, *snaps: Any) -> dict[bytes, Seen]:
    return _values(snapshot_contents(store, snap), snap, *snaps)


def _check_changed(store: Store, top: Path, res: Any) -> None:
    """What a hook takes from a rebuilt snapshot instead of a diff (gitwrote._rewritten, when
    its 'before' is the rebuild's base): the paths that differ from the base, and git's
    ids of what was read, as the disk holds it (test_watch_dirtyset's checks)."""
    if res.changed is not None:
        assert sorted(res.changed) == _rewritable(store, res.base, res.snapshot.root)
    for rel, (ino, mtime, ctime, size, oid, _) in (res.ids or {}).items():
        path = top / os.fsdecode(rel)
        st_ = os.lstat(path)
        assert (ino, mtime, ctime, size) == (st_.st_ino, st_.st_mtime_ns, st_.st_ctime_ns, size)
        data = path.read_bytes()
        assert size == len(data)
        assert oid in ("", hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest())


def _check_commit(
    store: Store, top: Path, res: Any, last: Any, kind: str, since: set[bytes]
) -> None:
    """The oracle for snapshot *res*, committed while *last* was the worktree's last (the
    disk as it is now, no edit since it committed)."""
    snap = res.snapshot
    disk = _disk(top, snap, last)
    _check_changed(store, top, res)
    held = _held(store, snap, last)
    prev = _held(store, last, snap)
    where = (kind, snap.id, last.id)
    assert (snap.files, snap.bytes) == _counts(store, snap), where
    for p in held.keys() | disk.keys() | prev.keys():
        assert held.get(p) in (prev.get(p), disk.get(p)), (where, p)
        if kind == "full" or p not in since:
            assert held.get(p) == disk.get(p), (where, p)


def _run(store: Store, tmp_path: Path, kinds: list[str], steps: list[Step]) -> None:
    top = Path(tempfile.mkdtemp(prefix="ex", dir=tmp_path))
    git(top, "init", "-q")
    _make_tree(top)
    dirtyset.watching(store.path, str(top))
    daemon = Daemon(store, top)
    daemon.ack_syncs()  # (a hook's sync: the daemon has no event left to mark)
    repo = gitrepo.find_repo(str(top))
    source = identity.source(store, repo)
    x = worktree.take(store, repo, trigger="watch").snapshot  # the base they read against
    first = snapshot_contents(store, x)
    takers = [Taker(store.path, top, kind) for kind in kinds]
    # per snapshot: the paths an edit touched since it read the marks
    since: dict[int, set[bytes]] = {}
    snaps: dict[int, Any] = {}
    for what, arg in steps:
        if what == "edit":
            for op in arg:
                before = _disk(top)
                _edit(top, daemon, first, op)
                after = _disk(top)
                moved = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
                for paths in since.values():
                    paths |= moved
        elif what == "read":
            takers[arg].begin()
            since[arg] = set()
        elif what in ("commit", "together"):
            ks = [arg] if what == "commit" else list(arg)
            (last,) = store.snapshots(source, str(top), last=1)
            for k in ks:  # (together: both at once, their turns decide the order)
                takers[k].go.set()
            got = sorted(((k, takers[k].commit()) for k in ks), key=lambda x: x[1].snapshot.id)
            for k, res in got:
                snaps[k] = res.snapshot
                _check_commit(store, top, res, last, kinds[k], since[k])
                last = res.snapshot
        elif what == "forget":
            gone = [s for s in store.snapshots(source, str(top)) if s.id == snaps[arg].id]
            mine = store.snapshots(source, str(top))
            if gone and len(mine) > 1:  # (the last of a worktree stays: as retention does)
                store.forget(gone)
        elif what == "gc":
            gc(store)
    daemon.stop.set()
    c = worktree.take(store, repo, trigger="watch").snapshot
    assert _same(c) == _same(_full(top, tmp_path / "c"))
    assert _held(store, c) == _disk(top, c)


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("RED17_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=schedules())
@example(
    plan=(
        ["watch", "watch"],
        [
            ("edit", []),
            ("read", 0),
            ("edit", [("mvback", 2, 0, "x", False)]),
            ("read", 1),
            ("commit", 1),
            ("edit", [("touch", 0, 3, "x", False)]),
            ("commit", 0),
            ("edit", []),
        ],
    )
)
# three overlapping, committed in the reverse order of their reads, a folder replaced by a
# file and another by a symlink, a file written back to the base's bytes and times
@example(
    plan=(
        ["watch", "watch", "watch"],
        [
            ("edit", [("modify", 0, 1, "x", False)]),
            ("read", 0),
            ("edit", [("dir2file", 2, 3, "x", False), ("revert", 0, 1, "x", False)]),
            ("read", 1),
            ("edit", [("dir2link", 4, 0, "y", False), ("chmoddir", 1, 0, "x", False)]),
            ("read", 2),
            ("edit", [("samebytes", 0, 5, "x", False)]),
            ("commit", 2),
            ("edit", [("mvback", 1, 0, "x", False)]),
            ("commit", 1),
            ("edit", [("touch", 0, 2, "x", False)]),
            ("commit", 0),
            ("edit", []),
        ],
    )
)
# a full walk (a hook that saw no daemon) commits between, is forgotten, and gc runs
@example(
    plan=(
        ["watch", "full"],
        [
            ("edit", [("mkdir", 1, 2, "x", False)]),
            ("read", 0),
            ("edit", [("rmtree", 2, 0, "x", False), ("modify", 0, 4, "x", False)]),
            ("read", 1),
            ("commit", 1),
            ("forget", 1),
            ("gc", 0),
            ("edit", [("create", 3, 9, "w.txt", False)]),
            ("commit", 0),
            ("edit", []),
        ],
    )
)
# CI at 51d7c63: snapshot 0 writes the empty file's blob, snapshot 2 keeps it, snapshot 0 is
# forgotten and gc deleted snapshot 0's pack whole (its only live object, the empty blob, a
# group member of 0 bytes, counted as no live byte): snapshot 2 did not read back
# (test_gc_group_members)
@example(
    plan=(
        ["watch", "hook", "watch"],
        [
            ("edit", [("create", 30, 0, "y", False), ("add", 24, 21, "z.log", False)]),
            ("read", 0),
            ("edit", []),
            ("commit", 0),
            (
                "edit",
                [
                    ("add", 48, 21, "x", True),
                    ("dir2link", 43, 17, "y", False),
                    ("symlink", 21, 28, "x", True),
                    ("chmod", 33, 23, "x", False),
                ],
            ),
            ("forget", 0),
            ("read", 1),
            ("edit", [("dir2file", 7, 20, "z.log", True)]),
            ("read", 2),
            ("edit", []),
            ("commit", 2),
            (
                "edit",
                [
                    ("dir2link", 36, 50, "z.log", False),
                    ("dir2file", 33, 25, "w.txt", True),
                    ("samebytes", 36, 8, "z.log", True),
                    ("mkdir", 13, 50, "w.txt", True),
                ],
            ),
            ("forget", 0),
            ("gc", 0),
            ("commit", 1),
            ("edit", []),
            ("forget", 2),
        ],
    )
)
def test_overlapping_snapshots_are_never_older_than_the_one_before(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    stopping: None,
    tmp_path: Path,
    plan: tuple[list[str], list[Step]],
) -> None:
    store, _, _ = watched
    kinds, steps = plan
    _run(store, tmp_path, kinds, steps)
