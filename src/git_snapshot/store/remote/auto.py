"""Automatic pushes after hook snapshots (``git config snapshot.autoPush NAME``).

Never in the hook's time: the hook calls :func:`kick`, which appends one byte to
``NAME.pending`` (one per hook snapshot not pushed yet) and, when no pusher runs, starts
``git-snapshot push --auto NAME`` as a detached process (its own session, no terminal, output
to nowhere) and returns. The waiting a hook must not do is that pusher's (:func:`run`): it
waits out the rate limit (a push at most every ``INTERVAL_S``) and a failed push's back-off
(1, 2, 4 ... up to 60 min) itself, then pushes while hook snapshots are pending. So the last
snapshot before the user stops working leaves the machine without another hook (RED39 F4:
the hook used to start nothing within the minute, and nothing acted on a back-off's end). It
gives up after ``MAX_TRIES`` failures in a row (about 5 h; the next hook starts another) or
when the store is gone. One pusher per store and remote: it holds ``NAME.json.lock``. State:
``<store>/remote-state/NAME.json`` and the pending count, shown by ``remote list``.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from typing import Any
from typing import Callable

from git_snapshot.store.safewrite import atomic_write

INTERVAL_S = 60.0
MAX_BACKOFF_S = 3600.0
MAX_TRIES = 10  # 1+2+4+...+60+60+60+60 min: about 5 h of retries, then the next hook's turn
POLL_S = 5.0  # how often a waiting pusher looks whether the store is still there
LOCK_TRIES = 20  # x 0.1 s: a look at the lock (kick, remote list) holds it a moment only


def state_path(store_path: str, name: str) -> str:
    return os.path.join(store_path, "remote-state", f"{name}.json")


def _pending_path(store_path: str, name: str) -> str:
    return os.path.join(store_path, "remote-state", f"{name}.pending")


def _lock_path(store_path: str, name: str) -> str:
    return state_path(store_path, name) + ".lock"


def read_state(store_path: str, name: str) -> dict[str, Any]:
    try:
        with open(state_path(store_path, name), encoding="utf-8") as f:
            doc = json.load(f)
        return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}


def write_state(store_path: str, name: str, state: dict[str, Any]) -> None:
    path = state_path(store_path, name)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    atomic_write(path, json.dumps(state).encode(), durable=False)  # the store's files: 0600


def pending(store_path: str, name: str) -> int:
    """How many hook snapshots wait for an auto-push to *name* (0: none)."""
    try:
        return os.stat(_pending_path(store_path, name)).st_size
    except OSError:
        return 0


def _mark(store_path: str, name: str, count: int = 1) -> None:
    """*count* more pending (an append: concurrent hooks never lose one another's; under the
    marks' lock, so that no append lands in a file _drop is replacing)."""
    path = _pending_path(store_path, name)
    lock = _marks_lock(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, b"." * count)
        finally:
            os.close(fd)
    finally:
        os.close(lock)


def _drop(store_path: str, name: str, count: int) -> None:
    """Drop *count* marks, those a push that succeeded covers; one a hook made meanwhile stays.
    Only after the push: a pusher killed or failing mid-push leaves its marks (review39 RF3).
    The rest is written whole and renamed over the marks, under their lock: moving the marks
    aside and appending the rest back lost them all to a kill between the two, and a hook's
    mark appended to the moved-aside file after its count."""
    if not count:
        return
    path = _pending_path(store_path, name)
    lock = _marks_lock(path)
    try:
        try:
            later = os.stat(path).st_size - count
        except FileNotFoundError:
            return
        if later > 0:
            atomic_write(path, b"." * later, durable=False)
        else:
            os.unlink(path)
    finally:
        os.close(lock)


def _marks_lock(path: str) -> int:
    """The marks file's lock, held (close the fd to let it go): a file beside it, never
    replaced, so that a hook waiting on it appends to the marks that are current then."""
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def running(store_path: str, name: str) -> bool:
    """Whether a pusher to *name* runs (holds the lock). A shared lock for a moment: a pusher
    starting then tries again (:func:`_lock`), so a look never turns one away."""
    try:
        fd = os.open(_lock_path(store_path, name), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def kick(store_path: str, name: str) -> None:
    """Mark a hook snapshot pending for *name* and start a background pusher unless one
    runs (the hook's call: an append, a lock look and at most one fork; waits at most for a
    pusher's rewrite of the marks, a few system calls; never raises)."""
    try:
        os.makedirs(os.path.dirname(state_path(store_path, name)), mode=0o700, exist_ok=True)
        _mark(store_path, name)  # first: a pusher that frees its lock after this sees it (run)
        if running(store_path, name):
            return
        import subprocess

        env = dict(os.environ, GIT_SNAPSHOT_STORE=store_path)
        subprocess.Popen(
            [sys.executable, "-m", "git_snapshot", "push", "--auto", name],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            env=env,
            cwd="/",
        )
    except Exception:  # a hook never fails because of a background push
        return


def run(store_path: str, name: str, push_once: Callable[[], str | None]) -> None:
    """The background pusher (``push --auto NAME``): push while hook snapshots are pending,
    each push after the rate limit or the back-off; *push_once* pushes and returns its error
    or None. Started with nothing pending (not by a hook), it pushes once, at once."""
    first = pending(store_path, name) == 0
    while True:
        fd = _lock(store_path, name)
        if fd is None:
            return  # another pusher runs: it sees the marks
        try:
            gave_up = not _serve(store_path, name, push_once, first)
        finally:
            _note(store_path, name, phase=None)
            os.close(fd)
        # a hook that saw the lock held just before it was freed marked after our last look
        if gave_up or not pending(store_path, name):
            return
        first = False


def _lock(store_path: str, name: str) -> int | None:
    """The pusher's lock on *name*, or None when another pusher holds it."""
    path = _lock_path(store_path, name)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    for _ in range(LOCK_TRIES):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            time.sleep(0.1)
    os.close(fd)
    return None


def _serve(store_path: str, name: str, push_once: Callable[[], str | None], now: bool) -> bool:
    """Push while marks are pending (once first when *now*); False when it gave up."""
    failures = 0
    while now or pending(store_path, name):
        if not now and not _wait(store_path, name):
            return False  # the store is gone
        now = False
        covered = pending(store_path, name)  # (each made after its snapshot was stored)
        _note(store_path, name, phase="pushing")
        error = push_once()
        finished(store_path, name, error)
        if error is None:
            _drop(store_path, name, covered)
            continue
        failures += 1
        if failures >= MAX_TRIES:
            return False
    return True


def _wait(store_path: str, name: str) -> bool:
    """Sleep until the state's ``next_try`` (at most the longest back-off: a clock set back
    stalls nothing for long); False when the store went meanwhile."""
    _note(store_path, name, phase="waiting")
    left = float(read_state(store_path, name).get("next_try", 0)) - time.time()
    until = time.monotonic() + min(max(left, 0.0), MAX_BACKOFF_S)
    while time.monotonic() < until:
        if not os.path.isdir(os.path.dirname(state_path(store_path, name))):
            return False
        time.sleep(min(POLL_S, until - time.monotonic()))
    return os.path.isdir(os.path.dirname(state_path(store_path, name)))


def _note(store_path: str, name: str, phase: str | None) -> None:
    """What the pusher does now (``remote list``: pushing, or waiting for next_try)."""
    if not os.path.isdir(os.path.dirname(state_path(store_path, name))):
        return  # the store is gone: never make its folder again
    state = read_state(store_path, name)
    state.update(phase=phase, pid=os.getpid() if phase else None)
    write_state(store_path, name, state)


def finished(store_path: str, name: str, error: str | None) -> None:
    """Note a background push's end, and when the next may start."""
    state = read_state(store_path, name)
    now = time.time()
    if error is None:
        state.update(last_ok=now, last_error=None, failures=0, next_try=now + INTERVAL_S)
    else:
        failures = int(state.get("failures", 0)) + 1
        backoff = min(INTERVAL_S * 2 ** (failures - 1), MAX_BACKOFF_S)
        state.update(last_error=error, last_failed=now, failures=failures, next_try=now + backoff)
    write_state(store_path, name, state)
