"""`git snapshot uninstall` after `git snapshot install` (session 14, USER2): install also
registers the worktree with the watcher, and uninstall removed the hooks only, saying nothing
more, while the watcher went on snapshotting the worktree (`doctor`: "watches this
worktree") for good."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import put_venv_on_path

from git_snapshot.watch import registry


def test_uninstall_says_the_watcher_still_watches_and_how_to_stop_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    store = os.environ["GIT_SNAPSHOT_STORE"]
    gs(repo, "install")
    gs(repo)  # the store
    registry.put(store, str(repo), on=True, by="install")  # as install does, watcher on
    (sub := repo / "sub").mkdir()
    out = gs(sub, "uninstall").out
    (line,) = [ln for ln in out.splitlines() if ln.startswith("watcher:")]
    cmd = line.split("to stop that too: ", 1)[1]
    subprocess.run(["sh", "-c", cmd], cwd=sub, check=True)  # pasted as printed
    assert str(repo) not in registry.active(store)
    assert not [ln for ln in gs(repo, "uninstall").out.splitlines() if "watcher" in ln]
