"""The lstat of each name of a folder whose names the walk takes from its files-cache record
(walker._Walker._trusted_names: every folder of an unchanged walk), and their packed stats:
``_ctree.lstats`` (C: one call a folder, the lstats made with the GIL let go, ~0.8 us of
Python an entry less) when it is built for this Python's ``os.stat_result``, else ``lstats``
below, its twin and specification. ``GIT_SNAPSHOT_PURE_PYTHON=1`` turns the C off, as it
does the other modules'. Imported by the first trusted folder: not the tree builder
(store/ctree.py), which an unchanged walk never imports."""

from __future__ import annotations

import os

from git_snapshot.store.filescache import pack_stats

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# _ctree's INTERFACE with lstats (store/ctree.py's, which names every change of _ctree.c's)
INTERFACE = 10
PURE_ENV = "GIT_SNAPSHOT_PURE_PYTHON"  # (store/ctree.py's)


def lstats(pre: bytes, names: list[bytes]) -> tuple[bytes, list[os.stat_result]] | None:
    """(STAT's packing of each lstat, each ``os.lstat(pre + name)``), or None when one
    fails (an OSError: gone since, or no folder now). A time out of an int64's range in
    nanoseconds is packed as its bound (filescache.pack_stats)."""
    lstat = os.lstat
    try:
        sts = [lstat(pre + name) for name in names]
    except OSError:
        return None
    return pack_stats(sts), sts


def _same(c: Callable[..., Any]) -> bool:
    """Whether the C gives what the twin gives, every field of every stat (its stat objects
    are made by hand, for the fields this Python's os.stat_result had when it was written),
    for this package's folder and two of its files; an atime may move between the two: tried
    three times."""
    here = os.path.dirname(os.path.abspath(__file__)).encode()
    up, name = os.path.split(here)
    cases = [(up + b"/", [name]), (here + b"/", [b"lstats.py", b"__init__.py"])]
    return any(all(_alike(c(*case), lstats(*case)) for case in cases) for _ in range(3))


def _alike(a: Any, b: Any) -> bool:
    return (
        a is not None
        and b is not None
        and a[0] == b[0]
        and [st.__reduce__() for st in a[1]] == [st.__reduce__() for st in b[1]]
    )


def _choose() -> Callable[[bytes, list[bytes]], tuple[bytes, list[os.stat_result]] | None]:
    if os.environ.get(PURE_ENV) == "1":
        return lstats
    try:
        from git_snapshot.store import _ctree
    except ImportError:
        return lstats
    c = getattr(_ctree, "lstats", None)
    if getattr(_ctree, "INTERFACE", 0) != INTERFACE or c is None:
        return lstats
    try:
        return c if _same(c) else lstats
    except (OSError, NotImplementedError):
        return lstats


best = _choose()
NATIVE = best is not lstats
