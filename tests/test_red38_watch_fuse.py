"""RED38 A1c: a worktree on a file system outside walker.TRUSTED_FS (FUSE here; NFS, 9p, cifs,
overlay alike): a change made on the other side raises no event, and with the watcher running
every snapshot kept the old bytes. Such a worktree is walked as without the watcher now, and
`watch status` says why. A real daemon, real inotify, a bindfs mount (skipped without it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
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


def _created(repo: Path, message: str) -> None:
    gs(repo, "create", "-m", message)


def _fuse_ok() -> bool:
    return shutil.which("bindfs") is not None and os.path.exists("/dev/fuse")


@pytest.mark.slow
@pytest.mark.skipif(not _fuse_ok(), reason="needs bindfs and /dev/fuse (apt-get install bindfs)")
def test_a_worktree_on_fuse_gets_no_dirty_set_trust(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """RED38 A1c: a change made on the other side of a FUSE mount raises no event: a worktree
    there is walked by every snapshot as without the watcher, and `watch status` says why."""
    under, mnt = tmp_path / "under", tmp_path / "mnt"
    under.mkdir()
    mnt.mkdir()
    got = subprocess.run(["bindfs", "--no-allow-other", str(under), str(mnt)], check=False)
    if got.returncode != 0:
        pytest.skip("bindfs could not mount here")
    try:
        repo = make_repo(mnt)
        (repo / "notes.txt").write_text("draft one\n")
        add(store_dir, repo)
        watcher.start()
        watcher.watching(repo)
        settled(watcher, repo)
        (under / "wt" / "notes.txt").write_text("draft two, written on the other side\n")
        _created(repo, "two")
        assert _held(repo, "notes.txt") == "draft two, written on the other side\n"
        line = wait_for(
            lambda: next(
                (ln for ln in gs(repo, "watch", "status").out.splitlines() if "fuse" in ln), None
            ),
            what="watch status naming the file system",
        )
        assert "walked" in line, line
    finally:
        watcher.stop()
        subprocess.run(["fusermount", "-u", "-z", str(mnt)], check=False)
