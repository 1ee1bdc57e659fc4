"""A real, small file system that tests can fill to the last byte: an ext4 image, loop-mounted
under the test's temp dir (needs root and a loop device, as in CI). Where it cannot be had, the
test is skipped with the reason (this module holds no tests).

    with small_fs(tmp_path) as mnt:
        ...                      # put a store in mnt, take snapshots
        fill(mnt)                # 100 % full: the next write of a block fails with ENOSPC
        fill(mnt, leave=8192)    # a few KiB free
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FILLER = "filler"


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=60)


@contextmanager
def small_fs(where: Path, size_mib: int = 64, root_reserve: bool = False) -> Iterator[Path]:
    """A fresh ext4 file system of *size_mib* MiB mounted at ``where/mnt`` (no blocks kept
    for root: full means full for everyone; with *root_reserve*, mkfs's default 5 %);
    unmounted and removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("a full-disk test loop-mounts a small file system: that needs root")
    for tool in ("mkfs.ext4", "mount", "umount"):
        if shutil.which(tool) is None:
            pytest.skip(f"a full-disk test needs {tool} (e2fsprogs, mount)")
    where.mkdir(parents=True, exist_ok=True)
    image, mnt = where / "disk.img", where / "mnt"
    with open(image, "wb") as f:
        f.truncate(size_mib << 20)
    made = _run("mkfs.ext4", "-q", "-F", *([] if root_reserve else ["-m", "0"]), str(image))
    if made.returncode != 0:
        pytest.skip(f"cannot make an ext4 image: {made.stderr.strip()}")
    mnt.mkdir()
    mounted = _run("mount", "-o", "loop", str(image), str(mnt))
    if mounted.returncode != 0:
        pytest.skip(f"cannot loop-mount a file system here: {mounted.stderr.strip()}")
    try:
        yield mnt
    finally:
        if _run("umount", str(mnt)).returncode != 0:
            _run("umount", "-l", str(mnt))  # still busy (a child left behind): detach it
        with contextlib.suppress(OSError):
            image.unlink()


@contextmanager
def store_on_small_fs(
    where: Path, monkeypatch: pytest.MonkeyPatch, size_mib: int = 64
) -> Iterator[Path]:
    """GIT_SNAPSHOT_STORE (not made yet) on a :func:`small_fs` of its own."""
    with small_fs(where, size_mib) as mnt:
        store = mnt / "store"
        monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(store))
        yield store


def free_bytes(path: Path) -> int:
    fs = os.statvfs(path)
    return fs.f_bavail * fs.f_frsize


def fill(mnt: Path, leave: int = 0) -> Path:
    """Fill the file system until writes fail, then give back *leave* bytes (rounded to
    blocks by the file system). Returns the filler file (delete it to free the space)."""
    filler = mnt / FILLER
    with open(filler, "ab") as f:
        for chunk in (1 << 20, 1 << 16, 4096, 512, 1):  # big writes first, then the crumbs
            block = b"\xa5" * chunk
            while _wrote(f.fileno(), block):
                pass
        os.fsync(f.fileno())
        if leave:
            f.truncate(max(0, os.fstat(f.fileno()).st_size - leave))
            os.fsync(f.fileno())
    return filler


def _wrote(fd: int, block: bytes) -> bool:
    try:
        os.write(fd, block)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        return False
    return True


def unfill(mnt: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (mnt / FILLER).unlink()
