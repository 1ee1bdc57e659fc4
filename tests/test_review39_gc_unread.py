"""review39 RA1, after RED39 A1: an orphan pack holding a killed snapshot's record that gc cannot
read now (a permission, an I/O error; or a record past a damaged group table, which repair
reads on to and gc's scan does not) was kept with every other orphan, "rather than guess",
but gc went on deleting the objects the index lists that no indexed snapshot needs: among
them the files the killed snapshot shares with the older snapshots forgotten since. Once the
pack read again, repair brought that snapshot back hollow, as in RED39 A1. What such a record
names is unknown: nothing the index lists is deleted while it does not read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import write
from test_red39_gc_orphans import FILES
from test_red39_gc_orphans import _killed_snapshot
from test_red39_gc_orphans import _orphans
from test_red39_gc_orphans import _repaired_whole
from test_red39_gc_orphans import hooked  # noqa: F401 (the fixture)

from git_snapshot.store import Store
from git_snapshot.store import gc as gc_module
from git_snapshot.store.packs import scan_pack


def test_an_orphan_record_that_does_not_read_now_keeps_what_it_may_name(
    hooked: Path,  # noqa: F811
    store_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _killed_snapshot(hooked)
    (name,) = _orphans(store_dir)
    for i in range(1, FILES + 1):  # every file changes, the older snapshot is forgotten
        write(hooked / "d" / str(i), f"new {i}\n".encode())
    gs(hooked, "-m", "new")
    gs(hooked, "forget", "1")

    def unreadable(path: str) -> object:
        if os.path.basename(path) == name:
            raise PermissionError(13, "Permission denied", path)
        return scan_pack(path)

    with monkeypatch.context() as m, Store(store_dir) as store:
        m.setattr(gc_module, "scan_pack", unreadable)
        report = gc_module.gc(store)
    assert report.records_unread == 1
    assert report.objects_removed == 0
    # the pack reads again: repair brings the killed snapshot back whole
    assert _orphans(store_dir) == {name}
    _repaired_whole(hooked, tmp_path)
