"""Another user, for the tests of stores and folders someone else owns. The suite runs as
root: "the user" is either user nobody (AS_NOBODY) or root without the capabilities that
bypass file permissions (AS_A_USER), both through setpriv."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from clihelpers import git

NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
AS_A_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root (to play another user) and setpriv",
)


def chown_all(top: Path, uid: int) -> None:
    for p in [top, *top.rglob("*")]:
        os.chown(p, uid, -1, follow_symlinks=False)


def diverged(repo: Path) -> None:
    """Branches `side` and `main` with a commit each since they parted; `side` checked out
    (a rebase onto main has work to do: its pre-rebase hook runs)."""
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "s.txt").write_text("side\n")
    git(repo, "add", "s.txt")
    git(repo, "commit", "-q", "-m", "side")
    git(repo, "checkout", "-q", "main")
    (repo / "m.txt").write_text("main\n")
    git(repo, "add", "m.txt")
    git(repo, "commit", "-q", "-m", "main")
    git(repo, "checkout", "-q", "side")
