"""RED38 A1a: with the watcher running, two names of one file inside the worktree, in two
folders: an edit through one name marked only its folder, and the other name kept its old bytes
in every snapshot (hooks, `git snapshot create`, the watcher's own) for as long as the watcher
ran. A folder holding a file with other names is never taken as unchanged now. A real daemon,
real inotify."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import make_repo
from test_watch_daemon import settled
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def _held(repo: Path, rel: str) -> str:
    return gs(repo, "cat", "latest", rel).out


def _created(repo: Path, message: str) -> None:
    gs(repo, "create", "-m", message)


@pytest.mark.slow
def test_hard_links_inside_the_worktree(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """RED38 A1a: a folder holding a file with other names is never taken as unchanged,
    whether the names were there when watching began or made while it watches."""
    repo = make_repo(tmp_path)
    (repo / "build").mkdir()
    (repo / "cfg").mkdir()
    (repo / "src" / "app.cfg").write_text("config v1\n")
    os.link(repo / "src" / "app.cfg", repo / "build" / "app.cfg")  # before the watcher
    (repo / "src" / "late.cfg").write_text("late v1\n")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    settled(watcher, repo)
    # a second name made while it watches: only cfg/ has an event, src/late.cfg none
    os.link(repo / "src" / "late.cfg", repo / "cfg" / "late.cfg")
    _created(repo, "linked")
    assert _held(repo, "cfg/late.cfg") == "late v1\n"
    (repo / "src" / "app.cfg").write_text("config version 2!!\n")  # an event in src/ only
    (repo / "cfg" / "late.cfg").write_text("late version 2!!\n")  # an event in cfg/ only
    _created(repo, "two")
    assert _held(repo, "src/app.cfg") == "config version 2!!\n"
    assert _held(repo, "build/app.cfg") == "config version 2!!\n"
    assert _held(repo, "cfg/late.cfg") == "late version 2!!\n"
    assert _held(repo, "src/late.cfg") == "late version 2!!\n"
    # and once more, after a snapshot took them (a folder stays listed while it holds one)
    (repo / "build" / "app.cfg").write_text("config three\n")
    _created(repo, "three")
    assert _held(repo, "src/app.cfg") == "config three\n"
