"""A first walk's small files read and hashed in C a batch at a time (``_readmany``, built
when the package is installed with a compiler and OpenSSL's headers), or None: then the walk
reads each file in Python as before (``reading._read_listed``), with the same results.
``GIT_SNAPSHOT_PURE_PYTHON=1`` turns it off, as it does ``_ctree`` (store/ctree.py). Imported
by the first folder a walk builds again: an unchanged walk reads nothing."""

from __future__ import annotations

import os

from git_snapshot.store.ctree import PURE_ENV

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# read()'s and store()'s arguments and results: the C module is used only when it was built
# for these (_readmany.INTERFACE, bumped with them); else the Python reads run (doctor says so)
INTERFACE = 2  # 2: store


def _choose() -> tuple[Callable[..., Any], Callable[..., Any]] | tuple[None, None]:
    if os.environ.get(PURE_ENV) == "1":
        return None, None
    try:
        from git_snapshot.store import _readmany
    except ImportError:
        return None, None
    if getattr(_readmany, "INTERFACE", 0) != INTERFACE:
        return None, None
    return _readmany.read, _readmany.store


# None: the Python reads. store: a folder's files read as listed, each given to the writer and
# answered with its tree entry (readmany_py.store, its specification; _Walker._built)
read, store = _choose()
NATIVE = read is not None
