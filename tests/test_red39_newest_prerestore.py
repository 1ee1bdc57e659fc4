"""RED39 G2: ``restore --newest f`` passes over pre-restore snapshots (one of the damage must not
be restored); after a mistaken ``restore 1 f`` the user's unsaved work was held by the
pre-restore snapshot alone, and --newest restored nothing, exit 0, without a word of it. Now
it says that every other snapshot holds f as the worktree does and names the pre-restore
snapshot holding another version, with its command; where no other snapshot holds f at all,
the error names it instead of saying that no snapshot does."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs


def test_newest_names_the_pre_restore_snapshot_it_passed_over(repo: Path) -> None:
    (repo / "f").write_text("v1\n")
    gs(repo, "-m", "one")  # 1
    (repo / "f").write_text("v2 unsaved work\n")
    gs(repo, "restore", "1", "f")  # by mistake: 2 holds the unsaved work
    ran = gs(repo, "restore", "--newest", "f")
    assert (repo / "f").read_text() == "v1\n"  # the rule stands: a pre-restore one is passed over
    said = " ".join(ran.ours)
    assert "pre-restore snapshot 2" in said, ran.err
    assert "git snapshot restore 2 f" in said, ran.err
    assert gs(repo, "cat", "2", "f").out == "v2 unsaved work\n"
    dry = gs(repo, "restore", "--newest", "f", "--dry-run")
    assert "pre-restore snapshot 2" in " ".join(dry.ours), dry.err


def test_no_note_when_another_snapshot_differs(repo: Path) -> None:
    (repo / "f").write_text("v1\n")
    gs(repo, "-m", "one")  # 1
    (repo / "f").write_text("v2\n")
    gs(repo, "-m", "two")  # 2
    (repo / "f").write_text("broken\n")
    ran = gs(repo, "restore", "--newest", "f")
    assert "from snapshot 2" in ran.out, ran.out
    assert not ran.ours, ran.err


def test_only_a_pre_restore_snapshot_holds_the_path(repo: Path) -> None:
    (repo / "a").write_text("a\n")
    gs(repo, "-m", "one")  # 1: no f
    (repo / "f").write_text("unsaved\n")
    gs(repo, "restore", "--delete", "1", ".")  # 2 holds f; f deleted
    assert not (repo / "f").exists()
    ran = gs(repo, "restore", "--newest", "f", rc=1)
    assert "pre-restore snapshot 2" in ran.err, ran.err
    assert "git snapshot restore 2 f" in ran.err, ran.err
    assert "no snapshot of this worktree holds" not in ran.err, ran.err
