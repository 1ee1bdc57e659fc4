"""RED34 A4: the user's own edit, saved by a watch snapshot, then any folder deleted within
the burst window: the folder's deletion opened a burst that took in the edit's overwrite and
reported it "overwritten" from the snapshot before, with a restore command (and an undo)
putting the old version back over the user's work. A real daemon, real inotify."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from test_red34_watch_bursts import _named
from test_red34_watch_bursts import _recorded
from test_red34_watch_bursts import _saved
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import make_repo
from test_watch_daemon import settled
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


@pytest.mark.slow
def test_a_saved_edit_then_a_folder_removed_is_no_overwrite(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """The edit is the user's and the watcher saved it: only build/out.o was lost."""
    repo = make_repo(tmp_path)
    (repo / "build").mkdir()
    (repo / "build" / "out.o").write_text("obj\n")
    (repo / "notes.txt").write_text("old draft\n")
    add(watcher.store, repo)
    watcher.start()
    watcher.watching(repo)
    first = settled(watcher, repo)
    (repo / "notes.txt").write_text("my new paragraph\n")
    saved = _saved(watcher, repo, first)
    subprocess.run(["rm", "-rf", "build"], cwd=repo, check=True)  # within burstSeconds (5)
    entries = _recorded(watcher, repo)
    assert _named(entries) == [("build/out.o", saved.id)], entries
    gs(repo, "undo")
    assert (repo / "notes.txt").read_text() == "my new paragraph\n"
    assert (repo / "build" / "out.o").read_text() == "obj\n"
