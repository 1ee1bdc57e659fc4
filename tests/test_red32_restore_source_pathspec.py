"""RED32 (red team D, finding 4): `git restore --source=REV a.txt` blamed for b.txt, which the
user deleted by hand.

b.txt is tracked, absent from REV, edited and saved in a snapshot; the user deletes it, then
runs `git restore --source=REV a.txt` in the same folder. RED31's B2 fix keeps a path the index
holds out of the report only where REV has it (a worktree-only restore does delete a tracked
file REV lacks, under its pathspec); b.txt, outside the pathspec, was named "destroyed" and
`undo` would have brought back a file the user deleted on purpose. git touches nothing outside
the command's pathspec (relative to where it ran).
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
from hookhelpers import write


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"a\n")
    commit(repo, "d/a.txt", b"a\n")
    commit(repo, "a.txt", b"a2\n")
    commit(repo, "b.txt", b"b\n")
    commit(repo, "d/b.txt", b"b\n")
    install(repo)
    return repo


def _lost(repo: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(repo, "losses", "--json"))]


@pytest.mark.parametrize(
    "cmd",
    [
        ["restore", "--source=HEAD~3", "a.txt"],
        ["restore", "-s", "HEAD~3", "--", "a.txt"],
        ["restore", "--source", "HEAD~3", "--worktree", "a.*"],
    ],
)
def test_a_file_outside_the_pathspec_is_not_blamed(hooked: Path, cmd: list[str]) -> None:
    r = hooked
    write(r / "b.txt", b"b edited\n")
    write(r / "a.txt", b"a edited\n")
    gs(r, "-m", "the edits")
    os.unlink(r / "b.txt")  # on purpose
    ran = git(r, *cmd)
    assert (r / "a.txt").read_bytes() == b"a\n"
    (rep,) = ran.reports
    assert rep.names == "a.txt", ran.said
    assert _lost(r) == [["a.txt"]]


def test_from_a_subfolder_the_pathspec_is_relative_to_it(hooked: Path) -> None:
    """`restore --source=REV .` in d/: d/b.txt (REV lacks it) is deleted by git and named; b.txt
    at the top, deleted by the user, is not."""
    r = hooked
    write(r / "b.txt", b"b edited\n")
    write(r / "d" / "b.txt", b"d/b edited\n")
    gs(r, "-m", "the edits")
    os.unlink(r / "b.txt")
    ran = run(r / "d", "git", "restore", "--source=HEAD~3", ".")
    assert not (r / "d" / "b.txt").exists()
    (rep,) = ran.reports
    assert rep.names == "b.txt", ran.said  # d/b.txt, as seen from d/
    assert _lost(r) == [["d/b.txt"]]


def test_with_git_dash_c_the_pathspec_is_relative_to_its_folder(hooked: Path) -> None:
    r = hooked
    write(r / "b.txt", b"b edited\n")
    write(r / "d" / "b.txt", b"d/b edited\n")
    gs(r, "-m", "the edits")
    os.unlink(r / "b.txt")
    ran = run(r, "sh", "-c", "git -C d restore --source=HEAD~3 b.txt")  # the shell in r
    assert not (r / "d" / "b.txt").exists()
    (rep,) = ran.reports
    assert rep.names == "d/b.txt", ran.said  # said from r, where the shell is
    assert _lost(r) == [["d/b.txt"]], ran.said
