"""Opening the store (every hook does) while another process works in it and has its temp
files in tmp/ (the watcher's worker writing a pack, a snapshot under way) costs the opener
nothing but a look at tmp/ and a lock it cannot take: gc's code (~40 ms of a hook's CPU to
import) is not loaded, and nothing of the other process's is removed. What a killed run left
is still swept by the next opener that finds the store idle."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import git_snapshot
from git_snapshot.store import Store

OPEN = """
import sys
from git_snapshot.store import Store
with Store(sys.argv[1]):
    pass
print("git_snapshot.store.gc" in sys.modules)
"""


def _open(store_dir: Path) -> bool:
    """Open the store in a process of its own: whether it imported gc."""
    top = os.path.dirname(os.path.dirname(git_snapshot.__file__))
    done = subprocess.run(
        [sys.executable, "-c", OPEN, str(store_dir)],
        env=dict(os.environ, PYTHONPATH=top),
        capture_output=True,
        text=True,
        check=True,
    )
    return {"True\n": True, "False\n": False}[done.stdout]


def test_opening_the_store_beside_a_writer_loads_no_gc_and_leaves_its_temp_files(
    store_dir: Path,
) -> None:
    with Store(store_dir):
        pass
    temp = store_dir / "tmp" / "pack-being-written.tmp"
    temp.write_bytes(b"a pack under way")
    fd = os.open(store_dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # as a writer holds it while its temp files live
        assert _open(store_dir) is False
        assert temp.read_bytes() == b"a pack under way"
    finally:
        os.close(fd)
    # the writer is gone (killed, its lock let go with it): the next opener sweeps
    assert _open(store_dir) is True
    assert not temp.exists()
