"""review39 RC: a named-path restore below another user's folder that has no owner-w bit.

Since RED39 C4, _open_dir no longer stops where it cannot chmod such a folder u+rwx: it writes
into the folder as it is. But _parents still noted the folder's mode to give back once all was
written (_put_back), and giving it the mode it had never lost is a chmod only its owner may
do: the restore wrote the file (or named it NOT WRITTEN), then said "restore stopped at
.../a/f: Operation not permitted" (exit 1), a stop that never happened, naming the file it
had written. A folder's mode is now given back only where it differs, as _finish does.

Run without the capabilities that bypass file permissions (setpriv), as
tests/test_red39_no_access.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import install
from hookhelpers import write
from test_red39_no_access import NEEDS_ROOT_AND_SETPRIV
from test_red39_no_access import as_user
from test_red39_no_access import skip_unless_setpriv_drops

pytestmark = NEEDS_ROOT_AND_SETPRIV


@pytest.fixture
def tree(repo: Path) -> Iterator[Path]:
    """Snapshot 1 holds a/f; then a/f is gone and a is another's r-xrwxr-x folder."""
    install(repo)
    write(repo / "a" / "f", b"saved\n")
    gs(repo, "-m", "full")
    skip_unless_setpriv_drops()
    (repo / "a" / "f").unlink()
    (repo / "a").chmod(0o575)
    try:
        yield repo
    finally:
        (repo / "a").chmod(0o755)


def test_a_folder_whose_group_lets_it_write(tree: Path) -> None:
    os.chown(tree / "a", 1234, os.getgid())  # another's, but its group (ours) may write
    ran = as_user(tree, "restore", "1", "a/f")
    assert "stopped" not in ran.err, ran.err
    assert (tree / "a" / "f").read_bytes() == b"saved\n"
    assert "create a/f" in ran.out.splitlines(), ran.out
    assert oct((tree / "a").stat().st_mode & 0o7777) == oct(0o575)


def test_a_folder_that_refuses_it(tree: Path) -> None:
    os.chown(tree / "a", 1234, 1234)
    ran = as_user(tree, "restore", "1", "a/f", rc=1)
    assert "stopped" not in ran.err, ran.err
    assert not (tree / "a" / "f").exists()
    assert "NOT WRITTEN a/f: Permission denied" in ran.out.splitlines(), ran.out
    assert "1 path(s) could not be written" in ran.err_lines[-1], ran.err
