"""Review RN42 of fixN's 3136d4a: losses.find drops a folder the snapshot holds empty only
because it left out what was in it, leaving the left-out files to the caller's "not saved"
part. Two callers did not name them, so a loss the folder line used to point at (its
restore gave back the empty folder, but the user was told) was named by nothing:

- a branch's link written in the folder's place: lostfrom._unsaved (and run's) asked
  os.path.lexists of v/sub/x.log, which follows the new link v/sub -> ../w to w/x.log;
- git's autostash writing a tracked file back over the folder the user made in its place
  (RED40 F1's shape, the folder holding only a left-out file): autostash._autostash_losses
  names what losses.find finds below it, and never asked the left-out paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import write

MINE = b"mine, in no snapshot\n"


@pytest.mark.parametrize("how", ["hook", "run"])
def test_a_link_written_over_a_folder_of_left_out_files_names_them(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Branch `other` tracks v/sub as a link to ../w, and w/x.log exists: after the switch
    v/sub/x.log reads w/x.log through the link, but the user's x.log is gone."""
    put_venv_on_path(monkeypatch)
    write(repo / ".gitignore", b"*.log\n")
    commit(repo, "w/keep", b"k\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    git(repo, "config", "snapshot.exclude", "*.log")
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "v").mkdir()
    os.symlink("../w", repo / "v" / "sub")
    git(repo, "add", "v/sub")
    git(repo, "commit", "-qm", "link")
    git(repo, "checkout", "-q", "main")
    install(repo)
    write(repo / "w" / "x.log", b"w's own log\n")
    write(repo / "v" / "sub" / "x.log", MINE)
    gs(repo, "-m", "before")
    if how == "hook":
        ran = git(repo, "checkout", "-q", "other")
    else:
        ran = gs(repo, "run", "--", "git", "checkout", "-q", "other")
    assert (repo / "v" / "sub").is_symlink()  # git deleted the folder and x.log in it
    assert (repo / "w" / "x.log").read_bytes() == b"w's own log\n"
    assert any("not saved" in ln and "v/sub/x.log" in ln for ln in ran.said), ran.said


@pytest.fixture
def folder_of_left_out(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """x.csv tracked, replaced by a folder holding only inner.log (`*.log` ignored and left
    out of snapshots), a.txt edited (for the autostash); main and feat one commit apart."""
    put_venv_on_path(monkeypatch)
    write(repo / ".gitignore", b"*.log\n")
    git(repo, "add", ".gitignore")
    commit(repo, "x.csv", b"x v0\n")
    base = commit(repo, "a.txt", b"a\n")
    side_commit(repo, "feat", {"b.txt": b"b\n"}, base=base)
    commit(repo, "a.txt", b"a2\n")
    git(repo, "config", "snapshot.exclude", "*.log")
    install(repo)
    (repo / "x.csv").unlink()
    write(repo / "x.csv" / "inner.log", MINE)
    write(repo / "a.txt", b"edited\n")
    gs(repo, "-m", "saved before")
    return repo


@pytest.mark.parametrize("how", ["rebase", "merge"])
def test_autostash_deleting_a_folder_of_left_out_files_names_them(
    folder_of_left_out: Path, how: str
) -> None:
    repo = folder_of_left_out
    args = {
        "rebase": ["rebase", "--autostash", "feat"],
        "merge": ["merge", "--autostash", "--no-edit", "feat"],
    }[how]
    ran = git(repo, *args)
    assert (repo / "x.csv").is_file()  # git's reset put the file back: inner.log is gone
    unsaved = [ln for ln in ran.said if "not saved" in ln]
    assert any("x.csv/inner.log" in ln for ln in unsaved), ran.said
    assert len([ln for ln in unsaved if "x.csv/inner.log" in ln]) == 1, ran.said
