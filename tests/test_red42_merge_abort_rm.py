"""review41 RE's left item: b.txt edited before a merge that stops on a conflict; during the
stop the user deletes it with `git rm -f b.txt` (their own command: no hook), then `git merge
--abort` (reset --merge) writes HEAD's version back. The next hook said "git merge destroyed
1 file with uncommitted edits: b.txt": the right file and version, the wrong command.

No trace after the abort tells this from RED41 R2 F5 (the edit staged during the stop, which
the abort resets): git's own `stash create` at the merge's start writes the edit into the
repository either way. Such a loss (an edit a reset left at HEAD's version) is now said to be
"git merge (its --abort, or a command run while it was stopped)"'s: true in both."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import side_commit
from hookhelpers import write

EDIT = b"MY DIRTY EDIT\n"
HEDGED = "git merge (its --abort, or a command run while it was stopped)"


@pytest.fixture
def stopped(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """b.txt committed; `topic` and `main` change a.txt each their way; hooks in; b.txt
    edited, then `git merge topic` stopped on a.txt."""
    put_venv_on_path(monkeypatch)
    commit(repo, "b.txt", b"b\n")
    base = commit(repo, "a.txt", b"base\n")
    side_commit(repo, "topic", {"a.txt": b"topic\n"}, base=base)
    commit(repo, "a.txt", b"mainside\n")
    install(repo)
    write(repo / "b.txt", EDIT)
    assert git(repo, "merge", "topic", rc=None).rc != 0
    return repo


def test_an_edit_git_rm_deleted_during_the_stop_is_not_the_merges_alone(stopped: Path) -> None:
    r = stopped
    git(r, "rm", "-q", "-f", "b.txt")
    git(r, "merge", "--abort")
    assert (r / "b.txt").read_bytes() == b"b\n"
    (rep,) = git(r, "checkout", "-q", "-b", "next").reports
    assert (rep.what, rep.names, rep.exact) == (HEDGED, "b.txt", False), rep
    restore(r, rep)
    assert (r / "b.txt").read_bytes() == EDIT


def test_a_later_edit_staged_during_the_stop_is_not_the_merges_alone(stopped: Path) -> None:
    """The edit of before the merge, written over during the stop and that staged: the abort
    reset the later one (in no snapshot); the snapshot holds the earlier."""
    r = stopped
    write(r / "a.txt", b"resolved\n")
    write(r / "b.txt", b"a later edit\n")
    git(r, "add", "-u")
    git(r, "merge", "--abort")
    (rep,) = git(r, "checkout", "-q", "-b", "next").reports
    assert (rep.what, rep.names, rep.exact) == (HEDGED, "b.txt", False), rep


def test_the_staged_edit_the_abort_reset_is_named_with_its_abort(stopped: Path) -> None:
    """RED41 R2 F5: resolve, `git add -u` (b.txt's edit staged), `git merge --abort`."""
    r = stopped
    write(r / "a.txt", b"resolved\n")
    git(r, "add", "-u")
    git(r, "merge", "--abort")
    (rep,) = git(r, "checkout", "-q", "-b", "next").reports
    assert (rep.what, rep.names, rep.exact) == (HEDGED, "b.txt", False), rep
    restore(r, rep)
    assert (r / "b.txt").read_bytes() == EDIT
