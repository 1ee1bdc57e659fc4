"""Restore: files of one content (a LICENSE in every package) take it from the first one read,
instead of decompressing its group again each time it was evicted."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import Node
from storehelpers import build
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import packs
from git_snapshot.store.packs import scan_pack


@pytest.mark.parametrize("processes", [False, True])
def test_files_of_one_content_decompress_its_group_once(
    monkeypatch: pytest.MonkeyPatch, store: Store, tmp_path: Path, processes: bool
) -> None:
    """In one writer, groups in storage order: each decompressed once (55 times for 50
    groups before). Writer processes (which count in their own memory) restore the same."""
    monkeypatch.setattr(packs, "GROUP_OBJECT", 2 << 10)
    monkeypatch.setattr(packs, "GROUP_BYTES", 8 << 10)
    monkeypatch.setattr(packs, "GROUP_CACHE", 1)
    rnd = random.Random(3)
    licence = b"MIT License, the same text in every package\n" * 20
    folders: dict[bytes, Node] = {}
    for i in range(100):  # jobs of at most 32 folders (restorer.JOB_DIRS): four of them
        files: dict[bytes, Node] = {b"LICENSE": F(licence), b"empty.js": F(b"")}
        for j in range(3):
            files[b"m%d.js" % j] = F(rnd.randbytes(700).hex().encode())
        folders[b"p%02d" % i] = D(files)
    build(tmp_path / "src", D(folders))
    snap = take(store, "s", tmp_path / "src")
    groups = {
        (n, o.offset)
        for n in store.pack_names()
        for o in scan_pack(store.pack_path(n))
        if o.inner >= 0
    }
    assert len(groups) > 10
    calls = []
    decode = packs._read_exactly

    def counted(*args: object) -> bytes:
        calls.append(1)
        return decode(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(packs, "_read_exactly", counted)
    restore(store, snap, tmp_path / "out", threads=2 if processes else 0, processes=processes)
    assert scan(tmp_path / "out") == scan(tmp_path / "src")
    if not processes:
        assert len(calls) == len(groups)
