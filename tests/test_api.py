"""The Python API on a plain directory (no git anywhere), with an explicit store."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from datetime import timezone
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import build
from storehelpers import diff
from storehelpers import pack_bytes
from storehelpers import scan

import git_snapshot
from git_snapshot import BackupInfo
from git_snapshot import clean_old_backups
from git_snapshot import create_backup
from git_snapshot import list_backups
from git_snapshot import restore_backup
from git_snapshot import verify_backup
from git_snapshot.errors import UserError
from git_snapshot.store import Store


def _data() -> D:
    return D(
        {
            b"config.ini": F(b"[main]\nkey = value\n", 0o600),
            b"data": D({b"rows.csv": F(b"1,2,3\n" * 100), b"blob.bin": F(os.urandom(4000))}),
            b"run.sh": F(b"#!/bin/sh\necho hi\n", 0o755),
            b"current": L(b"data/rows.csv"),
            b"empty": D(),
        }
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    build(d, _data())
    return d


@pytest.fixture
def api_store(tmp_path: Path) -> Path:
    """An explicit store, not the one GIT_SNAPSHOT_STORE names (which must stay empty)."""
    return tmp_path / "api-store"


def test_public_names() -> None:
    assert git_snapshot.create_backup is create_backup
    assert set(git_snapshot.__all__) >= {
        "BackupInfo",
        "VerifyResult",
        "clean_old_backups",
        "create_backup",
        "list_backups",
        "restore_backup",
        "verify_backup",
    }


def test_create_and_list(data: Path, api_store: Path, store_dir: Path) -> None:
    before = datetime.now(timezone.utc)
    info = create_backup("my-data", data, store=api_store, message="before migration")
    assert isinstance(info, BackupInfo)
    assert (info.id, info.name, info.message, info.skipped) == (1, "my-data", "before migration", 0)
    assert info.file_count == 5  # files and the link
    assert info.size == sum(len(v.data) for v in scan(data).values() if v.kind == "file")
    assert info.added_bytes > 4000  # the random blob does not compress
    assert info.created.tzinfo is not None
    assert before.timestamp() - 1 <= info.created.timestamp() <= before.timestamp() + 60

    (data / "config.ini").write_text("[main]\nkey = other\n")
    second = create_backup("my-data", str(data), store=str(api_store))
    other = create_backup("other", data / "data", store=api_store)
    assert (second.id, other.id) == (2, 1)
    assert second.added_bytes < info.added_bytes

    assert [(b.name, b.id) for b in list_backups("my-data", store=api_store)] == [
        ("my-data", 1),
        ("my-data", 2),
    ]
    assert sorted((b.name, b.id) for b in list_backups(store=api_store)) == [
        ("my-data", 1),
        ("my-data", 2),
        ("other", 1),
    ]
    assert list_backups("nobody", store=api_store) == []
    assert os.listdir(store_dir) == [], "the store in the environment was used"


def test_store_from_the_environment(data: Path, store_dir: Path) -> None:
    info = create_backup("env", data)
    assert (store_dir / "index.sqlite").exists()
    assert [b.id for b in list_backups("env")] == [info.id]


def test_verify(data: Path, api_store: Path) -> None:
    # above the group limit (store/packs.py): a frame of its own, so the damage below is its alone
    (data / "data" / "blob.bin").write_bytes(os.urandom(300_000))
    create_backup("my-data", data, store=api_store)
    create_backup("other", data / "data", store=api_store)
    assert verify_backup(store=api_store).valid
    ok = verify_backup("my-data", 1, store=api_store)
    assert (ok.valid, ok.error) == (True, None)
    assert verify_backup("my-data", "latest", store=api_store, read_data=False).valid
    with pytest.raises(UserError):
        verify_backup(backup_id=1, store=api_store)
    with pytest.raises(UserError):
        verify_backup("my-data", 7, store=api_store)

    with Store(api_store) as s:
        key = next(e.ref for rel, e in s.walk(s.get("my-data", 1).root) if rel == b"data/blob.bin")
        loc = s.index.locate(key)
    assert loc is not None
    with open(api_store / "packs" / loc.pack, "r+b") as f:
        f.seek(loc.offset + loc.length // 2)
        byte = f.read(1)
        f.seek(loc.offset + loc.length // 2)
        f.write(bytes([byte[0] ^ 1]))
    bad = verify_backup("my-data", store=api_store)
    assert not bad.valid and bad.error is not None
    assert bad.error.startswith("my-data snapshot 1: data/blob.bin: ")
    assert len(bad.error.splitlines()) == 1
    assert not verify_backup(store=api_store).valid  # other/blob.bin shares the blob
    assert verify_backup("my-data", read_data=False, store=api_store).valid  # sizes still fit


def test_restore(data: Path, api_store: Path, tmp_path: Path) -> None:
    want = scan(data)
    info = create_backup("my-data", data, store=api_store)
    shutil.rmtree(data / "data")
    (data / "config.ini").write_text("clobbered")
    (data / "junk").write_text("new file")

    restore_backup("my-data", info.id, data, store=api_store)
    got = scan(data)
    assert got[b"junk"].data == b"new file"  # delete=False keeps extras
    del got[b"junk"]
    assert diff(want, got) == []

    restore_backup("my-data", "latest", data, store=api_store, delete=True)
    assert diff(want, scan(data)) == []

    (data / "config.ini").write_text("clobbered again")
    (data / "data" / "rows.csv").write_text("clobbered too")
    restore_backup("my-data", 1, data, paths=["config.ini"], store=api_store)
    assert (data / "config.ini").read_bytes() == want[b"config.ini"].data
    assert (data / "data" / "rows.csv").read_text() == "clobbered too"

    elsewhere = tmp_path / "elsewhere"
    restore_backup("my-data", 1, elsewhere, store=api_store)
    assert diff(want, scan(elsewhere)) == []

    with pytest.raises(UserError):
        restore_backup("my-data", 9, elsewhere, store=api_store)
    with pytest.raises(UserError):
        restore_backup("nobody", 1, elsewhere, store=api_store)
    with pytest.raises(UserError):
        restore_backup("my-data", 1, elsewhere, paths=["not/there"], store=api_store)


def test_restore_returns_the_files_written(data: Path, api_store: Path, tmp_path: Path) -> None:
    create_backup("my-data", data, store=api_store)
    # 4 files and 1 symlink, in 2 directories
    assert restore_backup("my-data", 1, tmp_path / "fresh", store=api_store) == 5


def test_restore_counts_what_it_wrote(data: Path, api_store: Path) -> None:
    create_backup("my-data", data, store=api_store)
    assert restore_backup("my-data", 1, data, store=api_store) == 0  # all in place
    (data / "run.sh").write_text("changed")
    (data / "config.ini").unlink()
    assert restore_backup("my-data", 1, data, store=api_store) == 2


def test_clean_old_backups(data: Path, api_store: Path, tmp_path: Path) -> None:
    contents = {}
    for _ in range(4):
        (data / "data" / "blob.bin").write_bytes(os.urandom(200_000))
        info = create_backup("my-data", data, store=api_store)
        contents[info.id] = scan(data)
    create_backup("other", data / "data", store=api_store)
    size = pack_bytes(api_store)

    assert clean_old_backups(2, "my-data", store=api_store) == 2
    assert [b.id for b in list_backups("my-data", store=api_store)] == [3, 4]
    assert pack_bytes(api_store) < size - 300_000
    assert clean_old_backups(2, "my-data", store=api_store) == 0
    assert verify_backup(store=api_store).valid
    for i in (3, 4):
        out = tmp_path / f"r{i}"
        restore_backup("my-data", i, out, store=api_store)
        assert diff(contents[i], scan(out)) == []

    create_backup("other", data / "data", store=api_store)
    assert clean_old_backups(1, store=api_store) == 2  # every name: my-data 3, other 1
    assert [(b.name, b.id) for b in list_backups(store=api_store)] == [("my-data", 4), ("other", 2)]
    for bad in (0, -1):
        with pytest.raises(UserError):
            clean_old_backups(bad, store=api_store)


def test_errors_are_user_errors(tmp_path: Path, api_store: Path) -> None:
    with pytest.raises(UserError):
        create_backup("x", tmp_path / "missing", store=api_store)
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError):
        create_backup("x", tmp_path / "file", store=api_store)
    with pytest.raises(UserError):
        restore_backup("x", 1, tmp_path / "out", store=api_store)
    with pytest.raises(UserError):
        restore_backup("x", "newest", tmp_path / "out", store=api_store)
