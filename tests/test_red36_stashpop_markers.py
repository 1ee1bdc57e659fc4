"""After a `git stash pop` that conflicts, git's conflict-marker file is git's, not the user's
edit (RED36 A5).

A conflicted pop leaves no state file (no MERGE_HEAD...), so AUTO_MERGE, the tree git wrote
with the markers, was not read: `run -- git reset --hard` and the post-checkout hook of
`git checkout HEAD -- .` named the marker file as destroyed uncommitted edits, and `undo` wrote
the markers back. AUTO_MERGE stands while the index holds unmerged entries; a stale one (after
a clean pop, holding edits discarded later) still counts for nothing.
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


@pytest.fixture
def popped(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    return conflicted_pop(repo)


def conflicted_pop(repo: Path) -> Path:
    """*repo*, hooked, whose `git stash pop` stopped on a conflict in c.txt (a.txt applied)."""
    commit(repo, "c.txt", b"base\n")
    commit(repo, "a.txt", b"a\n")
    install(repo)
    (repo / "c.txt").write_bytes(b"stashed c\n")
    (repo / "a.txt").write_bytes(b"stashed a\n")
    git(repo, "stash", "-q")
    commit(repo, "c.txt", b"main c\n")
    git(repo, "stash", "pop", rc=1)
    assert b"<<<<<<<" in (repo / "c.txt").read_bytes()
    return repo


def _lost(repo: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(repo, "losses", "--json").out)]


def test_reset_hard_after_a_conflicted_pop_names_no_marker_file(popped: Path) -> None:
    ran = gs(popped, "run", "--", "git", "reset", "--hard")
    assert "c.txt" not in ran.err, ran.err
    assert ["c.txt"] not in _lost(popped) and all("c.txt" not in e for e in _lost(popped))


def test_a_file_checkout_after_a_conflicted_pop_names_no_marker_file(popped: Path) -> None:
    gs(popped, "-m", "after-pop")
    ran = git(popped, "checkout", "HEAD", "--", ".")
    assert "c.txt" not in ran.err, ran.err
    assert all("c.txt" not in e for e in _lost(popped))


def test_a_hand_resolution_after_a_conflicted_pop_is_still_named(popped: Path) -> None:
    (popped / "c.txt").write_bytes(b"resolved by hand\n")
    ran = gs(popped, "run", "--", "git", "reset", "--hard")
    assert "destroyed" in ran.err and "c.txt" in ran.err, ran.err


def test_a_clean_pops_stale_auto_merge_does_not_hide_a_discard(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, "c.txt", b"base\n")
    install(repo)
    (repo / "c.txt").write_bytes(b"stashed c\n")
    git(repo, "stash", "-q")
    commit(repo, "other.txt", b"o\n")
    git(repo, "stash", "pop")
    ran = gs(repo, "run", "--", "git", "reset", "--hard")
    assert "destroyed" in ran.err and "c.txt" in ran.err, ran.err
