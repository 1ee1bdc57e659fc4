"""review40 RF3 (on RED40 F1's autostash check): the user turned a folder that had taken a
tracked file's place back into a file of their own (`rm -r x.csv; echo mine > x.csv`) after
the last snapshot, then ran `git rebase --autostash`. The autostash holds that file (a
change: the stash records it), its `reset --hard` writes the committed one back, and the
snapshot before the command still holds the folder: pre-rebase named the folder's file as
destroyed by the rebase, though the user had removed it. What the autostash holds at a path
(the hook's overlay) was a file when git stashed, not a folder: not compared below it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import write
from test_red40_autostash_file2dir import hooked  # noqa: F401 (the fixture)

MINE = b"my own x.csv\n"


@pytest.mark.parametrize("how", ["rebase", "pull", "merge"])
def test_a_folder_the_user_replaced_by_a_file_after_the_snapshot_is_not_named(
    hooked: Path,  # noqa: F811 (the fixture imported)
    how: str,
) -> None:
    (hooked / "x.csv").unlink()
    write(hooked / "x.csv" / "inner.txt", b"my new work\n")
    gs(hooked, "-m", "saved before")
    (hooked / "x.csv" / "inner.txt").unlink()
    (hooked / "x.csv").rmdir()
    write(hooked / "x.csv", MINE)  # the user's own edit of the tracked file: autostashed
    args = {
        "rebase": ["rebase", "--autostash", "feat"],
        "pull": ["pull", "--rebase", "--autostash", ".", "feat"],
        "merge": ["merge", "--autostash", "--no-edit", "feat"],
    }[how]
    ran = git(hooked, *args)
    assert ran.reports == [], ran.err
    assert json.loads(gs(hooked, "losses", "--json").out) == []
    assert (hooked / "x.csv").read_bytes() == MINE  # the autostash gave the edit back
