"""RED32 B2: ``restore --newest FOLDER`` (or FILE FOLDER) passed over no snapshot: a folder was
never compared with the worktree, so the snapshot that took the damage was named and nothing
was restored; one folder among the PATHs broke the file's answer too."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs


def _damaged(repo: Path) -> None:
    (repo / "conf").mkdir()
    (repo / "conf" / "a").write_text("good\n")
    (repo / "f").write_text("good\n")
    gs(repo, "-m", "good")
    (repo / "conf" / "a").write_text("BROKEN\n")
    (repo / "f").write_text("BROKEN\n")
    gs(repo, "-m", "the watcher took the damage")


def test_newest_folder_passes_over_the_damage(repo: Path) -> None:
    _damaged(repo)
    out = gs(repo, "restore", "--newest", "conf").out
    assert "from snapshot 1" in out, out
    assert (repo / "conf" / "a").read_text() == "good\n"


def test_newest_file_and_folder_together(repo: Path) -> None:
    _damaged(repo)
    out = gs(repo, "restore", "--newest", "f", "conf").out
    assert "from snapshot 1" in out, out
    assert (repo / "f").read_text() == "good\n"
    assert (repo / "conf" / "a").read_text() == "good\n"


def test_newest_folder_gone_below(repo: Path) -> None:
    """A subfolder of the folder deleted: the damage snapshot lacks it, the one before has it."""
    (repo / "d" / "sub").mkdir(parents=True)
    (repo / "d" / "sub" / "x").write_text("x\n")
    (repo / "d" / "y").write_text("y\n")
    gs(repo)
    (repo / "d" / "y").write_text("changed\n")
    gs(repo)  # 2: d as it is now (y changed, sub there)
    out = gs(repo, "restore", "--newest", "d").out  # the worktree is 2: the one before it
    assert "from snapshot 1" in out, out
    assert (repo / "d" / "y").read_text() == "y\n"
