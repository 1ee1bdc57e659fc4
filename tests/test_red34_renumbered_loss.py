"""RED34 D8: `repair` renumbers a snapshot when a damaged index (an older copy put back, as a
restored backup) had given its number to two snapshots: the earlier one keeps it, the later
one takes a new number. A loss report naming the later one then said "N (forgotten since)",
and `undo` that what was lost "is no longer in the store": it was there, under the new
number. A report names its snapshot by number and by when it was taken (``saved_time``,
which a renumbering keeps): it follows the snapshot to its new number.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

NEW = b"NEW precious edit\n"  # what the checkout destroyed: in the renumbered snapshot
OLD = b"OLD edit\n"  # in the snapshot that keeps the number


def _checkpoint(index: Path) -> None:
    db = sqlite3.connect(index)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


@pytest.fixture
def renumbered(repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    """Snapshot 2 ("two", OLD), then the index of before it put back: "three" (NEW) gets
    number 2 too, a checkout destroys NEW (reported against it), and `repair` renumbers it.
    Returns the worktree and the number "three" has after the repair."""
    put_venv_on_path(monkeypatch)
    git(repo, "branch", "x")
    install(repo)
    gs(repo, "create", "-m", "one")
    index = store_dir / "index.sqlite"
    _checkpoint(index)
    backup = repo.parent / "index.backup"
    shutil.copy2(index, backup)
    write(repo / "README", OLD)
    gs(repo, "create", "-m", "two")
    for extra in ("-wal", "-shm"):
        (store_dir / f"index.sqlite{extra}").unlink(missing_ok=True)
    shutil.copy2(backup, index)
    write(repo / "README", NEW)
    three = json.loads(gs(repo, "create", "-m", "three", "--json").out)["id"]
    assert three == 2  # the number "two" had: the damage the repair finds
    ran = git(repo, "checkout", "-q", "-f", "x")
    assert [r.snap for r in ran.reports] == [2], ran.err
    fixed = gs(repo, "repair")
    assert "renumbered snapshot 2" in fixed.out + fixed.err, fixed.out + fixed.err
    listed = json.loads(gs(repo, "list", "--json").out)
    (now,) = [s["id"] for s in listed if s.get("message") == "three"]
    assert now != 2
    return repo, now


def test_losses_names_the_new_number(renumbered: tuple[Path, int]) -> None:
    repo, now = renumbered
    (item,) = json.loads(gs(repo, "losses", "--json").out)
    assert item["snapshot"] == now
    assert item["available"] is True
    table = gs(repo, "losses").out
    assert "forgotten since" not in table, table
    assert f"{now} (was 2)" in table, table


def test_undo_puts_back_what_the_renumbered_snapshot_holds(renumbered: tuple[Path, int]) -> None:
    repo, now = renumbered
    ran = gs(repo, "undo")
    assert "no longer in the store" not in ran.err, ran.err
    assert f"from snapshot {now}" in ran.out, ran.out
    assert (repo / "README").read_bytes() == NEW


def test_prune_and_forget_keep_to_the_new_number(renumbered: tuple[Path, int]) -> None:
    """The snapshot the report names is kept by prune (not the one that kept its number),
    and forget warns about it."""
    repo, now = renumbered
    ran = gs(repo, "prune", "--keep-last", "1")
    ids = [s["id"] for s in json.loads(gs(repo, "list", "--json").out)]
    assert now in ids, ran.out
    assert 2 not in ids, ran.out
    warned = gs(repo, "forget", str(now), "--dry-run")
    assert f"snapshot {now} is the copy a loss report names" in warned.err, warned.err


def test_automatic_retention_keeps_the_new_number(
    renumbered: tuple[Path, int], store_dir: Path
) -> None:
    """Retention after a hook or a watch snapshot keeps the snapshots loss reports name: the
    renumbered one, not the one that kept its number."""
    from git_snapshot.store import Store
    from git_snapshot.store.retention import named_by_losses

    repo, now = renumbered
    top = git(repo, "rev-parse", "--show-toplevel").strip()
    with Store(store_dir) as store:
        named = named_by_losses(store, 0.0)
    assert (top, now) in named
    assert (top, 2) not in named
