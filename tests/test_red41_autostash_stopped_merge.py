"""RED40 F finding 1, left open: a tracked file replaced by a folder holding a new file
(`rm x.csv; mkdir x.csv; echo work > x.csv/inner.txt`), then `git merge --autostash` (or a
merging `git pull --autostash`) that STOPS on a conflict in another file. git's autostash
(`git stash create`) keeps x.csv as committed in the stash's tree (a folder stands there: its
diff with the base is empty), then its `reset --hard` writes the file back and deletes the
folder with inner.txt in it. post-merge never runs (nor does any hook of ours for the
`--abort`, the `git commit` or the `merge --continue` that ends it): the loss was reported by
nothing. The next hook, or the next git-snapshot command, reports the stopped merge
(stopped.py); it now names what the snapshot before the merge held below such a path, with the
rule post-merge's check uses (autostash._autostash_losses): git wrote a file over that folder
while the merge ran.

The snapshot before is `git snapshot create`'s; the merge's reference-transaction takes its
own right before the autostash, which holds the same (unchanged: that one is named).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from autostashhelpers import WORK
from autostashhelpers import feat_conflicts_on_c
from autostashhelpers import folder_over_file
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import named_lost
from hookhelpers import write

MINE = b"my own x.csv\n"


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """x.csv and c.txt committed on main; feat and main then change c.txt each their way
    (a merge of feat stops on a conflict there); hooks in."""
    return feat_conflicts_on_c(repo, monkeypatch)


MERGE = {
    "merge": ["merge", "--autostash", "--no-edit", "feat"],
    "pull": ["pull", "--no-rebase", "--autostash", "--no-edit", ".", "feat"],
}


def _stop(repo: Path, how: str) -> Ran:
    """The merge, stopped by the conflict in c.txt: it reports nothing (no hook after it)."""
    ran = git(repo, *MERGE[how], rc=None)
    assert ran.rc != 0 and "CONFLICT" in ran.out + ran.err, ran
    assert (repo / "x.csv").is_file()  # the autostash's reset deleted the folder
    assert ran.reports == [], ran.err
    return ran


def _end(repo: Path, then: str) -> None:
    """End the stopped merge the way *then* says (no hook of ours runs for any of these)."""
    if then == "abort":
        assert git(repo, "merge", "--abort").reports == []
    elif then in ("commit", "continue"):
        write(repo / "c.txt", b"resolved\n")
        git(repo, "add", "c.txt")
        args = ["commit", "-q", "--no-edit"] if then == "commit" else ["merge", "--continue"]
        assert git(repo, *args, GIT_EDITOR="true").reports == []
    assert (repo / "x.csv").is_file()


def _next(repo: Path, by: str) -> Ran:
    """The next command after the stopped merge: a hook's (a branch made: post-checkout), or
    a git-snapshot command's, from a subfolder (the paths are given as typed there)."""
    (repo / "sub").mkdir(exist_ok=True)
    if by == "hook":
        return run(repo / "sub", "git", "checkout", "-q", "-b", "next")
    return gs(repo / "sub", "list")


@pytest.mark.parametrize("how", ["merge", "pull"])
@pytest.mark.parametrize(
    ("then", "by"),
    [
        ("stopped", "cli"),  # still stopped (MERGE_AUTOSTASH pending)
        ("abort", "hook"),
        ("abort", "cli"),
        ("commit", "hook"),
        ("continue", "cli"),
    ],
)
def test_a_stopped_autostash_merge_deleting_a_folder_is_reported_once(
    hooked: Path, how: str, then: str, by: str
) -> None:
    saved = folder_over_file(hooked)
    _stop(hooked, how)
    _end(hooked, then)
    ran = _next(hooked, by)
    assert [(r.what, r.names) for r in ran.reports] == [(f"git {how}", "../x.csv/inner.txt")], (
        ran.err
    )
    (rep,) = ran.reports
    assert "untracked" in rep.kinds and rep.snap == saved and rep.exact, rep
    assert named_lost(hooked) == ["x.csv/inner.txt"]
    assert gs(hooked, "list").reports == []  # once
    if then == "stopped":
        git(hooked, "merge", "--abort")
    # the printed restore command, run where the user is, gives the exact bytes back (x.csv,
    # the committed file git wrote there, is set aside by the restore's own rules)
    restored = run(hooked / "sub", *rep.command)
    assert (hooked / "x.csv" / "inner.txt").read_bytes() == WORK, restored
    assert named_lost(hooked) == ["x.csv/inner.txt"]


@pytest.mark.parametrize("then", ["stopped", "abort", "commit"])
def test_a_folder_the_user_made_a_file_again_is_not_named(hooked: Path, then: str) -> None:
    """review40 RF3's case: the user turned the folder back into a file of their own after
    the snapshot; the autostash holds that file (and gives it back): nothing was lost."""
    folder_over_file(hooked)
    (hooked / "x.csv" / "inner.txt").unlink()
    (hooked / "x.csv").rmdir()
    write(hooked / "x.csv", MINE)
    _stop(hooked, "merge")
    _end(hooked, then)
    ran = _next(hooked, "cli" if then == "stopped" else "hook")
    assert ran.reports == [], ran.err
    if then == "stopped":
        git(hooked, "merge", "--abort")
    assert (hooked / "x.csv").read_bytes() == MINE  # the autostash gave it back
    assert json.loads(gs(hooked, "losses", "--json").out) == []


def test_a_folder_the_next_command_deletes_is_that_commands_loss(hooked: Path) -> None:
    """A merge stopped without an autostash leaves the folder alone; the `checkout -- x.csv`
    after it, while the merge is still stopped, deletes it: that checkout's report names it,
    not the stopped merge's (x.csv was written after MERGE_HEAD, the merge's last write)."""
    folder_over_file(hooked)
    ran = git(hooked, "merge", "--no-autostash", "--no-edit", "feat", rc=None)
    assert ran.rc != 0 and ran.reports == [], ran.err
    assert (hooked / "x.csv" / "inner.txt").read_bytes() == WORK
    ran = git(hooked, "checkout", "--", "x.csv")
    assert [(r.what, r.names) for r in ran.reports] == [("git checkout", "x.csv/inner.txt")]
    assert named_lost(hooked) == ["x.csv/inner.txt"]


def test_a_completed_autostash_merge_is_reported_once(hooked: Path) -> None:
    """No conflict: post-merge names it (RED40 F1), and nothing after names it again."""
    git(hooked, "reset", "-q", "--hard", "HEAD~1")  # main back at feat's base: no conflict
    saved = folder_over_file(hooked)
    ran = git(hooked, *MERGE["merge"])
    assert [r.names for r in ran.reports] == ["x.csv/inner.txt"], ran.err
    assert ran.reports[0].snap == saved
    assert _next(hooked, "hook").reports == []
    assert gs(hooked, "list").reports == []
    assert named_lost(hooked) == ["x.csv/inner.txt"]
