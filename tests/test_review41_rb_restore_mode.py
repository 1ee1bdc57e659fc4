"""Session 41 review RB of fixB (35bef08, 78f511e: the restore guard treats a mode change as
a change).

1. A restore of a path below a read-only folder opens the folder up (u+rwx) to write into
   it. When the same restore also names that folder, or a folder holding it (``restore 1
   ro/x ro``, ``restore 1 a/ro/x a``), the folder was then looked at again with the mode
   the restore itself gave it: the guard found a mode the pre-restore snapshot lacks and
   said ``NOT WRITTEN ro: changed while the restore ran``, exit 1, and left ro writable,
   though nothing but the restore had touched it. Named the other way round (``restore 1
   ro ro/x``), the folder got its mode first, then the path below it opened it up again
   and nothing gave its mode back (before 35bef08 too): exit 0, ro left 755 where
   snapshot 1 holds 555. A path below a named folder is the named folder's: restored with
   it, once.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import install


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.mark.parametrize(
    ("names", "folder"),
    [
        (["ro/x", "ro"], "ro"),
        (["ro", "ro/x"], "ro"),
        (["a/ro/x", "a"], "a/ro"),
        (["a", "a/ro/x"], "a/ro"),
    ],
)
def test_a_read_only_folder_named_with_a_path_below_it_gets_its_own_mode(
    repo: Path, names: list[str], folder: str
) -> None:
    install(repo)
    ro = repo / folder
    ro.mkdir(parents=True)
    (ro / "x").write_text("x old\n")
    (ro / "y").write_text("y old\n")
    ro.chmod(0o555)
    gs(repo, "create")  # 1
    (ro / "x").write_text("x edit\n")
    (ro / "y").write_text("y edit\n")
    ran = gs(repo, "restore", "1", *names)
    said = ran.out + ran.err
    assert "NOT WRITTEN" not in said
    assert (ro / "x").read_text() == "x old\n"
    assert (ro / "y").read_text() == "y old\n"
    assert _mode(ro) == 0o555, said
