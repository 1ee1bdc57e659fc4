"""VS Code's "Discard All Changes": `git clean` then `git checkout --` (red44 F5b).

VS Code runs `git clean -f -q -- <untracked files>`, then `git checkout -q -- <tracked
files>`. `git clean` has no hook; the post-checkout report named the tracked edit alone, and
the untracked file the clean deleted a moment before, which only the snapshot before holds,
was named nowhere: `losses` listed a.txt alone and `undo` brought back a.txt, and the user
thought all was back. A post-checkout report that is printed anyway now adds a line for the
files the snapshot before held, that are gone now, that this checkout did not delete and
that git cannot give back ("also gone since snapshot N ..., not by git checkout"), with their
restore command; `losses` records them with the report and `undo` puts them back with the
rest. A file deleted by hand is named the same way (the hook cannot tell who deleted it);
one deleted in an earlier period (the snapshot before lacks it), one git gives back and one
moved to another path are not.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import MINE
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import left_out_bin
from hookhelpers import put_venv_on_path

NEW = b"my new untracked work\n"


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo*, hooked, a.txt and b.txt committed; a.txt edited to MINE and an untracked
    new.txt written, both saved by a snapshot (`git snapshot -m`)."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"v1\n")
    commit(repo, "b.txt", b"b\n")
    install(repo)
    (repo / "a.txt").write_bytes(MINE)
    (repo / "new.txt").write_bytes(NEW)
    gs(repo, "-m", "saved")
    return repo


def _discard_all(repo: Path) -> Ran:
    """The two commands VS Code runs for "Discard All Changes", as it runs them."""
    git(repo, "clean", "-f", "-q", "--", "new.txt")
    return git(repo, "checkout", "-q", "--", "a.txt")


def _also_gone(ran: Ran) -> list[str]:
    return [ln for ln in ran.ours if "also gone since" in ln]


def _pasted(repo: Path, line: str) -> None:
    """Run the restore command *line* ends with, as the user pastes it."""
    cmd = line.rsplit("restore with: ", 1)[1].rstrip(")")
    run(repo, *shlex.split(cmd))


def test_discard_all_names_the_file_git_clean_deleted(hooked: Path) -> None:
    ran = _discard_all(hooked)
    (rep,) = ran.reports
    assert (rep.what, rep.names) == ("git checkout", "a.txt"), ran.err  # (the checkout's own)
    (line,) = _also_gone(ran)
    assert "new.txt" in line and "not by git checkout" in line, line
    assert "untracked" in line, line
    assert not (hooked / "new.txt").exists()
    _pasted(hooked, line)
    assert (hooked / "new.txt").read_bytes() == NEW


def test_losses_records_it_and_undo_puts_it_back(hooked: Path) -> None:
    _discard_all(hooked)
    (entry,) = json.loads(gs(hooked, "losses", "--json").out)
    assert [x["path"] for x in entry["lost"]] == ["a.txt"]
    assert [x["path"] for x in entry["also_gone"]] == ["new.txt"]
    shown = gs(hooked, "losses").out
    assert "new.txt" in shown, shown
    dry = gs(hooked, "undo", "--dry-run")
    assert "new.txt" in dry.out + dry.err, dry
    ran = gs(hooked, "undo")
    assert "new.txt" in ran.out + ran.err, ran
    assert (hooked / "a.txt").read_bytes() == MINE
    assert (hooked / "new.txt").read_bytes() == NEW


def test_a_file_deleted_by_hand_is_named_the_same_way(hooked: Path) -> None:
    (hooked / "new.txt").unlink()
    ran = git(hooked, "checkout", "--", "a.txt")
    (rep,) = ran.reports
    assert rep.names == "a.txt", ran.err
    (line,) = _also_gone(ran)
    assert "new.txt" in line and "not by git checkout" in line, line
    _pasted(hooked, line)
    assert (hooked / "new.txt").read_bytes() == NEW


def test_a_file_gone_in_an_earlier_period_is_not_named_again(hooked: Path) -> None:
    (hooked / "new.txt").unlink()
    assert len(_also_gone(git(hooked, "checkout", "--", "a.txt"))) == 1
    (hooked / "a.txt").write_bytes(b"MINE again\n")
    gs(hooked, "-m", "again")
    ran = git(hooked, "checkout", "--", "a.txt")
    assert [r.names for r in ran.reports] == ["a.txt"], ran.err
    assert _also_gone(ran) == [], ran.err
    (entry,) = json.loads(gs(hooked, "losses", "--json").out)[-1:]
    assert not entry.get("also_gone"), entry


def test_a_snapshot_since_the_deletion_lacks_it_not_named(hooked: Path) -> None:
    (hooked / "new.txt").unlink()
    gs(hooked, "-m", "after the rm")  # (a week ago; snapshots since lack it)
    (hooked / "a.txt").write_bytes(b"MINE again\n")
    gs(hooked, "-m", "again")
    ran = git(hooked, "checkout", "--", "a.txt")
    assert [r.names for r in ran.reports] == ["a.txt"], ran.err
    assert _also_gone(ran) == [], ran.err


def test_what_git_gives_back_or_a_move_is_not_named(hooked: Path) -> None:
    (hooked / "b.txt").unlink()  # (committed, unedited: git checkout -- b.txt)
    os.rename(hooked / "new.txt", hooked / "moved.txt")  # (its bytes are still here)
    ran = git(hooked, "checkout", "--", "a.txt")
    assert [r.names for r in ran.reports] == ["a.txt"], ran.err
    assert _also_gone(ran) == [], ran.err


def test_an_ignored_file_git_clean_x_deleted_is_named(hooked: Path) -> None:
    commit(hooked, ".gitignore", b"*.env\n")
    (hooked / "a.txt").write_bytes(MINE)
    (hooked / ".env").write_bytes(b"SECRET=1\n")
    gs(hooked, "-m", "with .env")
    git(hooked, "clean", "-f", "-q", "-X")
    ran = git(hooked, "checkout", "-q", "--", "a.txt")
    (line,) = _also_gone(ran)
    assert ".env" in line and "ignored" in line and "new.txt" not in line, line


def test_no_report_no_line(hooked: Path) -> None:
    """Nothing of the checkout's to report: the hook says nothing more (a line of its own
    would be a report of what `git clean` did, which has no hook)."""
    git(hooked, "clean", "-f", "-q", "--", "new.txt")
    ran = git(hooked, "checkout", "-q", "--", "b.txt")  # (unedited: nothing lost)
    assert ran.reports == [] and _also_gone(ran) == [], ran.err


def test_too_many_gone_are_counted_not_asked(hooked: Path) -> None:
    """Past findlosses.GONE_AT_MOST files gone (an `rm -rf node_modules`), git is not asked of
    each (20,000 paths took 1.4 s): the line counts them and says where to see them; undo
    leaves them."""
    commit(hooked, ".gitignore", b"nm/\n")
    (hooked / "a.txt").write_bytes(MINE)
    (hooked / "nm").mkdir()
    for i in range(501):
        (hooked / "nm" / f"m{i}.js").write_bytes(b"x%d\n" % i)
    gs(hooked, "-m", "with nm")
    git(hooked, "clean", "-fdqX")
    ran = git(hooked, "checkout", "-q", "--", "a.txt")
    assert [r.names for r in ran.reports] == ["a.txt"], ran.err
    (line,) = _also_gone(ran)
    assert "nm/ (501 files" in line and "git snapshot diff" in line, line
    (entry,) = json.loads(gs(hooked, "losses", "--json").out)[-1:]
    assert entry["gone_more"] == 501 and not entry.get("also_gone"), entry
    shown = gs(hooked, "losses").out
    assert f"501 files (see: git snapshot diff {entry['snapshot']})" in shown, shown
    gs(hooked, "undo")
    assert (hooked / "a.txt").read_bytes() == MINE
    assert not (hooked / "nm").exists()


def test_a_report_of_unsaved_files_alone_undoes_the_gone_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkout's report names only a file no snapshot holds (x.bin, left out of
    snapshots: "not saved"), and a file gone since is in the snapshot: undo puts that one
    back and says the other was not saved. Before: "nothing of it can be undone", and the
    file the line named "undo puts it back" stayed gone."""
    left_out_bin(repo, monkeypatch)
    (repo / "new.txt").write_bytes(NEW)
    (repo / "x.bin").write_bytes(b"mine\n")
    gs(repo, "-m", "saved")
    git(repo, "clean", "-f", "-q", "--", "new.txt")
    ran = git(repo, "checkout", "-q", "other")
    assert ran.reports == [] and any("not saved: x.bin" in ln for ln in ran.ours), ran.err
    (line,) = _also_gone(ran)
    assert "new.txt" in line, line
    undo = gs(repo, "undo")
    assert (repo / "new.txt").read_bytes() == NEW
    assert "x.bin" in undo.err and "not saved" in undo.err, undo
