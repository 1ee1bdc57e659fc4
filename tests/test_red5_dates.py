"""Red team (session 10): a date in a snapshot selector (``@{1.hour.ago}``), ``list --since``,
``--keep-within`` or ``snapshot.keepWithin`` is read by git's approxidate, which skips every word
it does not know and still answers when a number is left: ``1.huor.ago`` or ``1.min.ago`` was
the 1st of the month, so a typo chose another snapshot, listed other snapshots, or made prune
keep a shorter span than written (``1.mnth.ago``: one day on the 2nd) without a word. A date
with a word git does not read (or a non-ASCII character: git skips those too) is now refused
in one line, before anything is chosen or pruned."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs

from git_snapshot import snapids
from git_snapshot.errors import UserError

TYPOS = ["1.huor.ago", "1.min.ago", "5.mnutes.ago", "1.hrs.ago", "3.ago", "1.hour.ago.x"]
TYPOS += ["1.h\u043eur.ago", "\u0667.days.ago"]  # a Cyrillic o; an Arabic-Indic 7
TYPOS += ["1", " 2 "]  # a day of the month to git: @{1} is no reflog entry here
GOOD = ["1.hour.ago", "2.weeks.ago", "2026-12-01 10:00", "yesterday", "last.friday", "noon"]
GOOD += [
    "1796230904",
    "2026-12-01T10:00:00Z",
    "Dec 1 2026 10:00 UTC",
    "1 hour 30 minutes ago",
    "1.month.ago",
]


@pytest.mark.parametrize("text", TYPOS)
def test_a_word_git_does_not_read_is_refused(text: str) -> None:
    with pytest.raises(UserError, match="cannot read the date"):
        snapids.timestamp(text)
    with pytest.raises(UserError, match="bad duration"):
        snapids.duration(text)


@pytest.mark.parametrize("text", GOOD)
def test_git_dates_still_read(text: str) -> None:
    assert snapids.timestamp(text) > 0


def test_the_cli_refuses_a_typo_in_one_line_and_prunes_nothing(repo: Path) -> None:
    gs(repo, "create")
    for args in (
        ["show", "@{1.huor.ago}"],
        ["show", "@{1}"],
        ["prune", "--keep-within", "1", "--dry-run"],
        ["restore", "@{1.min.ago}", "README"],
        ["list", "--since", "1.huor.ago"],
        ["prune", "--keep-within", "1.mnth.ago", "--dry-run"],
        ["prune", "--keep-within", "\u0667d", "--dry-run"],  # an Arabic-Indic 7
    ):
        ran = gs(repo, *args, rc=2)  # a usage error (RED32)
        assert len(ran.err_lines) == 1, (args, ran.err)
        assert "date" in ran.err or "duration" in ran.err, (args, ran.err)
    assert "manual" in gs(repo, "list")


def test_a_typo_in_the_retention_config_is_said_as_any_bad_value(repo: Path) -> None:
    """As 'foo' there: said in one line by prune, and a hook stops git (worktree.settings)."""
    gs(repo, "create")
    git(repo, "config", "snapshot.keepWithin", "1.mnth.ago")
    ran = gs(repo, "prune", "--dry-run", rc=1)
    assert len(ran.err_lines) == 1 and "bad duration '1.mnth.ago'" in ran.err, ran.err
    git(repo, "config", "--unset", "snapshot.keepWithin")
    assert "manual" in gs(repo, "list")
