"""RED39 E1: a watched worktree replaced at its path (the folder above it swapped for a
backup copy: `mv code code.old; mv code.bak code`; or the worktree's own folder swapped while
the watcher lags) stayed "watched" through the folders moved away: no event comes from the
folder now at the path, yet hooks trusted the dirty set and said "unchanged since snapshot
1" while the edits sat on disk, and a checkout -f then destroyed them unreported.

A snapshot now compares the top folder's (st_dev, st_ino) with the one the watcher set up
(one stat) and walks when they differ; the watcher sets the worktree at the path up again.
A real daemon, real inotify, hooks installed as a user installs them."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import make_repo
from test_watch_daemon import settled
from test_watch_daemon import wait_for
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def _held(repo: Path, rel: str) -> str:
    return gs(repo, "cat", "latest", rel).out


@pytest.mark.slow
@pytest.mark.parametrize("what", ["its parent", "itself, the watcher held"])
def test_a_worktree_swapped_for_a_copy_is_walked_and_set_up_again(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    what: str,
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    repo = make_repo(code, "proj")
    add(store_dir, repo)
    proc = watcher.start()
    watcher.watching(repo)
    gs(repo, "install")  # its hooks (the watcher runs already)
    (repo / "notes.txt").write_text("before\n")
    settled(watcher, repo)
    if what == "its parent":
        shutil.copytree(code, tmp_path / "code.bak", symlinks=True)
        os.rename(code, tmp_path / "code.old")
        os.rename(tmp_path / "code.bak", code)
    else:
        shutil.copytree(repo, code / "proj.bak", symlinks=True)
        os.kill(proc.pid, signal.SIGSTOP)  # busy: it reads the root's move after both
        try:
            os.rename(repo, code / "proj.old")
            os.rename(code / "proj.bak", repo)
        finally:
            os.kill(proc.pid, signal.SIGCONT)
    (repo / "src" / "main.py").write_text("precious edit\n")
    git(repo, "checkout", "-q", "-b", "topic")  # a hook's snapshot
    assert _held(repo, "src/main.py") == "precious edit\n"
    # and the watcher watches the folder at the path now: an edit there is seen
    wait_for(lambda: "replaced" in watcher.log(), what="the replacement logged")
    watcher.watching(repo)
    (repo / "src" / "later.py").write_text("seen by the watcher\n")
    wait_for(
        lambda: gs(repo, "cat", "latest", "src/later.py", rc=None).out == "seen by the watcher\n",
        timeout=30,
        what="a watch snapshot of an edit in the folder at the path",
    )
    (repo / "src" / "main.py").write_text("edit two\n")
    git(repo, "checkout", "-q", "-b", "topic2")
    assert _held(repo, "src/main.py") == "edit two\n"
