"""review39 RC: a whole restore into another user's folder whose mode is not the snapshot's.

RED39 C4 made the restore go on in such a folder and name it when its mode cannot be set
("NOT WRITTEN a: its mode and mtime: Operation not permitted"). But _put_dir had already
entered it as updated (its mode to be put back): the same run printed "update a" and counted
it among the entries restored, a change it never made. A folder whose mode stays is not
updated now; one whose mode was set but not its mtime is named for its mtime alone.

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
    """Snapshot 1 holds a/f (a: 0775); then a/f is gone and a is another's, its group ours."""
    install(repo)
    write(repo / "a" / "f", b"saved\n")
    (repo / "a").chmod(0o775)
    gs(repo, "-m", "full")
    skip_unless_setpriv_drops()
    (repo / "a" / "f").unlink()
    os.chown(repo / "a", 1234, os.getgid())
    try:
        yield repo
    finally:
        (repo / "a").chmod(0o755)


def test_its_mode_not_set_is_no_update(tree: Path) -> None:
    (tree / "a").chmod(0o575)  # the group (ours) may write, the owner may not
    ran = as_user(tree, "restore", "1", rc=1)
    assert (tree / "a" / "f").read_bytes() == b"saved\n"
    assert oct((tree / "a").stat().st_mode & 0o7777) == oct(0o575)
    lines = ran.out.splitlines()
    assert "create a/f" in lines, ran.out
    assert "update a" not in lines, ran.out
    assert "NOT WRITTEN a: its mode and mtime: Operation not permitted" in lines, ran.out
    assert any(ln.startswith("restored 1 entry ") for ln in lines), ran.out


def test_its_mode_as_in_the_snapshot_its_mtime_not(tree: Path) -> None:
    # the snapshot's mode (its group, ours, may write): only its mtime is not the snapshot's
    ran = as_user(tree, "restore", "1", rc=1)
    lines = ran.out.splitlines()
    assert "create a/f" in lines, ran.out
    assert "update a" not in lines, ran.out
    assert "NOT WRITTEN a: its mtime: Operation not permitted" in lines, ran.out
