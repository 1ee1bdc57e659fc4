"""What a restore keeps once it returns: not the locations of the store's objects (_scan's
dict, 70k tuples on M). Kept, they were in the collector's youngest generation (it is off
while a restore runs: no collection ran) when restore() turned it back on, and its first
collection went through them all (10-18 ms of a restore of M, after its last write); an API
caller kept their memory as long as it kept the Restorer."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import Node
from storehelpers import build
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store.restorer import Restorer


def _tree() -> D:
    folders: dict[bytes, Node] = {}
    for i in range(40):  # 600 files: more than PARALLEL_MIN, so the index is scanned
        folders[b"d%02d" % i] = D({b"f%d" % j: F(b"%d %d\n" % (i, j)) for j in range(15)})
    return D(folders)


@pytest.mark.parametrize("how", ["processes", "threads", "alone"])
def test_a_restore_keeps_no_locations_once_it_returns(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    snap = take(store, "s", src)
    kw: dict[str, Any] = {"threads": 0 if how == "alone" else 2, "processes": how == "processes"}
    r = Restorer(store, **kw)
    scanned: list[int] = []
    real = Restorer._scan

    def counted(self: Restorer, count: int) -> None:
        real(self, count)
        scanned.append(len(self.locs))

    monkeypatch.setattr(Restorer, "_scan", counted)
    was = gc.isenabled()
    gc.enable()
    try:
        r.restore(snap, str(tmp_path / "out"), None)
        assert scanned and scanned[0] >= 600  # (it did scan: every object's location)
        assert r.locs == {}
        assert gc.isenabled()
        # the same Restorer restores again alike (scans again)
        r.restore(snap, str(tmp_path / "again"), None)
    finally:
        if not was:
            gc.disable()
    assert len(scanned) == 2
    assert scan(tmp_path / "out") == scan(src) == scan(tmp_path / "again")
