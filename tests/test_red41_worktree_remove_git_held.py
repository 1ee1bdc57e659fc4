"""red41R2 F8: ``git snapshot run -- git worktree remove --force ../wt`` of a linked worktree
whose ``git rebase --autostash`` had stopped on a conflict. The dirty edit was in the
autostash, a commit only that worktree's ``rebase-merge/autostash`` names: it goes with the
worktree's admin folder. The guard's snapshot took the files on disk (the edit not among
them) and its line said the worktree was saved. Likewise a staged version that differs from
both HEAD and the file lived only in that worktree's index.

The guard's snapshot now takes the pending autostash as a hook takes it (its edits in place
of the files git took them from); an autostashed path the user changed on disk since keeps
the disk's version there, the autostash's goes into a snapshot of its own; the index's
staged versions that differ go into one too, as for a stash entry. The line names them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import topic_in_linked_worktree


@pytest.fixture
def linked(repo: Path) -> Path:
    """*repo* (hooks installed) with branches topic (a.txt "topic") and main (a.txt
    "mainside"), topic checked out in the linked worktree ../wt, returned."""
    return topic_in_linked_worktree(repo, {"a.txt": "base\n", "b.txt": "b\n"})


def _stopped_autostash(wt: Path, edit: str) -> None:
    (wt / "b.txt").write_text(edit)
    git(wt, "rebase", "--autostash", "main", rc=None)
    assert (Path(git(wt, "rev-parse", "--absolute-git-dir").strip()) / "rebase-merge").is_dir()
    assert (wt / "b.txt").read_text() == "b\n"  # (the edit is in the autostash)


def _remove(repo: Path) -> str:
    ran = gs(repo, "run", "--", "git", "worktree", "remove", "--force", "../wt")
    assert not (repo.parent / "wt").exists(), ran.err
    (line,) = [ln for ln in ran.ours if "removed the worktree" in ln]
    return line


def _cat(repo: Path, snap: str, rel: str) -> str:
    return gs(repo, "cat", snap, rel).out


def test_the_pending_autostash_is_in_the_worktree_snapshot(repo: Path, linked: Path) -> None:
    _stopped_autostash(linked, "MY DIRTY EDIT\n")
    line = _remove(repo)
    snap = re.search(r"saved in snapshot (\d+)", line)
    assert snap, line
    assert _cat(repo, snap[1], "b.txt") == "MY DIRTY EDIT\n", line
    # the rebase's own files as they were on disk (the conflict in a.txt)
    assert "<<<<<<<" in _cat(repo, snap[1], "a.txt")
    assert "autostash" in line and "b.txt" in line, line


def test_an_autostashed_file_changed_during_the_stop_keeps_both(repo: Path, linked: Path) -> None:
    _stopped_autostash(linked, "MY DIRTY EDIT\n")
    (linked / "b.txt").write_text("EDITED DURING THE STOP\n")
    line = _remove(repo)
    snap = re.search(r"saved in snapshot (\d+)", line)
    other = re.search(r"autostash[^;]* in snapshot (\d+)", line)
    assert snap and other, line
    assert _cat(repo, snap[1], "b.txt") == "EDITED DURING THE STOP\n", line
    assert _cat(repo, other[1], "b.txt") == "MY DIRTY EDIT\n", line


def test_a_staged_version_only_the_index_holds_is_saved(repo: Path, linked: Path) -> None:
    (linked / "b.txt").write_text("MY STAGED VERSION\n")
    git(linked, "add", "b.txt")
    (linked / "b.txt").write_text("worktree version\n")
    line = _remove(repo)
    snap = re.search(r"saved in snapshot (\d+)", line)
    staged = re.search(r"staged versions[^;]* in snapshot (\d+)", line)
    assert snap and staged, line
    assert _cat(repo, snap[1], "b.txt") == "worktree version\n"
    assert _cat(repo, staged[1], "b.txt") == "MY STAGED VERSION\n", line


def test_a_plain_worktree_line_is_unchanged(repo: Path, linked: Path) -> None:
    (linked / "b.txt").write_text("edited\n")
    (linked / "u.txt").write_text("untracked\n")
    line = _remove(repo)
    assert "autostash" not in line and "staged" not in line, line
    snap = re.search(r"saved in snapshot (\d+)", line)
    assert snap and _cat(repo, snap[1], "b.txt") == "edited\n"
