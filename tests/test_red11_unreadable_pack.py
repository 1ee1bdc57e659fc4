"""A pack that cannot be read at all (an I/O error, a damaged header) may hold snapshots: no
step of verify -> repair -> prune may delete it. Repair reads nothing from it and enters it
in the index with no object; gc then took it for a pack holding nothing live and deleted it,
so the snapshots it held were gone for good once the disk read again."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import gc as gc_mod
from git_snapshot.store import packs
from git_snapshot.store import repair as repair_mod
from git_snapshot.store import verify as verify_mod
from git_snapshot.store.gc import gc
from git_snapshot.store.repair import repair


def two_packs(store_dir: Path, tmp_path: Path) -> tuple[str, Any]:
    """Two snapshots of source "s", the second's new file in a pack of its own, and the
    index deleted (repair rebuilds it from the packs): that pack, and the second's contents."""
    src = tmp_path / "src"
    build(src, D({b"a": F(b"first\n")}))
    with Store(store_dir) as store:
        take(store, "s", src)
        first = set(store.pack_names())
        build(src, D({b"b": F(os.urandom(5000))}))
        take(store, "s", src)
        (second,) = set(store.pack_names()) - first
        want = snapshot_contents(store, store.get("s", "latest"))
    os.unlink(store_dir / "index.sqlite")  # the index is lost: repair rebuilds it from the packs
    return second, want


def eio_on(name: str) -> Any:
    """packs.scan_pack, but the disk fails to read pack *name* (no such fault can be had
    here short of a failing disk)."""
    real = packs.scan_pack

    def eio(path: str, *a: Any, **kw: Any) -> Any:
        if os.path.basename(path) == name:
            raise OSError(errno.EIO, "Input/output error", path)
        return real(path, *a, **kw)

    return eio


def test_a_pack_repair_could_not_read_is_not_deleted_by_the_next_gc(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second, want = two_packs(store_dir, tmp_path)
    eio = eio_on(second)
    with monkeypatch.context() as failing:  # the disk fails to read that pack for now
        for mod in (repair_mod, gc_mod, verify_mod):
            failing.setattr(mod, "scan_pack", eio)
        with Store(store_dir, repairing=True) as store:
            repair(store)
        with Store(store_dir) as store:
            assert [s.id for s in store.snapshots("s")] == [1]
            gc(store)
        assert (store_dir / "packs" / second).exists(), "gc deleted a pack nothing could read"
    # the disk reads again: repair brings the second snapshot back
    with Store(store_dir, repairing=True) as store:
        repair(store)
    with Store(store_dir) as store:
        assert [s.id for s in store.snapshots("s")] == [1, 2]
        assert snapshot_contents(store, store.get("s", "latest")) == want


def test_verify_says_a_pack_it_cannot_read_may_hold_snapshots_and_prune_keeps_it(
    repo: Path, store_dir: Path
) -> None:
    gs(repo)
    name = "f" * 32 + ".pack"
    (store_dir / "packs" / name).write_bytes(os.urandom(300))  # not a pack from its header on
    ran = gs(repo, "verify")
    assert "hold snapshots the index lacks" not in ran.out, ran.out  # it cannot know that
    assert f"could not be read ({name}: " in ran.out and "may hold snapshots" in ran.out
    got = json.loads(gs(repo, "verify", "--json").out)
    assert got["unindexed_packs"] == [] and [p["pack"] for p in got["unreadable_packs"]] == [name]
    gs(repo, "prune", "--keep-last", "1")
    assert (store_dir / "packs" / name).exists()
    gs(repo, "repair", rc=None)  # enters it with no object: it reads nothing from it
    ran = gs(repo, "verify", "--read-data", rc=1)  # it said "ok", naming no such pack
    assert f"DAMAGED pack {name}" in ran.out, ran.out
    gs(repo, "prune", "--keep-last", "1")
    assert (store_dir / "packs" / name).exists(), "prune deleted a pack nothing could read"
    assert gs(repo, "cat", "1", "README").out == "hello\n"
