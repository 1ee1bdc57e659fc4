"""RED39 G1: ``restore --newest P/x`` after the folder P was replaced by a symlink to a folder
holding an x with the newest version's bytes passed over that version and restored an older
one: the look at the worktree followed the link in P, so P/x "was there" as the newest
snapshot holds it. A link on the way is not the path: a restore replaces it."""

from __future__ import annotations

import os
from pathlib import Path

from clihelpers import gs


def test_newest_through_a_linked_folder_takes_the_newest(repo: Path) -> None:
    (repo / "P").mkdir()
    (repo / "Q").mkdir()
    (repo / "P" / "x").write_text("old\n")
    (repo / "Q" / "x").write_text("new\n")
    gs(repo, "-m", "one")  # 1: P/x = old
    (repo / "P" / "x").write_text("new\n")
    gs(repo, "-m", "two")  # 2: P/x = new, the newest version
    (repo / "P" / "x").unlink()
    (repo / "P").rmdir()
    os.symlink("Q", repo / "P")  # P -> Q, whose x holds what snapshot 2's P/x does

    dry = gs(repo, "restore", "--newest", "P/x", "--dry-run").out
    assert "from snapshot 2" in dry, dry
    out = gs(repo, "restore", "--newest", "P/x").out
    assert "from snapshot 2" in out, out
    assert not (repo / "P").is_symlink()
    assert (repo / "P" / "x").read_text() == "new\n"
    assert (repo / "Q" / "x").read_text() == "new\n"  # the link's target left alone


def test_newest_folder_through_a_linked_parent(repo: Path) -> None:
    """A folder named below a link: the same (its look at each entry below went through)."""
    (repo / "P" / "d").mkdir(parents=True)
    (repo / "Q" / "d").mkdir(parents=True)
    (repo / "P" / "d" / "x").write_text("old\n")
    (repo / "Q" / "d" / "x").write_text("new\n")
    gs(repo, "-m", "one")
    (repo / "P" / "d" / "x").write_text("new\n")
    gs(repo, "-m", "two")
    (repo / "P" / "d" / "x").unlink()
    (repo / "P" / "d").rmdir()
    (repo / "P").rmdir()
    os.symlink("Q", repo / "P")
    out = gs(repo, "restore", "--newest", "P/d").out
    assert "from snapshot 2" in out, out
    assert (repo / "P" / "d" / "x").read_text() == "new\n"
