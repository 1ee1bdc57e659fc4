"""RED38 A1: with the watcher running, folders the dirty set has no mark for are taken as
unchanged, and changes no inotify event names were missed by every snapshot (hooks, `git
snapshot create`, the watcher's own) for as long as the watcher ran:

- A1a: two names of one file inside the worktree, in two folders: an edit through one name
  marked only its folder. A folder holding a file with other names is never taken as
  unchanged now.
- A1b: a file with a second name outside the worktree, edited through it; a write through a
  shared memory map. The watcher now lstat's its folders' entries again at a slow rotation and
  marks a folder whose entries changed.
- A1c: a worktree on a file system outside walker.TRUSTED_FS (FUSE here; NFS, 9p, cifs, overlay
  alike): a change made on the other side raises no event. Such a worktree is walked as without
  the watcher now, and `watch status` says why.

A real daemon, real inotify, an mmap writer in a subprocess, a bindfs mount (skipped without
it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
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


MMAP_WRITER = """
import mmap, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[:6] = b"MAPPED"
    m.flush()
    m.close()
"""


@pytest.mark.slow
def test_a_second_name_outside_and_a_mapped_write_are_seen_within_the_check(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """RED38 A1b: no event names them; the watcher's check of its folders' entries (every
    watchDeepScan seconds at most, 300 at most) finds their new ctime and marks the folder,
    so a snapshot after it holds them (it used to be missed until the watcher stopped)."""
    config(watchDeepScan=1)
    repo = make_repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "notes.txt").write_text("version one\n")
    (repo / "data.bin").write_bytes(b"a" * 4096)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    settled(watcher, repo)
    os.link(repo / "notes.txt", outside / "notes.txt")  # no event in the worktree
    (outside / "notes.txt").write_text("version 2, longer\n")
    subprocess.run([sys.executable, "-c", MMAP_WRITER, str(repo / "data.bin")], check=True)
    assert (repo / "data.bin").read_bytes()[:6] == b"MAPPED"
    deadline = time.monotonic() + 20

    def taken() -> bool:
        _created(repo, "again")
        got = (_held(repo, "notes.txt"), _held(repo, "data.bin")[:6])
        return got == ("version 2, longer\n", "MAPPED") or time.monotonic() > deadline

    wait_for(taken, timeout=40, what="a snapshot holding both changes")
    assert _held(repo, "notes.txt") == "version 2, longer\n"
    assert _held(repo, "data.bin")[:6] == "MAPPED"


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
