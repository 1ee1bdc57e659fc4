"""After a `merge --autostash` (or `pull --autostash` that merges) whose autostash conflicts,
git's conflict-marker file is git's, not the user's edit (RED40 A finding 3).

The autostash is applied as a `stash apply`; when it conflicts git keeps the edit in a stash
entry named autostash and leaves the marker file, the unmerged entries and, unlike a plain
`stash pop` (RED36 A5), no AUTO_MERGE: `run -- git reset --hard` named the marker file as
destroyed uncommitted edits and `undo` wrote the markers back. A hand resolution made after is
still the user's and still named.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit


def _conflicted(repo: Path, ff: bool) -> Path:
    """*repo*, hooked, after `git merge --autostash up` whose autostash conflicted in doc.md
    (a fast-forward when *ff*, else a true merge)."""
    commit(repo, "doc.md", b"base\n")
    side_commit(repo, "up", {"doc.md": b"upstream\n"})
    if not ff:
        commit(repo, "local.txt", b"local\n")
    install(repo)
    (repo / "doc.md").write_bytes(b"my edit\n")
    ran = git(repo, "merge", "-q", "--autostash", "--no-edit", "up")
    assert "Applying autostash resulted in conflicts" in ran.err, ran.err
    assert b"<<<<<<< Updated upstream" in (repo / "doc.md").read_bytes()
    assert git(repo, "stash", "list").out.startswith("stash@{0}: autostash")
    return repo


@pytest.fixture(params=[True, False], ids=["ff", "merge"])
def conflicted(repo: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    put_venv_on_path(monkeypatch)
    return _conflicted(repo, request.param)


def _lost(repo: Path) -> list[str]:
    return [x["path"] for e in json.loads(gs(repo, "losses", "--json").out) for x in e["lost"]]


def test_reset_hard_after_a_conflicted_autostash_names_no_marker_file(conflicted: Path) -> None:
    ran = gs(conflicted, "run", "--", "git", "reset", "--hard")
    assert "doc.md" not in ran.err, ran.err
    assert "doc.md" not in _lost(conflicted)


def test_a_file_checkout_after_a_conflicted_autostash_names_no_marker_file(
    conflicted: Path,
) -> None:
    gs(conflicted, "-m", "after-merge")
    ran = git(conflicted, "checkout", "HEAD", "--", ".")
    assert "doc.md" not in ran.err, ran.err
    assert "doc.md" not in _lost(conflicted)


def test_a_hand_resolution_after_a_conflicted_autostash_is_still_named(conflicted: Path) -> None:
    (conflicted / "doc.md").write_bytes(b"resolved by hand\n")
    ran = gs(conflicted, "run", "--", "git", "reset", "--hard")
    assert "destroyed" in ran.err and "doc.md" in ran.err, ran.err
    gs(conflicted, "undo")
    assert (conflicted / "doc.md").read_bytes() == b"resolved by hand\n"
