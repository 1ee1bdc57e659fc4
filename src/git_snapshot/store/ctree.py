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


def _choose() -> tuple[Callable[..., Any], bool]:
    if os.environ.get("GIT_SNAPSHOT_PURE_PYTHON") != "1":
        try:
            from git_snapshot.store import _ctree
        except ImportError:
            pass
        else:
            return _ctree.build, True
    from git_snapshot.store import ctree_py

    return ctree_py.build, False


build, NATIVE = _choose()  # NATIVE: whether build is the C one
