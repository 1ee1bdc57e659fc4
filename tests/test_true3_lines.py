"""Printed lines that said something untrue (session 15, TRUE3)."""

from __future__ import annotations

import os
from pathlib import Path

from clihelpers import git
from clihelpers import gs


def test_install_service_says_hooks_start_the_watcher_only_when_they_do(tmp_path: Path) -> None:
    """`watch --install-service` printed "(any hook also starts it)" with GIT_SNAPSHOT_WATCH=0
    (hooks start nothing then) and with snapshot.watch false (nothing of it is watched)."""
    off = gs(tmp_path, "watch", "--install-service", GIT_SNAPSHOT_WATCH="0")
    assert "any hook also starts it" not in off
    assert "hooks do not start it while GIT_SNAPSHOT_WATCH=0 is set" in off, off
    on = gs(tmp_path, "watch", "--install-service", GIT_SNAPSHOT_WATCH="1")
    assert "any git command with a hook also starts it when it is not running" in on, on
    assert "snapshot.watch is false" not in on
    git(tmp_path, "config", "--global", "snapshot.watch", "false")
    unwatched = gs(tmp_path, "watch", "--install-service", GIT_SNAPSHOT_WATCH="1")
    assert "git config snapshot.watch is false here: it watches no worktree" in unwatched
    assert os.environ["GIT_SNAPSHOT_WATCH"] == "0"  # (the suite's: no daemon left behind)
