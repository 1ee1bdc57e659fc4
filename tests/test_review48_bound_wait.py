"""Review RB48 of bd48 (b970241): what a hook waits for the daemon's answer when it gets none.

prep.git_locked waits for the daemon's answer to the hook's early sync token (the one
hooks._watched wrote) before it reads the last boundary; the snapshot's own sync
(dirtyset.sync, in worktree.take) then waits for the same token again. A daemon that does
not answer (rescanning after an overflow, its code changed on disk) cost the hook
SYNC_TIMEOUT_S twice. The second wait now ends where the first gave up: one timeout in all.

No daemon runs here: the dirty set says a live process (this one) watches and its git dir
is watched, and nobody answers. The assertion counts the sleeps of the second wait (none:
its deadline has passed), not time."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from git_snapshot.watch import dirtyset
from git_snapshot.watch import prep


def _no_answer(tmp_path: Path) -> tuple[str, str, prep.Prep]:
    store = str(tmp_path / "store")
    wt = str(tmp_path / "wt")
    os.makedirs(os.path.join(wt, ".git"))
    os.makedirs(dirtyset.watch_dir(store))
    dirtyset.watching(store, wt)  # (this process: alive, never answers a token)
    prep.lock_watched(store, wt, True)
    p = prep.Prep(b"r" * 20, "", "", "", 0, 0, [], [], {})
    p.epoch = dirtyset.marked_upto(store, wt)[0]
    p.seq = 0
    return store, wt, p


def _count_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    real = time.sleep

    def sleep(s: float) -> None:
        slept.append(s)
        real(s)

    monkeypatch.setattr(time, "sleep", sleep)
    return slept


def test_the_snapshots_sync_does_not_wait_again_for_a_token_git_locked_gave_up_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, wt, p = _no_answer(tmp_path)
    dirtyset.sync_start(store, wt)
    assert (store, wt) in dirtyset._STARTED
    assert prep.git_locked(store, wt, p, 0.0) is None  # (no answer within the timeout)
    slept = _count_sleeps(monkeypatch)
    assert dirtyset.sync(store, wt) is False
    assert slept == [], f"waited again: {len(slept)} sleeps, {sum(slept):.3f}s"


def test_a_sync_with_no_earlier_wait_still_waits_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, wt, _ = _no_answer(tmp_path)
    dirtyset.sync_start(store, wt)
    slept = _count_sleeps(monkeypatch)
    assert dirtyset.sync(store, wt, timeout=0.05) is False
    assert slept, "gave up without waiting"


# -- a boundary from before git began is not git's own ------------------------------------------
#
# git_locked took the dirty set's last boundary as git's own index.lock whenever one came after
# the tree. One written before git's process began is some earlier git's (a prompt's `git
# status`): git's own lock then raised no boundary the daemon wrote (a checkout run with
# GIT_INDEX_FILE elsewhere takes <that file>.lock; a git dir replaced under the watch), and
# the marks between it and git's start (the user's rm in the same shell line, marked late)
# counted as git's while the added-file guard was off: a false line. Such a boundary is not
# trusted now (the old rules hold); git's own is written after its process began, always.


def _answered(store: str, wt: str) -> None:
    """This hook's early token, answered (as the daemon does)."""
    import sqlite3

    dirtyset.sync_start(store, wt)
    token = dirtyset._STARTED[(store, wt)][0]
    con = sqlite3.connect(dirtyset.journal_path(store, wt))
    with con:
        con.execute("INSERT INTO syncs (token, at) VALUES (?, ?)", (token, time.time()))
    con.close()


def test_a_boundary_written_before_git_began_is_not_taken_as_gits(tmp_path: Path) -> None:
    store, wt, p = _no_answer(tmp_path)
    prep.git_lock(store, wt)  # (a prompt's git status, after the tree)
    began = time.time() + 1.0  # (git began after it)
    _answered(store, wt)
    assert prep.git_locked(store, wt, p, began) is None
    dirtyset.sync(store, wt)


def test_a_boundary_written_after_git_began_is_taken(tmp_path: Path) -> None:
    store, wt, p = _no_answer(tmp_path)
    began = time.time() - 1.0
    prep.git_lock(store, wt)  # (git's own lock)
    _answered(store, wt)
    assert prep.git_locked(store, wt, p, began) == dirtyset.marked_upto(store, wt)[1]
    dirtyset.sync(store, wt)
