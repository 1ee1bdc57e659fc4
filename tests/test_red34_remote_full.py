"""RED34 (minor): a full ``file://`` remote said "remote .../rem: packs/...: No space left on
device" and no next step; it now says to free space there (or prune the remote) and run the
command again, and that what arrived is kept."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from git_snapshot.store.backend import BackendError
from git_snapshot.store.backend_file import FileBackend


def test_a_full_remote_disk_names_the_next_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = FileBackend(f"file://{tmp_path}/rem")

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(BackendError) as got:
        backend.put("packs/" + "a" * 32, b"x" * 100)
    message = str(got.value)
    assert "No space left on device" in message and "free space" in message, message
    assert "run it again" in message, message
    assert not os.listdir(tmp_path / "rem" / ".tmp")  # nothing half-written kept
