"""One daemon per user and store: its lock, its pid, starting it detached, stopping it.

The daemon holds an exclusive ``flock`` on ``<store>/watch/daemon.lock`` for its whole life
and writes its pid into that file. The kernel drops the lock when the process dies, however
it dies (SIGKILL included), so a stale pid never blocks a restart: :func:`running` trusts the
lock, never the pid. Standard library only: hooks import this module.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time

from git_snapshot import ctx as contextlib  # its two tools, without its imports

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Iterator

WATCH_DIR = "watch"
LOCK = "daemon.lock"
LOG = "daemon.log"
STATUS = "status.json"
LOG_MAX = 1 << 20
# Set to 0 to keep hooks and install from starting the daemon (the test suite does).
ENV_AUTOSTART = "GIT_SNAPSHOT_WATCH"


def state_dir(store_path: str) -> str:
    """``<store>/watch``: the lock, the registry, the status and the log (0700, like the
    store). Inside the store, so the daemon's own writes are never watched."""
    return os.path.join(store_path, WATCH_DIR)


def ensure_state_dir(store_path: str) -> str:
    path = state_dir(store_path)
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _lock_path(store_path: str) -> str:
    return os.path.join(state_dir(store_path), LOCK)


def running(store_path: str) -> int | None:
    """The pid of the live daemon of this store, or None when none runs (a pid file left by a
    killed daemon does not count). -1: one holds the lock but has not written its pid yet."""
    try:
        fd = os.open(_lock_path(store_path), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            for _ in range(100):  # the daemon writes its pid right after taking the lock
                with contextlib.suppress(ValueError, IndexError, OSError):
                    return int(os.pread(fd, 32, 0).split()[0])
                time.sleep(0.005)
            return -1
        return None  # nobody holds it (our shared lock goes with the close below)
    finally:
        os.close(fd)


@contextlib.contextmanager
def hold(store_path: str, wait_s: float = 2.0) -> Iterator[bool]:
    """Take the daemon lock (exclusive) and write our pid into it; yields whether we got it.
    Tries for *wait_s*: a hook checking :func:`running` holds it shared for a moment."""
    ensure_state_dir(store_path)
    fd = os.open(
        _lock_path(store_path), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
    )
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    yield False
                    return
                time.sleep(0.02)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield True
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def daemon_env() -> dict[str, str]:
    """The environment for the daemon: ours without what points git at one repository (a
    hook runs with GIT_DIR, GIT_INDEX_FILE, GIT_PREFIX...) and without GIT_SNAPSHOT_SKIP."""
    from git_snapshot.gitrepo import REPO_ENV_VARS  # loaded already wherever hooks run

    drop = {
        *REPO_ENV_VARS,
        "GIT_REFLOG_ACTION",
        "GIT_SNAPSHOT_SKIP",
        "GIT_SNAPSHOT_RUN",
        "GIT_EXEC_PATH",
        "GIT_QUARANTINE_PATH",
    }
    return {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith(("PRE_COMMIT", "_PRE_COMMIT"))
    }


def start(store_path: str) -> int | None:
    """Start the daemon detached (its own session, no tie to our stdin/stdout/stderr, so a
    git command or pre-commit never waits for it) unless one runs; returns the pid of the
    one that runs or was started, None if starting failed. The new daemon exits quietly if
    another one got the lock first."""
    pid = running(store_path)
    if pid is not None:
        return pid
    log = os.path.join(ensure_state_dir(store_path), LOG)
    with contextlib.suppress(OSError):
        if os.path.getsize(log) > LOG_MAX:  # one old log is kept
            os.replace(log, log + ".1")
    argv = [sys.executable, "-m", "git_snapshot", "watch", "--foreground"]
    try:
        # posix_spawn: no copy of this process (cheap in a hook), no Popen object to reap
        return os.posix_spawn(
            sys.executable,
            argv,
            {**daemon_env(), "GIT_SNAPSHOT_STORE": store_path},
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
            setsid=True,
        )
    except OSError:
        return None


def stop(store_path: str, wait_s: float = 10.0) -> int | None:
    """Ask the running daemon to stop (SIGTERM) and wait until its lock is free; returns its
    pid, or None if none was running."""
    pid = running(store_path)
    if pid is None:
        return None
    if pid > 0:
        import signal  # not on the hook path

        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while running(store_path) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    return pid


def autostart_disabled() -> bool:
    return os.environ.get(ENV_AUTOSTART, "") in ("0", "false", "no", "off")
