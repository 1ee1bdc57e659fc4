"""One daemon per user and store: its lock, its pid, starting it detached, stopping it.

The daemon holds an exclusive ``flock`` on ``<store>/watch/daemon.lock`` for its whole life
and writes its pid into that file. The kernel drops the lock when the process dies, however
it dies (SIGKILL included), so a stale pid never blocks a restart: :func:`running` trusts the
lock, never the pid. Standard library only: hooks import this module.

Under the pid the daemon writes what code it runs (:func:`code_line`): the formats it writes
and a stamp of its installed files. After an upgrade in place a running daemon kept the code
it had loaded: across an index schema bump every watch snapshot failed, silently (RED38 C1).
Now the daemon restarts itself when its files change (watch/daemon.py), and a daemon an older
git-snapshot started (no code line, or older formats) is replaced by the next hook, install or
``watch`` (:func:`start`); until then no hook trusts its dirty set (:func:`serving`).
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
# the pid of an older daemon that the daemon being started stops first (start(): internal)
ENV_REPLACE = "GIT_SNAPSHOT_WATCH_REPLACE"
CODE = "code"  # the first word of the lock file's second line (code_line)
# why the last daemon could not run at all (no inotify instance left: RED39 E3), one line;
# written by it instead of taking the lock, removed by the next one that runs
CANNOT_RUN = "cannot-run"
INOTIFY_SYSCTL = "/proc/sys/fs/inotify/"


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
    got = _read_lock(store_path)
    return None if got is None else got[0]


def _read_lock(store_path: str) -> tuple[int, bytes] | None:
    """The live daemon's pid and what it wrote under it (its code line, b"" for a daemon of
    a git-snapshot from before RED38 C1), or None when none runs; (-1, b"") while the daemon
    has not written them yet."""
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
                    head, _, rest = os.pread(fd, 1024, 0).partition(b"\n")
                    return int(head.split()[0]), rest.partition(b"\n")[0]
                time.sleep(0.005)
            return -1, b""
        return None  # nobody holds it (our shared lock goes with the close below)
    finally:
        os.close(fd)


def serving(store_path: str, replace: bool = False) -> int | None:
    """running(), unless the daemon runs an older git-snapshot than this process (older()):
    its dirty set is not to be trusted (a snapshot walks everything, as without a watcher),
    and with *replace* (a snapshot about to walk: a hook, a manual one, the first command
    after the upgrade) it is replaced now (start(); unless GIT_SNAPSHOT_WATCH is off)."""
    got = _read_lock(store_path)
    if got is None or got[0] <= 0 or not older(got[1]):
        return None if got is None else got[0]
    if replace and not autostart_disabled():
        start(store_path)
    return None


def formats() -> tuple[int, int]:
    """What this code writes that an older daemon would miss or refuse: the index schema
    and the dirty set's (modules a hook has loaded by the time it asks)."""
    from git_snapshot.store.index import SCHEMA_VERSION as INDEX
    from git_snapshot.watch.dirtyset import SCHEMA_VERSION as DIRTY

    return INDEX, DIRTY


def code_line(stamp: str) -> str:
    """The lock file's second line: ``code INDEX DIRTY STAMP VERSION`` (*stamp*: code_stamp())."""
    from git_snapshot import __version__

    index, dirty = formats()
    return f"{CODE} {index} {dirty} {stamp} {__version__}"


def older(line: bytes) -> bool:
    """Whether the daemon whose code line is *line* runs an older git-snapshot than this
    process: it wrote none (a version from before the line), or formats below ours and
    none above (a newer daemon is never replaced by an older hook, so two versions sharing
    a store never take turns restarting it)."""
    words = line.split()
    if not words or words[0] != CODE.encode():
        return True
    try:
        theirs = (int(words[1]), int(words[2]))
    except (IndexError, ValueError):
        return True
    ours = formats()
    return theirs != ours and all(t <= o for t, o in zip(theirs, ours))


def daemon_code(store_path: str) -> tuple[int, str] | None:
    """The running daemon's pid and its code line as text ("" from a version before it);
    None when none runs. For doctor and watch status."""
    got = _read_lock(store_path)
    return None if got is None else (got[0], got[1].decode("utf-8", "replace"))


def code_dir() -> str:
    """The folder of the git_snapshot package this process runs."""
    import git_snapshot

    return os.path.dirname(os.path.abspath(git_snapshot.__file__))


def code_stamp(top: str) -> str:
    """A stamp of the code installed at *top* (a package folder): the name, inode, mtime and
    size of each of its source, extension and shim files, so any reinstall (new files), an
    upgrade or an edit changes it; "gone" when the folder is. ~0.5 ms for the ~140 files:
    the daemon takes it, never a hook."""
    import zlib

    found: list[str] = []
    stack = [top]
    try:
        while stack:
            folder = stack.pop()
            with os.scandir(folder) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        if e.name != "__pycache__":  # (Python writes there: no new code)
                            stack.append(e.path)
                    elif e.name.endswith((".py", ".so", ".sh")):
                        st = e.stat(follow_symlinks=False)
                        found.append(f"{e.path} {st.st_ino} {st.st_mtime_ns} {st.st_size}")
    except OSError:
        return "gone"
    found.sort()
    return f"{zlib.crc32(chr(10).join(found).encode('utf-8', 'surrogateescape')):08x}"


@contextlib.contextmanager
def hold(store_path: str, wait_s: float = 2.0, code: str | None = None) -> Iterator[bool]:
    """Take the daemon lock (exclusive) and write our pid into it, and *code* under it (by
    default this process's code_line()), in one write; yields whether we got it. Tries for
    *wait_s*: a hook checking :func:`running` holds it shared for a moment."""
    if code is None:
        code = code_line(code_stamp(code_dir()))
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
        line = f"{os.getpid()}\n" + (f"{code}\n" if code else "")
        os.pwrite(fd, line.encode("utf-8", "surrogateescape"), 0)
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
        ENV_REPLACE,
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
    another one got the lock first. One that runs an older git-snapshot (older(): it failed
    every snapshot of a store this one migrated, RED38 C1) is replaced: the new daemon stops
    it (its clean stop records what it saw) and takes its place."""
    got = _read_lock(store_path)
    replace = None
    if got is not None:
        if got[0] <= 0 or not older(got[1]):
            return got[0]
        replace = got[0]
    log = os.path.join(ensure_state_dir(store_path), LOG)
    with contextlib.suppress(OSError):
        if os.path.getsize(log) > LOG_MAX:  # one old log is kept
            os.replace(log, log + ".1")
    argv = [sys.executable, "-m", "git_snapshot", "watch", "--foreground"]
    env = {**daemon_env(), "GIT_SNAPSHOT_STORE": store_path}
    if replace is not None:
        env[ENV_REPLACE] = str(replace)
    try:
        # posix_spawn: no copy of this process (cheap in a hook), no Popen object to reap
        return os.posix_spawn(
            sys.executable,
            argv,
            env,
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


def said_cannot_run(store_path: str, why: str | None) -> None:
    """The daemon could not run, for *why* (one line), or (None) runs now."""
    path = os.path.join(ensure_state_dir(store_path), CANNOT_RUN)
    with contextlib.suppress(OSError):
        if why is None:
            os.unlink(path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(why + "\n")


def cannot_run(store_path: str) -> str | None:
    """Why the last daemon started could not run (for status, doctor, watch, install), or
    None: it ran, or none was started since."""
    try:
        with open(os.path.join(state_dir(store_path), CANNOT_RUN), encoding="utf-8") as f:
            return f.read().strip() or None
    except (OSError, ValueError):
        return None


def await_start(store_path: str, wait_s: float) -> int | str | None:
    """After start(): the pid of the daemon that serves, or why it cannot run (the line it
    wrote), or None when neither came within *wait_s*."""
    deadline = time.monotonic() + wait_s
    while True:
        pid = serving(store_path)
        if pid is not None:
            return pid
        why = cannot_run(store_path)
        if why is not None:
            return why
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def inotify_limit(name: str) -> int | None:
    """The kernel's fs.inotify.*name* (max_user_watches, max_user_instances), the lower of
    it and this user namespace's user.max_inotify_* (a container's), None if unreadable."""
    got = []
    for path in (INOTIFY_SYSCTL + name, "/proc/sys/user/max_inotify_" + name.rpartition("_")[2]):
        with contextlib.suppress(OSError, ValueError), open(path, encoding="ascii") as f:
            got.append(int(f.read().strip()))
    return min(got) if got else None


def autostart_disabled() -> bool:
    return os.environ.get(ENV_AUTOSTART, "") in ("0", "false", "no", "off")
