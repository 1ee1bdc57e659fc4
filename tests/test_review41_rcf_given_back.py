"""review41 RCF, of 8cb2c16 (RED41 R1 F3): the stopped check of a rebase --autostash leaves
out a path its snapshot took from git's autostash where git gave it back
(gitoverlay.given_back). A path the apply deletes (B renamed the file: git's merge carries
the edit to the new name) was counted given back wherever no file was at the old name; but
a rebase whose state folder the user removed by hand never applied its autostash, and the
renamed file then holds B's version only: the edit was in the pre-rebase snapshot alone,
and nothing named it (the code before 8cb2c16 named it). It counts now only while the
files the apply writes are on disk as written.

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path
from hookhelpers import write

BASE = b"one\ntwo\nthree\nfour\nfive\n"
MINE = BASE.replace(b"five", b"FIVE")


def test_an_edit_for_a_renamed_file_git_never_applied_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B renames a.txt to b.txt; the rebase --autostash stops on a local commit's conflict;
    the user resolves it and removes .git/rebase-merge by hand (the autostash in it is never
    applied): a.txt is gone, b.txt is B's, the edit only in the pre-rebase snapshot."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", BASE)
    commit(repo, "c.txt", b"base\n")
    git(repo, "checkout", "-q", "-b", "B")
    git(repo, "mv", "a.txt", "b.txt")
    commit(repo, "c.txt", b"B\n", msg="rename a.txt, change c.txt")
    git(repo, "checkout", "-q", "main")
    commit(repo, "c.txt", b"main\n")
    install(repo)
    write(repo / "a.txt", MINE)
    assert git(repo, "rebase", "--autostash", "B", rc=None).rc != 0
    write(repo / "c.txt", b"resolved\n")
    git(repo, "add", "c.txt")
    shutil.rmtree(repo / ".git" / "rebase-merge")
    assert not (repo / "a.txt").exists()
    assert (repo / "b.txt").read_bytes() == BASE  # the edit is on no file
    assert named_lost(repo) == ["a.txt"]
    gs(repo, "undo")
    assert (repo / "a.txt").read_bytes() == MINE


def test_an_exec_bit_git_never_applied_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's edit is a chmod +x only; B changes a.txt's bytes; the rebase --autostash
    stops, is resolved and its state folder removed by hand: a.txt holds the bytes git's
    apply would write, without the exec bit the autostash holds. given_back compared the
    bytes alone: the edit, in the pre-rebase snapshot alone, was named nowhere."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", BASE)
    commit(repo, "c.txt", b"base\n")
    git(repo, "checkout", "-q", "-b", "B")
    commit(repo, "a.txt", BASE.replace(b"one", b"ONE"))
    commit(repo, "c.txt", b"B\n")
    git(repo, "checkout", "-q", "main")
    commit(repo, "c.txt", b"main\n")
    install(repo)
    (repo / "a.txt").chmod(0o755)
    assert git(repo, "rebase", "--autostash", "B", rc=None).rc != 0
    write(repo / "c.txt", b"resolved\n")
    git(repo, "add", "c.txt")
    shutil.rmtree(repo / ".git" / "rebase-merge")
    assert not (repo / "a.txt").stat().st_mode & 0o100
    assert named_lost(repo) == ["a.txt"]
