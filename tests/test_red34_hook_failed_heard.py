"""RED34 D1: with pre-commit alone (as the README sets it up), a post-checkout snapshot that
failed (a full store disk, a lock that cannot be taken) printed its one line to stderr, which
pre-commit hides for a passing hook: the user saw "git-snapshot (post-checkout)....Passed"
and nothing else, and went on thinking every checkout is snapshotted. The failure line now
goes where a loss report goes: the controlling terminal, and without one the next
git-snapshot command in the worktree prints it, once. The plain shims print it as before.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import side_commit
from precommithelpers import pc_install
from test_precommit_quiet import on_a_terminal
from test_precommit_quiet import ours

pytestmark = pytest.mark.slow

FAILED = "post-checkout snapshot failed: cannot take the store's lock"


def _store_cannot_lock() -> Path:
    """The store's lock replaced by a folder: every snapshot fails with one line (as one on a
    full disk does), and the store is otherwise intact. Returns the folder (rmdir mends it)."""
    lock = Path(os.environ["GIT_SNAPSHOT_STORE"]) / "lock"
    lock.unlink()
    lock.mkdir()
    return lock


def _ready(r: Path) -> Path:
    side_commit(r, "feature", {"f.txt": b"f\n"})
    pc_install(r)
    gs(r, "create")
    return _store_cannot_lock()


def test_a_failed_snapshot_reaches_the_terminal(pc: Path) -> None:
    r = pc
    _ready(r)
    rc, screen = on_a_terminal(r, "git", "checkout", "-q", "feature")
    assert rc == 0  # a post-hook never fails the git command
    failed = [ln for ln in ours(screen) if FAILED in ln]
    assert len(failed) == 1 and failed[0].startswith("git-snapshot: "), screen


def test_a_failed_snapshot_without_a_terminal_is_printed_by_the_next_command(pc: Path) -> None:
    r = pc
    lock = _ready(r)
    ran = git(r, "checkout", "-q", "feature")
    assert ran.rc == 0 and FAILED not in ran.out + ran.err  # pre-commit hid it
    lock.rmdir()  # the user mends the store; the next command says what happened meanwhile
    (line,) = [ln for ln in gs(r, "list").err.splitlines() if "snapshot failed" in ln]
    assert re.match(
        r"git-snapshot: earlier, at (?:\d{4}-\d\d-\d\d )?\d\d:\d\d: " + re.escape(FAILED), line
    ), line
    assert "snapshot failed" not in gs(r, "list").err  # once


def test_the_plain_shims_still_print_it_on_stderr(repo: Path) -> None:
    side_commit(repo, "feature", {"f.txt": b"f\n"})
    gs(repo, "install")
    gs(repo, "create")
    lock = _store_cannot_lock()
    ran = git(repo, "checkout", "-q", "feature")
    assert ran.rc == 0
    assert [ln for ln in ran.err.splitlines() if "snapshot failed" in ln] == [
        next(ln for ln in ran.err.splitlines() if ln.startswith("git-snapshot: " + FAILED))
    ], ran.err
    lock.rmdir()
    assert "snapshot failed" not in gs(repo, "list").err  # seen already: not held
