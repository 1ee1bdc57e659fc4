"""The C build of a changed folder's tree (git_snapshot.store._ctree) for the tests that set
it against its twin (store/ctree_py.py): ``native`` is the module, or None where it was not
built (no compiler where the package was installed: the twin alone, the C tests skipped),
except under GIT_SNAPSHOT_REQUIRE_C=1 (CI), where its absence fails the import."""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc
from typing import Any

import pytest

from git_snapshot.store import Store
from git_snapshot.store import filescache

try:
    from git_snapshot.store import _ctree as native
except ImportError:
    if os.environ.get("GIT_SNAPSHOT_REQUIRE_C") == "1":
        raise
    native = None  # type: ignore[assignment]

__all__ = ["files_cache", "keeps_nothing", "native", "needs_c", "outcome"]

needs_c = pytest.mark.skipif(native is None, reason="the C extension is not built")


def files_cache(store: Store) -> filescache.FilesCache:
    """The files cache of *store*'s one snapshotted directory, as the next walk loads it."""
    (name,) = os.listdir(store.cache_dir)
    return filescache.load(
        os.path.join(store.cache_dir, name),
        store.index.meta_get("generation", "0"),
        store.index.has_root,
    )


def outcome(fn: Any, args: tuple[Any, ...]) -> Any:
    try:
        return fn(*args)
    except Exception as exc:
        return type(exc)


def keeps_nothing(fn: Any, calls: list[tuple[Any, ...]], watched: list[Any]) -> None:
    """After *fn* ran on each of *calls* (answers or errors) 220 times, the references to
    *watched* are what they were and the memory it holds did not grow."""

    def run(times: int) -> None:
        for _ in range(times):
            for args in calls:
                outcome(fn, args)

    run(3)
    gc.collect()
    before = [sys.getrefcount(x) for x in watched]
    tracemalloc.start()
    try:
        run(20)
        gc.collect()
        first = tracemalloc.get_traced_memory()[0]
        run(200)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - first
    finally:
        tracemalloc.stop()
    assert [sys.getrefcount(x) for x in watched] == before
    assert grown < 4096, grown
