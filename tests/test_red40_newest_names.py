"""RED40 D1 (finding 7): ``restore --newest a.txt typo.txt``, where only typo.txt is in no
snapshot, said that no snapshot holds "a.txt, typo.txt"; ``restore --newest 1 a.txt`` (an ID
typed by habit) said that no snapshot holds "1, a.txt". Now the line names only the paths no
snapshot holds, adds that --newest takes no ID when one of them is written as an ID (with
the command that restores the rest from that snapshot), and says so when each path is in
some snapshot but no one snapshot holds them all."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs
from conftest import committed_repo


def _two_snapshots(tmp_path: Path) -> Path:
    r = committed_repo(tmp_path / "r")
    (r / "a.txt").write_text("one\n")
    gs(r, "-m", "s1")
    (r / "a.txt").write_text("changed\n")
    gs(r, "-m", "s2")
    return r


def test_only_the_paths_no_snapshot_holds_are_named(tmp_path: Path) -> None:
    r = _two_snapshots(tmp_path)
    ran = gs(r, "restore", "--newest", "a.txt", "typo.txt", rc=1)
    assert ran.ours == [
        "git-snapshot: no snapshot of this worktree holds typo.txt; look for it by name with: "
        "git snapshot find NAME"
    ], ran.err
    assert (r / "a.txt").read_text() == "changed\n"


def test_an_id_given_by_habit_is_said_to_be_none(tmp_path: Path) -> None:
    r = _two_snapshots(tmp_path)
    ran = gs(r, "restore", "--newest", "1", "a.txt", rc=1)
    assert ran.ours == [
        "git-snapshot: no snapshot of this worktree holds 1: --newest takes no ID; to restore "
        "a.txt from snapshot 1: git snapshot restore 1 a.txt"
    ], ran.err
    ran = gs(r, "restore", "--newest", "a.txt", "latest", rc=1)
    assert ran.ours[0].startswith(
        "git-snapshot: no snapshot of this worktree holds latest: --newest takes no ID"
    ), ran.err


def test_each_held_but_never_together(tmp_path: Path) -> None:
    r = _two_snapshots(tmp_path)
    (r / "a.txt").unlink()
    (r / "b.txt").write_text("b\n")
    gs(r, "-m", "s3")  # holds b.txt, not a.txt
    ran = gs(r, "restore", "--newest", "a.txt", "b.txt", rc=1)
    assert len(ran.ours) == 1, ran.err
    line = ran.ours[0]
    head = "git-snapshot: no one snapshot of this worktree holds all of a.txt, b.txt"
    assert line.startswith(head), line
    assert "git snapshot restore --newest a.txt" in line, line


def test_the_passed_over_command_gives_repo_as_an_option(tmp_path: Path) -> None:
    # (found beside finding 7: the command named "repo=PATH", a path restore would take)
    r = committed_repo(tmp_path / "r")
    (r / "a.txt").write_text("a\n")
    gs(r, "-m", "one")  # 1: no f
    (r / "f").write_text("unsaved\n")
    gs(r, "restore", "--delete", "1", ".")  # 2 (pre-restore) holds f
    ran = gs(tmp_path, "restore", "--newest", "f", "--repo", str(r), rc=1)
    assert f"git snapshot restore 2 f --repo={r}" in ran.err, ran.err
