"""Red team (session 17, RED16): the index's meta 'created' (session 16: packs all written
after the index began are a killed first pull's, entered by the next pull) against an index
that lists no packs for another reason."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from clihelpers import gs
from conftest import init_repo
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot.store import Store
from git_snapshot.store.index import Snapshot


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


def _snap(source: str, number: int, record: bytes) -> Snapshot:
    return Snapshot(0, source, number, 1.0, "manual", "", "/w", b"\0" * 32, 0, 0, 0, 0, {}, record)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("reserve"), st.sampled_from(["a", "b"])),
            st.tuples(st.just("commit"), st.integers(0, 7)),
            st.tuples(st.just("pull"), st.sampled_from(["a", "b"]), st.integers(1, 9)),
        ),
        max_size=30,
    )
)
def test_numbers_pulled_beside_snapshots_never_collide(
    tmp_path: Path, steps: list[tuple[Any, ...]]
) -> None:
    """Any interleaving of snapshots (a number reserved, its row committed later) and pulled
    snapshots (Index.enter_snapshot with the store's handed-out numbers taken): no unique
    (repository, number) failure, every commit keeps the number its record carries, every
    pulled one is entered once, and a pulled one keeps its own number when nothing here
    gave it out."""
    import sqlite3

    from git_snapshot.store.index import Index

    path = tmp_path / f"i{os.urandom(4).hex()}.sqlite"
    index = Index(str(path))
    try:
        pending: list[Snapshot] = []
        given: dict[str, set[int]] = {"a": set(), "b": set()}
        rows = 0
        for n, step in enumerate(steps):
            if step[0] == "reserve":
                seq = index.reserve_seq(step[1], f"/{step[1]}")
                given[step[1]].add(seq)
                pending.append(_snap(step[1], seq, b"h%d" % n))
            elif step[0] == "commit" and pending:
                snap = pending.pop(step[1] % len(pending))
                try:
                    index.add_snapshot([], snap)
                except sqlite3.IntegrityError as exc:
                    raise AssertionError(f"a snapshot's own number was taken: {exc}") from None
                rows += 1
            elif step[0] == "pull":
                _, source, number = step
                snap = _snap(source, number, b"p%d" % n)
                had = index.enter_snapshot(snap, f"/{source}", handed_out=True)
                assert had == number
                if number not in given[source] and number >= max(given[source], default=0):
                    assert snap.id == number
                assert snap.id not in given[source]
                given[source].add(snap.id)
                rows += 1
        seen = [(s.source, s.id) for s in index.snapshots()]
        assert len(seen) == len(set(seen)) == rows
    finally:
        index.close()
