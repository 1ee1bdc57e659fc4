"""RED32 B5: restore dropped the sticky bit, and set-gid on folders, without a word, and a dry
run (or a named restore) called such a path unchanged while ``diff`` said its mode differed.
Now: the sticky bit is kept (it only narrows who may delete), so is set-gid on a folder others
cannot write into (it only sets the group of what is made there: no privilege at exec);
set-uid anywhere, set-gid on a file (and on a folder anyone may write into) are still left
off, as DESIGN asks of untrusted input, and said, never counted unchanged."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from clihelpers import gs


@pytest.fixture
def modes(repo: Path) -> Path:
    for name, mode in (("suid", 0o4755), ("sgid", 0o2755), ("sticky", 0o1644)):
        (repo / name).write_text(name)
        (repo / name).chmod(mode)
    for name, mode in (("shared", 0o2775), ("tmpdir", 0o1777), ("open", 0o2777)):
        (repo / name).mkdir()
        (repo / name).chmod(mode)
    gs(repo)
    return repo


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def test_sticky_and_shared_folder_kept_setid_files_said(modes: Path) -> None:
    for name in ("suid", "sgid", "sticky"):
        os.unlink(modes / name)
    for name in ("shared", "tmpdir", "open"):
        os.rmdir(modes / name)
    r = gs(modes, "restore", "1")
    assert _mode(modes / "sticky") == 0o1644
    assert _mode(modes / "tmpdir") == 0o1777
    assert _mode(modes / "shared") == 0o2775
    assert _mode(modes / "suid") == 0o755
    assert _mode(modes / "sgid") == 0o755
    assert _mode(modes / "open") == 0o777  # set-gid on a folder anyone may write into: off
    said = [line for line in r.out.splitlines() if "set-uid/set-gid" in line]
    assert len(said) == 1, r.out
    for name in ("suid", "sgid", "open"):
        assert name in said[0]
    assert "sticky" not in said[0] and "shared" not in said[0]


def test_dry_run_and_named_restore_do_not_call_them_unchanged(modes: Path) -> None:
    (modes / "suid").chmod(0o755)  # as a restore left it
    r = gs(modes, "restore", "1", "suid", "--dry-run")
    assert "(1 unchanged)" not in r.out, r.out
    assert "set-uid/set-gid" in r.out and "suid" in r.out
    r = gs(modes, "restore", "1", "suid")
    assert "(1 unchanged)" not in r.out, r.out
    assert "set-uid/set-gid" in r.out and "suid" in r.out
    got = json.loads(gs(modes, "restore", "1", "--dry-run", "--json").out)
    assert sorted(got["setid_left_off"]) == ["suid"]


def test_set_id_bits_there_already_are_left_alone(modes: Path) -> None:
    """The worktree as the snapshot holds it: nothing to do, and no chmod clears the bits."""
    os.utime(modes / "suid", ns=(0, 0))  # its mtime alone differs: only the mtime is set
    r = gs(modes, "restore", "1")
    assert "set-uid/set-gid" not in r.out, r.out
    assert _mode(modes / "suid") == 0o4755
    assert _mode(modes / "sgid") == 0o2755
    assert _mode(modes / "open") == 0o2777
