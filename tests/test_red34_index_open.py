"""RED34 (red team D, finding 7): an index.sqlite that cannot be opened at all (here a
directory in its place) gave `internal error: AttributeError("'Index' object has no attribute
'db'")` on every command and hook, instead of the one line that points to repair.

SQLite's "unable to open database file" was taken for a full disk (a full disk can make it
fail to create the -wal/-shm files), so the open fell back to a read-only open; that failed
too, and its clean-up closed a connection never made. An index that neither open can read is
one that "cannot be read": the store's usual line names repair, which rebuilds it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

from git_snapshot.store.index import Index

NEEDS_REPAIR = "cannot be read"


@pytest.fixture
def broken(repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store with one snapshot whose index.sqlite is now a directory."""
    put_venv_on_path(monkeypatch)
    install(repo)
    write(repo / "a.txt", b"a\n")
    gs(repo, "-m", "one")
    index = store_dir / "index.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    index.mkdir()
    return repo


def _points_to_repair(line: str, store_dir: Path) -> None:
    assert f"the snapshot index {store_dir / 'index.sqlite'} {NEEDS_REPAIR}" in line, line
    assert "git snapshot repair" in line, line


@pytest.mark.parametrize("args", [["list"], ["create"], ["verify"], ["losses"]])
def test_every_command_names_repair(broken: Path, store_dir: Path, args: list[str]) -> None:
    ran = gs(broken, *args, rc=None)  # (run() refuses an internal error or a traceback)
    assert ran.rc != 0
    assert len(ran.ours) == 1, ran.err
    _points_to_repair(ran.ours[0], store_dir)


def test_a_hook_says_the_same_and_git_goes_on(broken: Path, store_dir: Path) -> None:
    ran = git(broken, "checkout", "-q", "-b", "y")
    assert ran.ours, ran.err
    assert ran.ours[0].startswith("git-snapshot: post-checkout snapshot failed: "), ran.err
    _points_to_repair(ran.ours[0], store_dir)
    assert git(broken, "branch", "--show-current").strip() == "y"


def test_repair_then_everything_works(broken: Path, store_dir: Path) -> None:
    gs(broken, "repair")
    assert (store_dir / "index.sqlite").is_file()
    assert "one" in gs(broken, "list").out
    gs(broken, "verify")


def test_the_index_open_raises_sqlites_error(tmp_path: Path) -> None:
    """The store turns an sqlite3 error into the repair line: the open must raise one."""
    path = tmp_path / "index.sqlite"
    path.mkdir()
    with pytest.raises(sqlite3.OperationalError):
        Index(str(path))
    with pytest.raises(sqlite3.OperationalError):
        Index(str(path), create=False)


def test_a_full_disk_still_opens_it_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the fallback is for: "unable to open" from a -shm that cannot be made, the
    database itself readable. Simulated by a first open that fails so."""
    path = tmp_path / "index.sqlite"
    Index(str(path)).close()
    real = sqlite3.connect
    calls: list[str] = []

    def connect(target: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(target)
        if len(calls) == 1:
            raise sqlite3.OperationalError("unable to open database file")
        return real(target, *args, **kwargs)

    # (the name index.py calls: git_snapshot.sqlite's, the C module's own function)
    monkeypatch.setattr("git_snapshot.sqlite.connect", connect)
    index = Index(str(path))
    monkeypatch.undo()
    try:
        assert index.readonly
        assert index.meta_get("generation")
    finally:
        index.close()
