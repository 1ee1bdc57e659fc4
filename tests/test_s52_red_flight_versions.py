"""Red team of s52's k3/k6 (race52): which version a report names when a snapshot committed
after git began is passed over.

1. A snapshot whose walk began before the watcher's prepared tree was done (a `git snapshot`
   by hand, its walk slow, in another terminal: it read .env before the user's last save),
   committed after git's first tick. The hook passes over it (_prepared_before's `later`,
   s52) and commits the tree (SECRET=mine, the version git found); that snapshot is then "in
   flight" and _from_flight took what it holds (an older .env) for newer than the tree: the
   older version was named, and `undo` would bring it back, while SECRET=mine was saved.
   What it read written after the tree's version (a save after the tree that the daemon
   marked only after git began: taken as git's, the tree still committed) is still named
   from it.
2. (Question 1 of the brief) A watch snapshot committed in git's first tick that in fact read
   the user's newest .env before git wrote: _in_gits_tick sets it aside as the snapshot
   before; it is in flight, and the newest .env is named from it, hedged.

The worker of the daemon here (test_s52_watch_commit_before_finish's wrapper, its `at` file:
its snapshot recorded at a time given, its walk begun at a time given, its trigger given)
stands for such a snapshot; the held post-checkout of test_s51's _checkout_with_watch_snapshot
gives git's pid. No timing decides an outcome."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import by_id
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import snaps
from prephelpers import past_a_tick
from test_pl48_look_explained import _daemon
from test_pl48_look_explained import _prepared
from test_pl48_look_explained import _read
from test_pl48_look_explained import _snapshot
from test_red48_new_ignored_prepared import THEIRS
from test_red48_new_ignored_prepared import env_repo
from test_s51_watch_snapshot_as_git_began import CFG
from test_s51_watch_snapshot_as_git_began import INOTIFY
from test_s51_watch_snapshot_as_git_began import MINE
from test_s51_watch_snapshot_as_git_began import NEVER
from test_s51_watch_snapshot_as_git_began import _checkout_with_watch_snapshot
from test_s51_watch_snapshot_as_git_began import named_from_the_tree

from git_snapshot import proc
from git_snapshot.store.walker import RACY_NS
from git_snapshot.watch import config as wconfig
from git_snapshot.watch import daemon as wdaemon
from git_snapshot.watch import take

OLD = b"SECRET=old\n"
NEWEST = b"SECRET=newest\n"

# the worker: its next snapshot, once *spec* exists, is recorded as committed at its first
# number, its walk begun at its second, with the trigger its third word names
_WORKER = """
import os, sys
from git_snapshot.store import archiver
Snapshot = archiver.Snapshot
class Kind(type):  # (archiver asks isinstance(x, Snapshot) of a rebuild's base)
    def __instancecheck__(cls, x):
        return isinstance(x, Snapshot)
class snapshot(metaclass=Kind):
    def __new__(cls, **kw):
        if os.path.exists({spec!r}):
            with open({spec!r}) as f:
                created, since, trigger = f.read().split()
            os.unlink({spec!r})
            kw["created"] = float(created)
            kw["meta"]["unsettled"]["since"] = float(since)
            kw["trigger"] = trigger
        return Snapshot(**kw)
archiver.Snapshot = snapshot
from git_snapshot.watch import take
sys.exit(take.main(sys.argv[1:]))
"""


class _Recorded:
    """The daemon's worker, its next snapshot recorded as :meth:`snap` is told."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
        where.mkdir()
        self.spec = where / "spec"
        code = _WORKER.format(spec=str(self.spec))
        argv = take.serve_argv()
        assert argv[:4] == [sys.executable, "-m", "git_snapshot.watch.take", "--serve"], argv
        monkeypatch.setattr(take, "serve_argv", lambda: [sys.executable, "-c", code, *argv[3:]])
        self.after = 0.0  # seconds after git's start (as /proc gives it) it is committed
        self.walked = 0.0  # when its walk began (wall seconds)
        self.trigger = "watch"
        self.mtime: float | None = None  # .env's mtime as it reads it (None: as written)

    def snap(self, d: wdaemon.Daemon, r: Path) -> int:
        git_pid = int((r.parent / "held").read_text())
        began = proc.running_since(git_pid)
        assert began is not None
        if self.mtime is not None:  # (the version it read was written then)
            os.utime(r / ".env", (self.mtime, self.mtime))
        since = self.walked - RACY_NS / 1e9  # (as archiver._unsettled_meta writes it)
        self.spec.write_text(f"{began + self.after!r} {since!r} {self.trigger}")
        snap = _snapshot(d, r)
        assert not self.spec.exists(), "the worker did not take the time"
        return snap


@INOTIFY
def test_a_snapshot_whose_walk_began_before_the_tree_does_not_outrank_it(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `git snapshot` begun before the user's last save of .env (it read OLD), the tree
    prepared after that save (SECRET=mine), `git checkout feat`, the snapshot committed
    after git's first tick. .env is named from the prepared tree: SECRET=mine, the version
    git found. Was: named from that snapshot, OLD (an older version, while the tree that
    holds SECRET=mine was committed by the same hook)."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    rec = _Recorded(monkeypatch, tmp_path / "worker")
    with _daemon(store_dir, r, CFG) as d:
        rec.walked = time.time() - 0.5  # (before the save below: it read OLD)
        rec.after, rec.trigger = 0.05, "create"  # (committed after git's first tick)
        rec.mtime = rec.walked - 1.0  # (OLD, written before its walk began)
        (r / ".env").write_bytes(MINE)  # new, ignored on main
        _read(d)
        _prepared(d, store_dir, r, ".env", MINE)
        past_a_tick()
        ran, late, _ = _checkout_with_watch_snapshot(d, r, half=OLD, snap=rec.snap)
    assert (r / ".env").read_bytes() == THEIRS
    assert gs(r, "cat", f"{late}:.env").out.encode() == OLD  # (read before the save)
    assert by_id(r, late)["trigger"] == "create"
    tree = [s["id"] for s in snaps(r) if s["trigger"] == "prepared"]
    assert len(tree) == 1 and gs(r, "cat", f"{tree[0]}:.env").out.encode() == MINE, snaps(r)
    named_from_the_tree(r, ran)  # (was: named from the older one, OLD)


@INOTIFY
def test_a_watch_snapshot_in_gits_tick_that_read_the_newest_env_names_it_hedged(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch snapshot committed in git's first tick read the user's newest .env before
    git wrote (NEWEST): it is not the snapshot before (_in_gits_tick), it is in flight, and
    NEWEST is named from it, hedged (not the earlier snapshot's OLD); its restore gives
    NEWEST back."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    rec = _Recorded(monkeypatch, tmp_path / "worker")
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=NEVER)
    with _daemon(store_dir, r, cfg) as d:
        (r / ".env").write_bytes(OLD)
        _read(d)
        first = _snapshot(d, r)
        (r / ".env").write_bytes(NEWEST)
        _read(d)
        rec.walked = time.time()  # (after NEWEST, before git)
        rec.after = 0.0005  # (in git's first tick)
        past_a_tick()
        ran, watch, _ = _checkout_with_watch_snapshot(d, r, half=NEWEST, snap=rec.snap)
    assert gs(r, "cat", f"{watch}:.env").out.encode() == NEWEST
    assert by_id(r, watch)["trigger"] == "watch"
    assert [(rep.names, rep.snap) for rep in ran.reports] == [(".env", watch)], (first, ran.err)
    assert not ran.reports[0].exact  # (in flight: hedged)
    git(r, "switch", "-q", "main")
    restore(r, ran.reports[0])
    assert (r / ".env").read_bytes() == NEWEST


@INOTIFY
def test_a_snapshot_begun_before_the_tree_still_names_a_save_made_after_it(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same `git snapshot` begun before the tree, but .env saved again after the tree,
    before git began (NEWEST), that snapshot reading it, the save marked only after git began
    (the daemon's latency: taken as git's write, the tree still committed): that snapshot's
    .env, written after the tree's, is named from it, not the tree's older one."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    rec = _Recorded(monkeypatch, tmp_path / "worker")
    with _daemon(store_dir, r, CFG) as d:
        rec.walked = time.time() - 0.5
        rec.after, rec.trigger = 0.05, "create"
        (r / ".env").write_bytes(MINE)
        _read(d)
        _prepared(d, store_dir, r, ".env", MINE)
        # NEWEST's mtime as saved after the tree, before git began (it is written while the
        # hook is held: as written, its mtime fell in git's run, 15-27 ms after git's tick,
        # before that snapshot's commit, and _from_flight rightly took it for git's write,
        # _written_while; named from the tree: failed 7 of 19 runs beside load)
        rec.mtime = time.time()
        past_a_tick()
        ran, late, _ = _checkout_with_watch_snapshot(d, r, half=NEWEST, snap=rec.snap)
    assert gs(r, "cat", f"{late}:.env").out.encode() == NEWEST
    assert "prepared" in {s["trigger"] for s in snaps(r)}  # (committed: the case tested)
    assert [(rep.names, rep.snap) for rep in ran.reports] == [(".env", late)], ran.err
    git(r, "switch", "-q", "main")
    restore(r, ran.reports[0])
    assert (r / ".env").read_bytes() == NEWEST


@INOTIFY
def test_an_earlier_hooks_tree_does_not_hold_back_a_snapshot_committed_after_it(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tree an earlier post-checkout committed is the snapshot before the next checkout
    (that hook's own snapshot forgotten since: `git snapshot forget`), and a `git snapshot`
    whose walk's time predates that tree (taken before it waited for the worktree's turn,
    archiver.create_snapshot's start_ns) but that committed after it, after the next git
    began, read the user's .env put back with an mtime older than the tree's (`cp -p` of a
    kept copy): that .env is named from it (_began_before_tree's `before.id < snap.id`: it
    walked after the tree was committed, under the same turn). Without that, it was taken to
    have read before the tree, its .env older by mtime dropped: the tree's SECRET=mine was
    named, not the version git destroyed."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    rec = _Recorded(monkeypatch, tmp_path / "worker")
    with _daemon(store_dir, r, CFG) as d:
        rec.walked = time.time() - 0.5  # (before the tree)
        rec.mtime = rec.walked - 1.0  # (NEWEST as kept: older than the tree's MINE)
        (r / ".env").write_bytes(MINE)
        _read(d)
        _prepared(d, store_dir, r, ".env", MINE)
        past_a_tick()
        first, _, _ = _checkout_with_watch_snapshot(d, r)
        (tree,) = [s["id"] for s in snaps(r) if s["trigger"] == "prepared"]
        assert [(rep.names, rep.snap) for rep in first.reports] == [(".env", tree)], first.err
        (own,) = [s["id"] for s in snaps(r) if s["trigger"] == "post-checkout"]
        assert own > tree
        gs(r, "forget", str(own))
        git(r, "-c", "core.hooksPath=/dev/null", "switch", "-q", "main")  # (no hook: no row)
        assert not (r / ".env").exists()
        assert max(s["id"] for s in snaps(r)) == tree  # (the snapshot before the next one)
        (r / ".env").write_bytes(NEWEST)
        _read(d)
        for held in ("held", "go"):  # (the first checkout's)
            (r.parent / held).unlink()
        rec.after, rec.trigger = 0.05, "create"  # (committed after git's first tick)
        past_a_tick()
        ran, late, _ = _checkout_with_watch_snapshot(d, r, half=NEWEST, snap=rec.snap)
    assert late > tree and gs(r, "cat", f"{late}:.env").out.encode() == NEWEST
    assert [(rep.names, rep.snap) for rep in ran.reports] == [(".env", late)], ran.err
    git(r, "switch", "-q", "main")
    restore(r, ran.reports[0])
    assert (r / ".env").read_bytes() == NEWEST
