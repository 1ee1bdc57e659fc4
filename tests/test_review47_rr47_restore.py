"""Review RR47 of rs47's restore start-up (53dd8f6, 3729298, e5fae2f).

restorer.Report became a plain class whose ``__eq__`` and ``__repr__`` walked a second list of
its attributes' names (``_FIELDS``), to be kept in step with ``__init__`` by hand: a field added
to ``__init__`` alone was left out of both, silently (a test comparing two reports with ``==``
no longer saw it differ), where the dataclass took its fields from one place. It now compares
and shows the attributes ``__init__`` makes.

The index scan (restore_plan._scan) keeps the keys as SQLite gives them, no ``bytes(k)``: a row
of a damaged index whose key is TEXT is then one no file's key finds, so the file whose row it
was is named damaged and the rest restored; ``bytes(k)`` raised TypeError for it and stopped
the restore before anything was written."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from clihelpers import gs
from conftest import init_repo
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import restore
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import restorer
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import FILE
from git_snapshot.store.restore_plan import PARALLEL_MIN
from git_snapshot.store.restorer import Report


def test_a_field_added_to_the_report_is_compared_and_shown() -> None:
    class Later(Report):
        """A Report with a field added after the others (as a later fix adds one)."""

        def __init__(self) -> None:
            super().__init__()
            self.added: list[bytes] = []

    a, b = Later(), Later()
    assert a == b
    b.added.append(b"x")
    assert a != b
    assert repr(b).endswith("unreadable=[], added=[b'x'])")
    for name, value in vars(Report()).items():  # each of its own too
        c, d = Report(), Report()
        setattr(d, name, 7 if value == 0 else [b"y"])
        assert c != d, name
        assert f"{name}=" in repr(d)


def test_a_damaged_index_row_with_a_text_key_names_its_file_damaged(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"d%d" % i: D({b"f%d" % j: F(b"%d %d\n" % (i, j)) for j in range(200)})
                for i in range(3)
            }
        ),
    )
    store_dir = tmp_path / "store"
    with Store(store_dir) as store:
        snap = take(store, "s", src)
        key = store.index.db.execute(
            "SELECT key FROM objects WHERE size = ? LIMIT 1", (len(b"1 7\n"),)
        ).fetchone()[0]
        hit = [rel for rel, e in store.walk(snap.root) if e.kind == FILE and e.ref == key]
        assert hit
    db = sqlite3.connect(store_dir / "index.sqlite")
    with db:
        row = db.execute("SELECT pack, offset, length, size, type, member FROM objects").fetchone()
        db.execute("INSERT INTO objects VALUES ('stray', ?, ?, ?, ?, ?, ?)", row)
        db.execute("UPDATE objects SET key = hex(key) WHERE key = ?", (key,))
    db.close()
    out = tmp_path / "out"
    with Store(store_dir) as store:
        snap = store.get("s", "latest")
        # (a whole snapshot of this many files: the index is scanned)
        assert snap.files >= PARALLEL_MIN and restorer.Restorer(store)._scannable(snap.files)
        with pytest.raises(restorer.Damaged) as got:
            restore(store, snap, out)
    report = got.value.report
    assert report is not None
    assert sorted(p for p, _ in report.damaged) == sorted(hit)
    assert report.files == 600 - len(hit)
    assert (out / "d2" / "f39").read_bytes() == b"2 39\n"


def test_a_restore_from_a_remote_still_fetches_its_packs_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """commands.remote.prefetch now asks whether the store is a RemoteStore only when the
    module defining it is imported (by its name): a restore --remote must still prefetch."""
    from git_snapshot.commands import restore as restore_cmd
    from git_snapshot.store.remote.cache import RemoteStore

    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))
    repo = init_repo(tmp_path / "proj")
    (repo / "f").write_bytes(b"remote\n")
    gs(repo, "-m", "s")
    gs(repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    gs(repo, "push")
    asked: list[list[int]] = []
    real = RemoteStore.prefetch

    def prefetch(self: RemoteStore, snaps: list[Snapshot]) -> None:
        asked.append([s.id for s in snaps])
        real(self, snaps)

    monkeypatch.setattr(RemoteStore, "prefetch", prefetch)
    out = tmp_path / "out"
    rc = restore_cmd.cmd_restore(cwd=str(repo), snapshot_id="1", to=str(out), remote="r")
    assert rc == 0, capsys.readouterr()
    assert asked == [[1]]
    assert (out / "f").read_bytes() == b"remote\n"
