"""RED8: a folder whose names are taken from its files-cache record (walker.NAMES_TRUSTED)
is not opened: its names are lstat'ed by path (store/lstats.py). A folder replaced by a file
after its parent saw it (``rm -r d; echo > d`` while a hook's walk runs) then fails that lstat
with ENOTDIR, which nothing caught: the whole snapshot failed, where a listing (scandir) had
named the folder unreadable and gone on. The walk must go on as it did when it listed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import walker
from git_snapshot.store.lstats import best


@pytest.fixture(autouse=True)
def trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walker, "RACY_NS", 0)  # each test sleeps past the clock's grain


def test_a_folder_replaced_by_a_file_during_the_walk_does_not_fail_the_snapshot(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    build(src, D({b"a.txt": F(b"alpha\n"), b"sub": D({b"b.txt": F(b"beta\n")})}))
    time.sleep(0.05)
    with Store(store_dir) as store:
        take(store, "s", src)
        take(store, "s", src)  # its records say the names may be trusted
        target = os.fsencode(src / "sub") + b"/"
        done: list[int] = []

        def lstats(pre: bytes, names: list[bytes]) -> Any:  # (C, or its twin: os.lstat)
            if not done and pre == target:
                done.append(1)  # the folder, seen by its parent, is a file now
                shutil.rmtree(src / "sub")
                (src / "sub").write_bytes(b"now a file\n")
            return best(pre, names)

        monkeypatch.setattr(walker, "_lstats", lstats)
        snap = take(store, "s", src)  # raised NotADirectoryError
        monkeypatch.setattr(walker, "_lstats", best)
        assert done
        got = snapshot_contents(store, snap)
        assert b"a.txt" in got
        nxt = snapshot_contents(store, take(store, "s", src))
        assert nxt[b"sub"].data == b"now a file\n"
