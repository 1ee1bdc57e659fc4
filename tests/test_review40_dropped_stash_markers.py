"""A conflicted `stash pop`'s marker file is git's only while a stash entry holds the user's
side of it (review40 RA1 of RED36 A5's mechanism).

git keeps the entry after a conflicted pop; the marker file (AUTO_MERGE's) was counted as
git's whether or not the entry was still there. `git stash drop`, then `run -- git reset
--hard`, destroyed the marker file, by then the only copy of the user's edit, and named
nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path


def test_a_dropped_entry_leaves_a_conflicted_pops_marker_file_the_users(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, "doc.md", b"base\n")
    install(repo)
    (repo / "doc.md").write_bytes(b"my edit\n")
    git(repo, "stash", "-q")
    commit(repo, "doc.md", b"upstream\n")
    git(repo, "stash", "pop", rc=None)
    marked = (repo / "doc.md").read_bytes()
    assert b"my edit" in marked and b">>>>>>> Stashed changes" in marked
    git(repo, "stash", "drop")
    ran = gs(repo, "run", "--", "git", "reset", "--hard")
    assert "destroyed" in ran.err and "doc.md" in ran.err, ran.err
    gs(repo, "undo")
    assert (repo / "doc.md").read_bytes() == marked


def test_a_kept_entry_leaves_a_conflicted_pops_marker_file_gits(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, "doc.md", b"base\n")
    install(repo)
    (repo / "doc.md").write_bytes(b"my edit\n")
    git(repo, "stash", "-q")
    commit(repo, "doc.md", b"upstream\n")
    git(repo, "stash", "pop", rc=None)
    ran = gs(repo, "run", "--", "git", "reset", "--hard")
    assert "doc.md" not in ran.err, ran.err
