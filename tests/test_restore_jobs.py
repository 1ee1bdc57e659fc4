"""The jobs a full restore hands its writers (session 46: 32 folders, 256 files and 48 KB of
names a job -> 128, 1024 and 192 KB, 0.05-0.07 s less on M): the largest one still fits one
message to a writer process, with its folders' descriptors in one SCM_RIGHTS, and a tree of
many such jobs comes back byte for byte, by writer processes and by writer threads."""

from __future__ import annotations

import marshal
import os
import resource
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import Node
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import restore_write
from git_snapshot.store import restorer
from git_snapshot.store.records import LATEST

SCM_MAX_FD = 253  # the kernel's limit of descriptors in one SCM_RIGHTS message


def test_the_largest_job_fits_one_message_and_one_scm_rights() -> None:
    """Every field at its widest: JOB_FILES files (a location each, all of them shared), their
    names and keys JOB_BYTES plus the one item that may overshoot it (a name of 255 bytes, a
    link target of 4095), the latest mtime, offsets past 4 GiB, descriptors numbered up to
    JOB_DIRS."""
    n = restorer.JOB_FILES
    over = 255 + 4095
    each = (restorer.JOB_BYTES + over) // n + 1  # bytes of name and key per file
    pack = "0" * 64  # longer than any pack's name (32 hex digits)
    mtime = int(LATEST) * 10**9
    work = [
        (
            restore_write.JOB_DIRS - 1,
            b"n" * (each - 32),
            0o100755,
            mtime,
            os.urandom(32),
            (pack, 1 << 40, 1 << 30, 1 << 30, 1 << 20),
        )
        for _ in range(n)
    ]
    held = [w[4] for w in work]
    msg = marshal.dumps((work, held), restore_write._MARSHAL)
    assert len(msg) <= restore_write.MESSAGE
    assert restore_write.JOB_DIRS <= SCM_MAX_FD


def _tree() -> D:
    """More folders and files than two jobs hold, with symlinks, modes and mtimes (files' and
    folders'), names of every length up to 255 bytes."""
    folders: dict[bytes, Node] = {}
    t = 1_500_000_000_000_000_000
    for i in range(2 * restore_write.JOB_DIRS + 9):
        files: dict[bytes, Node] = {}
        for j in range(i % 13):
            name = b"f%03d-%d-" % (i, j) + b"x" * ((i * 7 + j * 31) % 240)
            files[name] = F(b"%d %d\n" % (i, j) * (j + 1), 0o755 if j % 3 else 0o644, t + j)
        if i % 5 == 0:
            files[b"link"] = L(b"../d%03d/f" % (i + 1), t + 7)
        if i % 7 == 0:
            files[b"sub"] = D({b"deep": F(b"deep %d" % i, 0o600, t + 3)}, 0o700, t + 11)
        folders[b"d%03d" % i] = D(files, 0o750 if i % 2 else 0o755, t + i)
    folders[b"big"] = D(
        {b"g%05d" % k: F(b"%d" % (k % 97), 0o644, t + k) for k in range(restorer.JOB_FILES + 77)},
        0o755,
        t,
    )
    return D(folders)


@pytest.mark.parametrize("processes", [False, True])
def test_many_jobs_restore_byte_exact(store: Store, tmp_path: Path, processes: bool) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    snap = take(store, "s", src)
    report = restore(store, snap, tmp_path / "out", threads=2, processes=processes)
    want = scan(src)
    assert diff(want, scan(tmp_path / "out")) == []
    files = sorted(p for p, s in want.items() if s.kind != "dir")
    assert report.files == len(files)
    assert sorted(report.created) == sorted(want)
    assert report.damaged == [] and report.unwritable == []


@pytest.mark.parametrize("processes", [False, True])
def test_the_folders_open_at_once_stay_within_the_limit_of_open_files(
    store: Store, tmp_path: Path, processes: bool
) -> None:
    """Each folder stays open until its last job is taken: jobs of 128 folders, 3 per writer
    in flight, held 893 open at once in M's restore, past a soft limit of 512 (1024, the
    usual one, with 4 writers): a restore stopped by EMFILE. A job now takes at most half
    the limit's share of the jobs in flight (restorer._job_dirs)."""
    src = tmp_path / "src"
    t = 1_500_000_000_000_000_000
    build(
        src,
        D({b"d%04d" % i: D({b"f": F(b"%d\n" % i, 0o644, t)}, 0o755, t) for i in range(1500)}),
    )
    snap = take(store, "s", src)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
    try:
        report = restore(store, snap, tmp_path / "out", threads=2, processes=processes)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert diff(scan(src), scan(tmp_path / "out")) == []
    assert report.files == 1500


def test_a_job_takes_its_share_of_the_limit_of_open_files(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = {1024: 73, 512: 36, 64: 8, 20000: restore_write.JOB_DIRS}
    for soft, most in limits.items():
        monkeypatch.setattr(resource, "getrlimit", lambda _, s=soft: (s, resource.RLIM_INFINITY))
        assert restorer._job_dirs(6) == most
    monkeypatch.setattr(resource, "getrlimit", lambda _: (resource.RLIM_INFINITY,) * 2)
    assert restorer._job_dirs(6) == restore_write.JOB_DIRS
