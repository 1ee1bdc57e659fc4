"""Red team (session 31, D6): a watched repository renamed (`mv proj proj-renamed`).

The root's watch says IN_MOVE_SELF, not IN_DELETE_SELF, but the daemon took both for "gone":
it fed the root's deletion as a burst and recorded "the repository ... was deleted whole",
held for the next hook of every worktree (the first hook in the renamed repository printed
it, with a restore command), while every file was there at the new place. A worktree whose
top folder still lives elsewhere (the daemon holds it open) has moved: no loss is recorded,
the log says where it went, and it is watched at its new path."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def _held(store_dir: Path, repo: Path) -> str:
    out = ""
    for p in (store_dir / "losses" / "unseen", repo / ".git" / "git-snapshot-unseen"):
        if p.exists():
            out += p.read_text()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("what", ["itself", "its parent"])
def test_a_moved_worktree_is_no_loss_and_is_watched_at_its_new_path(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    what: str,
) -> None:
    config(burstSeconds=1)
    parent = tmp_path / "projects"
    parent.mkdir()
    repo = make_repo(parent, "proj")
    (repo / ".env").write_text("SECRET=1\n")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    wait_for(lambda: [s for s in watch_snaps(repo) if ".env" in paths_in(s)], what=".env saved")
    if what == "itself":
        new = Path(os.path.realpath(parent)) / "proj-renamed"
        os.rename(repo, new)
    else:
        os.rename(parent, tmp_path / "code")
        new = Path(os.path.realpath(tmp_path)) / "code" / "proj"
    wait_for(lambda: "moved to" in watcher.log(), timeout=60, what="the move logged")
    watcher.watching(new)
    time.sleep(2)  # (a burst's window, and its recording)
    assert json.loads(gs(new, "losses", "--json")) == []
    assert "deleted" not in _held(store_dir, new), _held(store_dir, new)
    assert str(repo) not in watcher.status().get("missing", [])
    (new / "notes.txt").write_text("after the move\n")
    wait_for(
        lambda: [s for s in watch_snaps(new) if "notes.txt" in paths_in(s)],
        timeout=30,
        what="an edit at the new path saved",
    )
