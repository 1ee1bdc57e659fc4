"""RED35 R1: the note of what a stopped restore wrote survives a repair.

A restore in place that stopped part way (a full disk, Ctrl-C) notes in its pre-restore
snapshot's restore record which paths it wrote (restored.wrote, RED34 R1): a git command that
then destroys a path it never reached is compared with the pre-restore snapshot, which holds
the user's edit. The note was written into the index row only; ``git snapshot repair``
rebuilds the index from the packs' records, and an index rebuilt without the old one (lost,
damaged) brought back the record as taken: the checkout named the restore's source for the
edits, and undo wrote the source's bytes. Now the note is a record of its own in the packs.

Real git, the plain hooks installed as a user installs them; the restore stopped as in
test_red34_stopped_record.py.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import snaps
from storehelpers import entry_of
from test_red34_stopped_record import BOTH
from test_red34_stopped_record import FILES
from test_red34_stopped_record import _full
from test_red34_stopped_record import _interrupt
from test_red34_stopped_record import _lines
from test_red34_stopped_record import _name
from test_red34_stopped_record import _names
from test_red34_stopped_record import _stop_at
from test_red34_stopped_record import prepared
from test_red34_stopped_record import stopped  # noqa: F401 (the fixture)

from git_snapshot import create_backup
from git_snapshot import list_backups
from git_snapshot import restore_backup
from git_snapshot.cli import main
from git_snapshot.store import Store
from git_snapshot.store.restorer import Damaged
from git_snapshot.store.restorer import Stopped

Ran = tuple[Path, int, int, list[int], list[int]]


def _index_gone(store_dir: Path, how: str) -> None:
    """The index as *how* says: lost (deleted), damaged (garbage), or kept."""
    index = store_dir / "index.sqlite"
    if how == "kept":
        return
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    if how == "damaged":
        index.write_bytes(b"not a database, " * 512)


def _named_right(r: Path, s: int, p: int, done: list[int], left: list[int]) -> None:
    """A checkout -f names the edits the restore never reached with P, the rest with S, and
    undo puts the edits back."""
    ran = git(r, "checkout", "-f", "-q", "HEAD")
    assert all((r / _name(i)).read_text() == f"committed {i}\n" for i in range(len(done + left)))
    assert _lines(ran) == sorted([p, s]), ran.err
    assert _names(r) == {p: {_name(i) for i in left}, s: {_name(i) for i in done}}
    gs(r, "undo")
    for i in left:
        assert (r / _name(i)).read_bytes() == f"edited {i}\n".encode(), i
    for i in done:
        assert (r / _name(i)).read_bytes() == f"in S {i}\n".encode(), i


def _ids(r: Path) -> list[tuple[int, str]]:
    return [(s["id"], s["trigger"]) for s in json.loads(gs(r, "list", "--json").out)]


@BOTH
@pytest.mark.parametrize("index", ["lost", "damaged", "kept"])
def test_a_checkout_after_a_repair_names_the_edits_with_the_pre_restore_snapshot(
    stopped: Ran,  # noqa: F811
    store_dir: Path,
    index: str,
) -> None:
    r, s, p, done, left = stopped
    listed = _ids(r)
    _index_gone(store_dir, index)
    out = gs(r, "repair").out
    assert "forgotten" not in out and "renumbered" not in out, out
    assert _ids(r) == listed  # the same snapshots, numbers and all
    _named_right(r, s, p, done, left)


@BOTH
def test_the_note_survives_a_gc_and_then_a_repair(
    stopped: Ran,  # noqa: F811
    store_dir: Path,
) -> None:
    """gc keeps the note's record (the row names it) and its tombstone, drops the record as
    taken; an index rebuilt from the packs after that still has the note."""
    r, s, p, done, left = stopped
    gs(r, "prune", "--keep-last", "100")  # a gc, nothing forgotten
    _index_gone(store_dir, "lost")
    gs(r, "repair")
    git(r, "checkout", "-f", "-q", "HEAD")
    assert _names(r) == {p: {_name(i) for i in left}, s: {_name(i) for i in done}}
    gs(r, "restore", str(p), *[_name(i) for i in left])
    for i in left:
        assert (r / _name(i)).read_bytes() == f"edited {i}\n".encode(), i


@pytest.fixture
def killed(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, int, int, list[int], list[int], list[Path]]:
    """A restore stopped by a full disk (as *stopped*) whose note's pack is on disk while its
    index transaction never came, as a kill between the two leaves it (here the transaction
    failed and so did the row's, and the command removed the pack, which is put back; a
    real kill: tests/test_red36_restore_note_kill.py).
    Returns the worktree, S, P, the files restored and left, and the pack so left."""
    from git_snapshot.store.index import Index

    s = prepared(repo, monkeypatch)
    packs = Path(os.environ["GIT_SNAPSHOT_STORE"]) / "packs"
    aside = repo.parent / "aside"
    aside.mkdir()

    def restate(self: Index, snap: Any, meta: Any, record: bytes, made: Any) -> bool:
        for p in made:
            shutil.copy2(packs / p.name, aside / p.name)
        raise sqlite3.OperationalError("database is locked")  # (no full disk: no retry)

    real = Index.restate
    monkeypatch.setattr(Index, "restate", restate)
    off = _stop_at(monkeypatch, _full)
    rc = main(["-C", str(repo), "restore", str(s)])
    off()
    monkeypatch.setattr(Index, "restate", real)
    assert rc != 0, capsys.readouterr().err
    left_packs = [packs / p.name for p in aside.iterdir()]
    assert len(left_packs) == 1 and not left_packs[0].exists()
    shutil.copy2(aside / left_packs[0].name, left_packs[0])
    p = snaps(repo)[-1]["id"]
    done = [i for i in range(FILES) if (repo / _name(i)).read_text() == f"in S {i}\n"]
    left = [i for i in range(FILES) if (repo / _name(i)).read_text() == f"edited {i}\n"]
    assert done and left and len(done) + len(left) == FILES, (done, left)
    return repo, s, p, done, left, left_packs


def test_a_note_killed_before_the_index_took_it_is_completed_by_a_repair(
    killed: tuple[Path, int, int, list[int], list[int], list[Path]],
) -> None:
    """The index (readable) lists the snapshot under its record as taken: the repair enters
    the pack holding the record given anew and gives the row that record, as the transaction
    would have (RED36 B1; removed, its note was lost; entered as a snapshot of its own, it
    was a second snapshot 2, renumbered 3)."""
    r, s, p, done, left, packs = killed
    listed = _ids(r)
    out = gs(r, "repair").out
    assert "completed 1 restore's note" in out, out
    assert "renumbered" not in out and "forgotten" not in out and "recovered" not in out, out
    assert packs[0].exists()
    assert _ids(r) == listed
    gs(r, "repair")  # and the next one has nothing to say of it
    assert _ids(r) == listed
    git(r, "checkout", "-f", "-q", "HEAD")
    assert _names(r) == {p: {_name(i) for i in left}, s: {_name(i) for i in done}}


def test_a_note_killed_before_the_index_took_it_counts_without_the_index(
    killed: tuple[Path, int, int, list[int], list[int], list[Path]], store_dir: Path
) -> None:
    """No index to say the note never took effect: the packs say what the restore wrote."""
    r, s, p, done, left, _ = killed
    listed = _ids(r)
    _index_gone(store_dir, "lost")
    out = gs(r, "repair").out
    assert "renumbered" not in out and "forgotten" not in out, out
    assert _ids(r) == listed
    _named_right(r, s, p, done, left)


# RED35 R2: the API's restore_backup in place, stopped part way: it noted nothing of what it
# wrote, and its Stopped line named no backup (the command's names its pre-restore snapshot)


def _data(tmp_path: Path) -> tuple[Path, int]:
    """A folder backed up as "data" (S: "in S"), then edited: returns it and S."""
    data = tmp_path / "data"
    data.mkdir()
    for i in range(FILES):
        (data / _name(i)).write_text(f"in S {i}\n")
    s = create_backup("data", data).id
    for i in range(FILES):
        (data / _name(i)).write_text(f"edited {i}\n")
    return data, s


def _wrote(store_dir: Path, backup: int) -> set[str] | None:
    """The files the note of pre-restore backup *backup* says its restore wrote."""
    with Store(store_dir) as st:
        (snap,) = [x for x in st.snapshots("data") if x.id == backup]
        note = snap.meta.get("restore", {}).get("wrote")
    return None if note is None else set(note["written"])


def _split(data: Path) -> tuple[set[str], set[str]]:
    done = {_name(i) for i in range(FILES) if (data / _name(i)).read_text() == f"in S {i}\n"}
    left = {_name(i) for i in range(FILES) if (data / _name(i)).read_text() == f"edited {i}\n"}
    assert done and left and len(done) + len(left) == FILES, (done, left)
    return done, left


def test_restore_backup_stopped_by_a_full_disk_names_and_notes_its_pre_restore_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_dir: Path
) -> None:
    data, s = _data(tmp_path)
    off = _stop_at(monkeypatch, _full)
    with pytest.raises(Stopped) as got:
        restore_backup("data", s, data)
    off()
    p = list_backups("data")[-1].id
    assert p != s
    assert str(got.value).endswith(f"; what was there before is in backup {p}"), got.value
    done, _ = _split(data)
    assert _wrote(store_dir, p) == done
    out = tmp_path / "out"
    restore_backup("data", p, out)  # the backup named holds the edits
    for i in range(FILES):
        assert (out / _name(i)).read_bytes() == f"edited {i}\n".encode(), i


def test_restore_backup_run_again_after_a_full_disk_names_the_first_runs_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, s = _data(tmp_path)
    off = _stop_at(monkeypatch, _full)
    with pytest.raises(Stopped):
        restore_backup("data", s, data)
    off()
    first = list_backups("data")[-1].id
    off = _stop_at(monkeypatch, _full)
    with pytest.raises(Stopped) as got:
        restore_backup("data", s, data)
    off()
    second = list_backups("data")[-1]
    assert second.id != first and second.message == f"before restoring backup {s} again"
    assert str(got.value).endswith(f"; what was there before is in backup {first}"), got.value
    restore_backup("data", s, data)  # the disk has room again: finished
    assert all((data / _name(i)).read_text() == f"in S {i}\n" for i in range(FILES))


def test_restore_backup_interrupted_notes_what_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_dir: Path
) -> None:
    data, s = _data(tmp_path)
    off = _stop_at(monkeypatch, _interrupt)
    with pytest.raises(KeyboardInterrupt):
        restore_backup("data", s, data)
    off()
    p = list_backups("data")[-1].id
    done, _ = _split(data)
    assert _wrote(store_dir, p) == done


def test_restore_backup_leaving_a_damaged_file_notes_what_it_wrote(
    tmp_path: Path, store_dir: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for i in range(1, FILES):
        (data / _name(i)).write_text(f"in S {i}\n")
    create_backup("data", data)
    (data / _name(0)).write_text("in S 0\n")  # its blob alone in the pack of S
    s = create_backup("data", data).id
    with Store(store_dir) as st:
        (snap,) = [x for x in st.snapshots("data") if x.id == s]
        loc = st.index.locate(entry_of(st, snap, _name(0).encode()).ref)
    assert loc is not None
    pack = store_dir / "packs" / loc.pack
    raw = bytearray(pack.read_bytes())
    for at in range(loc.offset, loc.offset + loc.length):
        raw[at] ^= 0x55
    pack.write_bytes(bytes(raw))
    for i in range(FILES):
        (data / _name(i)).write_text(f"edited {i}\n")
    with pytest.raises(Damaged):
        restore_backup("data", s, data)
    assert (data / _name(0)).read_text() == "edited 0\n"
    p = list_backups("data")[-1].id
    assert _wrote(store_dir, p) == {_name(i) for i in range(1, FILES)}
