"""A file dropped from the last commit by `commit --amend` (kept on disk, untracked), then
deleted by `run -- git clean -fd`, is named however long ago the amend was (RED40 F finding 5).

losses._committed_since counted every commit HEAD's reflog held from a minute before the
snapshot (the clock-step slack) as giving a file back: the amended-away commit, reachable from
no ref, hid the loss when the amend was under 60 s before the snapshot, and not when it was
over. A commit now counts when a ref still reaches it, or when HEAD reached it after the
snapshot's HEAD (the reflog's order, not its clock): an edit committed since the snapshot and
amended away is still not named (RED37 review RF).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path


def _dropped_by_amend(repo: Path, age: int) -> Path:
    """*repo*, hooked: cfg.txt committed, then dropped from that commit by an amend *age*
    seconds ago (cfg.txt stays on disk, untracked), then a snapshot."""
    commit(repo, "m.py", b"base\n")
    install(repo)
    (repo / "cfg.txt").write_bytes(b"my config v2\n")
    (repo / "m.py").write_bytes(b"m v2\n")  # (the commit keeps a change once cfg.txt is out)
    git(repo, "add", "cfg.txt", "m.py")
    git(repo, "commit", "-qm", "add cfg")
    git(repo, "rm", "-q", "--cached", "cfg.txt")
    when = f"@{int(time.time()) - age} +0000"
    git(repo, "commit", "-q", "--amend", "--no-edit", GIT_COMMITTER_DATE=when)
    assert git(repo, "status", "--short").out == "?? cfg.txt\n"
    gs(repo, "-m", "pre")
    return repo


@pytest.mark.parametrize("age", [0, 30, 120])
def test_a_file_only_an_amended_away_commit_holds_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch, age: int
) -> None:
    put_venv_on_path(monkeypatch)
    r = _dropped_by_amend(repo, age)
    ran = gs(r, "run", "--", "git", "clean", "-fd")
    assert not (r / "cfg.txt").exists()
    assert "destroyed" in ran.err and "cfg.txt" in ran.err, ran.err
    assert named_lost(r) == ["cfg.txt"]


def test_a_file_a_branch_still_holds_is_not_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same, with the commit before the amend kept on a branch: git gives it back."""
    put_venv_on_path(monkeypatch)
    commit(repo, "m.py", b"base\n")
    install(repo)
    (repo / "cfg.txt").write_bytes(b"my config v2\n")
    (repo / "m.py").write_bytes(b"m v2\n")  # (the commit keeps a change once cfg.txt is out)
    git(repo, "add", "cfg.txt", "m.py")
    git(repo, "commit", "-qm", "add cfg")
    git(repo, "branch", "keep")
    git(repo, "rm", "-q", "--cached", "cfg.txt")
    git(repo, "commit", "-q", "--amend", "--no-edit")
    gs(repo, "-m", "pre")
    ran = gs(repo, "run", "--", "git", "clean", "-fd")
    assert "destroyed" not in ran.err, ran.err
    assert named_lost(repo) == []
