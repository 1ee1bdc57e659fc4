"""The watcher's own snapshot committed, its dirty set not yet told (s52, session 51's k6).

A watch snapshot commits its record (worktree.take: create_snapshot), then moves the dirty
set's base (dirtyset.done -> finish). A post-checkout hook that asks in between finds the
prepared tree holding a NEW .env still logged on the base (prep.logged), while the worktree's
last snapshot is that watch one (committed after git began, its walk perhaps reading git's
.env): the tree was set aside as not built on the last snapshot, and SECRET=mine, saved in
the tree only, was named by nothing. And when the finish comes between the hook's choice of
the tree and its question about the marks after it (prep.changed_since), those marks are
gone from the marks table: the kept ones (dirtyset._keep_dropped) must be asked, else a
user's `rm .env` after the tree goes unseen and SECRET=mine is named as lost (a false
report). The same when the watch snapshot commits while the hook asks, after its look at
the snapshots and before it commits the tree (prep.commit_logged refused it). And (session
51's k3) a watch snapshot committed within the clock tick git began in is not the snapshot
before: /proc's start time cannot tell it from one committed just before git.

Real git, the installed hooks, the daemon in this process (test_s51's), its worker started
by a wrapper that holds it by files: between the commit and the finish, or before the
record until the hook waits for the daemon; or that records one commit at git's start as
/proc gives it (the one thing no test can time: a tick). No timing decides an outcome."""

from __future__ import annotations

import platform
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
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
from test_s51_watch_snapshot_as_git_began import _base_seq
from test_s51_watch_snapshot_as_git_began import _checkout_with_watch_snapshot
from test_s51_watch_snapshot_as_git_began import _held_hook
from test_s51_watch_snapshot_as_git_began import named_from_the_tree

from git_snapshot import proc
from git_snapshot.store import Store
from git_snapshot.watch import config as wconfig
from git_snapshot.watch import daemon as wdaemon
from git_snapshot.watch import prep
from git_snapshot.watch import take

OLD = b"SECRET=old\n"
# the worker: its dirtyset.done (the finish after a snapshot's commit) waits, once armed
# (*arm*); its next snapshot waits before its record is written (*pre*), or is recorded as
# committed at the time *at* holds, once armed
_WORKER = """
import os, sys, time
from git_snapshot.store import archiver
from git_snapshot.watch import dirtyset
Snapshot = archiver.Snapshot
def snapshot(**kw):
    if os.path.exists({pre!r}):  # (held before its record: its walk done, its time not taken)
        os.unlink({pre!r})
        open({preheld!r}, "w").close()
        while not os.path.exists({prego!r}):
            time.sleep(0.005)
        kw["created"] = time.time()
    if os.path.exists({at!r}):
        with open({at!r}) as f:
            at = float(f.read())
        os.unlink({at!r})
        kw["created"] = at  # (and its walk began before)
        kw["meta"]["unsettled"]["since"] = min(kw["meta"]["unsettled"]["since"], at - 0.002)
    return Snapshot(**kw)
archiver.Snapshot = snapshot
real = dirtyset.done
def done(*args, **kw):
    if os.path.exists({arm!r}):
        os.unlink({arm!r})
        open({held!r}, "w").close()
        while not os.path.exists({go!r}):
            time.sleep(0.005)
    return real(*args, **kw)
dirtyset.done = done
from git_snapshot.watch import take
sys.exit(take.main(sys.argv[1:]))
"""


class _HeldWorker:
    """The daemon's worker, its finish held once armed (:meth:`snap`) until :meth:`release`,
    or its snapshot's commit recorded in git's first clock tick (:meth:`in_gits_tick`), or
    its snapshot held before its record is written (*pre*, until *prego*)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
        where.mkdir()
        self.arm, self.held, self.go = where / "arm", where / "held", where / "go"
        self.at = where / "at"
        self.pre, self.preheld, self.prego = where / "pre", where / "preheld", where / "prego"
        code = _WORKER.format(
            arm=str(self.arm),
            held=str(self.held),
            go=str(self.go),
            at=str(self.at),
            pre=str(self.pre),
            preheld=str(self.preheld),
            prego=str(self.prego),
        )
        argv = take.serve_argv()
        assert argv[:4] == [sys.executable, "-m", "git_snapshot.watch.take", "--serve"], argv
        monkeypatch.setattr(take, "serve_argv", lambda: [sys.executable, "-c", code, *argv[3:]])

    def snap(self, d: wdaemon.Daemon, r: Path) -> int:
        """The daemon's snapshot sent; once committed, its worker holds before the finish:
        returns its id (the worktree's newest snapshot then)."""
        tree = d.trees[str(r)]
        assert tree.first_change is not None, "nothing marked: no snapshot due"
        self.arm.touch()
        d.maybe_snapshot(wdaemon._now() + 2 * NEVER)
        assert d.child_tree is tree, "no snapshot sent"
        deadline = time.monotonic() + 120
        while not self.held.exists():
            assert time.monotonic() < deadline, "the worker never held"
            time.sleep(0.005)
        with Store(Path(d.store_path)) as s:
            newest = max(s.snapshots(None, str(r)), key=lambda x: x.id)
        assert newest.trigger == "watch", newest
        return newest.id

    def in_gits_tick(self, d: wdaemon.Daemon, r: Path) -> int:
        """The daemon's snapshot, sent and answered, recorded as committed just after git's
        start (as /proc gives it to the held post-checkout: the start of the clock tick git
        began in): as if git had begun, written and the snapshot committed all in one tick
        (10 ms), which no test can time."""
        git_pid = int((r.parent / "held").read_text())
        began = proc.running_since(git_pid)
        assert began is not None
        self.at.write_text(repr(began + 0.0005))
        snap = _snapshot(d, r)
        assert not self.at.exists(), "the worker did not take the time"
        return snap

    def release(self, d: wdaemon.Daemon, r: Path, watch: int) -> None:
        """The worker's finish goes on; its answer read."""
        self.go.touch()
        d.worker_ready()
        tree = d.trees[str(r)]
        assert tree.last_snapshot is not None and tree.last_error is None, tree.last_error
        assert tree.last_snapshot["id"] == watch


@INOTIFY
def test_a_new_env_is_named_when_the_hook_asks_before_the_watch_snapshots_finish(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch snapshot (git's .env read, committed after git began) has not moved the
    base when post-checkout asks: the tree is still logged on the base, the last snapshot
    is the watch one. .env is named from the prepared tree, and its printed restore gives
    SECRET=mine back. Was: no line (the tree set aside: the last snapshot was not its
    base)."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    held = _HeldWorker(monkeypatch, tmp_path / "finish")
    with _daemon(store_dir, r, CFG) as d:
        (r / ".env").write_bytes(MINE)  # new, ignored on main
        _read(d)
        p = _prepared(d, store_dir, r, ".env", MINE)
        base = _base_seq(store_dir, r)
        past_a_tick()
        ran, watch, seen = _checkout_with_watch_snapshot(d, r, snap=held.snap)
        assert seen == base < p.seq  # (the case tested: the base had not moved yet)
        held.release(d, r, watch)
        assert _base_seq(store_dir, r) > p.seq  # (then the watch snapshot's finish moved it)
    assert (r / ".env").read_bytes() == THEIRS
    assert gs(r, "cat", f"{watch}:.env").out.encode() == THEIRS  # (git's, as the race has it)
    named_from_the_tree(r, ran)  # (was: no line)


@INOTIFY
@pytest.mark.parametrize("rm", [True, False], ids=["rm-after-the-tree", "unchanged"])
def test_the_marks_a_finish_dropped_meanwhile_are_asked(
    tmp_path: Path, store_dir: Path, rm: bool
) -> None:
    """The tree chosen while logged on the base (prep.logged, as a hook did before the
    finish), then the watch snapshot's finish moves the base past it, then the marks after
    it are asked (as the hook does next): the user's rm after the tree is among the marks
    that finish kept, and says so (changed). Was: not changed (the marks table had lost
    them), and the hook named SECRET=mine from a tree the user had deleted since. With
    nothing done after the tree: not changed (it is kept)."""
    r = env_repo(tmp_path, store_dir)
    with _daemon(store_dir, r, CFG) as d:
        (r / ".env").write_bytes(MINE)
        _read(d)
        _prepared(d, store_dir, r, ".env", MINE)
        (got,) = prep.logged(str(store_dir), str(r))[:1]  # (what the hook chose)
        _, p = got
        if rm:
            (r / ".env").unlink()
        else:
            (r / "a.txt").write_text("elsewhere\n")  # (a mark after the tree: not .env's)
        _read(d)
        _snapshot(d, r)  # committed and finished: the marks after the tree dropped
        assert _base_seq(store_dir, r) > p.seq  # (the case tested)
        began = time.time()  # (git began now: every mark was made before)
        changed = prep.changed_since(str(store_dir), str(r), p, began, {b".env"})
    assert changed is rm


@INOTIFY
@pytest.mark.parametrize("read", [True, False], ids=["git-marked-first", "no-mark-after"])
def test_a_watch_snapshot_committed_in_gits_first_tick_is_not_the_snapshot_before(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, read: bool
) -> None:
    """The watch snapshot holding git's .env committed within the clock tick git began in
    (session 51's k3): /proc's start cannot tell it from one committed just before git. It
    is not the snapshot before: .env is named from the prepared tree, whose restore gives
    SECRET=mine back. Was: that snapshot taken for the one before (git's .env unchanged
    since it): no line, and SECRET=mine in no snapshot."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    held = _HeldWorker(monkeypatch, tmp_path / "worker")
    with _daemon(store_dir, r, CFG) as d:
        (r / ".env").write_bytes(MINE)  # new, ignored on main
        _read(d)
        _prepared(d, store_dir, r, ".env", MINE)
        past_a_tick()
        ran, watch, _ = _checkout_with_watch_snapshot(d, r, read=read, snap=held.in_gits_tick)
    assert (r / ".env").read_bytes() == THEIRS
    assert gs(r, "cat", f"{watch}:.env").out.encode() == THEIRS  # (git's, as the race has it)
    named_from_the_tree(r, ran)  # (was: no line)


@INOTIFY
def test_without_a_tree_an_earlier_version_is_named_past_such_a_snapshot(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same, no prepared tree (none made): the watch snapshot of git's first tick is
    still not the snapshot before. The one before it holds an earlier .env (OLD): named,
    hedged, and its restore gives OLD back. Was: no line (git's .env unchanged since the
    watch snapshot)."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    held = _HeldWorker(monkeypatch, tmp_path / "worker")
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=NEVER)
    with _daemon(store_dir, r, cfg) as d:
        (r / ".env").write_bytes(OLD)
        _read(d)
        first = _snapshot(d, r)
        (r / ".env").write_bytes(MINE)  # (in no snapshot: no tree is made)
        _read(d)
        past_a_tick()
        ran, watch, _ = _checkout_with_watch_snapshot(d, r, snap=held.in_gits_tick)
    assert gs(r, "cat", f"{watch}:.env").out.encode() == THEIRS
    assert "prepared" not in {s["trigger"] for s in snaps(r)}
    assert [(rep.names, rep.snap) for rep in ran.reports] == [(".env", first)], ran.err
    assert not ran.reports[0].exact  # ("an earlier version": the user's last one is lost)
    git(r, "switch", "-q", "main")
    restore(r, ran.reports[0])
    assert (r / ".env").read_bytes() == OLD


def _waits(pid: int) -> bool:
    """Whether process *pid* is in a sleep it asked for (clock_nanosleep: time.sleep)."""
    try:
        return Path(f"/proc/{pid}/syscall").read_text().split()[0] == "230"
    except (OSError, IndexError):
        return False


def _hook_python(pid: int) -> bool:
    """Whether process *pid* is the hook's Python (`... hook post-checkout ...`), not the
    held shell's `sleep`."""
    try:
        return b"\0hook\0post-checkout\0" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    out = []
    for st in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = st.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(st.parent.name))
    return out


@INOTIFY
@pytest.mark.skipif(platform.machine() != "x86_64", reason="clock_nanosleep's number: x86_64")
def test_a_new_env_is_named_when_the_watch_snapshot_commits_while_the_hook_asks(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch snapshot (git's .env read) commits, and finishes, after post-checkout chose
    the tree on the base and found the base the last snapshot, before it commits that tree
    (the hook waits for the daemon's answer to its sync in between: prep.git_locked). .env
    is named from the prepared tree. Was: commit_logged found the watch snapshot last, not
    the tree's base, and committed nothing: no line."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    held = _HeldWorker(monkeypatch, tmp_path / "worker")
    hook_held, go = _held_hook(r)
    with _daemon(store_dir, r, CFG) as d:
        (r / ".env").write_bytes(MINE)  # new, ignored on main
        _read(d)
        p = _prepared(d, store_dir, r, ".env", MINE)
        past_a_tick()
        out, err = tmp_path / "out", tmp_path / "err"
        with out.open("wb") as o, err.open("wb") as e:
            git_run = subprocess.Popen(
                ["git", "checkout", "feat"], cwd=r, stdin=subprocess.DEVNULL, stdout=o, stderr=e
            )
        deadline = time.monotonic() + 120
        while not hook_held.exists():
            assert git_run.poll() is None and time.monotonic() < deadline, "no post-checkout"
            time.sleep(0.005)
        _read(d)  # (git's writes marked)
        held.pre.touch()
        d.maybe_snapshot(wdaemon._now() + 2 * NEVER)
        tree = d.trees[str(r)]
        assert d.child_tree is tree, "no snapshot sent"
        while not held.preheld.exists():  # (its walk read git's .env)
            assert time.monotonic() < deadline, "the worker never held"
            time.sleep(0.005)
        go.touch()
        # the hook runs until it waits for the daemon's answer to its sync (none read here)
        hook: list[int] = []  # (git's child the hook's shell, its child the hook's Python)
        while not (hook and _waits(hook[0])):
            assert git_run.poll() is None and time.monotonic() < deadline, "the hook never waited"
            hook = [c for s in _children(git_run.pid) for c in _children(s) if _hook_python(c)]
            time.sleep(0.002)
        held.prego.touch()
        d.worker_ready()  # committed and finished
        assert tree.last_snapshot is not None and tree.last_error is None, tree.last_error
        watch = tree.last_snapshot["id"]
        assert _base_seq(store_dir, r) > p.seq  # (the case tested: the base moved meanwhile)
        while git_run.poll() is None:
            assert time.monotonic() < deadline, "git did not end"
            if select.select([d.src.fileno()], [], [], 0.05)[0]:
                _read(d)  # (the hook's sync answered)
        rc = git_run.wait()
    ran = Ran(rc, out.read_text(), err.read_text())
    assert rc == 0 and "Traceback" not in ran.err, ran.err
    assert gs(r, "cat", f"{watch}:.env").out.encode() == THEIRS
    named_from_the_tree(r, ran)  # (was: no line)
