"""What each per-file step of a restore costs: create+write+close alone, then with futimens,
fchmod, an lstat before, a temp name and rename, and the whole careful sequence (docs/FORMAT.md,
Restore). Run: python bench/restore_costs.py [DIR] (default: a temp dir on /dev/shm)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

N = 20_000
DATA = b"x" * 9000
NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

Step = Callable[[int, bytes], None]


def plain(d: int, n: bytes) -> None:
    fd = os.open(n, NEW, 0o644, dir_fd=d)
    os.write(fd, DATA)
    os.close(fd)


def utime(d: int, n: bytes) -> None:
    fd = os.open(n, NEW, 0o644, dir_fd=d)
    os.write(fd, DATA)
    os.utime(fd, ns=(1, 1))
    os.close(fd)


def fchmod(d: int, n: bytes) -> None:
    fd = os.open(n, NEW, 0o644, dir_fd=d)
    os.write(fd, DATA)
    os.fchmod(fd, 0o644)
    os.utime(fd, ns=(1, 1))
    os.close(fd)


def lstat(d: int, n: bytes) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.stat(n, dir_fd=d, follow_symlinks=False)
    utime(d, n)


def rename(d: int, n: bytes) -> None:
    t = b".gsnap-tmp-" + secrets.token_hex(6).encode() + b"-" + n
    fd = os.open(t, NEW, 0o600, dir_fd=d)
    os.write(fd, DATA)
    os.utime(fd, ns=(1, 1))
    os.rename(t, n, src_dir_fd=d, dst_dir_fd=d)
    os.close(fd)


def careful(d: int, n: bytes) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.stat(n, dir_fd=d, follow_symlinks=False)
    t = b".gsnap-tmp-" + secrets.token_hex(6).encode() + b"-" + n
    fd = os.open(t, NEW, 0o600, dir_fd=d)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.fstat(fd)
    os.write(fd, DATA)
    os.ftruncate(fd, len(DATA))
    os.fchmod(fd, 0o644)
    os.utime(fd, ns=(1, 1))
    os.rename(t, n, src_dir_fd=d, dst_dir_fd=d)
    os.close(fd)


def fsync(d: int, n: bytes) -> None:
    fd = os.open(n, NEW, 0o644, dir_fd=d)
    os.write(fd, DATA)
    os.utime(fd, ns=(1, 1))
    os.fsync(fd)
    os.close(fd)


STEPS: dict[str, Step] = {
    "create+write+close": plain,
    "+futimens": utime,
    "+fchmod": fchmod,
    "+lstat before": lstat,
    "+temp name, rename": rename,
    "careful (all of it)": careful,
    "+fsync": fsync,
}


def once(base: str, step: Step) -> float:
    d = tempfile.mkdtemp(dir=base)
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        start = time.perf_counter()
        for i in range(N):
            step(fd, b"f%06d" % i)
        return (time.perf_counter() - start) / N * 1e6
    finally:
        os.close(fd)
        shutil.rmtree(d)


def main() -> None:
    base = tempfile.mkdtemp(dir=sys.argv[1] if len(sys.argv) > 1 else "/dev/shm")
    try:
        times: dict[str, list[float]] = {k: [] for k in STEPS}
        for _ in range(5):  # interleaved rounds: a shared machine drifts
            for name, step in STEPS.items():
                times[name].append(once(base, step))
        first = statistics.median(times["create+write+close"])
        for name, got in times.items():
            med = statistics.median(got)
            print(f"{name:22s} {med:7.1f} us/file  {med - first:+7.1f}")
    finally:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
