"""A left-out file (snapshot.exclude) below a folder a plain switch replaced by the branch's
file (session 42, fixN; review RK42's left item). With `*.log` ignored by git and left out of
snapshots, v/sub/x.log (the user's, in no snapshot) sits in folder v/sub, which holds only
ignored files; branch `other` tracks a file v/sub. `git checkout other` deletes the folder
and x.log to write it. The report said "destroyed 1 ignored folder: v/sub/ (an earlier
version ... is in snapshot 1; restore with ...)", though snapshot 1 holds only the empty
folder (x.log was left out), and no "not saved" line named x.log: lostfrom._unsaved looked for
the paths git wrote at or below a left-out path, never above it.

The true report: "not saved: v/sub/x.log", and no line for the folder, whose restore gives
back nothing of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def sub(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* on main: `*.log` ignored and left out of snapshots; branch `other` tracks a file
    v/sub; on main, folder v/sub holds only x.log (the hooks installed, a snapshot taken)."""
    put_venv_on_path(monkeypatch)
    write(repo / ".gitignore", b"*.log\n")
    commit(repo, "a.txt", b"base\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    git(repo, "config", "snapshot.exclude", "*.log")
    git(repo, "checkout", "-q", "-b", "other")
    commit(repo, "v/sub", b"the branch's file\n")
    git(repo, "checkout", "-q", "main")
    install(repo)
    write(repo / "v" / "sub" / "x.log", b"mine, in no snapshot\n")
    assert git(repo, "status", "--porcelain").out == ""  # ignored
    gs(repo, "-m", "before")
    return repo


def test_a_left_out_file_in_a_folder_a_plain_switch_replaced_is_named_not_saved(
    sub: Path,
) -> None:
    ran = git(sub, "checkout", "-q", "other")
    assert (sub / "v" / "sub").read_bytes() == b"the branch's file\n"  # git deleted x.log
    unsaved = [ln for ln in ran.said if "not saved" in ln]
    assert any("v/sub/x.log" in ln for ln in unsaved), ran.said
    # snapshot 1 holds the folder empty: naming it there, with a restore, is false
    assert not [ln for ln in ran.said if "destroyed" in ln and "v/sub/" in ln], ran.said


def test_the_same_under_a_forced_switch(sub: Path) -> None:
    ran = git(sub, "checkout", "-q", "-f", "other")
    assert (sub / "v" / "sub").is_file()
    assert any("not saved" in ln and "v/sub/x.log" in ln for ln in ran.said), ran.said
    assert not [ln for ln in ran.said if "destroyed" in ln and "v/sub/" in ln], ran.said


def test_a_left_out_file_the_folder_still_holds_is_not_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A control: the branch writes a file beside x.log in its folder; x.log stays."""
    put_venv_on_path(monkeypatch)
    write(repo / ".gitignore", b"*.log\n")
    commit(repo, "a.txt", b"base\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    git(repo, "config", "snapshot.exclude", "*.log")
    git(repo, "checkout", "-q", "-b", "other")
    commit(repo, "v/sub/t.txt", b"the branch's file\n")
    git(repo, "checkout", "-q", "main")
    install(repo)
    write(repo / "v" / "sub" / "x.log", b"mine, in no snapshot\n")
    gs(repo, "-m", "before")
    ran = git(repo, "checkout", "-q", "other")
    assert (repo / "v" / "sub" / "x.log").read_bytes() == b"mine, in no snapshot\n"
    assert not [ln for ln in ran.said if "not saved" in ln or "destroyed" in ln], ran.said


def test_run_says_the_same(sub: Path) -> None:
    """`run` named x.log "not saved" already, and the folder too, with a restore."""
    ran = gs(sub, "run", "--", "git", "checkout", "-q", "other")
    assert (sub / "v" / "sub").is_file()
    assert any("not saved" in ln and "v/sub/x.log" in ln for ln in ran.said), ran.said
    assert not [ln for ln in ran.said if "destroyed" in ln and "v/sub/" in ln], ran.said
