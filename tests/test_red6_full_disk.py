"""Red team (session 11): ``repair`` with the index lost, on a full disk, told the user
"the snapshot index ... cannot be used (no such table: meta); rebuild it from the packs with:
git snapshot repair", the very command that had failed, and left a half-made index in tmp/.
The new index could not be written (it opened read-only). Now repair gives up the store's
reserve for it, as gc does, and rebuilds; with no room even so, one line says the disk is
full and nothing was changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import gs
from fullfs import fill
from fullfs import store_on_small_fs
from fullfs import unfill


@pytest.fixture
def small_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with store_on_small_fs(tmp_path, monkeypatch, size_mib=24) as store:
        yield store


def _lose_the_index(repo: Path, store: Path) -> None:
    for i in range(200):
        (repo / f"f{i}.txt").write_text(f"file {i}\n")
    gs(repo, "create")
    (repo / "f1.txt").write_text("changed\n")
    gs(repo, "create")
    for p in store.glob("index.sqlite*"):
        p.unlink()


def test_repair_on_a_full_disk_uses_the_reserve(repo: Path, small_store: Path) -> None:
    _lose_the_index(repo, small_store)
    fill(small_store.parent)
    ran = gs(repo, "repair")
    assert "2 snapshot(s)" in ran.out, ran.out
    unfill(small_store.parent)
    assert "ok: 2 snapshots" in gs(repo, "verify", "--read-data").out
    assert gs(repo, "cat", "1", "f1.txt") == "file 1\n"


def test_repair_with_no_room_at_all_says_so_in_one_line(repo: Path, small_store: Path) -> None:
    _lose_the_index(repo, small_store)
    (small_store / "reserve").unlink()
    fill(small_store.parent)
    ran = gs(repo, "repair", rc=1)
    assert len(ran.err_lines) == 1 and "is full" in ran.err, ran.err
    assert "no such table" not in ran.err, ran.err
    assert list((small_store / "tmp").iterdir()) == []  # no half-made index left
    unfill(small_store.parent)
    assert "2 snapshot(s)" in gs(repo, "repair").out
    assert gs(repo, "cat", "2", "f1.txt") == "changed\n"
