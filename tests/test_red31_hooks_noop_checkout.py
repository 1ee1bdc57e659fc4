"""RED31 (red team B, finding 3): an edit `git reset --hard` destroyed, blamed on a `git
checkout` run right after it that changed nothing.

`git reset -q --hard && git checkout -q main`, already on main: reset runs no hook; the
checkout's post-checkout takes a file written up to COARSE_CLOCK_SLACK_S before the checkout
started as written by it (the file system's clock lags), and, HEAD not moving, nothing else
ruled f out: "git checkout destroyed 1 file with uncommitted edits: f". A plain checkout (not
-f, not -m) of the commit HEAD is already at writes no tracked file: a file tracked there is
not its doing (as for a plain switch to another commit, which refuses to write over an edited
one). A forced one still names what it discards.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import write


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"*.log\n")
    commit(repo, "f", b"f\n")
    install(repo)
    return repo


def _reset_just_now(r: Path) -> None:
    """An edit of f in a snapshot, discarded by `git reset --hard` (no hook); f's mtime then
    reads as written during the next command (as one written up to the coarse clock's lag
    before it started reads: set ahead here, so that every run sees it so)."""
    write(r / "f", b"MY EDIT\n")
    gs(r, "-m", "the edit")
    git(r, "reset", "-q", "--hard")
    later = time.time() + 30
    os.utime(r / "f", (later, later))


@pytest.mark.parametrize(
    "cmd",
    [
        ["checkout", "main"],
        ["checkout"],
        ["switch", "main"],
        ["checkout", "-b", "other"],
        ["checkout", "--detach"],
    ],
)
def test_a_checkout_of_the_commit_head_is_at_destroyed_nothing(
    hooked: Path, cmd: list[str]
) -> None:
    r = hooked
    _reset_just_now(r)
    ran = git(r, *cmd)
    assert not ran.reports and "destroyed" not in ran.err, ran.said
    assert "nothing" in gs(r, "losses").out or not gs(r, "losses").out.strip()


def test_reset_then_checkout_in_one_line(hooked: Path) -> None:
    """The red team's own line, a few times (it reported 4 of 5 before)."""
    r = hooked
    for i in range(4):
        write(r / "f", f"edit {i}\n".encode())
        gs(r, "-m", f"edit {i}")
        ran = run(r, "sh", "-c", "git reset -q --hard && git checkout -q main")
        assert not ran.reports and "destroyed" not in ran.err, ran.said


@pytest.mark.parametrize(
    "cmd", [["checkout", "-f", "main"], ["checkout", "-f"], ["switch", "--discard-changes", "main"]]
)
def test_a_forced_checkout_of_the_same_commit_still_names_the_edit(
    hooked: Path, cmd: list[str]
) -> None:
    r = hooked
    write(r / "f", b"MY EDIT\n")
    gs(r, "-m", "the edit")
    ran = git(r, *cmd)
    assert (r / "f").read_bytes() == b"f\n"
    (rep,) = ran.reports
    assert rep.names == "f", ran.said
    restore(r, rep)
    assert (r / "f").read_bytes() == b"MY EDIT\n"
