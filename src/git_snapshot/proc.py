"""The processes above this one, from /proc (Linux): who ran us, and since when.

Used to find the git command the user typed (``git switch``, not the hook's ``checkout``),
when it started (what it wrote after that is its work), and pre-commit's own process.
Everything here degrades to "unknown" where /proc is missing.
"""

from __future__ import annotations

import os
import time

from git_snapshot.ctx import record
from git_snapshot.store.pids import alive as alive  # (its home: the core uses it too)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)

MAX_DEPTH = 32


if TYPE_CHECKING:
    from typing import NamedTuple

    class _Process(NamedTuple):
        pid: int
        started: float  # Unix time; 0.0 when unknown
        argv: tuple[str, ...]  # empty when unknown

else:  # no typing import at run time (the hook path)
    _Process = record("Process", "pid started argv")


class Process(_Process):
    __slots__ = ()


def _boot_time() -> float | None:
    """When the system booted, on today's wall clock: now less the time since boot. (Not
    /proc/stat's btime: whole seconds, truncated, and fixed at boot, so a process's start
    time came out up to a second early, and off by any step of the clock since boot. Early,
    a file the user wrote just before the git command counted as written by it: a false
    loss report of a file the user had just committed.)"""
    try:
        return time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
    except (AttributeError, OSError):  # not Linux
        return None


def _stat(pid: int) -> tuple[int, float, bytes] | None:
    """(parent pid, start time as a Unix timestamp, 0.0 if unknown, state: b"Z" for a
    zombie) of *pid*, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        fields = data[data.rindex(b")") + 2 :].split()
        ppid = int(fields[1])
        ticks = int(fields[19])
    except (OSError, ValueError, IndexError):
        return None
    btime = _boot_time()
    return ppid, (0.0 if btime is None else btime + ticks / os.sysconf("SC_CLK_TCK")), fields[0]


def running_since(pid: int) -> float | None:
    """When process *pid* started (as :func:`ancestors` gives it: a pid reused since names a
    later start), or None when it does not run: no such process, one that has ended and is
    not reaped yet (a zombie: its parent, an IDE say, has not waited for it), or no /proc."""
    info = _stat(pid)
    if info is None or info[2] in (b"Z", b"X") or not info[1]:
        return None
    return info[1]


def _argv(pid: int) -> tuple[str, ...]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return ()
    return tuple(os.fsdecode(a) for a in raw.split(b"\0")[:-1])


def ancestors() -> tuple[list[Process], bool]:
    """Our parent, its parent, ... up to init, and whether the chain is complete (False: /proc
    could not be read, and only the parent's pid is known)."""
    ppid = os.getppid()
    chain: list[Process] = []
    pid = ppid
    for _ in range(MAX_DEPTH):
        if pid <= 1:
            return chain or [Process(ppid, 0.0, ())], True
        info = _stat(pid)
        if info is None:
            return chain or [Process(ppid, 0.0, ())], False
        chain.append(Process(pid, info[1], _argv(pid)))
        pid = info[0]
    return chain, True


# git's global options that take the next word as their value
GIT_VALUE_OPTIONS = frozenset(
    {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--super-prefix", "--config-env"}
)


def git_subcommand(argv: tuple[str, ...]) -> str | None:
    """'switch' for ``git -C x switch main``; None when *argv* is not a git command."""
    if not argv or os.path.basename(argv[0]) != "git":
        return None
    at = command_index(argv)
    return argv[at] if at < len(argv) else None


# git commands the hooks read the words of: a git command is never an alias (git runs its own
# command of that name), so these are never looked up
_COMMAND_WORDS = (
    "add am apply bisect checkout checkout-index cherry-pick clean clone commit fetch merge mv"
    " pull read-tree rebase reset restore revert rm sparse-checkout stash status submodule"
    " switch worktree"
)
_COMMANDS = frozenset(_COMMAND_WORDS.split())
ALIAS_DEPTH = 8  # git's own limit is a loop; an alias this deep is taken as unknown


def expanded(argv: tuple[str, ...]) -> tuple[str, ...]:
    """*argv* with an alias of git's expanded, as git expands it before it runs the command:
    ``git co -- g`` is ``git checkout -- g`` under ``alias.co = checkout`` (its value split as
    a shell splits words; an alias of an alias too). *argv* itself when its command is git's
    own (git never runs an alias of that name), a ``!`` alias (a shell runs it: unknown), an
    alias that loops, or no alias. Asks git (one ``git config`` call) only for a word that is
    none of the commands the hooks read."""
    sub = git_subcommand(argv)
    if sub is None or sub in _COMMANDS:
        return argv
    key = (os.getcwd(), argv)  # (a hook asks for its git command more than once)
    if key not in _EXPANDED:
        _EXPANDED[key] = _expanded(key[0], argv, sub)
    return _EXPANDED[key]


_EXPANDED: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}


def _expanded(cwd: str, argv: tuple[str, ...], sub: str) -> tuple[str, ...]:
    """:func:`expanded` of *argv* run in *cwd*, whose command word *sub* may be an alias."""
    out, seen = argv, set[str]()
    while sub not in seen and len(seen) < ALIAS_DEPTH:
        seen.add(sub)
        words = _alias(cwd, sub)
        if words is None:
            return out  # (argv itself when its first word is no alias)
        at = command_index(out)
        out = (*out[:at], *words, *out[at + 1 :])
        word = git_subcommand(out)
        if word is None or word in _COMMANDS:
            return out
        sub = word
    return argv  # a loop, or too deep: git refuses it


def _alias(cwd: str, word: str) -> list[str] | None:
    """The words git runs for the alias *word*; None for none: no such alias, a ``!`` one (a
    shell runs it), or a git command of that name (git runs the command, not the alias)."""
    from git_snapshot import gitrun

    value = os.fsdecode(gitrun.run_git(cwd, "config", "--get", f"alias.{word}", check=False))
    if not value.strip() or value.startswith("!"):
        return None
    import shlex  # (only for an alias: never on the hook's common path)

    try:
        words = shlex.split(value)
    except ValueError:  # an unmatched quote: git refuses it too
        return None
    return None if _is_command(cwd, word) else words


def _is_command(cwd: str, word: str) -> bool:
    """Whether *word* names a git command (builtin, or a git-WORD program git finds): git runs
    it then, never an alias of that name."""
    from git_snapshot import gitrun

    listed = gitrun.run_git(cwd, "--list-cmds=builtins,main,others", check=False)
    return word in os.fsdecode(listed).split()


def command_index(argv: tuple[str, ...]) -> int:
    """Where git_subcommand found the command word in *argv*."""
    words = iter(enumerate(argv[1:], 1))
    for i, word in words:
        if word in GIT_VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return i
    return len(argv)


def elsewhere(argv: tuple[str, ...]) -> bool:
    """Whether git's global options (``-C``, ``--git-dir``, ``--work-tree``) took the
    command away from the directory it was run in: ``git -C ../other checkout``."""
    words = iter(argv[1:])
    for word in words:
        if word in ("-C", "--git-dir", "--work-tree") or word.startswith(
            ("--git-dir=", "--work-tree=")
        ):
            return True
        if word in GIT_VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return False  # the subcommand: its options (switch -C) are its own
    return False


def user_dir(chain: list[Process]) -> str | None:
    """The directory of the process that ran the user's git command (the user's shell): git
    runs hooks in the worktree root, and `git pull` runs `git merge` there (GIT_PREFIX is
    empty for it); None when unknown."""
    found = False
    for p in chain:
        # git 2.39's `git submodule` is a script that runs from the top (cd_to_toplevel):
        # the user's shell is above it, as user_git_command takes it
        if git_subcommand(p.argv) or (found and _scripted(p.argv) is not None):
            found = True
        elif found:
            return cwd_of(p.pid)
    return None


def cwd_of(pid: int) -> str | None:
    """The working directory of process *pid*; None when /proc does not say."""
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None


def user_git_command(chain: list[Process]) -> Process | None:
    """The git command the user ran: the outermost of the git processes directly above us
    (``git pull`` runs ``git merge``, which runs the hook), an alias expanded (:func:`expanded`:
    a report names ``git checkout`` for ``git co``); None when not run by git."""
    found = None
    for p in chain:
        if git_subcommand(p.argv):
            found = p
        elif found is not None:
            script = _scripted(p.argv)
            if script is None:
                break
            found = Process(p.pid, p.started, script)  # as the user typed it
    return found if found is None else Process(found.pid, found.started, expanded(found.argv))


def _scripted(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """``("git", "bisect", "start")`` for ``sh /usr/lib/git-core/git-bisect start``: a git
    command git runs as a shell script (git 2.39's bisect, which runs ``git bisect--helper``:
    the report named that helper, RED31); None for any other process."""
    if len(argv) < 2 or os.path.basename(argv[0]) not in ("sh", "bash", "dash"):
        return None
    folder, name = os.path.split(argv[1])
    if not name.startswith("git-") or os.path.basename(folder) != "git-core":
        return None
    return ("git", name[4:], *argv[2:])
