"""An alias of git's (`git co -- g`) is read as the command it stands for (RED31, left then).

The hooks read the user's git command from /proc to tell what it can have destroyed. An alias
hid it: `git co -- g` was "not known", so the report took the conservative side and blamed the
file checkout for a file the user had deleted by hand before it. git expands an alias (its
value split as a shell splits words, again if that is an alias too) before it runs the
command, so the hook asks git for the same value; a `!` alias runs a shell, and stays unknown.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

from git_snapshot import proc


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, "f", b"f\n")
    commit(repo, "g", b"g\n")
    install(repo)
    return repo


def _lost(repo: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(repo, "losses", "--json"))]


@pytest.mark.parametrize(
    "alias",
    ["checkout", "checkout --", "restore", "'restore'", "c2"],  # c2: an alias of an alias
)
def test_a_file_the_user_deleted_is_not_blamed_on_an_aliased_file_checkout(
    hooked: Path, alias: str
) -> None:
    r = hooked
    git(r, "config", "alias.c2", "checkout")
    git(r, "config", "alias.co", alias)
    write(r / "f", b"MY EDIT\n")
    gs(r, "-m", "the edit")
    os.unlink(r / "f")  # deleted on purpose
    write(r / "g", b"g edit\n")
    ran = git(r, "co", "--", "g") if alias != "checkout --" else git(r, "co", "g")
    assert (r / "g").read_bytes() == b"g\n"
    assert not ran.reports and "destroyed" not in ran.err, ran.said
    assert _lost(r) == []


def test_what_the_aliased_checkout_destroyed_is_still_named(hooked: Path) -> None:
    r = hooked
    git(r, "config", "alias.co", "checkout")
    write(r / "g", b"my edit of g\n")
    gs(r, "-m", "the edit")
    ran = git(r, "co", "--", "g")
    (report,) = ran.reports
    assert report.names == "g", ran.err
    assert _lost(r) == [["g"]]


@pytest.mark.parametrize(
    ("config", "argv", "want"),
    [
        ({"alias.co": "checkout -f"}, ("git", "co", "B"), ("git", "checkout", "-f", "B")),
        (
            {"alias.co": "checkout"},
            ("git", "-C", "x", "co", "B"),
            ("git", "-C", "x", "checkout", "B"),
        ),
        ({"alias.sw": "switch 'a b'"}, ("git", "sw"), ("git", "switch", "a b")),
        ({"alias.x": "y", "alias.y": "reset --hard"}, ("git", "x"), ("git", "reset", "--hard")),
        ({"alias.x": "y", "alias.y": "x"}, ("git", "x"), ("git", "x")),  # a loop: unknown
        ({"alias.nuke": "!git clean -fdx"}, ("git", "nuke"), ("git", "nuke")),  # a shell's
        ({}, ("git", "co", "B"), ("git", "co", "B")),  # no such alias
        ({"alias.checkout": "reset --hard"}, ("git", "checkout", "B"), ("git", "checkout", "B")),
    ],
)
def test_expanded_as_git_expands_it(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    config: dict[str, str],
    argv: tuple[str, ...],
    want: tuple[str, ...],
) -> None:
    for key, value in config.items():
        git(repo, "config", key, value)
    monkeypatch.chdir(repo)
    assert proc.expanded(argv) == want
