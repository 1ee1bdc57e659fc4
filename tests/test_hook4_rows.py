"""A hook's questions to the index are about the newest snapshots of its worktree: it reads
those rows, not every row the worktree keeps (the default keeps every snapshot for 14 days and
the newest 100: ~300 rows, each question ~2 ms of the hook's CPU; four per hook)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git

from git_snapshot import findlosses
from git_snapshot import gitrepo
from git_snapshot import hooks
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store.index import Index

SNAPSHOTS = 12


def _snapshots(repo: Path, store_dir: Path, n: int) -> None:
    """*n* snapshots of *repo*, each of another n.txt; then snapshot SEQ created at 1000+SEQ."""
    r = gitrepo.find_repo(str(repo))
    with Store(store_dir) as store:
        for i in range(n):
            (repo / "n.txt").write_text(f"{i}\n")
            worktree.take(store, r, trigger="manual")
    db = sqlite3.connect(store_dir / "index.sqlite")
    try:
        with db:
            db.execute("UPDATE snapshots SET created = 1000 + seq")
    finally:
        db.close()


def test_a_hook_reads_the_newest_rows_of_its_worktree_and_finds_the_same_snapshot_before(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _snapshots(repo, store_dir, SNAPSHOTS)
    rows: list[int] = []
    real = Index.snapshots

    def counted(self: Index, *a: Any, **kw: Any) -> Any:
        got = real(self, *a, **kw)
        rows.append(len(got))
        return got

    monkeypatch.setattr(Index, "snapshots", counted)
    head = git(repo, "rev-parse", "HEAD").out.strip()
    # an unchanged worktree's post-checkout (`git checkout -b`): the usual hook
    assert hooks.run_hook("post-checkout", [head, head, "1"], cwd=str(repo)) == 0
    assert rows and sum(rows) <= 10, rows  # was 4 x 12: every row, four times
    # nothing stored: no retention read every row of the source either
    with Store(store_dir) as store:
        assert len(store.snapshots()) == SNAPSHOTS

    # the snapshot before the operation: the newest created before it started, whether it
    # is among the newest rows or not (then every row is read)
    r = gitrepo.find_repo(str(repo))
    call = hooks.Call.parse("post-checkout", [head, head, "1"], {})
    with Store(store_dir) as store:
        for started, want in ((5000.0, SNAPSHOTS), (1000 + 10.5, 10), (1000 + 3.5, 3)):
            before = findlosses._before(store, r, call, started)
            assert before is not None and before.id == want, (started, want)
        assert findlosses._before(store, r, call, 1000.5) is None
