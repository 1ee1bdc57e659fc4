"""Review RF3 of fixF3's RED44 F4 (undo refuses when a snapshot taken since the report holds a
file now gone from the disk that git cannot give back).

The rule refused in ordinary flows: a checkout report (a file discarded), then the user makes
a scratch file, a build folder, or a bundle with a hashed name, the watcher saves it, the user
deletes it (or renames it, or the next build replaces it), and `undo` of the checkout's report
refused, naming the deleted files as a loss. A deleted untracked file is no sign of the
`reset --hard` F4 is about: what a reset leaves is git's version where the user's was, or a
staged new file gone. Now undo refuses for those alone; files merely gone are still named,
each with its `restore --newest` (a `git clean` may have taken them), and the report is undone.
"""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from clihelpers import gs
from test_red44_advice import _watch_snapshot
from test_red44_advice import discarded  # noqa: F401 (a fixture)

SCRATCH = b"scratch edit I discard on purpose\n"


def _undone_naming(r: Path, *gone: str) -> None:
    """undo undoes the checkout's report, and names each of *gone* with its restore."""
    ran = gs(r, "undo")
    assert "undoing: git checkout (" in ran.out, ran
    assert (r / "a.txt").read_bytes() == SCRATCH
    for rel in gone:
        (line,) = [ln for ln in ran.err_lines if ln.startswith(f"git-snapshot: {rel}: gone")]
        assert f"restore --newest {rel}" in line, line
    assert all(len(line) <= 200 for line in ran.err_lines), ran.err


def test_undo_after_deleting_a_scratch_file_on_purpose(discarded: Path) -> None:  # noqa: F811
    r = discarded
    (r / "scratch.txt").write_bytes(b"tmp\n")
    _watch_snapshot(r)
    (r / "scratch.txt").unlink()
    _undone_naming(r, "scratch.txt")


def test_undo_after_deleting_a_build_folder(discarded: Path) -> None:  # noqa: F811
    r = discarded
    (r / ".git" / "info" / "exclude").write_bytes(b"build/\n")
    (r / "build").mkdir()
    for i in range(3):
        (r / "build" / f"x{i}.o").write_bytes(b"o%d\n" % i)
    _watch_snapshot(r)
    for i in range(3):
        (r / "build" / f"x{i}.o").unlink()
    (r / "build").rmdir()
    _undone_naming(r, "build/x0.o", "build/x1.o", "build/x2.o")


def test_undo_after_a_rebuild_replaced_a_hashed_bundle(discarded: Path) -> None:  # noqa: F811
    r = discarded
    (r / ".git" / "info" / "exclude").write_bytes(b"dist/\n")
    (r / "dist").mkdir()
    (r / "dist" / "app.111.js").write_bytes(b"v1\n")
    _watch_snapshot(r)
    (r / "dist" / "app.111.js").unlink()
    (r / "dist" / "app.222.js").write_bytes(b"v2\n")
    _undone_naming(r, "dist/app.111.js")


def test_undo_after_renaming_a_file(discarded: Path) -> None:  # noqa: F811
    r = discarded
    (r / "scratch.txt").write_bytes(b"notes\n")
    _watch_snapshot(r)
    (r / "scratch.txt").rename(r / "notes.txt")
    _undone_naming(r, "scratch.txt")


def test_undo_still_refuses_after_a_reset_took_a_staged_new_file(discarded: Path) -> None:  # noqa: F811
    """A reset's other mark: a file git tracked (staged) and has no version of, gone."""
    r = discarded
    (r / "n.txt").write_bytes(b"new work\n")
    git(r, "add", "n.txt")
    later = _watch_snapshot(r)
    git(r, "reset", "-q", "--hard")  # no hook: n.txt deleted, no report
    ran = gs(r, "undo", rc=1)
    (line,) = [ln for ln in ran.err_lines if ln.startswith("git-snapshot: n.txt: gone")]
    assert f"snapshot {later} holds it" in line and "restore --newest n.txt" in line
    assert "not undone" in ran.err, ran
    assert (r / "a.txt").read_bytes() == b"one\n"


def test_dry_run_says_what_undo_does(discarded: Path) -> None:  # noqa: F811
    """--dry-run said "would undo" where undo refuses (a reset's mark), and said nothing of
    undoing all the same over files merely deleted: it says what undo does in both."""
    r = discarded
    (r / "scratch.txt").write_bytes(b"tmp\n")
    _watch_snapshot(r)
    (r / "scratch.txt").unlink()
    dry = gs(r, "undo", "--dry-run")
    assert "would undo all the same" in dry.err, dry
    (r / "n.txt").write_bytes(b"new work\n")
    git(r, "add", "n.txt")
    _watch_snapshot(r)
    git(r, "reset", "-q", "--hard")
    dry = gs(r, "undo", "--dry-run")
    (line,) = [ln for ln in dry.err_lines if "not undone" in ln]
    assert line.startswith("git-snapshot: without --dry-run, not undone: the latest loss report")
    assert "would undo all the same" not in dry.err, dry
    assert (r / "a.txt").read_bytes() == b"one\n"
