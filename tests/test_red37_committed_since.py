"""A version a snapshot holds that a commit made since holds at that path is not lost (RED37
review RF: `git snapshot; git checkout -b x; git commit -am mine; <edit>; git commit -am v2;
git checkout main -- a.txt` named a.txt from the snapshot, though MINE is in x~1).

git can give back what any commit HEAD was at since the snapshot holds (its reflog), not only
the commits the operation moved between. The control cases keep their reports: the edit never
committed (only the snapshot holds it), and the plain discard of an uncommitted edit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import MINE
from hookhelpers import commit
from hookhelpers import edited_and_saved
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return edited_and_saved(repo, monkeypatch)


def _v2_on_top(repo: Path) -> None:
    (repo / "a.txt").write_bytes(b"v2\n")
    git(repo, "commit", "-qam", "v2")


def _committed_then_v2(repo: Path) -> None:
    """s3.sh: the edit carried to x and committed there, another commit on top."""
    git(repo, "checkout", "-q", "-b", "x")
    git(repo, "commit", "-qam", "mine")
    _v2_on_top(repo)


def _popped_committed_then_v2(repo: Path) -> None:
    """s2.sh: stashed, x made, popped, committed, another commit on top."""
    git(repo, "stash", "-q")
    git(repo, "checkout", "-q", "-b", "x")
    git(repo, "stash", "pop", "-q")
    git(repo, "commit", "-qam", "popped")
    _v2_on_top(repo)


def _main_back(repo: Path, how: str) -> str:
    argv = ["checkout", "main", "--", "a.txt"] if how == "file" else ["checkout", "-f", "main"]
    ran = git(repo, *argv)
    assert (repo / "a.txt").read_bytes() == b"v1\n"
    return ran.err


@pytest.mark.parametrize("how", ["file", "forced"])
@pytest.mark.parametrize("flow", [_committed_then_v2, _popped_committed_then_v2])
def test_an_edit_committed_since_the_snapshot_is_not_named(
    hooked: Path, flow: Any, how: str
) -> None:
    flow(hooked)
    err = _main_back(hooked, how)
    assert "destroyed" not in err, err
    assert named_lost(hooked) == []
    assert git(hooked, "show", "x~1:a.txt").out == MINE.decode()


@pytest.mark.parametrize("how", ["file", "forced"])
def test_an_edit_never_committed_is_still_named(hooked: Path, how: str) -> None:
    """MINE exists only in the snapshot: x's commit holds v2, written over it."""
    git(hooked, "checkout", "-q", "-b", "x")
    _v2_on_top(hooked)
    err = _main_back(hooked, how)
    assert "destroyed" in err and "a.txt" in err, err
    assert named_lost(hooked) == ["a.txt"]


def test_the_plain_discard_of_an_uncommitted_edit_is_still_named(hooked: Path) -> None:
    ran = git(hooked, "checkout", "--", "a.txt")
    assert "destroyed" in ran.err and "a.txt" in ran.err, ran.err
    assert named_lost(hooked) == ["a.txt"]


def test_an_edit_committed_then_amended_away_is_not_named(
    hooked: Path,
) -> None:
    """Committed on x, then the commit's content replaced by v2 and the file discarded:
    MINE is in the commit HEAD was at (the reflog's), which git gives back: not named."""
    git(hooked, "checkout", "-q", "-b", "x")
    git(hooked, "commit", "-qam", "mine")
    (hooked / "a.txt").write_bytes(b"v2\n")
    git(hooked, "commit", "-q", "--amend", "-am", "v2")
    err = _main_back(hooked, "file")
    assert "destroyed" not in err, err
    assert named_lost(hooked) == []


def test_a_converted_file_committed_since_is_not_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot holds a.txt with CRLF ends (eol=crlf), the commit git's LF version: the
    raw ids differ, git's conversion of the snapshot's bytes is that commit's version."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitattributes", b"a.txt text eol=crlf\n")
    commit(repo, "a.txt", b"v1\n")
    install(repo)
    (repo / "a.txt").write_bytes(b"MINE\r\n")
    gs(repo, "-m", "holds MINE")
    _committed_then_v2(repo)
    assert git(repo, "show", "x~1:a.txt").out == "MINE\n"
    ran = git(repo, "checkout", "main", "--", "a.txt")
    assert "destroyed" not in ran.err, ran.err
    assert named_lost(repo) == []
