"""Review RR46 of 715b68b (Restorer._new_dirs, a copy of _put_dir(new=True) for the folders
made below a folder made here, since gone: that loop is _put_dir again): a folder that came at
a new folder's name meanwhile goes the careful way (_put_dir), and only a mkdir or open of
that folder itself may be named unwritable there. _new_dirs had called _put_dir inside its
own `except PermissionError`: whatever refusal came from the whole careful fill of that folder
(its listing, say) was named as that folder being unwritable, and the restore went on with
the folder left open, unfinished and partly filled, where 6bf139e stopped and said where."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from storehelpers import restore
from test_restore_new_dirs import came_meanwhile

from git_snapshot.store import Store
from git_snapshot.store.restorer import Restorer
from git_snapshot.store.restorer import Stopped


def test_a_refusal_inside_a_folder_that_came_meanwhile_is_not_its_mkdir(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, snap, out = came_meanwhile(store, tmp_path, monkeypatch, theirs=False)
    sweep = Restorer._sweep

    def refused(self: Restorer, fd: int) -> list[bytes]:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("top/d03/deep"):
            raise PermissionError(13, "Permission denied")  # its listing refused
        return sweep(self, fd)

    monkeypatch.setattr(Restorer, "_sweep", refused)
    # as 6bf139e: stopped, and where (not "top/d03/deep could not be written and is as it
    # was; everything else was restored", while nothing below it was)
    with pytest.raises(Stopped, match="top/d03/deep: Permission denied"):
        restore(store, snap, out, threads=2, processes=True)
