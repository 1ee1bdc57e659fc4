"""Red team (session 17, RED16): the index's meta 'created' (session 16: packs all written
after the index began are a killed first pull's, entered by the next pull) against an index
that lists no packs for another reason."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from clihelpers import gs
from conftest import init_repo

from git_snapshot.store import Store


def test_an_index_back_at_its_empty_beginning_is_refused_not_taken_for_a_killed_pull(
    store_dir: Path, tmp_path: Path
) -> None:
    """An index put back as it was when it began (its write-ahead log lost: hooks end without
    a checkpoint, and a copy or backup without the -wal file; an old copy restored) lists no
    packs over packs all written after it began: the packs of a killed first pull looked
    just so. Taken for those, the store was opened as empty, every later command went on
    over it (a snapshot, then gc reclaiming the blob-only packs as orphans). It must be
    refused as a lost index, and repair brings every snapshot back."""
    with Store(store_dir):
        pass  # the index begins (and is checkpointed as it closes)
    began = tmp_path / "began.sqlite"
    shutil.copy(store_dir / "index.sqlite", began)
    repo = init_repo(tmp_path / "repo")
    for i in range(3):
        (repo / f"f{i}").write_bytes(os.urandom(40_000))
        gs(repo, "-m", f"s{i}")
    for name in os.listdir(store_dir):
        if name.startswith("index.sqlite"):
            os.unlink(store_dir / name)
    shutil.copy(began, store_dir / "index.sqlite")
    for argv in (["list", "--all"], ["prune", "--all"], ["-m", "after"]):
        ran = gs(repo, *argv, rc=1)
        assert "git snapshot repair" in ran.err and "lists no packs" in ran.err, ran.err
    gs(repo, "repair")
    assert len(json.loads(gs(repo, "list", "--all", "--json"))) == 3
    assert "ok" in gs(repo, "verify", "--read-data")


def test_a_store_opened_before_a_repair_writes_its_next_snapshot_into_the_repaired_index(
    store_dir: Path, tmp_path: Path
) -> None:
    """repair renames the old index aside and its new one into place under the exclusive
    lock. A process that opened the store before (a hook waiting for the lock meanwhile, the
    watcher's worker, open for up to 50 snapshots) then committed its snapshots into the old
    file, renamed aside: 'snapshot 4' said, and no index the store reads listed it (gc then
    reclaims its packs without a record as orphans). The index is checked again once the
    lock is held."""
    from storehelpers import scan
    from storehelpers import take

    src = tmp_path / "src"
    src.mkdir()
    with Store(store_dir) as s:
        for i in range(3):
            (src / f"f{i}").write_bytes(os.urandom(10_000))
            take(s, "s", src)
    with Store(store_dir) as early:  # opened before the repair
        gs(tmp_path, "repair")
        (src / "late").write_bytes(b"taken after the repair")
        late = take(early, "s", src)
    with Store(store_dir) as s:
        assert [x.id for x in s.snapshots("s")] == [1, 2, 3, late.id]
    out = tmp_path / "out"
    gs(tmp_path, "restore", "--repo", "s", str(late.id), "--to", str(out))
    assert scan(out) == scan(src)
