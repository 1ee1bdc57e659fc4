"""The one line of a snapshot that fails on an OSError says what is true: the store's disk is
full, the store cannot be written, or a worktree's file could not be taken; it tells the user
to free space on the store's disk only when that disk is full."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from storehelpers import build
from storehelpers import random_tree
from storehelpers import take

from git_snapshot.errors import UserError
from git_snapshot.store import walker
from git_snapshot.store.core import Store


def _fail_in(monkeypatch: pytest.MonkeyPatch, folder: bytes, exc: OSError) -> None:
    """The walk raises *exc* when it reaches *folder* (a fault no walk path catches)."""
    real = walker._Walker.tree

    def tree(self: walker._Walker, path: bytes, rel: bytes, *args: Any) -> Any:
        if rel == folder:
            raise exc
        return real(self, path, rel, *args)

    monkeypatch.setattr(walker._Walker, "tree", tree)


def test_a_worktree_file_that_fails_the_walk_is_named_without_blaming_the_store(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    build(src, random_tree(3, 40, max_size=500))
    (src / "sub").mkdir(exist_ok=True)
    bad = str(src / "sub")
    _fail_in(monkeypatch, b"sub/", NotADirectoryError(errno.ENOTDIR, "Not a directory", bad))
    with pytest.raises(UserError) as got:
        take(store, "s", src)
    line = str(got.value)
    assert bad in line and "Not a directory" in line, line
    assert "free some space" not in line and "snapshot store" not in line, line
    assert store.index.snapshots() == []  # nothing half-stored


def test_a_store_file_that_fails_names_the_store(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    build(src, random_tree(4, 40, max_size=500))
    (src / "sub").mkdir(exist_ok=True)
    inside = os.path.join(store.path, "packs", "x.tmp")
    _fail_in(monkeypatch, b"sub/", PermissionError(errno.EACCES, "Permission denied", inside))
    with pytest.raises(UserError) as got:
        take(store, "s", src)
    line = str(got.value)
    assert (
        f"cannot write to the snapshot store at {store.path} ({inside}: Permission denied)" in line
    )
    assert line.endswith(f"chmod -R u+rwX {store.path}"), line  # (RED32 C5: the fix, named)
    assert "free some space" not in line, line


def test_a_full_disk_still_says_so(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    build(src, random_tree(5, 40, max_size=500))
    (src / "sub").mkdir(exist_ok=True)
    _fail_in(monkeypatch, b"sub/", OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(UserError, match=r"its disk is full.*free some space"):
        take(store, "s", src)
