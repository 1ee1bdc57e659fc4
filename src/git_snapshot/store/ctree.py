"""The changed folder's tree and record builder the walk uses (walker._Walker.tree): ``_ctree``
(C, built when the package is installed with a compiler) when it imports, else its
pure-Python twin ``ctree_py``; ``GIT_SNAPSHOT_PURE_PYTHON=1`` forces the twin (the tests run
both). Imported by the first folder a walk builds again: an unchanged walk builds none."""

from __future__ import annotations

import os
import zlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from git_snapshot.store.objects import Entry


# build()'s arguments and results: the C module is used only when it was built for these
# (_ctree.INTERFACE, bumped with them): one built from an older _ctree.c (an editable install
# not rebuilt after a pull) would fail every snapshot; then the twin runs (doctor says so)
INTERFACE = 10  # 3: inherit (a label given to every entry below a folder without a call); 4: fill;
# 5: crc32; 6: lstats (store/lstats.py); 7: a far time held as the int64 bound (objects.held_ns);
# 8: entries (validate._entries); 9: gather's items hold each file's path, not its folder's (a
# restore's report named folders with an older build); 10: build's done (the folders walked
# already, taken without other())
PURE_ENV = "GIT_SNAPSHOT_PURE_PYTHON"  # "1": the twin, whatever is built (doctor says so)


def _choose() -> tuple[Callable[..., Any], Callable[..., Any] | None, bool, Callable[..., int]]:
    if os.environ.get(PURE_ENV) != "1":
        try:
            from git_snapshot.store import _ctree
        except ImportError:
            pass
        else:
            if getattr(_ctree, "INTERFACE", 0) == INTERFACE:
                crc = _ctree.crc32 if _ctree.CRC32_CLMUL else zlib.crc32
                return _ctree.build, _ctree.fill, True, crc
    from git_snapshot.store import ctree_py

    return ctree_py.build, None, False, zlib.crc32


# NATIVE: whether build is the C one. fill: the files cache's whole write in C
# (filescache.Writer.chunk; None: its marshal pieces, the twin, in Python). crc32: zlib.crc32's
# value, by the CPU's carry-less multiply where it has one (~3.5x zlib 1.2.13's speed: the
# files cache's check, filescache._check, of a big file); zlib's own otherwise (the spec)
build, fill, NATIVE, crc32 = _choose()


def _entries() -> Callable[[bytes, type[Entry]], tuple[list[Entry], int] | None] | None:
    if not NATIVE:
        return None
    from git_snapshot.store import _ctree

    return _ctree.entries


# a tree's entries made in C (validate._entries; None: its Python loop, the spec)
entries = _entries()
