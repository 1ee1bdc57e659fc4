"""RED34 (red team D, finding 10): `git snapshot repair` kept the old index as
index.sqlite.before-repair with the umask's mode (0644 under umask 022), against DESIGN's
"Directories 0700, files 0600: the store holds people's secrets". It holds every snapshot's
worktree path, branch, message and skipped paths; a store copied elsewhere keeps the mode.

SQLite's connect made the file (repair.py:_copy_into); the index itself is made 0600 first.
Every file repair, prune and gc leave in the store is checked here, under umask 022 and 0.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import write


@pytest.fixture(params=[0o022, 0o000])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The git-snapshot processes the test starts inherit it."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _open_to_others(store: Path) -> list[str]:
    """Files and folders of *store* that anyone but its owner may read or write."""
    found = []
    for where, dirs, files in os.walk(store):
        for name in dirs + files:
            path = os.path.join(where, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                continue
            if stat.S_IMODE(st.st_mode) & 0o077:
                found.append(f"{os.path.relpath(path, store)} {stat.S_IMODE(st.st_mode):04o}")
    return found


def _snapshots(repo: Path) -> None:
    write(repo / ".env", b"API_KEY=hunter2\n")
    (repo / ".gitignore").write_text(".env\n")
    gs(repo, "-m", "one")
    write(repo / "a.txt", b"a\n")
    gs(repo, "-m", "two")


def test_repair_of_a_usable_index_keeps_it_private(repo: Path, store_dir: Path, umask: int) -> None:
    _snapshots(repo)
    gs(repo, "repair")
    assert (store_dir / "index.sqlite.before-repair").exists()
    assert _open_to_others(store_dir) == []


def test_repair_of_a_damaged_index_keeps_it_private(
    repo: Path, store_dir: Path, umask: int
) -> None:
    _snapshots(repo)
    index = store_dir / "index.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    index.write_bytes(b"garbage" * 1000)
    index.chmod(0o600)
    gs(repo, "repair")
    assert "two" in gs(repo, "list").out
    assert _open_to_others(store_dir) == []


def test_prune_gc_and_a_second_repair_keep_it_private(
    repo: Path, store_dir: Path, umask: int
) -> None:
    _snapshots(repo)
    for i in range(3):
        write(repo / f"f{i}.txt", b"x" * (i + 1) * 1000)
        gs(repo, "-m", f"more {i}")
    gs(repo, "prune", "--keep-last", "1")
    gs(repo, "repair")
    gs(repo, "repair")  # (over an earlier before-repair copy)
    gs(repo, "verify", "--read-data")
    assert _open_to_others(store_dir) == []
