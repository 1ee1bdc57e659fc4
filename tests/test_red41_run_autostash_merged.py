"""fixC's note, left open (RED41 R1 F3 under run): `git snapshot run -- git rebase --autostash
B` (and `pull --rebase --autostash`, `merge --autostash`, a merging `pull --autostash`),
fast-forward or not, whose autostash git applies cleanly: the user's edit kept, merged with
B's change. run's own check compared its snapshot (the edit on the old base) with the
worktree after git's apply, named a.txt, and `undo` wrote back the edit without B's change,
reverting the upstream commit. What git's autostash took and gave back, merged, is not lost:
run's check now asks the rule the stopped check asks (autostash.stash_gave_back), of the
autostash the hooks under run saw. What such a command does destroy is still named: an
ignored file B tracks, an autostash that conflicted and was then dropped, one never applied
(the rebase's state folder removed by hand), an edit the command itself wrote over before
git stashed.

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from autostashhelpers import BASE
from autostashhelpers import BOTH
from autostashhelpers import MINE
from autostashhelpers import SECRET
from autostashhelpers import UPSTREAM
from autostashhelpers import b_changes_line_one
from autostashhelpers import named
from autostashhelpers import nothing_to_undo
from autostashhelpers import on_b
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

FORMS = {
    "rebase": ["rebase", "--autostash", "B"],
    "rebase-config": ["-c", "rebase.autoStash=true", "rebase", "B"],
    "rebase-i": ["rebase", "-i", "--autostash", "B"],
    "rebase-apply": ["rebase", "--apply", "--autostash", "B"],
    "pull-rebase": ["pull", "-q", "--rebase", "--autostash", ".", "B"],
    "merge": ["merge", "--autostash", "-m", "m", "B"],
    "pull-merge": ["pull", "-q", "--no-rebase", "--autostash", "--no-edit", ".", "B"],
}


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """a.txt (BASE) and .gitignore (.env) committed on main; B changes line 1; hooks in."""
    monkeypatch.setenv("GIT_SEQUENCE_EDITOR", "true")
    monkeypatch.setenv("GIT_EDITOR", "true")
    return b_changes_line_one(repo, monkeypatch)


def _run(repo: Path, *args: str) -> Ran:
    return gs(repo, "run", "--", *args)


@pytest.mark.parametrize("local", [False, True], ids=["ff", "local-commit"])
@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_clean_autostash_under_run_reports_nothing(hooked: Path, form: str, local: bool) -> None:
    if local:  # not a fast-forward: a rebase rewrites it, a merge makes a merge commit
        commit(hooked, "l.txt", b"local\n")
    write(hooked / "a.txt", MINE)
    ran = _run(hooked, "git", *FORMS[form])
    assert ran.reports == [], ran.err
    assert (hooked / "a.txt").read_bytes() == BOTH  # git's apply merged the edit
    assert git(hooked, "stash", "list").out == ""
    nothing_to_undo(hooked)


def test_an_ignored_file_b_tracks_is_still_named(hooked: Path) -> None:
    """B tracks .env, ignored on main: the rebase's checkout writes over the user's. run
    names .env, not a.txt; undo gives .env back and leaves a.txt as git's apply made it."""
    on_b(hooked, ".env", b"TOKEN=theirs\n", force=True)
    write(hooked / ".env", SECRET)
    write(hooked / "a.txt", MINE)
    ran = _run(hooked, "git", "rebase", "--autostash", "B")
    assert (hooked / ".env").read_bytes() == b"TOKEN=theirs\n"
    assert named(ran) == [".env"], ran.err
    gs(hooked, "undo")
    assert (hooked / ".env").read_bytes() == SECRET
    assert (hooked / "a.txt").read_bytes() == BOTH


def test_a_conflicting_autostash_dropped_is_named(hooked: Path) -> None:
    """B changes the line the edit changes: git keeps the autostash in the stash list and
    writes markers; the command then drops that entry and resets the conflict away (the
    index's stage 3 held the edit until then): the edit is in run's snapshot only."""
    on_b(hooked, "a.txt", UPSTREAM.replace(b"five", b"five-B"), msg="conflict")
    write(hooked / "a.txt", MINE)
    ran = _run(
        hooked, "sh", "-c", "git rebase --autostash B; git stash drop -q; git reset -q --hard"
    )
    assert (hooked / "a.txt").read_bytes() == UPSTREAM.replace(b"five", b"five-B")
    assert git(hooked, "stash", "list").out == ""
    assert named(ran) == ["a.txt"], ran.err
    gs(hooked, "undo")
    assert (hooked / "a.txt").read_bytes() == MINE


def test_a_conflicting_autostash_kept_is_not_named(hooked: Path) -> None:
    """The same without the drop: git holds the edit in the stash list."""
    on_b(hooked, "a.txt", UPSTREAM.replace(b"five", b"five-B"), msg="conflict")
    write(hooked / "a.txt", MINE)
    ran = _run(hooked, "git", "rebase", "--autostash", "B")
    assert "autostash" in git(hooked, "stash", "list").out
    assert ran.reports == [], ran.err


def test_an_autostash_never_applied_is_named(hooked: Path) -> None:
    """A local commit conflicts with B: the rebase stops, its autostash in its state folder,
    which the command then removes (as git's message for a stale one suggests): git never
    applies the autostash, and the edit of c.txt is in run's snapshot only."""
    commit(hooked, "c.txt", b"c\n")
    commit(hooked, "a.txt", BASE.replace(b"one", b"one-local"), msg="local")
    write(hooked / "c.txt", b"c edited\n")
    ran = _run(hooked, "sh", "-c", "git rebase --autostash B; rm -rf .git/rebase-merge")
    assert not (hooked / ".git" / "rebase-merge").exists()
    assert (hooked / "c.txt").read_bytes() == b"c\n"
    assert "c.txt" in named(ran), ran.err
    assert git(hooked, "stash", "list").out == ""


def test_an_edit_the_command_wrote_over_before_git_stashed_is_named(hooked: Path) -> None:
    """The command rewrites a.txt, then rebases: git's autostash holds its version, merged
    back cleanly; run's snapshot held the user's, which no stash holds: named."""
    write(hooked / "a.txt", MINE)
    other = BASE.replace(b"four", b"FOUR")
    write(hooked / "new.txt", other)
    ran = _run(hooked, "sh", "-c", "cp new.txt a.txt && git rebase --autostash B")
    assert (hooked / "a.txt").read_bytes() == UPSTREAM.replace(b"four", b"FOUR")
    assert named(ran) == ["a.txt"], ran.err
    gs(hooked, "undo")
    assert (hooked / "a.txt").read_bytes() == MINE


def test_a_converted_file_merged_back_is_not_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a.txt checked out with CRLF (eol=crlf): run's snapshot holds the CRLF bytes, git's
    autostash the LF blob git stores; the same version all the same, merged back: not named."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitattributes", b"a.txt text eol=crlf\n")
    commit(repo, "a.txt", BASE)
    (repo / "a.txt").unlink()
    git(repo, "checkout", "-q", "--", "a.txt")  # (as git writes it: CRLF)
    assert (repo / "a.txt").read_bytes() == BASE.replace(b"\n", b"\r\n")
    git(repo, "branch", "B")
    install(repo)
    git(repo, "checkout", "-q", "B")
    write(repo / "a.txt", UPSTREAM.replace(b"\n", b"\r\n"))
    git(repo, "commit", "-q", "-am", "upstream")
    git(repo, "checkout", "-q", "main")
    write(repo / "a.txt", MINE.replace(b"\n", b"\r\n"))
    ran = _run(repo, "git", "rebase", "--autostash", "B")
    assert (repo / "a.txt").read_bytes() == BOTH.replace(b"\n", b"\r\n")
    assert ran.reports == [], ran.err
    assert json.loads(gs(repo, "losses", "--json").out) == []


@pytest.mark.parametrize("form", ["rebase", "merge"])
def test_a_run_inside_a_run_tells_the_outer_one(hooked: Path, form: str) -> None:
    """`run -- git snapshot run -- git rebase --autostash B`: the inner run's environment
    names its own file, so the hooks told it alone, and the outer run named a.txt (undo
    would have reverted B's change). The inner run passes on what it was told."""
    write(hooked / "a.txt", MINE)
    ran = _run(hooked, "git", "snapshot", "run", "--", "git", *FORMS[form])
    assert ran.reports == [], ran.err
    assert (hooked / "a.txt").read_bytes() == BOTH
    nothing_to_undo(hooked)
