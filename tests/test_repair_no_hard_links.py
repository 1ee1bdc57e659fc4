"""repair of an unusable index on a file system without hard links (vfat, some FUSE).

The swap (RED32 C2) keeps the old index by a hard link before renaming the new one over it,
so that its name is never free. Where the file system has no hard links, os.link fails
(EPERM), exactly when repair is needed most (the old index unreadable): repair stopped with
the advice to chmod the store. It now moves the old index aside by a rename there, as before
the swap: the name is free for that moment only. (No such file system can be mounted by the
test suite without privileges it may lack: os.link answers as vfat's does.)
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store.repair import BEFORE_REPAIR
from git_snapshot.store.repair import repair


def test_repair_swaps_in_the_index_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_bytes(b"a\n")
    store_dir = tmp_path / "store"
    with Store(store_dir) as s:
        take(s, "s", src)
    (store_dir / "index.sqlite").write_bytes(b"this is not a database" * 100)

    def no_links(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with Store(store_dir, repairing=True) as s:
        report = repair(s)
    assert report.ok and report.snapshots == 1, report
    assert (store_dir / ("index.sqlite" + BEFORE_REPAIR)).read_bytes().startswith(b"this is not")
    with Store(store_dir) as s:
        assert len(s.snapshots()) == 1
