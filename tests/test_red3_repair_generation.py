"""Red team (session 9): repair rebuilds the index from the packs, and what a damaged pack
held past its damage is gone from it. Every files cache and every watcher's prepared tree is
keyed by the index's generation: repair must start a new one, so that the next snapshot of an
unchanged tree never names an object repair dropped (it stores the content afresh)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from clihelpers import gs


def _generation(store_dir: Path) -> str:
    db = sqlite3.connect(store_dir / "index.sqlite")
    try:
        return str(db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])
    finally:
        db.close()


def test_repair_that_drops_objects_starts_a_new_generation(repo: Path, store_dir: Path) -> None:
    (repo / "big.bin").write_bytes(os.urandom(300_000))
    gs(repo, "create")
    gs(repo, "create")  # the files cache now names big.bin's object: not read again
    before = _generation(store_dir)
    packs = sorted((store_dir / "packs").glob("*.pack"), key=lambda p: p.stat().st_size)
    biggest = packs[-1]  # the one holding big.bin's content
    with open(biggest, "r+b") as f:
        f.truncate(biggest.stat().st_size // 3)
    gs(repo, "repair", rc=None)
    assert _generation(store_dir) != before
    made = gs(repo, "create")  # unchanged tree: the files cache must not be trusted
    n = made.split()[1].rstrip(":")
    assert gs(repo, "verify", n, "--read-data").rc == 0
    out = repo.parent / "out"
    gs(repo, "restore", n, "big.bin", "--to", str(out))
    assert (out / "big.bin").read_bytes() == (repo / "big.bin").read_bytes()
