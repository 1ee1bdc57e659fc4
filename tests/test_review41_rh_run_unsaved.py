"""Review of red41R2 F4's fix (0cd8780): `git snapshot run` leaves out of its "not saved"
line a left-out file git gives back. Its rule for HEAD before the command ("HEAD holds the
path, and no uncommitted edit below it") hid real losses that the line named before:

- a left-out path whose bytes left_out_edits could not hash (a symlink, a file over
  HASH_AT_MOST, one it could not read) is in no *edits*, so it counted as HEAD's version: a
  retargeted link `reset --hard` removed was named nowhere;
- a left-out folder HEAD tracks files in counted as HEAD's whole, though only its tracked
  files are git's: `run -- rm -rf vendor` lost an untracked file in it, named nowhere;
- HEAD before the command counted though no ref reaches it after: a detached commit the
  command left (only the reflog holds it; gc prunes it) hid the file it alone held.

A left-out path now counts as HEAD's only where left_out_edits saw HEAD's very version there
before the command (a folder: nothing in it but such files), and only while a ref reaches
that HEAD.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def excluding(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* with a.txt, a link x.bin and vendor/t.txt committed on main, branch `other`
    without x.bin nor vendor/, and `*.bin` and `/vendor/` left out of snapshots."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"base\n")
    os.symlink("a.txt", repo / "x.bin")
    git(repo, "add", "x.bin")
    commit(repo, "vendor/t.txt", b"vendored\n")
    git(repo, "checkout", "-q", "-b", "other")
    git(repo, "rm", "-q", "-r", "x.bin", "vendor")
    git(repo, "commit", "-qm", "rm")
    git(repo, "checkout", "-q", "main")
    git(repo, "config", "snapshot.exclude", "*.bin")
    git(repo, "config", "--add", "snapshot.exclude", "/vendor/")
    install(repo)
    return repo


def _unsaved(said: list[str]) -> list[str]:
    return [ln for ln in said if "not saved" in ln]


def test_a_retargeted_left_out_link_a_reset_removed_is_named(excluding: Path) -> None:
    r = excluding
    os.unlink(r / "x.bin")
    os.symlink("/my/own/target", r / "x.bin")
    ran = gs(r, "run", "--", "git", "reset", "-q", "--hard", "other")
    assert not os.path.lexists(r / "x.bin")
    assert any("x.bin" in ln for ln in _unsaved(ran.said)), ran.said


def test_an_untracked_file_in_a_left_out_folder_rm_removed_is_named(excluding: Path) -> None:
    r = excluding
    write(r / "vendor" / "mine.txt", b"only here\n")
    ran = gs(r, "run", "--", "rm", "-rf", "vendor")
    assert not (r / "vendor").exists()
    assert any("vendor" in ln for ln in _unsaved(ran.said)), ran.said


def test_a_left_out_folder_of_clean_committed_files_a_checkout_removed_is_not_named(
    excluding: Path,
) -> None:
    r = excluding
    ran = gs(r, "run", "--", "git", "checkout", "-q", "other")
    assert not (r / "vendor").exists() and not os.path.lexists(r / "x.bin")
    assert _unsaved(ran.said) == [], ran.said


def test_a_file_only_the_detached_commit_left_held_is_named(excluding: Path) -> None:
    r = excluding
    git(r, "checkout", "-q", "--detach")
    commit(r, "t.bin", b"committed on a detached HEAD only\n")
    ran = gs(r, "run", "--", "git", "checkout", "-q", "main")
    assert not (r / "t.bin").exists()
    assert any("t.bin" in ln for ln in _unsaved(ran.said)), ran.said


def test_a_file_the_commit_left_holds_is_not_named_while_its_branch_does(
    excluding: Path,
) -> None:
    r = excluding
    git(r, "checkout", "-q", "-b", "side")
    commit(r, "t.bin", b"committed on side\n")
    ran = gs(r, "run", "--", "git", "checkout", "-q", "main")
    assert not (r / "t.bin").exists()
    assert _unsaved(ran.said) == [], ran.said


def test_a_file_the_command_stashed_then_dropped_is_named(excluding: Path) -> None:
    """The entry the command made is gone again: git holds the file nowhere."""
    r = excluding
    write(r / "u.bin", b"untracked, left out\n")
    ran = gs(r, "run", "--", "sh", "-c", "git stash -q -u && git stash drop -q")
    assert not (r / "u.bin").exists()
    assert git(r, "stash", "list").out == ""
    assert any("u.bin" in ln for ln in _unsaved(ran.said)), ran.said
