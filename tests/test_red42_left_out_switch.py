"""A plain branch switch and the paths snapshots leave out (snapshot.exclude), session 41's
left false report (review41 RH2):

- an excluded folder one branch tracks files in was named "not saved" by post-checkout at
  every switch between the branches, though nothing was lost: going to the branch without
  it, the commit left holds its files (the hook matched files only, never a folder); going
  back, the snapshot compared still listed the folder as left out;
- that snapshot was one reused as "unchanged" (its root is the same: the folder is left
  out), with the list of left-out paths of the walk that made it. Reused the other way, it
  hid a loss: an excluded file made after the last snapshot, which git then overwrote, was
  in no list, and no "not saved" line named it.

A snapshot is reused now only when it left out what the walk did; and after a plain switch
a left-out path is named only where git wrote a path it may have destroyed something at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import commit
from hookhelpers import left_out_bin
from hookhelpers import left_out_folder
from hookhelpers import write


def _unsaved(said: list[str]) -> list[str]:
    return [ln for ln in said if "not saved" in ln]


@pytest.fixture
def folder(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* on main: a.txt and v/t.txt committed, /v/ left out of snapshots, the hooks
    installed; branch `other` (made with the hooks on) without v/."""
    return left_out_folder(repo, monkeypatch)


def test_switching_between_branches_one_lacking_a_left_out_folder_names_nothing(
    folder: Path,
) -> None:
    r = folder
    for branch in ("main", "other", "main", "other", "main"):
        ran = git(r, "checkout", "-q", branch)
        assert (r / "v").exists() == (branch == "main")
        assert _unsaved(ran.said) == [], (branch, ran.said)


def test_an_untracked_file_in_the_left_out_folder_is_kept_and_not_named(folder: Path) -> None:
    r = folder
    git(r, "checkout", "-q", "main")
    write(r / "v" / "mine.txt", b"mine\n")
    ran = git(r, "checkout", "-q", "other")
    assert (r / "v" / "mine.txt").read_bytes() == b"mine\n"  # git leaves it
    assert _unsaved(ran.said) == [], ran.said


def test_a_forced_switch_over_an_edit_in_the_left_out_folder_names_it(folder: Path) -> None:
    r = folder
    git(r, "checkout", "-q", "main")
    write(r / "v" / "t.txt", b"my edit, in no snapshot\n")
    ran = git(r, "checkout", "-q", "-f", "other")
    assert not (r / "v").exists()
    assert any("v" in ln for ln in _unsaved(ran.said)), ran.said


def test_an_ignored_file_in_the_left_out_folder_a_plain_switch_overwrote_is_named(
    folder: Path,
) -> None:
    r = folder
    git(r, "checkout", "-q", "main")
    write(r / ".gitignore", b"gen.txt\n")
    git(r, "add", ".gitignore")
    git(r, "commit", "-qm", "ignore gen.txt")
    git(r, "checkout", "-q", "-b", "third")
    commit(r, "v/gen.txt", b"theirs\n", force=True)
    git(r, "checkout", "-q", "main")
    write(r / "v" / "gen.txt", b"mine, ignored, in no snapshot\n")
    ran = git(r, "checkout", "-q", "third")
    assert (r / "v" / "gen.txt").read_bytes() == b"theirs\n"  # git overwrote it
    assert any("v" in ln for ln in _unsaved(ran.said)), ran.said


@pytest.fixture
def binfile(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return left_out_bin(repo, monkeypatch)  # `other` tracks x.bin, left out and ignored


def test_a_left_out_file_made_since_the_last_snapshot_then_overwritten_is_named(
    binfile: Path,
) -> None:
    r = binfile
    write(r / "x.bin", b"mine, left out\n")
    # a hook's snapshot with nothing else changed: the root is the last one's
    git(r, "checkout", "-q", "-b", "tmp")
    git(r, "checkout", "-q", "main")
    ran = git(r, "checkout", "-q", "other")
    assert (r / "x.bin").read_bytes() == b"theirs\n"
    assert any("x.bin" in ln for ln in _unsaved(ran.said)), ran.said


def test_a_left_out_file_one_branch_tracks_is_not_named_at_each_switch(binfile: Path) -> None:
    r = binfile
    for branch in ("other", "main", "other", "main"):
        ran = git(r, "checkout", "-q", branch)
        assert _unsaved(ran.said) == [], (branch, ran.said)
