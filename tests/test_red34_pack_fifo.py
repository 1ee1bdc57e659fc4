"""RED34 (red team D, finding 9): a FIFO in the store's packs/ under a pack's name made
`verify --read-data`, `repair`, `restore` and every hooked `git checkout` hang for ever: each
opened the pack with a plain open(), which waits for a writer that never comes. A hook that
hangs hangs the user's git.

Packs are opened as a walk opens a worktree's file (O_NONBLOCK, then fstat): anything but a
regular file under a pack's name is damage, named in one line ("pack is a FIFO, not a file"),
as a pack that is not a pack is.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

BOUND = 60  # seconds: each command ends well within it, or it hangs

IS_FIFO = "pack is a FIFO, not a file"


def _unblock(fifo: Path) -> None:
    """Let a reader still waiting on *fifo* go (a failing run of this test): a writer held
    open meanwhile ends each wait, and an empty file in its place ends any later one."""
    fd = os.open(fifo, os.O_RDWR)  # (Linux: never waits)
    try:
        empty = fifo.with_suffix(".empty")
        empty.write_bytes(b"")
        os.replace(empty, fifo)
    finally:
        os.close(fd)


@pytest.fixture
def fifo(repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Snapshot 1 holds an uncommitted edit; its one pack is now a FIFO. Yields the FIFO."""
    put_venv_on_path(monkeypatch)
    for i in range(20):
        write(repo / f"f{i}.txt", f"t {i}\n".encode())
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "files")
    git(repo, "branch", "x")
    install(repo)
    write(repo / "f1.txt", b"my uncommitted edit\n")
    gs(repo, "-m", "the edit")
    (pack,) = (store_dir / "packs").glob("*.pack")
    pack.unlink()
    os.mkfifo(pack)
    yield pack
    _unblock(pack)


def _bounded(cwd: Path, *argv: str) -> Ran:
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return run(cwd, *argv, rc=None, env={**os.environ, "PATH": path}, timeout=BOUND)


def test_verify_names_the_fifo(repo: Path, fifo: Path) -> None:
    ran = _bounded(repo, "git", "snapshot", "verify")
    assert ran.rc == 1, ran
    assert f"pack {fifo.name} is a FIFO, not a file" in ran.out, ran.out
    assert "truncated" not in ran.out


def test_verify_read_data_does_not_hang(repo: Path, fifo: Path) -> None:
    ran = _bounded(repo, "git", "snapshot", "verify", "--read-data")
    assert ran.rc == 1, ran
    assert f"DAMAGED pack {fifo.name}: " in ran.out and IS_FIFO in ran.out, ran.out


def test_restore_does_not_hang(repo: Path, tmp_path: Path, fifo: Path) -> None:
    ran = _bounded(repo, "git", "snapshot", "restore", "1", "--to", str(tmp_path / "to"))
    assert ran.rc == 1, ran
    assert f"in pack {fifo.name} is unreadable: {IS_FIFO}" in ran.out, ran.out
    assert len(ran.ours) == 1 and "could not be restored" in ran.ours[0], ran.err


def test_a_hooked_checkout_does_not_hang(repo: Path, fifo: Path) -> None:
    ran = _bounded(repo, "git", "checkout", "-q", "-f", "x")
    assert ran.rc == 0, ran
    assert git(repo, "branch", "--show-current").strip() == "x"
    assert (repo / "f1.txt").read_bytes() == b"t 1\n"
    assert "post-checkout" in ran.err, ran.err  # its snapshot was taken


def test_repair_names_it_damaged_and_the_store_works_on(repo: Path, fifo: Path) -> None:
    ran = _bounded(repo, "git", "snapshot", "repair")
    assert ran.rc == 1, ran
    assert f"damaged pack {fifo.name}: " in ran.out and IS_FIFO in ran.out, ran.out
    write(repo / "f2.txt", b"later\n")
    gs(repo, "-m", "later")
    assert "later" in gs(repo, "list").out


def test_a_file_remote_refuses_a_fifo_under_a_packs_name(tmp_path: Path) -> None:
    """The file:// remote reads its packs as the store does: push, pull and restore --remote
    get one error naming it, not a wait for ever."""
    from git_snapshot.store.backend import BackendError
    from git_snapshot.store.backend_file import FileBackend

    remote = tmp_path / "remote"
    backend = FileBackend(f"file://{remote}")
    backend.put("packs/a.pack", b"data")
    fifo = remote / "packs" / "b.pack"
    os.mkfifo(fifo)
    got: list[str] = []

    def reads() -> None:
        for read in (
            lambda: backend.get("packs/b.pack"),
            lambda: backend.get_range("packs/b.pack", 0, 10),
            lambda: backend.head("packs/b.pack"),
        ):
            try:
                read()
            except BackendError as exc:
                got.append(str(exc))

    reader = threading.Thread(target=reads, daemon=True)
    reader.start()
    reader.join(BOUND)
    if reader.is_alive():
        _unblock(fifo)
    assert got == [f"remote {remote}: packs/b.pack: it is a FIFO, not a file"] * 3
    assert backend.get("packs/a.pack") == b"data"
