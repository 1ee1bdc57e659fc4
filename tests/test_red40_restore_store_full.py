"""RED40 B F4: a restore in place whose pre-restore snapshot cannot be written (the store's
disk is full) was refused, rightly (nothing was written, the unsaved edit stayed), with the
line ``create`` prints: "cannot write to the snapshot store ...: its disk is full; nothing was
stored ...". It did not say that the restore did not happen, nor why, nor offer ``--to DIR``,
which writes nothing into the store. On a real, filled ext4 (tests/fullfs.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from fullfs import fill
from fullfs import store_on_small_fs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.mark.parametrize("paths", [("notes.txt",), ()])
def test_a_refused_restore_in_place_says_nothing_was_restored_and_offers_to(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paths: tuple[str, ...]
) -> None:
    put_venv_on_path(monkeypatch)
    with store_on_small_fs(tmp_path / "fs", monkeypatch, size_mib=16) as store:
        install(repo)
        write(repo / "notes.txt", b"v1\n")
        gs(repo, "-m", "s1")
        fill(store.parent)
        gs(repo, "-m", "uses the reserve", rc=None)  # (may give up the store's reserve)
        unsaved = os.urandom(300_000)
        write(repo / "notes.txt", unsaved)
        ran = gs(repo, "restore", "1", *paths, rc=1)
        assert (repo / "notes.txt").read_bytes() == unsaved  # nothing written
        assert len(ran.err.splitlines()) == 1, ran.err
        line = ran.err
        assert "restore not done" in line, line
        assert "pre-restore snapshot" in line and "is full" in line, line
        assert "nothing was stored" not in line, line
        assert "--to DIR" in line, line
        # what it offers works on the full disk
        out = tmp_path / "out"
        gs(repo, "restore", "1", *paths, "--to", str(out))
        assert (out / "notes.txt").read_bytes() == b"v1\n"
