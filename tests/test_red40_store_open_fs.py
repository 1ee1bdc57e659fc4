"""RED40 C5: a store on a file system that ignores chmod (FAT, exFAT and NTFS disks, many
network and FUSE mounts) keeps every file readable by every user of the machine: the store's
chmod 0700 "succeeded" and nothing said otherwise, while small contents sit in the clear in its
packs. Now the first snapshot of a worktree there, and doctor, say so in one line (the store
checks the mode it got with one stat). It is said, not refused: the user chose that disk, and
a refusal would stop every hook's snapshot, the protection itself.

Such a file system is simulated with bindfs --perms=a+rX --chmod-ignore (FUSE)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import gs

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("bindfs") is None or not os.path.exists("/dev/fuse"),
    reason="needs bindfs and FUSE (as root)",
)

SAID = "other users of this machine"


@pytest.fixture
def open_mount(tmp_path: Path) -> Iterator[Path]:
    """A folder where chmod is ignored and everything is readable by all."""
    real, mnt = tmp_path / "real", tmp_path / "mnt"
    real.mkdir()
    mnt.mkdir()
    subprocess.run(["bindfs", "--perms=a+rX", "--chmod-ignore", str(real), str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["fusermount", "-u", str(mnt)], check=False)


def test_a_store_on_a_file_system_that_ignores_chmod_is_said_open_to_others(
    repo: Path, open_mount: Path
) -> None:
    store = open_mount / "store"
    (repo / ".env").write_text("SECRET=hunter2\n")
    first = gs(repo, GIT_SNAPSHOT_STORE=str(store))
    said = [ln for ln in first.ours if SAID in ln]
    assert len(said) == 1 and str(store) in said[0], first.err
    assert "0755" in said[0] and "GIT_SNAPSHOT_STORE" in said[0], said
    again = gs(repo, GIT_SNAPSHOT_STORE=str(store)).err
    assert SAID not in again  # said once, by the snapshot that made the store
    doctor = gs(repo, "doctor", rc=None, GIT_SNAPSHOT_STORE=str(store)).out
    assert any(ln.startswith("store:") and SAID in ln for ln in doctor.splitlines()), doctor


def test_a_private_store_says_nothing_of_it(repo: Path, store_dir: Path) -> None:
    assert SAID not in gs(repo).err
    assert SAID not in gs(repo, "doctor", rc=None).out
