"""A conflicted autostash's marker file is git's only while the stash entry holding the
user's side of it is there (review40 RA1 of RED40 A finding 3).

The marker file was counted as git's whenever the newest stash entry was named autostash.
Drop the conflicted autostash while an older one (left by an earlier operation) sits under
it, and the newest entry is still "autostash": `run -- git reset --hard` then destroyed the
user's edit, which the marker file alone still held, and named nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit


def test_a_dropped_autostash_over_an_older_one_leaves_its_marker_file_the_users(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, "doc.md", b"base\n")
    commit(repo, "other.txt", b"other\n")
    side_commit(repo, "up", {"doc.md": b"upstream\n"})
    install(repo)
    (repo / "other.txt").write_bytes(b"an old autostash's edit\n")  # an earlier operation's
    old = git(repo, "stash", "create").out.strip()
    git(repo, "stash", "store", "-m", "autostash", old)
    git(repo, "checkout", "--", "other.txt")
    (repo / "doc.md").write_bytes(b"my edit\n")
    ran = git(repo, "merge", "-q", "--autostash", "--no-edit", "up")
    assert "Applying autostash resulted in conflicts" in ran.err, ran.err
    marked = (repo / "doc.md").read_bytes()
    assert b"my edit" in marked and b">>>>>>> Stashed changes" in marked
    git(repo, "stash", "drop")  # this one's: the older autostash is the newest entry now
    assert git(repo, "stash", "list").out.startswith("stash@{0}: autostash")
    ran = gs(repo, "run", "--", "git", "reset", "--hard")
    assert "destroyed" in ran.err and "doc.md" in ran.err, ran.err
    gs(repo, "undo")
    assert (repo / "doc.md").read_bytes() == marked
