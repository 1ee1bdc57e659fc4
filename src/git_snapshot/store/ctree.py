"""The changed folder's tree and record builder the walk uses (walker._Walker.tree): ``_ctree``
(C, built when the package is installed with a compiler) when it imports, else its
pure-Python twin ``ctree_py``; ``GIT_SNAPSHOT_PURE_PYTHON=1`` forces the twin (the tests run
both). Imported by the first folder a walk builds again: an unchanged walk builds none."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


# build()'s arguments and results: the C module is used only when it was built for these
# (_ctree.INTERFACE, bumped with them): one built from an older _ctree.c (an editable install
# not rebuilt after a pull) would fail every snapshot; then the twin runs (doctor says so)
INTERFACE = 4  # 3: inherit (a label given to every entry below a folder without a call); 4: fill
PURE_ENV = "GIT_SNAPSHOT_PURE_PYTHON"  # "1": the twin, whatever is built (doctor says so)


def _choose() -> tuple[Callable[..., Any], Callable[..., Any] | None, bool]:
    if os.environ.get(PURE_ENV) != "1":
        try:
            from git_snapshot.store import _ctree
        except ImportError:
            pass
        else:
            if getattr(_ctree, "INTERFACE", 0) == INTERFACE:
                return _ctree.build, _ctree.fill, True
    from git_snapshot.store import ctree_py

    return ctree_py.build, None, False


# NATIVE: whether build is the C one. fill: the files cache's whole write in C
# (filescache.Writer.chunk; None: its marshal pieces, the twin, in Python)
build, fill, NATIVE = _choose()
