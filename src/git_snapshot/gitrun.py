"""Running git: the one place that starts a git process.

:func:`run_git` runs the ``git`` binary with ``-C <dir>`` and an environment cleaned of the
variables git sets for hooks (``GIT_DIR``, ``GIT_INDEX_FILE``, ...), so that a call made from
inside a hook answers about the repository at ``<dir>`` and nothing else; :class:`Pending`
starts one in the background (a hook's config and ``ls-files`` run side by side while Python
imports the store). What to ask git and how to read its answers is :mod:`git_snapshot.gitrepo`.

Every hook imports this module, so it imports only what costs nothing: git runs through
``os.posix_spawnp`` and pipes read with ``select.poll`` (:func:`_spawn`, :func:`_collect`), not
``subprocess`` (which brings signal, threading and selectors).
"""

from __future__ import annotations

import fcntl
import os
import select

from git_snapshot.errors import UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    import signal as _signal  # the same numbers; signal itself imports enum
    from collections.abc import Mapping
    from collections.abc import Sequence
    from typing import Any
else:
    import _signal


# Variables that redirect git away from the repository named by ``-C``. Git exports some of
# them to hooks (GIT_INDEX_FILE=.git/index, relative, in pre-merge-commit; GIT_DIR and
# GIT_WORK_TREE=. in hooks fired by `worktree add` and `clone`).
REPO_ENV_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    # Pathspec interpretation is chosen per call, never inherited.
    "GIT_LITERAL_PATHSPECS",
    "GIT_GLOB_PATHSPECS",
    "GIT_NOGLOB_PATHSPECS",
    "GIT_ICASE_PATHSPECS",
)


class GitError(UserError):
    """A git command failed. The message names the command and git's first line of stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: bytes) -> None:
        self.git_args = tuple(args)
        self.returncode = returncode
        self.stderr = stderr
        first = first_line(stderr) or "no error message"
        super().__init__(f"git {' '.join(args)} failed (exit {returncode}): {first}")


def first_line(data: bytes) -> str:
    for line in data.decode("utf-8", "replace").splitlines():
        if line.strip():
            return line.strip()
    return ""


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ without the variables that point git at another repository or index."""
    env = {k: v for k, v in os.environ.items() if k not in REPO_ENV_VARS}
    # Read-only commands must not take index.lock to refresh stat info: we often run inside a
    # hook while the user's git command is in progress.
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_TERMINAL_PROMPT"] = "0"
    if extra:
        env.update(extra)
    return env


_REPO_ENV_BYTES = frozenset(k.encode() for k in REPO_ENV_VARS)


def _spawn_env() -> Mapping[bytes, bytes] | dict[str, str]:
    """:func:`git_env` as posix_spawn takes it, from os.environ's own bytes: no key or value
    decoded and encoded again (os.environ decodes each one in Python: 0.4 M instructions per
    git process, three in a hook)."""
    data = getattr(os.environ, "_data", None)  # CPython's, on POSIX: bytes -> bytes
    if os.name != "posix" or not isinstance(data, dict):
        return git_env()
    env = {k: v for k, v in data.items() if k not in _REPO_ENV_BYTES}
    env[b"GIT_OPTIONAL_LOCKS"] = b"0"
    env[b"GIT_TERMINAL_PROMPT"] = b"0"
    return env


class Done:
    """A finished git process: its arguments, exit status, stdout and stderr."""

    __slots__ = ("args", "returncode", "stderr", "stdout")

    def __init__(self, args: Sequence[str], returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.args = tuple(args)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


# reset to their defaults in git, as subprocess does (Python ignores SIGPIPE and SIGXFSZ)
_SIGDEF = tuple(
    getattr(_signal, n) for n in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(_signal, n)
)
NOT_FOUND = "git was not found on PATH (install git or fix PATH)"


def _high(fd: int) -> int:
    """*fd*, moved above 2 if it is one of the standard descriptors (closed in this process):
    a dup2 onto itself would keep its close-on-exec flag and git would lose that stream."""
    if fd > 2:
        return fd
    try:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    finally:
        os.close(fd)


class _Proc:
    """A git process started by :func:`_spawn`: its pid and our ends of its pipes."""

    __slots__ = ("args", "err", "feed", "out", "pid")

    def __init__(self, args: Sequence[str], pid: int, out: int, err: int, feed: int | None):
        self.args = tuple(args)
        self.pid = pid
        self.out = out
        self.err = err
        self.feed = feed  # its stdin, when it is given input


def _spawn(
    cwd: str, args: Sequence[str], env: dict[str, str] | None = None, stdin: bool = False
) -> _Proc:
    """Start ``git -C cwd ARGS`` with stdout and stderr on pipes, stdin from /dev/null (or a
    pipe: *stdin*). Our pipe ends are close-on-exec (os.pipe), so git inherits only its own."""
    out_r, out_w = (_high(fd) for fd in os.pipe())
    err_r, err_w = (_high(fd) for fd in os.pipe())
    in_r = in_w = -1
    actions: list[tuple[Any, ...]] = []
    if stdin:
        in_r, in_w = (_high(fd) for fd in os.pipe())
        actions.append((os.POSIX_SPAWN_DUP2, in_r, 0))
    else:
        actions.append((os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0))
    actions += [(os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)]
    argv = ["git", "-C", cwd, *args]
    try:
        pid = os.posix_spawnp(
            "git",
            argv,
            env if env is not None else _spawn_env(),
            file_actions=actions,
            setsigdef=_SIGDEF,
        )
    except OSError:
        for fd in (out_r, err_r, in_w):
            if fd >= 0:
                os.close(fd)
        raise
    finally:
        for fd in (out_w, err_w, in_r):
            if fd >= 0:
                os.close(fd)
    return _Proc(args, pid, out_r, err_r, in_w if stdin else None)


def _collect(proc: _Proc, data: bytes = b"") -> Done:
    """Feed *data* to its stdin (if it has a pipe there), read stdout and stderr to their end
    (side by side: neither can fill up and stall git), then reap it."""
    bufs: dict[int, list[bytes]] = {proc.out: [], proc.err: []}
    poller = select.poll()
    for fd in bufs:
        poller.register(fd, select.POLLIN)
    left = memoryview(data)
    feed = proc.feed
    if feed is not None:
        if left:
            os.set_blocking(feed, False)
            poller.register(feed, select.POLLOUT)
        else:
            os.close(feed)
            feed = None
    reading = len(bufs)
    try:
        while reading or feed is not None:
            for fd, _ in poller.poll():
                if fd == feed:
                    try:
                        left = left[os.write(feed, left[: 1 << 16]) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:  # git stopped reading: its status says why
                        left = left[:0]
                    if not left:
                        poller.unregister(feed)
                        os.close(feed)
                        feed = None
                    continue
                chunk = os.read(fd, 1 << 20)
                if chunk:
                    bufs[fd].append(chunk)
                else:
                    poller.unregister(fd)
                    reading -= 1
    finally:
        for end in (proc.out, proc.err, feed):
            if end is not None:
                os.close(end)
        _, status = os.waitpid(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return Done(proc.args, code, b"".join(bufs[proc.out]), b"".join(bufs[proc.err]))


def _run(
    cwd: str,
    args: Sequence[str],
    *,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
) -> Done:
    try:
        proc = _spawn(cwd, args, env, stdin=input is not None)
    except FileNotFoundError:
        raise UserError(NOT_FOUND) from None
    return _collect(proc, input or b"")


def run_git(cwd: str, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    """Run ``git -C cwd ARGS`` with a clean environment and return its stdout.

    With ``check`` (the default) a non-zero exit raises :class:`GitError`.
    """
    res = _run(cwd, args, input=input)
    if check and res.returncode != 0:
        raise GitError(args, res.returncode, res.stderr)
    return res.stdout


class Pending:
    """A git command started in the background; :meth:`result` waits for its stdout."""

    def __init__(self, cwd: str, args: Sequence[str]) -> None:
        self.args = tuple(args)
        self.done: Done | None = None
        try:
            self.proc: _Proc | None = _spawn(cwd, args)
        except OSError:
            self.proc = None  # said by result(), as run_git would say it

    def completed(self) -> Done:
        if self.done is None:
            if self.proc is None:
                raise UserError(NOT_FOUND)
            self.done = _collect(self.proc)
        return self.done

    def close(self) -> None:
        """Not needed after all: stop it, reap it, close its pipes."""
        if self.proc is not None and self.done is None:
            os.kill(self.proc.pid, _signal.SIGKILL)  # not reaped yet: the pid is still its
            self.done = _collect(self.proc)

    def result(self) -> bytes:
        res = self.completed()
        if res.returncode != 0:
            raise GitError(self.args, res.returncode, res.stderr)
        return res.stdout
