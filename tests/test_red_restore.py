"""Red team (restore, undo, losses, repair): a user's commands after the store changed under
a loss report. Every report is true; ``undo`` restores what the report named or says in one
line why it cannot; a snapshot number is never reused, not even after ``repair``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from clihelpers import gs


def _lose(repo: Path, name: str, data: bytes) -> int:
    """An ignored file destroyed by a command run through ``git snapshot run``: the number
    of the snapshot the loss report names."""
    (repo / ".gitignore").write_text("*.env\n")
    (repo / name).write_bytes(data)
    ran = gs(repo, "run", "--", "rm", name)
    (rep,) = ran.reports
    return rep.snap


def _drop_index(store_dir: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        p = store_dir / f"index.sqlite{suffix}"
        if p.exists():
            os.unlink(p)


def test_undo_after_the_reports_snapshot_was_forgotten_says_so_in_one_line(repo: Path) -> None:
    n = _lose(repo, "x.env", b"SECRET\n")
    gs(repo, "create")  # another snapshot, so that the repository still has some
    gs(repo, "forget", str(n))
    ran = gs(repo, "undo", rc=1)
    assert len(ran.err_lines) == 1, ran.err
    assert "forgotten" in ran.err and f"snapshot {n}" in ran.err, ran.err
    listed = gs(repo, "losses")
    assert "forgotten" in listed, listed
    (item,) = json.loads(gs(repo, "losses", "--json"))
    assert item["available"] is False


def test_undo_never_restores_from_a_later_snapshot_that_took_the_number(
    repo: Path, store_dir: Path
) -> None:
    """forget, prune, then a lost index rebuilt by repair: the next snapshot may not take
    the forgotten number (the report names it); and undo checks it has the report's own."""
    n = _lose(repo, "x.env", b"SECRET\n")
    gs(repo, "forget", str(n))
    gs(repo, "prune")
    _drop_index(store_dir)
    gs(repo, "repair")
    (repo / "x.env").write_bytes(b"later\n")
    gs(repo, "create")
    ran = gs(repo, "undo", rc=1)
    assert (repo / "x.env").read_bytes() == b"later\n"
    assert len(ran.err_lines) == 1, ran.err
    assert "forgotten" in ran.err, ran.err


def test_repair_never_hands_out_a_forgotten_snapshots_number_again(
    repo: Path, store_dir: Path
) -> None:
    gs(repo, "create")
    gs(repo, "create")
    gs(repo, "forget", "2")  # its record and tombstone are still in the packs
    _drop_index(store_dir)
    gs(repo, "repair")
    made = gs(repo, "create")
    assert made.startswith("snapshot 3:"), made
