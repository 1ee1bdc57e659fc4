"""The Python API restores as safely as the command line, orders by id, and turns every bad
argument or damaged index into a UserError."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import diff
from storehelpers import scan

from git_snapshot import clean_old_backups
from git_snapshot import create_backup
from git_snapshot import list_backups
from git_snapshot import restore_backup
from git_snapshot import verify_backup
from git_snapshot.errors import UserError


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    build(d, D({b"keep.txt": F(b"keep\n"), b"d1": D({b"x": F(b"x1\n")}), b"d": D()}))
    return d


@pytest.fixture
def api_store(tmp_path: Path) -> Path:
    return tmp_path / "api-store"


# -- #6: a pre-restore backup first ---------------------------------------------------------


def test_restore_with_delete_first_saves_what_it_deletes(data: Path, api_store: Path) -> None:
    """Observed: restore_backup(..., delete=True) deleted a file that no snapshot held."""
    create_backup("data", data, store=api_store)
    (data / "precious.txt").write_text("written after the backup\n")
    restore_backup("data", 1, data, store=api_store, delete=True)
    assert not (data / "precious.txt").exists()
    backups = list_backups("data", store=api_store)
    assert [b.id for b in backups] == [1, 2]
    assert backups[1].message == "before restoring backup 1"
    restore_backup("data", 2, data, store=api_store)
    assert (data / "precious.txt").read_text() == "written after the backup\n"


def test_restore_never_deletes_what_the_pre_restore_backup_could_not_save(
    data: Path, api_store: Path
) -> None:
    create_backup("data", data, store=api_store)
    os.mkfifo(data / "a-fifo")  # special files are skipped by every backup
    cache = data / "build-cache"  # so are cache directories
    (cache / "CACHEDIR.TAG").parent.mkdir()
    (cache / "CACHEDIR.TAG").write_bytes(b"Signature: 8a477f597d28d172789f06886806bc55\n")
    (cache / "object.o").write_bytes(b"\0" * 100)
    (data / "keep.txt").write_text("edited\n")
    restore_backup("data", 1, data, store=api_store, delete=True)
    assert (data / "a-fifo").exists() and (cache / "object.o").exists()
    assert (data / "keep.txt").read_text() == "keep\n"
    safety = list_backups("data", store=api_store)[-1]
    assert safety.skipped == 2  # both named in the pre-restore backup as not saved


def test_latest_is_never_a_pre_restore_backup(data: Path, api_store: Path) -> None:
    create_backup("data", data, store=api_store)
    (data / "keep.txt").write_text("second\n")
    create_backup("data", data, store=api_store)
    (data / "keep.txt").write_text("scratch\n")
    restore_backup("data", 1, data, store=api_store)  # takes backup 3: "scratch"
    assert (data / "keep.txt").read_text() == "keep\n"
    restore_backup("data", "latest", data, store=api_store)  # still backup 2
    assert (data / "keep.txt").read_text() == "second\n"
    assert verify_backup("data", "latest", store=api_store).valid


def test_restore_into_a_new_directory_takes_no_backup(data: Path, api_store: Path) -> None:
    create_backup("data", data, store=api_store)
    out = data.parent / "fresh"
    assert restore_backup("data", 1, out, store=api_store) == 2
    assert diff(scan(data), scan(out)) == []
    assert [b.id for b in list_backups(store=api_store)] == [1]


# -- #6: the id orders backups, never the clock ---------------------------------------------


def test_order_is_the_id_never_the_clock(
    data: Path, api_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Observed: with the clock ahead, `latest` picked an older backup."""
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 30 * 86400)  # a clock a month ahead
    first = create_backup("data", data, store=api_store, message="clock ahead")
    monkeypatch.setattr(time, "time", real)  # the clock put right
    (data / "keep.txt").write_text("newer\n")
    second = create_backup("data", data, store=api_store, message="clock right")
    assert first.created > second.created  # out of order on the clock
    assert [b.id for b in list_backups("data", store=api_store)] == [first.id, second.id]
    out = data.parent / "out"
    restore_backup("data", "latest", out, store=api_store)
    assert (out / "keep.txt").read_text() == "newer\n"
    assert clean_old_backups(1, "data", store=api_store) == 1
    assert [b.message for b in list_backups("data", store=api_store)] == ["clock right"]


# -- #9: bad arguments are UserErrors -------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        (create_backup, {"name": None}),
        (create_backup, {"name": ""}),
        (create_backup, {"name": 3}),
        (create_backup, {"message": None}),
        (create_backup, {"source_path": None}),
        (create_backup, {"name": "bad\udcff"}),
        (list_backups, {"name": 5}),
        (verify_backup, {"name": "data", "backup_id": 1.5}),
        (verify_backup, {"name": "data", "read_data": "yes"}),
        (restore_backup, {"name": None}),
        (restore_backup, {"backup_id": None}),
        (restore_backup, {"backup_id": 1.0}),
        (restore_backup, {"backup_id": [1]}),
        (restore_backup, {"backup_id": True}),
        (restore_backup, {"paths": 7}),
        (restore_backup, {"paths": [None]}),
        (restore_backup, {"delete": "yes"}),
        (restore_backup, {"target": None}),
        (clean_old_backups, {"keep": "2"}),
        (clean_old_backups, {"keep": 2.0}),
        (clean_old_backups, {"keep": None}),
        (clean_old_backups, {"keep": 2, "name": 4}),
    ],
)
def test_bad_arguments_are_user_errors(
    data: Path, api_store: Path, call: Any, kwargs: dict[str, Any]
) -> None:
    create_backup("data", data, store=api_store)
    defaults: dict[str, dict[str, Any]] = {
        "create_backup": {"name": "data", "source_path": data},
        "list_backups": {},
        "verify_backup": {},
        "restore_backup": {"name": "data", "backup_id": 1, "target": data.parent / "out"},
        "clean_old_backups": {"keep": 1},
    }
    args = {**defaults[call.__name__], **kwargs, "store": api_store}
    with pytest.raises(UserError):
        call(**args)
    assert [b.id for b in list_backups(store=api_store)] == [1]  # nothing happened


def test_a_string_of_paths_is_one_path(data: Path, api_store: Path) -> None:
    """Observed: paths="d1" restored "d" and "1", two characters."""
    create_backup("data", data, store=api_store)
    out = data.parent / "out"
    assert restore_backup("data", 1, out, paths="d1", store=api_store) == 1
    assert (out / "d1" / "x").read_text() == "x1\n"
    assert not (out / "d").exists() and not (out / "keep.txt").exists()
    restore_backup("data", "1", data.parent / "out2", paths=Path("d1"), store=api_store)  # type: ignore[arg-type]
    assert (data.parent / "out2" / "d1" / "x").exists()


def test_a_damaged_index_is_a_user_error_naming_repair(data: Path, api_store: Path) -> None:
    create_backup("data", data, store=api_store)
    db = sqlite3.connect(api_store / "index.sqlite")
    db.execute("DROP TABLE snapshots")  # a garbled index SQLite itself still opens
    db.commit()
    db.close()
    with pytest.raises(UserError, match="git snapshot repair") as err:
        list_backups(store=api_store)
    assert str(api_store / "index.sqlite") in str(err.value)
    with pytest.raises(UserError, match="git snapshot repair"):
        restore_backup("data", 1, data.parent / "out", store=api_store)
