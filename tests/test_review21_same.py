"""One rule for "a restore of this entry would leave the file on disk as it is": ``restore``
(which skips such a file and counts it unchanged) and ``restore --newest`` (which passes over
a snapshot holding every PATH so: restoring from it would change nothing) ask the same
question. They were two copies that disagreed on the mode: ``--newest`` compared the disk's
mode with the stored one whole, set-id bits and all, while restore never writes a set-id or
sticky bit (FORMAT.md: a file gets ``mode & 0o777``). A snapshot that held a file as
``4755`` beside a worktree holding the same bytes as ``755`` was taken by ``--newest``, and
its restore changed nothing ("1 unchanged") while an older snapshot held other bytes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import put_venv_on_path

from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import digest
from git_snapshot.store.restorer import holds
from git_snapshot.store.restorer import left_as_is
from git_snapshot.store.restorer import read_at


@pytest.fixture(autouse=True)
def _path(monkeypatch: pytest.MonkeyPatch) -> None:
    put_venv_on_path(monkeypatch)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_newest_passes_over_a_snapshot_whose_restore_changes_nothing(repo: Path) -> None:
    f = repo / "tool.sh"
    f.write_bytes(b"#!/bin/sh\necho old\n")
    f.chmod(0o755)
    gs(repo)  # 1: the version the user wants back
    f.write_bytes(b"#!/bin/sh\necho new\n")
    f.chmod(0o4755)
    gs(repo)  # 2: the same bytes as now, with a set-id bit restore never writes
    f.chmod(0o755)
    ran = gs(repo, "restore", "--newest", "tool.sh")
    assert f.read_bytes() == b"#!/bin/sh\necho old\n", ran.out
    assert "from snapshot 1 " in ran.out, ran.out
    assert _mode(f) == 0o755


def test_newest_takes_a_snapshot_whose_restore_changes_the_mode(repo: Path) -> None:
    """Both agree the other way too: a mode bit restore does write (x) is a change."""
    f = repo / "run.sh"
    f.write_bytes(b"#!/bin/sh\n")
    f.chmod(0o644)
    gs(repo)  # 1
    f.chmod(0o755)
    gs(repo)  # 2
    f.chmod(0o644)
    ran = gs(repo, "restore", "--newest", "run.sh")
    assert "from snapshot 2 " in ran.out, ran.out
    assert _mode(f) == 0o755


def test_restore_counts_the_same_file_as_newest_does(repo: Path) -> None:
    """``restore`` of the set-id snapshot: the file without its set-id bit is left as it is
    and named (restore never writes the bit: RED32 B5 says so, not "unchanged"); the file
    with it is the snapshot's: unchanged, its bit not taken away."""
    f = repo / "tool.sh"
    f.write_bytes(b"#!/bin/sh\n")
    f.chmod(0o4755)
    gs(repo)  # 1
    f.chmod(0o755)
    ran = gs(repo, "restore", "1", "tool.sh")
    assert "left off the set-uid/set-gid bits of 1 path(s)" in ran.out, ran.out
    assert "restored 0 entries" in ran.out and "(0 unchanged)" in ran.out, ran.out
    assert _mode(f) == 0o755
    f.chmod(0o4755)
    ran = gs(repo, "restore", "1", "tool.sh")
    assert "(1 unchanged)" in ran.out and "left off" not in ran.out, ran.out
    assert _mode(f) == 0o4755


def _entry(kind: int, data: bytes, mode: int = 0o644) -> Entry:
    ref = data if kind == SYMLINK else digest(data)
    return Entry(kind=kind, mode=mode, size=len(data), mtime_ns=0, name=b"f", ref=ref)


def test_the_size_is_compared_before_anything_is_read(tmp_path: Path) -> None:
    """A file of another size is not the entry's, with no read of its bytes (a big file's
    hash is seconds); the same size is read and told apart by its content."""
    f = tmp_path / "f"
    f.write_bytes(b"abcd")

    def never(name: bytes, st: os.stat_result, dir_fd: int | None) -> bytes:
        raise AssertionError("read although the sizes differ")

    st = f.lstat()
    name = os.fsencode(f)
    assert not holds(_entry(FILE, b"abcde"), st, name, None, never)
    assert not holds(_entry(FILE, b"abce"), st, name, None, read_at)
    assert holds(_entry(FILE, b"abcd"), st, name, None, read_at)


def test_left_as_is_takes_the_mode_restore_writes(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x")
    os.chmod(f, 0o755)

    def at(p: Path) -> tuple[os.stat_result, bytes]:
        return p.lstat(), os.fsencode(p)

    assert left_as_is(_entry(FILE, b"x", 0o4755), *at(f), read_at)
    assert not left_as_is(_entry(FILE, b"x", 0o644), *at(f), read_at)
    os.chmod(f, 0o4755)  # the snapshot's own bits, already there: not taken away (RED32 B5)
    assert left_as_is(_entry(FILE, b"x", 0o4755), *at(f), read_at)
    link = tmp_path / "l"
    link.symlink_to("f")
    assert left_as_is(_entry(SYMLINK, b"f", 0o777), *at(link), read_at)
    assert not left_as_is(_entry(SYMLINK, b"f", 0o777), *at(f), read_at)
    assert not left_as_is(_entry(SYMLINK, b"g", 0o777), *at(link), read_at)


def test_export_writes_the_mode_restore_writes(repo: Path, tmp_path: Path) -> None:
    """export's tar members take restorer.restored_mode too (no set-id bit: it was its own
    'e.mode & 0o777')."""
    import tarfile

    f = repo / "tool.sh"
    f.write_bytes(b"#!/bin/sh\n")
    f.chmod(0o4755)
    gs(repo)
    gs(repo, "export", "latest", str(tmp_path / "out.tar"))
    with tarfile.open(tmp_path / "out.tar") as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("tool.sh"))
    assert member.mode == 0o755
