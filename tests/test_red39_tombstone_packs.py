"""RED39 A5: every forget (by hand, prune, or the hooks' automatic retention, about one a hook
once keepLast is reached) writes a pack holding one tombstone (about 200 bytes, a 4 KiB block).
Tombstones are always live, so gc never removed those packs, and being wholly live they were
never repacked: the store's pack count grew by one per forgotten snapshot, for ever. gc merges
them now; the tombstones themselves stay (a forgotten snapshot never comes back by repair).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

from git_snapshot.store import Store
from git_snapshot.store.objects import FORGET
from git_snapshot.store.packs import scan_pack

FORGETS = 6


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    install(repo)
    return repo


def _tombstone_packs(store_dir: Path) -> list[str]:
    """The pack files holding tombstones (with a repack's other objects, or alone)."""
    with Store(store_dir) as store:
        names = store.pack_names()
        return [n for n in names if FORGET in {o.type for o in scan_pack(store.pack_path(n))}]


def _ids(repo: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(repo, "list", "--json").out)]


def test_gc_merges_the_tombstone_packs_of_forgotten_snapshots(
    hooked: Path, store_dir: Path
) -> None:
    for i in range(FORGETS + 1):
        write(hooked / "w", f"version {i}\n".encode())
        gs(hooked, "-m", f"v{i}")
    for snap in _ids(hooked)[:-1]:
        gs(hooked, "forget", str(snap))
    assert len(_tombstone_packs(store_dir)) == FORGETS
    gs(hooked, "prune")
    assert len(_tombstone_packs(store_dir)) == 1
    assert len(list((store_dir / "packs").iterdir())) <= 2
    gs(hooked, "verify", "--read-data")
    kept = _ids(hooked)
    assert len(kept) == 1
    # the tombstones are all there: an index rebuilt from the packs keeps them forgotten
    (store_dir / "index.sqlite").unlink()
    gs(hooked, "repair")
    assert _ids(hooked) == kept
    # and the merged pack is not rewritten by every later gc
    before = _tombstone_packs(store_dir)
    gs(hooked, "prune")
    assert _tombstone_packs(store_dir) == before
