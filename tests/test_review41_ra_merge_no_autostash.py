"""review41 RA, fixA's left item 1: a stopped merge's report asks RED40 F1's autostash rule
(autostash.stopped_stash_wrote: the snapshot before the merge holds a folder where HEAD had a
file, and HEAD's file stands there now) for every merge note. A merge that did NOT autostash
(no `--autostash`, `--no-autostash`, merge.autoStash unset or overruled) leaves the folder
alone; ended with `git merge --abort` or a `git commit` (no hook of ours runs for either:
MERGE_HEAD is gone), the first hooked command after it that deletes the folder itself
(`git checkout -- x.csv`) consumed the merge's note, whose check then named the folder's
file as "git merge destroyed ..." (exact, from the merge's snapshot), and the checkout's own
report, from that same snapshot, was dropped as said already: the wrong command blamed.

The merge's pre-hook (reference-transaction) now notes whether the merge autostashes: the
merge process's own words (pull passes one of --autostash / --no-autostash to it; an alias
expanded; abbreviations as git takes them), else merge.autoStash (git -c too). A merge
known not to is not asked the autostash rule; one that does (or not known) still is.
"""

from __future__ import annotations

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


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """x.csv and c.txt committed; feat and main change c.txt each their way (a merge of feat
    stops on a conflict there); hooks in; x.csv then made a folder holding a new file, saved
    by `git snapshot`."""
    feat_conflicts_on_c(repo, monkeypatch)
    folder_over_file(repo)
    return repo


def _stop(repo: Path, args: list[str], config: str | None) -> Ran:
    if config is not None:
        git(repo, "config", "merge.autoStash", config)
    ran = git(repo, *args, rc=None)
    assert ran.rc != 0 and "CONFLICT" in ran.out + ran.err, ran
    assert ran.reports == [], ran.err
    return ran


def _end(repo: Path, then: str) -> None:
    if then == "abort":
        assert git(repo, "merge", "--abort").reports == []
    else:
        write(repo / "c.txt", b"resolved\n")
        git(repo, "add", "c.txt")
        assert git(repo, "commit", "-q", "--no-edit", GIT_EDITOR="true").reports == []


NO_STASH = {
    "plain merge": (["merge", "--no-edit", "feat"], None),
    "plain pull": (["pull", "--no-rebase", "--no-edit", ".", "feat"], None),
    "--no-autostash over the config": (["merge", "--no-autostash", "--no-edit", "feat"], "true"),
    "abbreviated": (["merge", "--no-autos", "--no-edit", "feat"], "yes"),
    "the last one wins": (["merge", "--autostash", "--no-edit", "--no-autostash", "feat"], None),
    "config off": (["merge", "--no-edit", "feat"], "off"),
}


@pytest.mark.parametrize("then", ["abort", "commit"])
@pytest.mark.parametrize("case", sorted(NO_STASH))
def test_a_merge_that_did_not_autostash_is_not_blamed_for_a_later_command(
    hooked: Path, case: str, then: str
) -> None:
    args, config = NO_STASH[case]
    _stop(hooked, args, config)
    assert (hooked / "x.csv" / "inner.txt").read_bytes() == WORK  # no autostash: left alone
    _end(hooked, then)
    assert (hooked / "x.csv" / "inner.txt").read_bytes() == WORK
    ran = git(hooked, "checkout", "--", "x.csv")  # deletes the folder: the first hook since
    assert (hooked / "x.csv").is_file()
    assert [(r.what, r.names) for r in ran.reports] == [("git checkout", "x.csv/inner.txt")], (
        ran.err
    )
    assert named_lost(hooked) == ["x.csv/inner.txt"]
    assert gs(hooked, "list").reports == []


STASH = {
    "config": (["merge", "--no-edit", "feat"], "true", "git merge"),
    "abbreviated": (["merge", "--autos", "--no-edit", "feat"], None, "git merge"),
    "git -c": (["-c", "merge.autoStash=on", "merge", "--no-edit", "feat"], None, "git merge"),
    "pull, config": (["pull", "--no-rebase", "--no-edit", ".", "feat"], "1", "git pull"),
    "alias": (["mg", "--no-edit", "feat"], None, "git merge"),
}


@pytest.mark.parametrize("case", sorted(STASH))
def test_a_merge_that_autostashed_is_still_asked(hooked: Path, case: str) -> None:
    """Guard: every way git takes to autostash is seen, and the folder the autostash's reset
    deleted is still named, as the merge's, at the next hook (here after `merge --abort`)."""
    args, config, what = STASH[case]
    git(hooked, "config", "alias.mg", "merge --autostash")
    _stop(hooked, args, config)
    assert (hooked / "x.csv").is_file()  # the autostash's reset deleted the folder
    _end(hooked, "abort")
    ran = run(hooked, "git", "checkout", "-q", "-b", "next")
    assert [(r.what, r.names) for r in ran.reports] == [(what, "x.csv/inner.txt")], ran.err
    assert named_lost(hooked) == ["x.csv/inner.txt"]
