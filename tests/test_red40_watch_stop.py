"""RED40 D5: `git snapshot watch stop` stopped the watcher until the next git command, and
said only "stopped the watcher (pid N)": the next hook started it again, silently. Its line
now says which holds (a hook starts it again, or GIT_SNAPSHOT_WATCH=0 keeps it off) and how
to keep it off; what it says is what the next hook does.

Real git, the plain hooks installed as a user installs them, a real daemon (stopped after).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path

from git_snapshot.watch import instance


@pytest.fixture
def watched(repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """*repo* with the hooks installed and the watcher running (stopped at the end)."""
    put_venv_on_path(monkeypatch)  # the hooks start the daemon by the venv's program
    install(repo)
    gs(repo, "watch")
    assert instance.running(str(store_dir)) is not None
    yield repo
    gs(repo, "watch", "stop", GIT_SNAPSHOT_WATCH="0")


def _runs_within(store_dir: Path, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if instance.running(str(store_dir)) is not None:
            return True
        time.sleep(0.1)
    return False


def test_watch_stop_says_the_next_hook_starts_it_and_how_to_keep_it_off(
    watched: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GIT_SNAPSHOT_WATCH")  # as a user's shell: hooks start the watcher
    (line,) = gs(watched, "watch", "stop").out.splitlines()
    assert line.startswith("stopped the watcher (pid "), line
    assert "the next git command with a hook starts it again" in line, line
    assert "GIT_SNAPSHOT_WATCH=0" in line, line
    assert instance.running(str(store_dir)) is None
    git(watched, "checkout", "-q", "-b", "x")  # what the line said: it is back
    assert _runs_within(store_dir, 10), "no hook started the watcher again"


def test_watch_stop_says_it_stays_off_while_GIT_SNAPSHOT_WATCH_is_0(
    watched: Path, store_dir: Path
) -> None:
    (line,) = gs(watched, "watch", "stop").out.splitlines()
    assert line.startswith("stopped the watcher (pid "), line
    assert "hooks do not start it while GIT_SNAPSHOT_WATCH=0" in line, line
    git(watched, "checkout", "-q", "-b", "x")
    assert not _runs_within(store_dir, 1), "a hook started the watcher"
