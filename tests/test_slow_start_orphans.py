"""A process of ours whose parent is SIGKILLed before it got to ask the kernel to end it
with its parent (pids.die_with_parent: its startup, imports, can take a second at load 8)
must still end, not do its job orphaned. The watcher's worker and the deltas process asked
about the parent they had when they got there: already the reaper (init or a subreaper),
so the check passed and the worker did its job orphaned (test_red12_orphans' worker test
failed so under load). Each is now told its parent's pid by the command line that starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from git_snapshot.watch import take

# the child's startup made slow (the sleep) before it gets to take.main with the arguments
# its parent gave it
SLOW_CHILD = (
    "import sys, time; time.sleep(1.5); from git_snapshot.watch import take as t; "
    "t.take = lambda path: time.sleep(60) or {}; "
    "t.warm_deltas = lambda worktree: time.sleep(60); "
    "sys.exit(t.main(sys.argv[1:]))"
)

PARENT = """
import subprocess, sys
from git_snapshot.watch import take
argv = {argv}
w = subprocess.Popen(
    [sys.executable, "-c", sys.argv[1], *argv[3:]],
    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
)
w.stdin.write(b"/nowhere\\n")  # the daemon's first job, sent at once
w.stdin.flush()
print(w.pid, flush=True)
import time
time.sleep(60)
"""


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False


def killed_during_startup(argv: str) -> None:
    script = PARENT.format(argv=argv)
    parent = subprocess.Popen([sys.executable, "-c", script, SLOW_CHILD], stdout=subprocess.PIPE)
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        parent.kill()  # while the child still starts
        parent.wait()
        assert running(child)
        deadline = time.monotonic() + 20
        while running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not running(child), "the child outlived its parent, killed while it started"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
        if child and running(child):
            os.kill(child, signal.SIGKILL)


def test_the_worker_ends_when_its_daemon_was_killed_while_it_started() -> None:
    killed_during_startup("take.serve_argv()")  # as watch/daemon.py starts it


def test_the_deltas_process_ends_when_its_worker_was_killed_while_it_started() -> None:
    killed_during_startup("take.deltas_argv('/nowhere')")  # as Deltas.start starts it


def test_the_arguments_name_the_parent() -> None:
    assert take.serve_argv()[-2:] == ["--parent", str(os.getpid())]
    assert take.deltas_argv("/w")[-3:] == ["/w", "--parent", str(os.getpid())]
