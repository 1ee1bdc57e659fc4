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
