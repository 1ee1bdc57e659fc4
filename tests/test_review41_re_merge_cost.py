"""review41 RE, of 68e2cf2 (RED41 R2 F5, F3 for a merge): the merge's pre-hook
(reference-transaction) ran `git diff-index HEAD` for every merge and pull, to note the files
the user had edited: a read of the whole worktree and of HEAD's tree (40-70 ms on 20,000
tracked files), though only a merge that stops, and is checked later, needs them. The check
finds them now from the store: the files the merge's snapshot holds as tracked that the
worktree no longer holds as they were (stopped._edited), at the check only. And a merge
the user's commit concluded (no autostash) reset nothing: an edited file the worktree holds
at HEAD's version then is the user's doing, not named (stopped._concluded)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import side_commit
from hookhelpers import write

EDIT = b"MY DIRTY EDIT\n"


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """b.txt committed; `topic` and `main` change a.txt each their way; hooks in, on main."""
    put_venv_on_path(monkeypatch)
    commit(repo, "b.txt", b"b\n")
    base = commit(repo, "a.txt", b"base\n")
    side_commit(repo, "topic", {"a.txt": b"topic\n"}, base=base)
    side_commit(repo, "other", {"c.txt": b"c\n"}, base=base)
    commit(repo, "a.txt", b"mainside\n")
    install(repo)
    return repo


@pytest.mark.parametrize("dirty", [False, True])
def test_a_merges_hooks_run_no_diff_index(hooked: Path, tmp_path: Path, dirty: bool) -> None:
    """A merge that does not stop (clean tree, or b.txt edited): its hooks ask git for no
    diff of the worktree (GIT_TRACE lists every git process the hooks start)."""
    if dirty:
        write(hooked / "b.txt", EDIT)
    trace = tmp_path / "trace"
    git(hooked, "merge", "-q", "--no-edit", "other", GIT_TRACE=str(trace))
    ran = [line for line in trace.read_text().splitlines() if "diff-index" in line]
    assert ran == []


def test_a_staged_edit_a_merge_abort_resets_is_named_by_a_command(hooked: Path) -> None:
    """F5 checked by a git-snapshot command (no hook snapshot to compare with: the disk):
    resolve, `git add -u`, `git merge --abort`; `git snapshot list` names b.txt."""
    write(hooked / "b.txt", EDIT)
    assert git(hooked, "merge", "topic", rc=None).rc != 0
    write(hooked / "a.txt", b"resolved\n")
    git(hooked, "add", "-u")
    git(hooked, "merge", "--abort")
    assert (hooked / "b.txt").read_bytes() == b"b\n"
    (rep,) = gs(hooked, "list").reports
    what = "git merge (its --abort, or a command run while it was stopped)"  # (fixK, s42)
    assert (rep.what, rep.names, rep.exact) == (what, "b.txt", False), rep
    restore(hooked, rep)
    assert (hooked / "b.txt").read_bytes() == EDIT


def test_an_edit_the_user_undid_before_committing_the_merge_is_not_named(hooked: Path) -> None:
    """(b) A merge that stopped, concluded by the user's commit, resets nothing (no
    autostash). b.txt, edited before it, the user set back to HEAD's version during the stop
    (by hand: no hook) and committed with the resolution: 68e2cf2's rule named it 'git merge
    destroyed b.txt' (the worktree holds HEAD's version of then). Nothing is named now."""
    write(hooked / "b.txt", EDIT)
    assert git(hooked, "merge", "topic", rc=None).rc != 0
    write(hooked / "a.txt", b"resolved\n")
    write(hooked / "b.txt", b"b\n")
    git(hooked, "add", "-u")
    git(hooked, "commit", "-q", "--no-edit")
    assert git(hooked, "checkout", "-q", "-b", "next").reports == []
    assert named_lost(hooked) == []
