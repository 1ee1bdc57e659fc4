"""RED33 A6: `git snapshot run -- git mv a.txt e.txt` of a file with an unstaged edit said the
edit of a.txt was destroyed, though it moved with the file (e.txt holds the same bytes on
disk; the index holds the committed ones there). Pasting the printed restore made an
untracked duplicate a.txt. `git mv -f b.txt c.ini` over an ignored c.ini: c.ini is lost (and
named), b.txt's edit moved (not named). A staged copy of a file that stayed is still named
(RED32 D5), and so is a file the command deleted whose bytes are nowhere on disk.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def edited(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    (repo / ".gitignore").write_text("*.ini\n")
    git(repo, "add", ".gitignore")
    commit(repo, "a.txt", b"a\n")
    commit(repo, "b.txt", b"b\n")
    write(repo / "a.txt", b"a\nUNSTAGED EDIT\n")
    return repo


def _lost(repo: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(repo, "losses", "--json"))]


def test_an_edited_file_moved_by_git_mv_is_no_loss(edited: Path) -> None:
    r = edited
    ran = gs(r, "run", "--", "git", "mv", "a.txt", "e.txt")
    assert (r / "e.txt").read_bytes() == b"a\nUNSTAGED EDIT\n" and not (r / "a.txt").exists()
    assert not ran.reports and "destroyed" not in ran.err, ran.err
    assert _lost(r) == []


def test_git_mv_over_an_ignored_file_names_only_that_file(edited: Path) -> None:
    r = edited
    write(r / "b.txt", b"b\nEDIT B\n")
    write(r / "c.ini", b"old\n")
    ran = gs(r, "run", "--", "git", "mv", "-f", "b.txt", "c.ini")
    assert (r / "c.ini").read_bytes() == b"b\nEDIT B\n"
    (rep,) = ran.reports
    assert rep.names == "c.ini" and rep.kinds == "1 ignored file", ran.err


def test_an_edited_file_deleted_is_still_named(edited: Path) -> None:
    r = edited
    ran = gs(r, "run", "--", "git", "rm", "-qf", "a.txt")
    (rep,) = ran.reports
    assert rep.names == "a.txt", ran.err


def test_an_edited_copy_that_stayed_is_still_named(edited: Path) -> None:
    """A staged copy of a file whose edited twin is still where it was: the copy's path is
    the only thing it held, but nothing moved (snapshot held the twin with those bytes)."""
    r = edited
    write(r / "copy", b"a\nUNSTAGED EDIT\n")
    git(r, "add", "copy")
    ran = gs(r, "run", "--", "git", "rm", "-qf", "copy")
    (rep,) = ran.reports
    assert rep.names == "copy", ran.err
