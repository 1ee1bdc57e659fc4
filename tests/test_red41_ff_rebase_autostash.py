"""RED41 R1 finding 3: a fast-forward `git rebase --autostash B` (no local commit, or only
commits B already has) runs no post-rewrite: pre-rebase's note (stopped.py) is left for the
next command, which compared pre-rebase's snapshot (the user's edit, from git's autostash)
with the worktree after git had applied that autostash, merged with B's change. It reported
"git rebase destroyed a.txt", and `undo` wrote back the edit without B's change: a false
report whose command reverts the upstream change. What pre-rebase took from git's autostash
is git's to give back (applied, or kept in the stash list), as post-rewrite's overlay has it
for a rebase with a commit of its own. What a fast-forward does destroy (an ignored file B
tracks, written over by its checkout) is still named.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from autostashhelpers import BOTH
from autostashhelpers import MINE
from autostashhelpers import SECRET
from autostashhelpers import UPSTREAM
from autostashhelpers import b_changes_line_one
from autostashhelpers import nothing_to_undo
from autostashhelpers import on_b
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import named_lost
from hookhelpers import write

FORMS = {
    "autostash": ["rebase", "--autostash", "B"],
    "config": ["-c", "rebase.autoStash=true", "rebase", "B"],
    "interactive": ["rebase", "-i", "--autostash", "B"],
    "apply": ["rebase", "--apply", "--autostash", "B"],
}


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """a.txt (BASE) and .gitignore (.env) committed on main; B changes line 1; hooks in."""
    monkeypatch.setenv("GIT_SEQUENCE_EDITOR", "true")
    return b_changes_line_one(repo, monkeypatch)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_fast_forward_autostash_rebase_reports_nothing(hooked: Path, form: str) -> None:
    write(hooked / "a.txt", MINE)
    ran = git(hooked, *FORMS[form])
    assert ran.reports == [], ran.err
    assert (hooked / "a.txt").read_bytes() == BOTH  # git's apply merged the edit
    assert git(hooked, "stash", "list").out == ""
    nothing_to_undo(hooked)


def test_local_commits_b_already_has_report_nothing(hooked: Path) -> None:
    """main's one commit is on B too (cherry-picked): the rebase drops it and ends at B, a
    fast-forward all the same (no commit rewritten: no post-rewrite)."""
    on_b(hooked, "c.txt", b"c\n")
    git(hooked, "cherry-pick", "B")
    write(hooked / "a.txt", MINE)
    ran = git(hooked, "rebase", "--autostash", "B")
    assert ran.reports == [], ran.err
    assert git(hooked, "rev-parse", "HEAD").out == git(hooked, "rev-parse", "B").out
    nothing_to_undo(hooked)


def test_an_ignored_file_the_fast_forward_writes_over_is_still_named(hooked: Path) -> None:
    """B tracks .env, ignored on main: the checkout writes over the user's. It is named (at
    the next command), a.txt is not, and undo gives .env back and leaves a.txt as git's
    apply made it."""
    on_b(hooked, ".env", b"TOKEN=theirs\n", force=True)
    write(hooked / ".env", SECRET)
    write(hooked / "a.txt", MINE)
    git(hooked, "rebase", "--autostash", "B")
    assert (hooked / ".env").read_bytes() == b"TOKEN=theirs\n"
    assert named_lost(hooked) == [".env"]
    gs(hooked, "undo")
    assert (hooked / ".env").read_bytes() == SECRET
    assert (hooked / "a.txt").read_bytes() == BOTH


def test_a_conflicting_autostash_is_kept_by_git_and_not_named(hooked: Path) -> None:
    """B changes the line the edit changes: git keeps the autostash in the stash list and
    writes markers. Nothing is lost; nothing is said."""
    on_b(hooked, "a.txt", UPSTREAM.replace(b"five", b"five-B"), msg="conflict")
    write(hooked / "a.txt", MINE)
    ran = git(hooked, "rebase", "--autostash", "B")
    assert ran.reports == [], ran.err
    assert "autostash" in git(hooked, "stash", "list").out
    assert b"<<<<<<<" in (hooked / "a.txt").read_bytes()
    assert json.loads(gs(hooked, "losses", "--json").out) == []


def test_a_rebase_with_a_commit_of_its_own_reports_nothing(hooked: Path) -> None:
    """Not a fast-forward: post-rewrite runs (its overlay, git's merge of the autostash)."""
    commit(hooked, "l.txt", b"local\n")
    write(hooked / "a.txt", MINE)
    ran = git(hooked, "rebase", "--autostash", "B")
    assert ran.reports == [], ran.err
    nothing_to_undo(hooked)


def test_an_edit_the_apply_carries_to_a_renamed_file_is_not_named(hooked: Path) -> None:
    """B renames a.txt: git's apply carries the edit to the new name (a.txt is gone)."""
    git(hooked, "checkout", "-q", "B")
    git(hooked, "mv", "a.txt", "b.txt")
    git(hooked, "commit", "-q", "-m", "rename")
    git(hooked, "checkout", "-q", "main")
    write(hooked / "a.txt", MINE)
    ran = git(hooked, "rebase", "--autostash", "B")
    assert ran.reports == [], ran.err
    assert not (hooked / "a.txt").exists()
    assert (hooked / "b.txt").read_bytes() == BOTH
    assert json.loads(gs(hooked, "losses", "--json").out) == []


def test_an_autostash_git_never_applied_is_still_named(hooked: Path) -> None:
    """A rebase stopped by a conflict whose state folder the user removes by hand (as git's
    own message for a stale one suggests): the autostash in it is never applied, the edit
    is only in snapshots. Named, and undo gives it back."""
    on_b(hooked, "c.txt", b"B\n")
    commit(hooked, "c.txt", b"main\n")
    write(hooked / "a.txt", MINE)
    git(hooked, "rebase", "--autostash", "B", rc=None)
    assert (hooked / ".git" / "rebase-merge" / "autostash").exists()
    for p in sorted((hooked / ".git" / "rebase-merge").iterdir()):
        p.unlink()
    (hooked / ".git" / "rebase-merge").rmdir()
    assert (hooked / "a.txt").read_bytes() == UPSTREAM
    assert named_lost(hooked) == ["a.txt"]
    gs(hooked, "undo")
    assert (hooked / "a.txt").read_bytes() == MINE
