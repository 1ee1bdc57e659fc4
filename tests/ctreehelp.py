"""The C build of a changed folder's tree (git_snapshot.store._ctree) for the tests that set
it against its twin (store/ctree_py.py): ``native`` is the module, or None where it was not
built (no compiler where the package was installed: the twin alone, the C tests skipped),
except under GIT_SNAPSHOT_REQUIRE_C=1 (CI), where its absence fails the import."""

from __future__ import annotations

import os

import pytest

from git_snapshot.store import Store
from git_snapshot.store import filescache

try:
    from git_snapshot.store import _ctree as native
except ImportError:
    if os.environ.get("GIT_SNAPSHOT_REQUIRE_C") == "1":
        raise
    native = None  # type: ignore[assignment]

__all__ = ["files_cache", "native", "needs_c"]

needs_c = pytest.mark.skipif(native is None, reason="the C extension is not built")


def files_cache(store: Store) -> filescache.FilesCache:
    """The files cache of *store*'s one snapshotted directory, as the next walk loads it."""
    (name,) = os.listdir(store.cache_dir)
    return filescache.load(
        os.path.join(store.cache_dir, name),
        store.index.meta_get("generation", "0"),
        store.index.has_root,
    )
