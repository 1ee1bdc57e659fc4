"""Review 36 of RED36 B-repair: repair's merge of a moved repository's history
(identity.rejoin_moved) took "the gone place's numbers all below the living one's" for the
proof of a takeover. A copy (cp -a) starts its own numbers at 1, but once its first snapshots
are forgotten its lowest number is above its deleted original's highest: a repair then gave
the copy the original's snapshots, under numbers the copy had itself given (a loss report of
the copy's named them) -- `restore 1` in the copy brought back the other repository's file.
Also a routine repair with the index readable (the histories rightly apart in it) did so.

A takeover is proven only by every number the living place ever gave, the forgotten ones
too: the records of forgotten snapshots read back (none dropped by a gc since), and none lost
with a damaged pack. Else the histories stay apart, and repair says how to reach them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import write


def _ids(wt: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(wt, "list", "--json"))]


def _lose_index() -> None:
    store = Path(os.environ["GIT_SNAPSHOT_STORE"])
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (store / name).unlink(missing_ok=True)


@pytest.fixture
def copy(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The original *repo* (snapshots 1, 2: 'original'), copied with cp -a; the copy's own 1,
    2, 3 ('copy'), its 1 and 2 forgotten; the original deleted."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a", b"a\n")
    for n in (1, 2):
        write(repo / "notes", b"original %d\n" % n)
        gs(repo, "create", "-m", f"original {n}")
    copy = repo.parent / "copy"
    shutil.copytree(repo, copy, symlinks=True)
    for n in (1, 2, 3):
        write(copy / "notes", b"copy %d\n" % n)
        gs(copy, "create", "-m", f"copy {n}")
    gs(copy, "forget", "1", "2")
    shutil.rmtree(repo)
    assert _ids(copy) == [3]
    return copy


def _stays_apart(copy: Path, ran: str) -> None:
    assert _ids(copy) == [3], ran
    assert "original" not in gs(copy, "cat", "1", "notes", rc=None).out
    assert "original" not in gs(copy, "log", "notes").out
    assert "gave the repository" not in ran, ran


@pytest.mark.parametrize("gc", [False, True], ids=["records-kept", "after-gc"])
def test_a_copys_forgotten_numbers_never_take_its_originals(copy: Path, gc: bool) -> None:
    if gc:
        gs(copy, "prune")  # (reclaims the forgotten records)
    _lose_index()
    _stays_apart(copy, gs(copy, "repair").out)


def test_a_repair_with_the_index_readable_keeps_them_apart(copy: Path) -> None:
    _stays_apart(copy, gs(copy, "repair").out)
