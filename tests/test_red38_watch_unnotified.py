"""RED38 A1b: with the watcher running, a change no event names (a file with a second name
outside the worktree, edited through it; a write through a shared memory map) was missed by
every snapshot for as long as the watcher ran. The watcher now lstat's its folders' entries
again at a slow rotation and marks a folder whose entries changed. A real daemon, real
inotify, an mmap writer in a subprocess."""

from __future__ import annotations

import os
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
