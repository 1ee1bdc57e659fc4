"""RED34 A4: the user's own edit, saved by a watch snapshot, then any folder deleted within
the burst window: the folder's deletion opened a burst that took in the edit's overwrite and
reported it "overwritten" from the snapshot before, with a restore command (and an undo)
putting the old version back over the user's work. A real daemon, real inotify."""

from __future__ import annotations

import os
import subprocess
import time
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


@pytest.mark.slow
def test_a_path_deleted_again_is_named_from_the_snapshot_before_its_last_deletion(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """A symlink replaced by a real folder (`rm data; mv data.real data`), saved, then
    `rm -rf data` within burstSeconds: the symlink's deletion, taken into the burst, timed
    `data` by its first deletion, so the entry named `data` from the snapshot holding the
    symlink, and undo would have put the symlink back. What went is the folder."""
    repo = make_repo(tmp_path)
    (repo / "other").mkdir()
    (repo / "other" / "o.txt").write_text("o\n")
    real = repo / "data.real"
    real.mkdir()
    for i in range(3):
        (real / f"f{i}").write_text(f"d{i}\n")
    os.symlink("other", repo / "data")
    time.sleep(2.5)  # settled: the first snapshot's walk finds no folder changing
    add(watcher.store, repo)
    watcher.start()
    watcher.watching(repo)
    first = settled(watcher, repo)
    (repo / "data").unlink()
    real.rename(repo / "data")
    saved = _saved(watcher, repo, first)
    subprocess.run(["rm", "-rf", "data"], cwd=repo, check=True)  # within burstSeconds (5)
    entries = _recorded(watcher, repo)
    assert _named(entries) == [(f"data/f{i}", saved.id) for i in range(3)], entries
    gs(repo, "undo")
    assert not (repo / "data").is_symlink()
    assert (repo / "data" / "f0").read_text() == "d0\n"
