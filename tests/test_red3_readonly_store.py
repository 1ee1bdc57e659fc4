"""Red team (session 9): a store whose file system went read-only (ext4 remounts itself
read-only on errors; a backup disk mounted ro) cannot even be read in place (its lock and its
index's journal are written). Every command then says so in one true line, with the way to
the data (a copy on a writable disk), never 'cannot create the snapshot store' for a store
that is there; and the copy it names reads fine."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import gs


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.skip("a read-only store is a read-only bind mount: that needs root")
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    try:
        ro = subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=False)
        if ro.returncode != 0:
            pytest.skip("cannot remount a bind mount read-only here")
        yield
    finally:
        subprocess.run(["umount", str(path)], check=False)


def test_a_read_only_store_says_so_and_its_copy_reads(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    (repo / "notes.txt").write_text("my notes\n")
    gs(repo, "create")
    with _read_only(store_dir):
        for args in (("list",), ("cat", "1", "notes.txt"), ("restore", "1", "--to", "../out")):
            ran = gs(repo, *args, rc=1)
            assert len(ran.err_lines) == 1, ran.err
            assert "cannot create" not in ran.err, ran.err
            assert "read-only" in ran.err and "cp -a" in ran.err, ran.err
        copy = tmp_path / "copy"
        words = shlex.split(ran.err.split("(cp -a ", 1)[1].split(")", 1)[0])  # STORE DIR
        assert words == [str(store_dir), "DIR"], words
        shutil.copytree(store_dir, copy, symlinks=True)
    assert gs(repo, "cat", "1", "notes.txt", GIT_SNAPSHOT_STORE=str(copy)) == "my notes\n"
