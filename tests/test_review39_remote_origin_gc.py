"""review39 RF2, after RED39 F3: a snapshot document's "origin" (the store that took it, so
that a remote keeps one store's snapshots in their number order) was derived from the index's
``generation``, which every gc that deletes objects renews. After such a gc (automatic
retention, prune) the next snapshots had another origin and were merged by time with the
earlier ones again: a snapshot taken while the clock was a day behind passed for the oldest,
and ``remote prune --keep-last 1`` deleted the newest work, as in RED39 F3.

The skewed clock is in the snapshotting process only (test_red39_remote_clock's runner)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on
from test_red39_remote_clock import _snapshot_skewed

pytestmark = pytest.mark.slow


def _generation(env: dict[str, str]) -> str:
    with sqlite3.connect(Path(env["GIT_SNAPSHOT_STORE"]) / "index.sqlite") as db:
        return str(db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])


def test_a_gc_between_two_snapshots_keeps_their_number_order_on_a_remote(
    tmp_path: Path,
) -> None:
    repo = committed_repo(tmp_path / "proj")
    url = f"file://{tmp_path}/remote"
    lap = machine(tmp_path, "lap")
    on(lap, repo, "remote", "add", "nas", url)
    (repo / "notes.txt").write_text("old\n")
    on(lap, repo, "-m", "old work")
    on(lap, repo, "push", "nas")
    # a snapshot whose objects only it holds, forgotten, and a gc that deletes them
    (repo / "scratch.bin").write_bytes(b"scratch only\n" * 100)
    on(lap, repo, "-m", "scratch")
    (repo / "scratch.bin").unlink()
    before = _generation(lap)
    on(lap, repo, "forget", "latest")
    on(lap, repo, "prune")
    assert _generation(lap) != before  # (what this test is about: a gc renewed it)
    (repo / "notes.txt").write_text("newest\n")
    _snapshot_skewed(lap, repo, tmp_path, -86400.0, "newest work")  # the clock a day behind
    assert on(lap, repo, "cat", "latest", "notes.txt").out == "newest\n"
    on(lap, repo, "push", "nas")
    args = ("--remote", "nas", "--repo", "proj")
    assert on(lap, repo, "cat", *args, "latest", "notes.txt").out == "newest\n"
    on(lap, repo, "remote", "prune", "nas", "--keep-last", "1")
    listed = on(lap, repo, "list", "--remote", "nas").out
    assert "newest work" in listed and "old work" not in listed, listed
