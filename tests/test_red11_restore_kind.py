"""A restore that puts a snapshot's FOLDER where the worktree has a file (or a symlink) in
its place removes that file: the report must name the path as overwritten ("update"), as it
does when a file replaces a folder, never as merely created. Else a file the pre-restore
snapshot could not hold (snapshot.exclude, unreadable) was lost with no warning (restore 1
conf: "create conf ... what was there before is in snapshot 2"), and a --dry-run said it
would create what the restore then keeps."""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from clihelpers import gs


def setup(repo: Path) -> None:
    (repo / "conf").mkdir()
    (repo / "conf" / "x").write_text("x\n")
    gs(repo)  # snapshot 1: conf/ a folder
    (repo / "conf" / "x").unlink()
    (repo / "conf").rmdir()
    (repo / "conf").write_text("my unsaved settings\n")  # now a file no snapshot may hold
    git(repo, "config", "snapshot.exclude", "conf")


def test_a_named_folder_over_an_excluded_file_warns_that_it_is_in_no_snapshot(
    repo: Path,
) -> None:
    setup(repo)
    dry = gs(repo, "restore", "1", "conf", "--dry-run")
    assert "would update conf" in dry.out, dry.out
    assert "would be in no snapshot" in dry.err and "conf (" in dry.err, dry
    ran = gs(repo, "restore", "1", "conf")
    assert (repo / "conf" / "x").read_text() == "x\n"
    assert "update conf" in ran.out, ran.out
    assert "could not hold" in ran.out, ran.out  # never "what was there before is in ..."
    assert "is in no snapshot" in ran.err and "conf (" in ran.err, ran


def test_a_whole_restore_dry_run_says_it_keeps_what_the_restore_keeps(repo: Path) -> None:
    setup(repo)
    dry = gs(repo, "restore", "1", "--dry-run")
    assert "would create conf" not in dry.out, dry.out  # the restore keeps it
    ran = gs(repo, "restore", "1")
    assert (repo / "conf").read_text() == "my unsaved settings\n"
    assert "kept" in ran.out and "kept" in dry.out, (dry.out, ran.out)


def test_a_symlink_in_the_way_of_a_folder_is_reported_overwritten(repo: Path) -> None:
    (repo / "d").mkdir()
    (repo / "d" / "f").write_text("f\n")
    gs(repo)
    (repo / "d" / "f").unlink()
    (repo / "d").rmdir()
    (repo / "d").symlink_to("README")
    ran = gs(repo, "restore", "1", "d")
    assert "update d" in ran.out and "create d\n" not in ran.out, ran.out
    assert (repo / "d" / "f").read_text() == "f\n"
