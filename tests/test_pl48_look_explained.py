"""The watcher's periodic look must not hide a change its events already told (pl48).

The look (WatchSet.check, every watched folder within CHECK_S; every 5 s in a worktree of few
folders) compares a signature of a folder's entries' stats with its last look's, and marked the
whole folder when it differed: the only mark of changes that raise no inotify event (a write
through a shared memory map, through a hard link made from outside: RED38 A1b). But a NEW
ignored .env, already marked by its own events, changed the top folder's signature as well, and
a look between the worker's prepared tree and `git checkout feat` marked the top folder: the
post-checkout hook read that mark as a change made before git began where git wrote, set the
prepared tree aside, and named nothing (README's "2 and 2.5 s: named in 3 of 5", bd48/RB48).

The look now marks only what the events did not explain: an entry whose stat is the one taken
as its last event's mark was written is explained; one changed since (a mapped write after its
last event) is marked; what the look cannot tell (records past the bounds) marks the folder as
before. A folder holding a file with other names is looked at the same way since s51.

A daemon in this process with real inotify and its real worker; the test drives its steps and
makes the look run when it chooses (no timing)."""

from __future__ import annotations

import contextlib
import mmap
import os
import select
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import by_id
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from prephelpers import past_a_tick
from test_red48_new_ignored_prepared import THEIRS
from test_red48_new_ignored_prepared import env_repo
from test_watch_daemon import add
from test_watch_daemon import in_process
from test_watch_daemon import make_repo

from git_snapshot.store import Store
from git_snapshot.watch import config as wconfig
from git_snapshot.watch import daemon as wdaemon
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance
from git_snapshot.watch import prep
from git_snapshot.watch import watchset

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)

NEVER = 3600.0  # no snapshot of the daemon's own unless the test sends one
MINE = b"SECRET=mine\n"


def _marks(store: Path, root: Path, since: int = 0) -> set[tuple[bytes, bytes | None]]:
    """The marks of the dirty set (after the one of seq *since*): (folder, entry or None)."""
    con = sqlite3.connect(dirtyset.journal_path(str(store), str(root)))
    try:
        rows = con.execute("SELECT dir, name FROM marks WHERE seq > ?", (since,)).fetchall()
    finally:
        con.close()
    return {(bytes(d), None if n is None else bytes(n)) for d, n in rows}


def _top(store: Path, root: Path) -> int:
    con = sqlite3.connect(dirtyset.journal_path(str(store), str(root)))
    try:
        (seq,) = con.execute("SELECT COALESCE(MAX(seq), 0) FROM marks").fetchone()
    finally:
        con.close()
    return int(seq)


def _read(d: wdaemon.Daemon) -> None:
    """The daemon takes in every event queued so far (inotify queues them as the call that
    made them returns)."""
    d.on_events(d.src.read())


def _look_now(d: wdaemon.Daemon, root: Path) -> None:
    """The daemon's timers run the check now, over every watched folder (a whole round due),
    and its marks are written; asserted: every watched folder was looked at."""
    ws = d.trees[str(root)].ws
    looked: list[str] = []
    again = ws._look_again

    def counted(folder: str) -> bool:
        looked.append(folder)
        return again(folder)

    now = wdaemon._now()
    ws.check_todo = []
    ws.check_from = now - ws.check_period()
    ws.next_check = now
    setattr(ws, "_look_again", counted)  # noqa: B010  (the instance's, over the method)
    try:
        d.timers(now)
    finally:
        delattr(ws, "_look_again")
    # (a set: under load, flush_marks's look at every folder, due LOOK_ALL_S after the last,
    # may look at them again in the same call)
    assert set(looked) == set(ws.watched), "not every folder was looked at"


@contextlib.contextmanager
def _daemon(store: Path, root: Path, cfg: wconfig.WatchConfig) -> Iterator[wdaemon.Daemon]:
    """The daemon in this process, holding the store's daemon lock, its first snapshot taken.
    It answers syncs even while other code in the checkout is being edited (code_changed: a
    test process's daemon is not restarted)."""
    with instance.hold(str(store)) as mine, in_process(store, root, cfg) as d:
        assert mine  # (the daemon of the store: hooks and the worker trust its dirty set)
        d.code_changed = lambda now, soon=True: False  # type: ignore[method-assign]
        _read(d)
        d.maybe_snapshot(wdaemon._now())  # the snapshot watching begins with
        assert d.child_tree is d.trees[str(root)]
        d.worker_ready()
        _read(d)
        yield d


def _git_beside(d: wdaemon.Daemon, cwd: Path, *args: str) -> Ran:
    """Real git in *cwd* while the daemon here runs its loop's event and worker steps (its
    hooks sync with it and may wait for a preparation); no timers: no look meanwhile."""
    out: list[bytes] = []
    err: list[bytes] = []
    argv = ["git", *args]
    pipe = subprocess.PIPE
    with subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe) as p:
        assert p.stdout is not None and p.stderr is not None
        pipes = {p.stdout.fileno(): out, p.stderr.fileno(): err}
        deadline = time.monotonic() + 120
        while pipes:
            assert time.monotonic() < deadline, "git did not end"
            w = d.child
            fds = [d.src.fileno(), *pipes]
            if w is not None and w.stdout is not None and d.busy:
                fds.append(w.stdout.fileno())
            ready, _, _ = select.select(fds, [], [], 0.05)
            for fd in ready:
                if fd in pipes:
                    chunk = os.read(fd, 65536)
                    if chunk:
                        pipes[fd].append(chunk)
                    else:
                        del pipes[fd]
            if d.src.fileno() in ready:
                _read(d)
            if w is not None and w.stdout is not None and w.stdout.fileno() in ready:
                d.worker_ready()
            d.maybe_snapshot(wdaemon._now())  # (a preparation a waiting hook asked for)
        rc = p.wait(timeout=60)
    ran = Ran(rc, b"".join(out).decode(errors="replace"), b"".join(err).decode(errors="replace"))
    assert rc == 0 and "Traceback" not in ran.err, ran.err
    return ran


def _prepared(d: wdaemon.Daemon, store: Path, root: Path, rel: str, data: bytes) -> prep.Prep:
    """The worker prepares now (as 0.1 s after the last change) and answers; its tree holds
    *rel* with *data*'s size and nothing is marked after it."""
    tree = d.trees[str(root)]
    assert tree.prep_change is not None, "nothing to prepare"
    tree.prep_change -= 1.0
    d.maybe_snapshot(wdaemon._now())
    assert d.child_prep is tree, "no preparation sent"
    d.worker_ready()  # (reads its answer)
    begun = dirtyset.begin(str(store), str(root))
    assert begun is not None
    p = prep.prepared(str(store), str(root), begun)
    assert p is not None and not p.marked, p
    with Store(store) as s:
        sizes = {os.fsdecode(path): e.size for path, e in s.walk(p.root)}
    assert sizes.get(rel) == len(data), sizes
    return p


# --------------------------------------------------------------------------- the README's case


def test_a_look_between_the_prepared_tree_and_checkout_leaves_the_new_env_named(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: a NEW ignored .env written, the worker's tree prepared holding it, then the
    look (due every 5 s in a small worktree: it came in between in 2 of 5 runs at 2-2.5 s),
    then `git checkout feat` overwrites .env: named from the prepared tree, and its printed
    restore gives SECRET=mine back byte for byte. Was: the look marked the top folder (the
    .env's own events had marked it already), post-checkout set the tree aside: no line."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=0.1)
    with _daemon(store_dir, r, cfg) as d:
        (r / ".env").write_bytes(MINE)  # new, ignored on main
        _read(d)
        p = _prepared(d, store_dir, r, ".env", MINE)
        top = d.trees[str(r)].ws.sigs[str(r)]
        _look_now(d, r)
        assert d.trees[str(r)].ws.sigs[str(r)] != top  # (it found the top folder changed)
        looks = _marks(store_dir, r, p.seq)
        past_a_tick()  # (the README's 0.2 s is many ticks)
        ran = _git_beside(d, r, "checkout", "feat")
    assert (r / ".env").read_bytes() == THEIRS
    assert [r.names for r in ran.reports] == [".env"], ran.err  # (was: none)
    assert looks == set()  # (was: the top folder, (b"", None))
    (rep,) = ran.reports
    assert by_id(r, rep.snap)["trigger"] == "prepared"
    git(r, "switch", "-q", "main")  # (.env tracked on feat: away with feat's version)
    restore(r, rep)
    assert (r / ".env").read_bytes() == MINE
    gs(r, "verify", "--read-data")


# --------------------------------------------------------------------------- no event, marked


def _mapped_write(path: Path, data: bytes) -> None:
    """*data* written at the start of *path* through a shared memory map (no write(): the
    file's stat changes, no event names it; its close, of a descriptor opened for writing,
    raises IN_CLOSE_WRITE, which marks nothing)."""
    with open(path, "r+b") as f:
        m = mmap.mmap(f.fileno(), 0)
    try:
        m[: len(data)] = data
        m.flush()
    finally:
        m.close()


def _past_ctime(path: Path) -> os.stat_result:
    """*path*'s stat, once the clock is past its ctime by more than the kernel's coarse tick
    (a change made now stamps another ctime): a wait, not a timing."""
    st = os.lstat(path)
    while time.time_ns() < st.st_ctime_ns + 60_000_000:
        time.sleep(0.01)
    return st


def _snapshot(d: wdaemon.Daemon, root: Path) -> int:
    """The daemon's own snapshot (which trusts its dirty set), sent now and answered."""
    tree = d.trees[str(root)]
    assert tree.first_change is not None, "nothing marked: no snapshot due"
    d.maybe_snapshot(wdaemon._now() + 2 * NEVER)
    assert d.child_tree is tree, "no snapshot sent"
    d.worker_ready()
    assert tree.last_snapshot is not None and tree.last_error is None, tree.last_error
    snap = tree.last_snapshot["id"]
    assert isinstance(snap, int)
    return snap


def _held(root: Path, snap: int, rel: str) -> bytes:
    return gs(root, "cat", str(snap), rel).out.encode()


def _watched_repo(tmp_path: Path, store_dir: Path) -> Path:
    r = make_repo(tmp_path)
    (r / "data.bin").write_bytes(b"a" * 8192)
    (r / "src" / "other.txt").write_text("other\n")
    gs(r, "create", "-m", "data.bin")
    add(store_dir, r)
    return r


CFG = wconfig.WatchConfig(quiet=3.0, max_delay=NEVER, prepare=0.0)


def test_a_mapped_write_with_no_event_is_still_marked_by_the_look(
    tmp_path: Path, store_dir: Path
) -> None:
    """data.bin, there before the daemon, written through a shared map: no mark until the
    look, which marks it; the daemon's snapshot after it holds the new bytes."""
    r = _watched_repo(tmp_path, store_dir)
    with _daemon(store_dir, r, CFG) as d:
        _look_now(d, r)  # (a baseline: the setup's look)
        _past_ctime(r / "data.bin")
        _mapped_write(r / "data.bin", b"MAPPED")
        _read(d)
        assert _marks(store_dir, r) == set(), "an event marked it: not the case tested"
        _look_now(d, r)
        assert _marks(store_dir, r) & {(b"", b"data.bin"), (b"", None)}
        snap = _snapshot(d, r)
    assert _held(r, snap, "data.bin")[:6] == b"MAPPED"


def test_a_mapped_write_after_the_files_last_event_is_marked(
    tmp_path: Path, store_dir: Path
) -> None:
    """new.bin made (its events, their mark and its record), then written through a map:
    the stat the look finds is not the one its last event's mark recorded, so the look marks
    it (an entry named by an event since the last look is not taken as explained whatever
    happened to it after). The daemon's snapshot holds the mapped bytes, although a snapshot
    between the events and the mapped write had read the file."""
    r = _watched_repo(tmp_path, store_dir)
    with _daemon(store_dir, r, CFG) as d:
        tree = d.trees[str(r)]
        _look_now(d, r)
        (r / "new.bin").write_bytes(b"b" * 8192)
        _read(d)
        assert (b"", b"new.bin") in _marks(store_dir, r)
        first = _snapshot(d, r)  # reads new.bin as its events left it
        assert _held(r, first, "new.bin")[:6] == b"bbbbbb"
        _read(d)
        was = _past_ctime(r / "new.bin")
        _mapped_write(r / "new.bin", b"MAPPED")
        assert os.lstat(r / "new.bin").st_ctime_ns != was.st_ctime_ns  # (what it relies on)
        _read(d)
        assert tree.first_change is None, "an event marked it: not the case tested"
        _look_now(d, r)
        assert tree.first_change is not None, "the look marked nothing"
        second = _snapshot(d, r)
    assert _held(r, second, "new.bin")[:6] == b"MAPPED"


def test_a_write_through_a_hard_link_from_outside_marks_the_folder(
    tmp_path: Path, store_dir: Path
) -> None:
    """src/app.cfg with a second name outside the worktree, written through it (no event in
    the worktree): the look marks it (its ctime moved after its last look, and no event's
    record holds its stat), as the link itself before. A new file there, its own events'
    mark explaining it, is not marked again (s51: such a folder was marked whole, and the
    mark set aside the prepared tree holding a new .env beside a hard-linked file)."""
    r = _watched_repo(tmp_path, store_dir)
    outside = tmp_path / "outside"
    outside.mkdir()
    (r / "src" / "app.cfg").write_text("config v1\n")
    with _daemon(store_dir, r, CFG) as d:
        os.link(r / "src" / "app.cfg", outside / "app.cfg")  # (an ATTRIB of the inode only)
        _read(d)
        assert _marks(store_dir, r) == set(), "an event marked it: not the case tested"
        _look_now(d, r)
        assert _marks(store_dir, r) == {(b"src", b"app.cfg")}  # (the link moved its ctime)
        assert str(r / "src") in d.trees[str(r)].ws.linked  # (found linked)
        seq = _top(store_dir, r)
        (r / "src" / "made.txt").write_text("made\n")  # its events
        _read(d)
        assert _marks(store_dir, r, seq) == {(b"src", b"made.txt")}
        seq = _top(store_dir, r)
        _look_now(d, r)
        assert _marks(store_dir, r, seq) == set()  # (was: (b"src", None), the folder whole)
        snap = _snapshot(d, r)
        assert _held(r, snap, "src/app.cfg") == b"config v1\n"
        _past_ctime(r / "src" / "app.cfg")
        (outside / "app.cfg").write_text("config version 2, longer\n")  # no event here
        _read(d)
        assert d.trees[str(r)].first_change is None, "an event marked it: not the case tested"
        seq = _top(store_dir, r)
        _look_now(d, r)
        assert _marks(store_dir, r, seq) == {(b"src", b"app.cfg")}
        snap = _snapshot(d, r)
    assert _held(r, snap, "src/app.cfg") == b"config version 2, longer\n"


def test_past_the_bound_the_look_marks_the_folder_whole(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More records than a folder keeps (TOLD_PER_FOLDER, 3 here): the look does not trust
    what it kept and marks the folder whole; within the bound it marks nothing the events
    explained. And past the bound of all the folders (TOLD_ALL)."""
    r = _watched_repo(tmp_path, store_dir)
    monkeypatch.setattr(watchset, "TOLD_PER_FOLDER", 3, raising=False)
    with _daemon(store_dir, r, CFG) as d:
        _look_now(d, r)
        for i in range(3):
            (r / "src" / f"n{i}.txt").write_text(f"{i}\n")
        _read(d)
        _look_now(d, r)
        assert (b"src", None) not in _marks(store_dir, r)  # explained by its events
        for i in range(3, 7):
            (r / "src" / f"n{i}.txt").write_text(f"{i}\n")
        _read(d)
        _look_now(d, r)
        assert (b"src", None) in _marks(store_dir, r)
    monkeypatch.setattr(watchset, "TOLD_PER_FOLDER", 10_000, raising=False)
    monkeypatch.setattr(watchset, "TOLD_ALL", 2, raising=False)
    r2 = _watched_repo(tmp_path / "two", store_dir)
    with _daemon(store_dir, r2, CFG) as d:
        _look_now(d, r2)
        (r2 / "src" / "a.txt").write_text("a\n")
        (r2 / "b.txt").write_text("b\n")
        (r2 / "src" / "c.txt").write_text("c\n")
        _read(d)
        _look_now(d, r2)
        got = _marks(store_dir, r2)
        assert (b"src", None) in got or (b"", None) in got
