"""RED34 A (note): `git clean -fdx` of a settled tree, seen by the watcher: the loss entry and
`git snapshot undo` left out an empty untracked folder, which the snapshot holds (the hooks'
reports name such folders: losses.find). A real daemon, real inotify."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from clihelpers import gs
from test_red34_watch_bursts import _recorded
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import make_repo
from test_watch_daemon import settled
from test_watch_daemon import wait_held
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot import lossrecord

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


@pytest.mark.slow
def test_git_clean_of_an_empty_folder_is_named_and_undone(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path)
    (repo / "junk").mkdir()
    for i in range(3):
        (repo / "junk" / f"j{i}.txt").write_text(f"junk {i}\n")
    (repo / "emptydir").mkdir()
    time.sleep(2.5)  # settled: the first snapshot's walk finds no folder changing
    add(watcher.store, repo)
    watcher.start()
    watcher.watching(repo)
    saved = settled(watcher, repo)
    subprocess.run(["git", "clean", "-fdxq"], cwd=repo, check=True)
    assert not (repo / "emptydir").exists()
    # (held before the next git-snapshot command prints it: _recorded's runs one)
    wait_held(repo / ".git" / lossrecord.UNSEEN, "3 files, 1 folder (emptydir, junk/j0.txt")
    entries = _recorded(watcher, repo)
    named = sorted((x["path"], e["snapshot"]) for e in entries for x in e["lost"])
    assert ("emptydir", saved.id) in named, entries
    assert next(x for e in entries for x in e["lost"] if x["path"] == "emptydir")["type"] == "dir"
    gs(repo, "undo")
    assert (repo / "emptydir").is_dir()
    assert (repo / "junk" / "j0.txt").read_text() == "junk 0\n"
