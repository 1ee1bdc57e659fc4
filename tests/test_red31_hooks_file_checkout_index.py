"""RED31 (red team B, finding 2): a file the user deleted by hand, blamed on a file checkout.

A snapshot holds an edit of tracked f. The user then deletes f on purpose (`rm f`: the index
still holds it, ` D f`), edits g and runs `git checkout -- g`. git wrote g only; the folder
both are in got a new mtime, so f, gone from a folder the command wrote, labelled tracked in
the snapshot, was named "destroyed by git checkout" (and `undo` would have brought it back).
A file checkout never deletes a path its index keeps: from the index it would write the
file back; `checkout REV -- d` and `restore --source=REV --staged` write the index too. Only
`restore --source=REV` (the worktree alone) deletes a file the index keeps, one REV lacks:
that is still named.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import write


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, "f", b"f\n")
    commit(repo, "g", b"g\n")
    commit(repo, "d/x", b"x\n")
    commit(repo, "d/y", b"y\n")
    install(repo)
    return repo


def _lost(repo: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(repo, "losses", "--json"))]


def _user_deletes(r: Path, rel: str) -> None:
    """A snapshot holds an edit of *rel*; then the user deletes it by hand."""
    write(r / rel, b"MY EDIT\n")
    gs(r, "-m", "the edit")
    os.unlink(r / rel)


@pytest.mark.parametrize(
    "cmd",
    [
        ["checkout", "--", "g"],
        ["restore", "g"],
        ["checkout", "HEAD", "--", "g"],
        ["restore", "--source=HEAD~1", "g"],
        ["restore", "-s", "HEAD~1", "--worktree", "g"],
    ],
)
def test_a_file_the_user_deleted_is_not_blamed_on_a_file_checkout(
    hooked: Path, cmd: list[str]
) -> None:
    r = hooked
    _user_deletes(r, "f")
    write(r / "g", b"g edit\n")
    ran = git(r, *cmd)
    assert (r / "g").read_bytes() == b"g\n"
    assert not ran.reports and "destroyed" not in ran.err, ran.said
    assert git(r, "status", "--short", "f").out == " D f\n"
    assert _lost(r) == []


def test_in_a_subfolder_too(hooked: Path) -> None:
    r = hooked
    _user_deletes(r, "d/x")
    write(r / "d" / "y", b"y edit\n")
    ran = run(r / "d", "git", "checkout", "--", "y")
    assert not ran.reports and "destroyed" not in ran.err, ran.said


def test_restore_source_deleting_a_file_the_index_keeps_is_still_named(hooked: Path) -> None:
    """`restore --source=REV d` (worktree only) deletes d/z, which REV lacks, with its edit; the
    index keeps d/z. git did delete it: named, and its restore command gives it back."""
    r = hooked
    commit(r, "d/z", b"z\n")
    write(r / "d" / "z", b"MY EDIT OF z\n")
    gs(r, "-m", "the edit")
    ran = git(r, "restore", "--source=HEAD~1", "d")
    assert not (r / "d" / "z").exists()
    assert git(r, "ls-files", "d/z").out == "d/z\n"
    (rep,) = ran.reports
    assert rep.names == "d/z", ran.said
    restore(r, rep)
    assert (r / "d" / "z").read_bytes() == b"MY EDIT OF z\n"


def test_restore_source_and_a_file_the_user_deleted_that_rev_has(hooked: Path) -> None:
    """`restore --source=REV g` while f, which REV has, was deleted by the user: had the
    restore's paths covered f, git would have written REV's f back."""
    r = hooked
    commit(r, "d/z", b"z\n")
    _user_deletes(r, "f")
    write(r / "g", b"g edit\n")
    ran = git(r, "restore", "--source=HEAD~1", "g")
    assert not ran.reports and "destroyed" not in ran.err, ran.said
