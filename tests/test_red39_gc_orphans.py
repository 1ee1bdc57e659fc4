"""RED39 A1: a snapshot killed (SIGKILL, OOM, a power cut) after its record pack reached packs/
but before its index row. gc kept that pack "for repair", and prune said `git snapshot repair`
brings the snapshot back, but gc counted as live nothing the record names: once the older
snapshots sharing its files were forgotten, gc deleted those files' contents, and repair
brought back a hollow snapshot (49 of 51 files "have no intact copy left"; verify failed on
every run after). DESIGN: prune and gc never delete what a rebuilt index would reference.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

from git_snapshot.store import Store
from git_snapshot.store.gc import plan
from git_snapshot.store.objects import RECORD
from git_snapshot.store.packs import PackWriter
from git_snapshot.store.packs import scan_pack

FILES = 50

# the snapshot is killed in the window: its packs are in packs/, its index row is not
KILLED = """
import os, sys
from git_snapshot.store import index
index.Index.add_snapshot = lambda *a, **k: os.kill(os.getpid(), 9)
from git_snapshot.cli import main
sys.exit(main(["-m", "killed"]))
"""


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    install(repo)
    for i in range(1, FILES + 1):
        write(repo / "d" / str(i), f"old {i}\n".encode())
    gs(repo, "-m", "base")
    return repo


def _killed_snapshot(repo: Path) -> None:
    """``git snapshot -m killed`` SIGKILLed just before its index row."""
    write(repo / "d" / "1", b"changed\n")
    ran = subprocess.run([sys.executable, "-c", KILLED], cwd=repo, check=False)
    assert ran.returncode == -9


def _orphans(store_dir: Path) -> set[str]:
    with Store(store_dir) as store:
        return set(store.pack_names()) - {n for n, _ in store.index.gc_packs().values()}


def _go_on(repo: Path) -> str:
    """The user goes on: every file changes, a new snapshot, the old one forgotten, prune."""
    for i in range(1, FILES + 1):
        write(repo / "d" / str(i), f"new {i}\n".encode())
    gs(repo, "-m", "new")
    gs(repo, "forget", "1")
    return gs(repo, "prune").out


def _repaired_whole(repo: Path, tmp_path: Path) -> None:
    """repair brings the killed snapshot back whole: verify is clean, restore gives every
    file as it was when it was taken."""
    ran = gs(repo, "repair")
    assert "no intact copy" not in ran.out + ran.err, ran
    (snap,) = [s for s in json.loads(gs(repo, "list", "--json").out) if s["message"] == "killed"]
    gs(repo, "verify")
    out = tmp_path / "out"
    gs(repo, "restore", str(snap["id"]), "--to", str(out))
    assert (out / "d" / "1").read_bytes() == b"changed\n"
    for i in range(2, FILES + 1):
        assert (out / "d" / str(i)).read_bytes() == f"old {i}\n".encode()


def test_gc_keeps_what_a_killed_snapshots_record_names(
    hooked: Path, store_dir: Path, tmp_path: Path
) -> None:
    _killed_snapshot(hooked)
    (kept,) = _orphans(store_dir)
    said = _go_on(hooked)
    assert "git snapshot repair" in said, said
    assert _orphans(store_dir) == {kept}
    _repaired_whole(hooked, tmp_path)


def test_gc_keeps_the_orphan_packs_holding_its_new_data(
    hooked: Path, store_dir: Path, tmp_path: Path
) -> None:
    """The killed snapshot's new content in a pack of its own that holds no record (a
    snapshot whose last flush sealed more than one pack): gc reclaimed it as an orphan."""
    _killed_snapshot(hooked)
    (name,) = _orphans(store_dir)
    with Store(store_dir) as store:
        path = store.pack_path(name)
        objects = list(scan_pack(path))
        parts = []
        for records in (False, True):  # the data first, then the record
            writer = PackWriter(store.path)
            for o in objects:
                if (o.type == RECORD) == records:
                    writer.add(
                        o.type, o.key, store.reader.read(name, o.offset, o.length, o.size, o.inner)
                    )
            parts += [p.name for p in writer.finish()]
        store.reader.close()
        os.unlink(path)
        assert not any(o.type == RECORD for o in scan_pack(store.pack_path(parts[0])))
    _go_on(hooked)
    assert _orphans(store_dir) == set(parts)
    _repaired_whole(hooked, tmp_path)


def test_an_orphan_record_that_cannot_be_read_keeps_every_orphan_pack(
    hooked: Path, store_dir: Path
) -> None:
    """What a record that does not read back names is unknown: no orphan pack is reclaimed
    (the one holding it, and the record-less ones that may hold its data)."""
    _killed_snapshot(hooked)
    (name,) = _orphans(store_dir)
    with Store(store_dir) as store:
        (rec,) = [o for o in scan_pack(store.pack_path(name)) if o.type == RECORD]
        writer = PackWriter(store.path)
        writer.add(1, os.urandom(32), b"data of no snapshot the index knows")
        (loose,) = writer.finish()
    with open(store_dir / "packs" / name, "r+b") as f:  # the record's frame damaged
        f.seek(rec.offset + rec.length // 2)
        f.write(b"\xff" * 4)
    with Store(store_dir) as store:
        todo = plan(store)
        assert not todo.orphans
        assert sorted(todo.kept_orphans) == sorted([name, loose.name])
        assert todo.unread_records == [name]
    said = gs(hooked, "prune").out
    assert "kept 2 pack(s)" in said and "1 of them hold(s) a snapshot record that does" in said
    assert _orphans(store_dir) == {name, loose.name}
