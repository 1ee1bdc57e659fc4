"""review40 RD1: D1's refusal of a ``diff`` word that is no id and no path said "1 is no
snapshot id" of an ID written after a PATH (``diff a.txt 1``): 1 is one, typed in the wrong
place. The line now says that it is no path there and that an ID comes before the PATHs."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs
from conftest import committed_repo


def test_an_id_after_a_path_is_said_to_come_first(tmp_path: Path) -> None:
    r = committed_repo(tmp_path / "r")
    (r / "a.txt").write_text("one\n")
    gs(r, "-m", "s")  # snapshot 1
    (r / "a.txt").write_text("edited\n")
    for word in ("1", "latest"):
        ran = gs(r, "diff", "a.txt", word, rc=2)
        assert ran.out == "", ran.out
        assert ran.ours == [
            f"git-snapshot: {word} is no path in snapshot 1 or the worktree, and an ID comes "
            "before the PATHs: git snapshot diff [ID [ID2]] [--] PATH..."
        ], ran.err
    ran = gs(r, "diff", "1", "a.txt", "--exit-code", rc=1)
    assert ran.out.startswith("M a.txt\n"), ran.out
