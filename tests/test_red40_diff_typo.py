"""RED40 D1: a word of ``diff`` that is no id was taken as a path filter even when it named
nothing on either side, so a typo (``diff lastest``, ``diff latest a.tx``) printed "no
changes" and exited 0, with ``--exit-code`` too, while the worktree had changed. Now such a
word is refused in one line, exit 2, as ``git diff`` refuses it; a path written after ``--``
may match nothing (as in git: a script asks about a path that may not exist), and a note on
stderr says that it does."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs
from conftest import committed_repo


def _changed(tmp_path: Path) -> Path:
    r = committed_repo(tmp_path / "r")
    (r / "a.txt").write_text("one\n")
    (r / "notes.txt").write_text("u\n")
    gs(r, "-m", "s")  # snapshot 1
    (r / "a.txt").write_text("edited\n")
    (r / "notes.txt").unlink()
    return r


def test_a_mistyped_id_is_refused_not_no_changes(tmp_path: Path) -> None:
    r = _changed(tmp_path)
    for args in (["lastest"], ["lastest", "--exit-code"], ["latest", "a.tx", "--exit-code"]):
        ran = gs(r, "diff", *args, rc=2)
        assert ran.out == "", (args, ran.out)
        assert len(ran.err_lines) == 1, ran.err
        word = args[1] if args[0] == "latest" else args[0]
        assert ran.ours == [
            f"git-snapshot: {word} is no snapshot id and no path in snapshot 1 or the worktree "
            "(a path is written after --)"
        ], ran.err


def test_between_two_snapshots_neither_holds_it(tmp_path: Path) -> None:
    r = _changed(tmp_path)
    gs(r, "-m", "s2")
    ran = gs(r, "diff", "1", "2", "nope", rc=2)
    assert "nope is no snapshot id and no path in snapshot 1 or snapshot 2" in ran.err, ran.err


def test_a_path_on_either_side_is_still_a_filter(tmp_path: Path) -> None:
    r = _changed(tmp_path)
    assert gs(r, "diff", "notes.txt", "--exit-code", rc=1).out.startswith("D notes.txt\n")
    (r / "new.txt").write_text("n\n")
    assert gs(r, "diff", "new.txt", "--exit-code", rc=1).out.startswith("A new.txt\n")
    assert gs(r, "diff", "1", "a.txt", "--exit-code", rc=1).out.startswith("M a.txt\n")
    (r / "sub").mkdir()
    assert gs(r / "sub", "diff", "..", rc=0).out.startswith("M a.txt\n")


def test_after_dashes_a_path_may_match_nothing_and_a_note_says_so(tmp_path: Path) -> None:
    r = _changed(tmp_path)
    ran = gs(r, "diff", "--exit-code", "--", "lastest", rc=0)
    assert ran.out == "no changes between snapshot 1 and the worktree\n", ran.out
    assert ran.ours == [
        "git-snapshot: note: nothing in snapshot 1 or the worktree is at lastest"
    ], ran.err
    ran = gs(r, "diff", "--exit-code", "--", "a.txt", rc=1)
    assert not ran.ours, ran.err
