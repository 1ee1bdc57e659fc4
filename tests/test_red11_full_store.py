"""A full disk stops writes, not reads: a restore into another disk works while the store's
disk is full. The record of the temp names a restore gives (leftovers.Run, 98b0de0) is a
write into the store: when it fails, the restore goes on with its names unrecorded (a kill's
leftovers are then kept as the user's), never fails for it."""

from __future__ import annotations

import os
from pathlib import Path

from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import restore
from storehelpers import scan
from storehelpers import take
from test_restore_safety import small_fs

from git_snapshot.store import Store


def fill(where: Path) -> None:
    with open(where / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * (64 << 10))
                f.flush()
        except OSError:
            pass


def test_a_restore_over_files_works_while_the_stores_disk_is_full(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    build(src, D({b"a": F(b"new a\n"), b"d": D({b"b": F(b"new b\n")})}))
    with small_fs(tmp_path / "small", size="2m") as small, Store(small / "store") as store:
        take(store, "s", src)
        build(out, D({b"a": F(b"old a\n"), b"d": D({b"b": F(b"old b\n")})}))
        restore(store, store.get("s", "latest"), out)  # (its temps/ folder now exists)
        for p in (out / "a", out / "d" / "b"):
            p.write_bytes(b"changed again\n")
        fill(small)
        restore(store, store.get("s", "latest"), out)
        assert scan(out, mtimes=False) == scan(src, mtimes=False)
        os.unlink(small / "filler")
