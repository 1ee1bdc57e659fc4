"""Session 42 (fixL 3; red41R1 finding 1, the `rebase --autostash` mode fixD left): a clean
filter that drops content (SECRET lines: nbstripout's shape) and `git rebase --autostash B`.
git's autostash stores a.txt as the filter cleans it (no SECRET line) and resets a.txt before
pre-rebase runs; the pre-rebase snapshot holds the autostash as git applies it (no SECRET
either), and nothing compared the snapshot taken before the command with it: no report,
though that snapshot holds the line.

Named now at pre-rebase, hedged (the snapshot before the command was not taken right before
git's autostash: an edit of the dropped lines since then is not in it), as a file whose
bytes git's filter does not give back.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from clihelpers import gs
from converthelpers import filtered_then_b

SECRET = b"line\nSECRET=hunter2\n"


def test_what_the_autostash_of_a_lossy_filter_drops_is_named(repo: Path) -> None:
    filtered_then_b(repo, SECRET)
    ran = git(repo, "rebase", "--autostash", "B")
    assert "Created autostash" in ran.out + ran.err
    assert (repo / "a.txt").read_bytes() == b"line\n"  # git's apply: no SECRET line
    (rep,) = [r for r in ran.reports if "a.txt" in r.names.split(", ")]
    assert "git's filter" in rep.kinds, rep
    assert rep.names == "a.txt", ran.err
    gs(repo, *rep.command[2:])
    assert (repo / "a.txt").read_bytes() == SECRET


def test_an_autostashed_edit_the_filter_keeps_is_not_named(repo: Path) -> None:
    """Guard: an edit with no SECRET line, which git's autostash stores and gives back whole."""
    filtered_then_b(repo, b"line\nmine\n")
    ran = git(repo, "rebase", "--autostash", "B")
    assert "Created autostash" in ran.out + ran.err
    assert (repo / "a.txt").read_bytes() == b"line\nmine\n"
    assert not ran.reports, ran.err
    assert "a.txt" not in gs(repo, "losses").out
