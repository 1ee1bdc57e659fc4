"""RED40 E1 in the API: restore_backup takes a pre-restore backup first, as the command does,
and likewise replaces or deletes only what that backup holds as it is on disk: a file saved
by another process after that backup was taken is left as it is and named (Unwritable);
called again, the restore saves it first, then writes."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from git_snapshot import api
from git_snapshot import create_backup
from git_snapshot import list_backups
from git_snapshot import restore_backup
from git_snapshot.store.restorer import Unwritable

SAVED = "saved by the editor after the pre-restore backup\n"


def test_restore_backup_keeps_a_save_made_after_its_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "a.txt").write_text("a old\n")
    (folder / "b.txt").write_text("b old\n")
    first = create_backup("work", folder)
    (folder / "a.txt").write_text("a edit\n")
    (folder / "b.txt").write_text("b edit\n")
    real = api._pre_restore

    def pre_restore(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        script = f"printf '%s' '{SAVED}' > .a.swp && mv .a.swp a.txt"
        subprocess.run(["sh", "-c", script], cwd=folder, check=True)
        return out

    monkeypatch.setattr(api, "_pre_restore", pre_restore)
    with pytest.raises(Unwritable) as caught:
        restore_backup("work", first.id, folder)
    assert "a.txt (changed while the restore ran: run it again)" in str(caught.value)
    assert (folder / "a.txt").read_text() == SAVED
    assert (folder / "b.txt").read_text() == "b old\n"
    monkeypatch.setattr(api, "_pre_restore", real)
    restore_backup("work", first.id, folder)
    assert (folder / "a.txt").read_text() == "a old\n"
    assert len(list_backups("work")) == 3  # the first, and each run's pre-restore backup
