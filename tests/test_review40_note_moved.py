"""review40 RC2: the note a stopped merge leaves in .git named its store by the store folder's
device and inode (RED40 C2). The same store with another inode (restored from a backup, moved
to another disk) or another device number (a FUSE or network mount mounted again, a USB disk
plugged in as another device, after a reboot) was taken for another store's: the note was
left, and the loss the merge caused was reported by no process at all. The note now names
the snapshot itself (its number and when it was taken), which a copy of the store keeps."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from clihelpers import git
from clihelpers import gs
from test_red40_note_store import PENDING
from test_red40_note_store import stopped as stopped  # the fixture


def test_a_store_restored_from_a_backup_still_reports_the_stopped_merge(
    stopped: tuple[Path, Path],
) -> None:
    repo, _ = stopped
    git(repo, "merge", "--abort")
    store = Path(os.environ["GIT_SNAPSHOT_STORE"])
    backup = store.with_name(store.name + ".backup")
    shutil.copytree(store, backup, symlinks=True)  # a new inode, as a restore gives
    shutil.rmtree(store)
    backup.rename(store)
    (rep,) = gs(repo, "list").reports
    assert (rep.what, rep.names) == ("git merge", ".env")
    gs(repo, *rep.command[2:])
    assert (repo / ".env").read_bytes() == b"SECRET=mine\n"
    assert not (repo / PENDING).exists()


def test_a_store_made_anew_in_its_place_leaves_the_note(stopped: tuple[Path, Path]) -> None:
    """Its numbers start again: its snapshot of the note's number is another one."""
    repo, _ = stopped
    git(repo, "merge", "--abort")
    store = Path(os.environ["GIT_SNAPSHOT_STORE"])
    shutil.rmtree(store)
    for i in range(5):
        gs(repo, "create", "-m", f"new {i}")
    assert gs(repo, "list").reports == []
    assert (repo / PENDING).exists()
