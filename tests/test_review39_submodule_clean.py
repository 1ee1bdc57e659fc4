"""A clean submodule whose checkout git removes with its gitlink is no loss (review39 RB2).

RED39 B2's fix names a submodule's whole checkout (its ``.git`` file and unchanged files too)
when the ``.git`` file went and the index no longer holds the gitlink, so that `undo` gives
back a working checkout around an edit. It did so also when nothing under the submodule was
the user's: `git checkout --recurse-submodules` to a commit without the submodule (which
reported nothing before) and `run -- git rm -f sub` of a clean submodule were reported as
destroying "files with uncommitted edits", though the submodule's repository, kept in
.git/modules, holds every one of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import put_venv_on_path
from test_red39_submodule_rm import with_submodule


@pytest.fixture
def superproject(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* at tag p0 without the submodule, then on main with clean submodule sub."""
    put_venv_on_path(monkeypatch)
    with_submodule(repo, tmp_path, tag_before="p0")
    gs(repo, "-m", "before")
    return repo


def _reports(repo: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(repo, "losses", "--json").out)]


def test_a_recursing_checkout_that_removes_a_clean_submodule_names_nothing(
    superproject: Path,
) -> None:
    ran = git(
        superproject,
        "-c",
        "advice.detachedHead=false",
        "checkout",
        "-q",
        "--recurse-submodules",
        "p0",
    )
    assert not (superproject / "sub" / ".git").exists()
    assert "destroyed" not in ran.err, ran.err
    assert _reports(superproject) == []


def test_rm_of_a_clean_submodule_names_nothing(superproject: Path) -> None:
    ran = gs(superproject, "run", "--", "git", "rm", "-q", "-f", "sub")
    assert not (superproject / "sub").exists()
    assert "destroyed" not in ran.err, ran.err
    assert _reports(superproject) == []


def test_an_untracked_file_of_the_removed_submodule_still_brings_its_checkout(
    superproject: Path,
) -> None:
    (superproject / "sub" / "note.txt").write_bytes(b"note\n")
    gs(superproject, "run", "--", "git", "rm", "-q", "-f", "sub")
    assert sorted(*_reports(superproject)) == [
        "sub/.git",
        "sub/.gitignore",
        "sub/lib.c",
        "sub/note.txt",
    ]
