"""RED33 (red team A, finding 5): a staged new file `git reset --hard` deleted, blamed on the
`git checkout -b x` run right after it.

`git reset -q --hard && git checkout -q -b x`: reset runs no hook and deletes a file only the
index had (staged, in no commit); the checkout's post-checkout found it gone from a folder
written up to COARSE_CLOCK_SLACK_S before it started, labelled tracked in the snapshot, and
said "git checkout destroyed 1 file with uncommitted edits". RED31 B3's rule (a plain switch
to the commit HEAD is at writes no file that commit tracks) left it in: that commit does not
track it. A plain switch to the commit HEAD is already at writes and deletes nothing at all.
A forced one still names what it discards.
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
    commit(repo, "a.txt", b"a\n")
    install(repo)
    return repo


def _staged_then_reset(r: Path) -> None:
    """A staged new file in a snapshot, deleted by `git reset --hard` (no hook); its folder
    then reads as written during the next command (as one written up to the coarse clock's
    lag before it started reads: set ahead here, so that every run sees it so)."""
    write(r / "d" / "n.txt", b"NEW WORK\n")
    git(r, "add", "d/n.txt")
    gs(r, "-m", "staged")
    git(r, "reset", "-q", "--hard")
    assert not (r / "d").exists() or not (r / "d" / "n.txt").exists()
    (r / "d").mkdir(exist_ok=True)  # (git removed the emptied folder: an old one kept)
    later = time.time() + 30
    os.utime(r / "d", (later, later))
    os.utime(r, (later, later))


@pytest.mark.parametrize(
    "cmd", [["checkout", "-b", "other"], ["switch", "-c", "other"], ["checkout", "main"]]
)
def test_a_plain_switch_to_head_destroyed_no_staged_file(hooked: Path, cmd: list[str]) -> None:
    r = hooked
    _staged_then_reset(r)
    ran = git(r, *cmd)
    assert not ran.reports and "destroyed" not in ran.err, ran.said
    assert "nothing" in gs(r, "losses").out or not gs(r, "losses").out.strip()


def test_the_red_teams_line(hooked: Path) -> None:
    """Its own line, three times (it reported 3 of 3 before)."""
    r = hooked
    for i in range(3):
        write(r / f"n{i}.txt", f"NEW WORK {i}\n".encode())
        git(r, "add", f"n{i}.txt")
        gs(r, "-m", f"staged {i}")
        ran = run(r, "sh", "-c", f"git reset -q --hard && git checkout -q -b other{i}")
        assert not ran.reports and "destroyed" not in ran.err, ran.said


def test_a_forced_checkout_of_head_still_names_the_staged_file(hooked: Path) -> None:
    """`checkout -f` of the commit HEAD is at deletes a staged new file: named."""
    r = hooked
    write(r / "n.txt", b"NEW WORK\n")
    git(r, "add", "n.txt")
    gs(r, "-m", "staged")
    ran = git(r, "checkout", "-f", "main")
    assert not (r / "n.txt").exists()
    (rep,) = ran.reports
    assert rep.names == "n.txt", ran.said
    restore(r, rep)
    assert (r / "n.txt").read_bytes() == b"NEW WORK\n"
