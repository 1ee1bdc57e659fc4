"""Red team (session 15): no process of ours outlives a parent killed with SIGKILL. A forked
child (the split walk's, the diff's, the restore plan's: store/forked.py) kept running, with
the parent's store lock inherited, until its work was done; so did the watcher's worker
(``python -m git_snapshot.watch.take --serve``) in the middle of a job, and the process it
starts for find's deltas. Each now asks the kernel to end it with its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import take
from test_prep_daemon import _children

from git_snapshot.store import Store
from git_snapshot.watch import take as take_module

FORK_PARENT = """
import os, sys, time
from git_snapshot.store import forked

def work(w):
    time.sleep(60)  # a long walk or comparison
    os.write(w, b"done")

child = forked.start(work)
print(child.pid, flush=True)
time.sleep(60)
"""

# the daemon's side: the worker started as watch/daemon.py starts it (take.serve_argv's
# arguments, which name the daemon's pid), one job sent; the job is made long (a snapshot
# of a slow file system) by replacing take() in the worker; and the worker's side: the
# deltas process started as Deltas.start starts it (take.deltas_argv), warm_deltas made long.
# *delay*: the child's startup (its imports) made that slow
TAKE_CHILD = (
    "import sys, time; time.sleep({delay}); from git_snapshot.watch import take as t; "
    "t.take = lambda path: time.sleep(60) or {{}}; "
    "t.warm_deltas = lambda worktree: time.sleep(60); "
    "sys.exit(t.main(sys.argv[1:]))"
)

TAKE_PARENT = """
import subprocess, sys, time
from git_snapshot.watch import take
w = subprocess.Popen(
    [sys.executable, "-c", {child!r}, *{argv}[3:]],
    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
)
w.stdin.write(b"/nowhere\\n")  # the daemon's first job, sent at once
w.stdin.flush()
print(w.pid, flush=True)
time.sleep(60)
"""


def take_parent(argv: str, delay: float = 0.0) -> str:
    """The script of a parent starting take.py's child with the arguments *argv* (Python)."""
    return TAKE_PARENT.format(child=TAKE_CHILD.format(delay=delay), argv=argv)


WORKER_PARENT = take_parent("take.serve_argv()")
DELTAS_PARENT = take_parent("take.deltas_argv('/nowhere')")


def running(pid: int) -> bool:
    """Whether *pid* runs (a zombie nobody reaped has ended)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False


def kill_parent_then_child_ends(script: str, at_work: float = 0.5) -> None:
    """The child *script* starts ends when the script is SIGKILLed *at_work* seconds later."""
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        time.sleep(at_work)  # the child is at its work (or not yet: 0)
        assert running(child)
        parent.kill()
        parent.wait()
        # (only bounds a test that fails: the child's imports under load count in it)
        deadline = time.monotonic() + 60
        while running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not running(child), "the child outlived its parent killed with SIGKILL"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
        if child and running(child):
            os.kill(child, signal.SIGKILL)


def test_a_forked_child_ends_with_its_killed_parent() -> None:
    kill_parent_then_child_ends(FORK_PARENT)


def test_the_watchers_worker_ends_with_its_killed_daemon_mid_job() -> None:
    kill_parent_then_child_ends(WORKER_PARENT)


def test_the_deltas_process_ends_with_its_killed_worker() -> None:
    kill_parent_then_child_ends(DELTAS_PARENT)


# the kernel's signal follows the thread that forked, not the process: a parent's other thread
# that ends must not take the child with it
THREAD_PARENT = """
import os, sys, threading, time
from git_snapshot.store import forked

def work(w):
    time.sleep(1)
    os.write(w, b"done")

child = forked.start(work)
t = threading.Thread(target=lambda: None)
t.start()
t.join()
print(child.read_all().decode(), flush=True)
"""


def test_a_forked_child_outlives_a_thread_of_its_parent() -> None:
    res = subprocess.run([sys.executable, "-c", THREAD_PARENT], capture_output=True, timeout=60)
    assert res.stdout == b"done\n", res


def test_the_worker_answers_when_started_as_the_daemon_starts_it(tmp_path: Path) -> None:
    """A daemon's worker still does its jobs (die_with_parent does not end it early)."""
    env = {**os.environ, "GIT_SNAPSHOT_STORE": str(tmp_path / "store")}
    w = subprocess.Popen(
        [sys.executable, "-m", "git_snapshot.watch.take", "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    out, _ = w.communicate(str(tmp_path / "nowhere").encode() + b"\n", timeout=60)
    assert w.returncode == 0
    assert b"error" in out  # (not a repository: an answer all the same)


# a restore with writer processes; in a writer, the first file's write takes a minute (a big
# file on a slow disk): it checks its parent only between files
RESTORE_PARENT = """
import os, sys, time
from git_snapshot.store import Store
from git_snapshot.watch import take as take_module
from git_snapshot.store import restore_write
from git_snapshot.store import restorer

me = os.getpid()
real = restore_write._pwrite_all

def slow(fd, data, offset):
    real(fd, data, offset)
    if os.getpid() != me:
        time.sleep(60)

restore_write._pwrite_all = slow
restore_write._native_put = None  # the C loop calls no _pwrite_all
with Store(sys.argv[1]) as s:
    restorer.Restorer(s, threads=2, processes=True).restore(s.get("s", "latest"), sys.argv[2], None)
"""


def _session(pid: int) -> int:
    try:
        return os.getsid(pid)
    except ProcessLookupError:
        return -1


def test_a_restores_writer_processes_end_with_the_killed_restore(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(
        src, D({b"d%d" % j: D({b"f%03d" % i: F(b"x%d" % i) for i in range(40)}) for j in range(15)})
    )
    take(store, "s", src)
    argv = [sys.executable, "-c", RESTORE_PARENT, str(store_dir), str(tmp_path / "out")]
    parent = subprocess.Popen(argv)
    writers: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while len(writers) < 2 and time.monotonic() < deadline:
            # (its janitor, a child in a session of its own, is to outlive it: not a writer)
            writers = [c for c in _children(parent.pid) if _session(c) == os.getsid(0)]
            time.sleep(0.05)
        assert len(writers) == 2, "no writer processes: the test proves nothing"
        time.sleep(1)  # each at its first file
        assert all(running(w) for w in writers)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 60  # (only bounds a test that fails)
        while any(running(w) for w in writers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(running(w) for w in writers), "a writer outlived the killed restore"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for w in writers:
            if running(w):
                os.kill(w, signal.SIGKILL)


# a parent SIGKILLed before its child got to ask the kernel to end it with its parent (its
# startup, imports, can take a second at load 8): the worker and the deltas process asked
# about the parent they had when they got there, already the reaper (init or a subreaper),
# so the check passed and the worker did its job orphaned (the worker test above failed so
# under load). Each is now told its parent's pid by the command line that starts it.


def test_the_worker_ends_when_its_daemon_was_killed_while_it_started() -> None:
    kill_parent_then_child_ends(take_parent("take.serve_argv()", delay=1.5), at_work=0)


def test_the_deltas_process_ends_when_its_worker_was_killed_while_it_started() -> None:
    kill_parent_then_child_ends(take_parent("take.deltas_argv('/nowhere')", delay=1.5), at_work=0)


def test_the_arguments_name_the_parent() -> None:
    assert take_module.serve_argv()[-2:] == ["--parent", str(os.getpid())]
    assert take_module.deltas_argv("/w")[-3:] == ["/w", "--parent", str(os.getpid())]
