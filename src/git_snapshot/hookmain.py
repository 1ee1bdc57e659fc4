"""``git-snapshot hook NAME [ARG...]`` without the command line around it.

Every git checkout, merge and rebase runs a hook, so this is the one command whose fixed cost
people feel. The ``git-snapshot`` executable starts here (:func:`main`), so a hook imports
neither argparse nor the command line module: a hook takes exactly a name and git's
arguments, so there is nothing to parse. ``hook -h`` (or anything that does not look like a
hook call) goes to :func:`git_snapshot.cli.main`, as every other command does.
"""

from __future__ import annotations

import gc
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Sequence


def is_hook_call(argv: Sequence[str]) -> bool:
    """``hook NAME ...`` as the shims and pre-commit write it (no global option before it)."""
    return len(argv) >= 2 and argv[0] == "hook" and not argv[1].startswith("-")


def main() -> int:
    """The ``git-snapshot`` executable."""
    argv = sys.argv[1:]
    if is_hook_call(argv):
        return run(argv[1:])
    from git_snapshot.cli import main as cli_main

    return cli_main(argv)


def run(argv: Sequence[str], cwd: str = ".") -> int:
    """``hook NAME ARGS...`` (*argv* without ``hook``): the hook's exit status."""
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
