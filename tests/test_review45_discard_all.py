"""Review of red44 F5b's "also gone since" line past findlosses.GONE_AT_MOST files (review45).

Past 500 files gone since the snapshot before, the line counted every path that snapshot held
and this hook's lacks, without asking git or the disk: `git checkout -f main` leaving a branch
whose 501 tracked files main lacks said "also gone since snapshot 2 ..., not by git checkout
(a git clean, which runs no hook, or by hand): big/ (501 files)": the checkout deleted them,
and git gives every one back; and a folder left out of snapshots since (snapshot.exclude),
its 501 files still on disk, was called gone. Now the count is of files the snapshot before
labels untracked or ignored (git's checkout deletes no such file it does not name itself)
that are gone from the disk.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import MINE
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path

MANY = 501  # findlosses.GONE_AT_MOST + 1


def _many(folder: Path) -> None:
    folder.mkdir()
    for i in range(MANY):
        (folder / f"f{i}.txt").write_bytes(b"%d\n" % i)


def _also_gone(ran: Ran) -> list[str]:
    return [ln for ln in ran.ours if "also gone since" in ln]


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"v1\n")
    commit(repo, ".gitignore", b"nm/\n")
    install(repo)
    return repo


def test_a_switch_deleting_many_tracked_files_is_not_said_to_be_gone_not_by_it(
    hooked: Path,
) -> None:
    """The checkout deleted big/'s 501 tracked files (git gives them back): no line calls them
    gone "not by git checkout"; the 501 ignored files of nm/ an `rm -rf` took are counted."""
    git(hooked, "checkout", "-q", "-b", "big")
    _many(hooked / "big")
    git(hooked, "add", "big")
    git(hooked, "commit", "-q", "-m", "big")
    _many(hooked / "nm")
    (hooked / "a.txt").write_bytes(MINE)
    gs(hooked, "-m", "saved")
    ran = git(hooked, "checkout", "-q", "-f", "main")
    assert [r.names for r in ran.reports] == ["a.txt"], ran.err
    assert _also_gone(ran) == [], ran.err
    (entry,) = json.loads(gs(hooked, "losses", "--json").out)[-1:]
    assert not entry.get("gone_more"), entry
    # and an rm -rf of ignored files before such a checkout is counted, big/ still not
    git(hooked, "checkout", "-q", "big")
    (hooked / "a.txt").write_bytes(MINE)
    gs(hooked, "-m", "again")
    for f in (hooked / "nm").iterdir():
        f.unlink()
    ran = git(hooked, "checkout", "-q", "-f", "main")
    (line,) = _also_gone(ran)
    assert "nm/ (501 files)" in line and "big/" not in line, line


def test_files_left_out_since_but_still_there_are_not_gone(hooked: Path) -> None:
    """nm/ left out of snapshots since the one before (snapshot.exclude): the hook's snapshot
    lacks its 501 files, which are all still on disk."""
    _many(hooked / "nm")
    (hooked / "a.txt").write_bytes(MINE)
    gs(hooked, "-m", "saved")
    git(hooked, "config", "snapshot.exclude", "nm/")
    ran = git(hooked, "checkout", "-q", "--", "a.txt")
    assert [r.names for r in ran.reports] == ["a.txt"], ran.err
    assert _also_gone(ran) == [], ran.err
    assert len(list((hooked / "nm").iterdir())) == MANY


def test_a_file_the_restore_before_deleted_is_not_gone_not_by_it(hooked: Path) -> None:
    """`git snapshot restore 1 --delete sub` deleted sub/junk.txt (the user asked it to; its
    pre-restore snapshot 3 holds it); the next `git checkout -- a.txt` reports a.txt from
    snapshot 3. sub/junk.txt was said to be gone "not by git checkout (a git clean, which
    runs no hook, or by hand)", and `undo` put it back, undoing the restore's deletion."""
    (hooked / "sub").mkdir()
    (hooked / "sub" / "keep.txt").write_bytes(b"keep\n")
    gs(hooked, "-m", "base")
    (hooked / "sub" / "junk.txt").write_bytes(b"junk\n")
    (hooked / "a.txt").write_bytes(MINE)
    gs(hooked, "-m", "junk")
    gs(hooked, "restore", "1", "--delete", "sub")
    assert not (hooked / "sub" / "junk.txt").exists()
    ran = git(hooked, "checkout", "-q", "--", "a.txt")
    assert [r.names for r in ran.reports] == ["a.txt"], ran.err
    assert _also_gone(ran) == [], ran.err
    gs(hooked, "undo")
    assert (hooked / "a.txt").read_bytes() == MINE
    assert not (hooked / "sub" / "junk.txt").exists()


def test_past_500_a_tracked_edit_deleted_by_hand_is_still_named(hooked: Path) -> None:
    """501 ignored files and an edited tracked file deleted by hand before `git checkout --
    a.txt`: the ignored ones are counted, the edit is named in a line of its own (undo puts
    it back). Before, all 502 were counted and the line naming the edit was dropped."""
    commit(hooked, "b.txt", b"b\n")
    _many(hooked / "nm")
    (hooked / "a.txt").write_bytes(MINE)
    (hooked / "b.txt").write_bytes(b"my edit\n")
    gs(hooked, "-m", "saved")
    for f in (hooked / "nm").iterdir():
        f.unlink()
    (hooked / "b.txt").unlink()
    ran = git(hooked, "checkout", "-q", "--", "a.txt")
    assert [r.names for r in ran.reports] == ["a.txt"], ran.err
    named, counted = _also_gone(ran)
    assert "1 file with uncommitted edits: b.txt" in named, named
    assert "501 untracked or ignored files" in counted and "nm/ (501 files)" in counted, counted
    gs(hooked, "undo")
    assert (hooked / "b.txt").read_bytes() == b"my edit\n"
    assert not list((hooked / "nm").iterdir())
