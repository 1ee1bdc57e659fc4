"""``git-snapshot hook NAME [ARG...]`` without the command line around it.

Every git checkout, merge and rebase runs a hook, so this is the one command whose fixed cost
people feel. The ``git-snapshot`` executable starts here (:func:`main`), so a hook imports
neither argparse nor the command line module: a hook takes exactly a name and git's
arguments, so there is nothing to parse. ``hook -h`` (or anything that does not look like a
hook call) goes to :func:`git_snapshot.cli.main`, as every other command does.
"""

from __future__ import annotations

import gc
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Sequence


def is_hook_call(argv: Sequence[str]) -> bool:
    """``hook NAME ...`` as the shims and pre-commit write it (no global option before it)."""
    return len(argv) >= 2 and argv[0] == "hook" and not argv[1].startswith("-")


# The command line's global options, before the command: -C takes a value (-C PATH or
# -CPATH), these take none
GLOBAL_FLAGS = frozenset(("-P", "--no-pager", "--no-color", "--color"))
COLORS = ("auto", "always", "never")  # --color=WHEN


def past_globals(argv: Sequence[str], any_color: bool = False) -> tuple[int, list[int]]:
    """Where the global options at the head of *argv* end (past the end when a last -C has no
    value), and where among them a bare ``--color`` is. ``--color=WHEN`` is one for the WHENs
    git knows, or for any with *any_color* (argparse then says what is wrong with it). One
    scan for both readers: :func:`is_version_call` and the command line's parse."""
    i = 0
    bare = []
    while i < len(argv):
        word = argv[i]
        if word == "-C":
            i += 2
            continue
        if word == "--color":
            bare.append(i)
        elif not (
            word.startswith("-C")
            or word in GLOBAL_FLAGS
            or (word.startswith("--color=") and (any_color or word[8:] in COLORS))
        ):
            break
        i += 1
    return i, bare


def is_version_call(argv: Sequence[str]) -> bool:
    """``--version`` where the command goes, after valid global options only (as argparse
    reads them, it prints the version there and exits 0; anything else is left to it)."""
    i, _ = past_globals(argv)
    return i < len(argv) and argv[i] == "--version"


def main() -> int:
    """The ``git-snapshot`` executable."""
    argv = sys.argv[1:]
    if is_hook_call(argv):
        return leave(run(argv[1:]))
    if is_version_call(argv):  # without argparse and every command's parser
        from git_snapshot import __version__

        print(f"git-snapshot {__version__}")
        return 0
    try:  # Ctrl-C while the command line loads or parses, before cli.main's own handler
        from git_snapshot.cli import main as cli_main

        return cli_main(argv)
    except KeyboardInterrupt:
        print("git-snapshot: interrupted", file=sys.stderr)
        return 130


def leave(status: int) -> int:
    """End the hook's process now with *status*, when nothing is left for Python's exit to do.

    Python's exit would tear every module down and free every object one by one: 4 M
    instructions of an unchanged hook (callgrind; 6 % of a watched one), for a process that
    ends anyway. It is skipped when the exit could matter: a thread still runs (the exit
    waits for it), an atexit function is registered (tempfile's cleanup, a library's), or
    stdout or stderr cannot be flushed. The store's files are closed by then (Store's
    ``with``); a SQLite handle left open (the dirty set's) is one the exit does not close
    either. Returns *status* when it does not end the process."""
    import _thread
    import atexit

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # a closed pipe, a full disk: the ordinary exit says what it says
        return status
    if _thread._count() or atexit._ncallbacks():
        return status
    os._exit(status)


def run(argv: Sequence[str], cwd: str = ".") -> int:
    """``hook NAME ARGS...`` (*argv* without ``hook``): the hook's exit status."""
    # Imports make thousands of objects that live as long as the process (functions, classes,
    # module dicts); at Python's default gen-0 threshold (700) the cyclic collector walks them
    # again and again for nothing: 2.5 M instructions of an unchanged hook (callgrind). A
    # collection every 20,000 allocations keeps the garbage a hook can make bounded all the same.
    gc.set_threshold(20_000, 10, 10)
    try:
        from git_snapshot import hooks  # allows deep trees itself, once git's calls are started

        status = hooks.run_hook(argv[0], list(argv[1:]), cwd=cwd)
        # The process ends right after this: Python's exit runs the cyclic collector over
        # everything still alive (the files cache of a 60k-file tree: 30-60 ms) although it
        # holds no cycle worth collecting. Frozen objects are left out of that last pass.
        gc.freeze()
        return status
    except KeyboardInterrupt:
        print("git-snapshot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # run_hook catches its own: only an import can fail here
        print(f"git-snapshot: internal error: {exc!r}; please report it", file=sys.stderr)
        return 1
