"""What every entry point (the command line, the Python API) does around its work: allow
deep trees, and turn the failures a user's files or store can cause into one-line UserErrors."""

from __future__ import annotations

import os
import sys

from git_snapshot.ctx import contextmanager
from git_snapshot.errors import UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import sqlite3
else:  # the C module alone (sqlite3's package imports datetime), see git_snapshot/sqlite.py
    from git_snapshot import sqlite as sqlite3
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# Trees are walked recursively (snapshot, show, restore, verify, export, diff), up to five
# Python frames per directory level (a snapshot's changed folder: tree, _built, ctree.build,
# other, _dir_entry; four with the C module, as build is C's; three before it), so Python's
# default limit of 1000 stops at ~200 levels. A worktree can be as deep as PATH_MAX (4096
# bytes) allows: ~2000 one-letter levels. 12000 frames cover that (8000 stopped a snapshot at
# ~1580 levels with the twin, ~1990 with C) while keeping the C stack (generators use it: a
# chain of 25,000 overflows 8 MiB; each level's C -> Python call too) far from its end: 2030
# levels walked with a stack of 2 MiB, C and twin (tests/test_red18_deep.py: PATH_MAX's depth).
RECURSION_LIMIT = 12000
FRAMES_PER_LEVEL = 5


def allow_deep_trees() -> None:
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


def _index_path(store: Path | None) -> str:
    """The index file of the store in use (*store*, else the environment's), for a message."""
    try:
        from git_snapshot.store import location

        return os.path.join(location.store_dir(store), "index.sqlite")
    except Exception:  # the message must not fail
        return "the store's index.sqlite"


def sqlite_message(exc: sqlite3.Error, store: Path | None = None) -> str:
    if "readonly database" in str(exc):  # the user's store made read-only (chmod -R a-w)
        from git_snapshot.store.core import shell_word

        where = shell_word(os.path.dirname(_index_path(store)))
        return (
            f"cannot write to the snapshot index {_index_path(store)} ({exc}): make the "
            f"store writable again with: chmod -R u+rwX {where}"
        )
    return (
        f"the snapshot index {_index_path(store)} cannot be used ({exc}); "
        "rebuild it from the packs with: git snapshot repair"
    )


DEEP_MESSAGE = (
    f"a tree deeper than this tool can walk ({RECURSION_LIMIT // FRAMES_PER_LEVEL} levels or so); "
    "snapshot a shallower folder, or leave the deep one out with git config snapshot.exclude"
)


@contextmanager
def entry(store: Path | None = None) -> Iterator[None]:
    """Run one entry point's work: deep trees allowed, user-caused failures as UserError.

    *store*: the store directory the work uses, when not the environment's (the API's).
    """
    allow_deep_trees()
    try:
        yield
    except sqlite3.Error as exc:
        raise UserError(sqlite_message(exc, store)) from exc
    except RecursionError as exc:
        raise UserError(DEEP_MESSAGE) from exc
