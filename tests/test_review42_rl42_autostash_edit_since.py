"""Review of 3fbc050 (session 42, RL42): pre-rebase names as FILTERED a file the snapshot
taken before `rebase --autostash` holds otherwise than git's autostash gives back. When the
user changed the file on purpose after that snapshot (removed the SECRET line, or the
trailing blanks a whitespace-normalising filter drops, and wrote a line of his own), the
autostash holds his edit whole and git gives it back; the snapshot's earlier bytes clean to
HEAD's blob, which git has, and were named as destroyed, with a restore that writes the
snapshot's version over the user's edit.

What git's autostash dropped is in the autostash as the snapshot's bytes clean: only a file
whose snapshot bytes clean to the autostash's own version of it can have lost them there.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from converthelpers import filtered_then_b

FILTERS = {
    "secret": ("sed '/^SECRET/d'", b"line\nSECRET=hunter2\n", b"line\nother\n"),
    "blanks": ("sed 's/[ \t]*$//'", b"line   \n", b"line\nnew\n"),
}


def _edited_since(repo: Path, kind: str) -> bytes:
    """a.txt ("line") under clean filter *kind*; branch B changes b.txt only; on main,
    hooked, a.txt holds bytes the filter drops part of, saved by snapshot 'before'; then
    the user's own edit, not saved. Returns the edit."""
    clean, saved, mine = FILTERS[kind]
    filtered_then_b(repo, saved, clean)
    (repo / "a.txt").write_bytes(mine)
    return mine


@pytest.mark.parametrize("kind", sorted(FILTERS))
def test_an_edit_since_the_snapshot_the_autostash_gives_back_is_not_named(
    repo: Path, kind: str
) -> None:
    mine = _edited_since(repo, kind)
    ran = git(repo, "rebase", "--autostash", "B")
    assert "Created autostash" in ran.out + ran.err
    assert (repo / "a.txt").read_bytes() == mine  # git gave the user's edit back whole
    assert not ran.reports, ran.err
    assert "a.txt" not in gs(repo, "losses").out


def test_a_dropped_line_beside_an_edit_the_autostash_holds_is_named(repo: Path) -> None:
    """Guard: the snapshot holds the user's edit and a SECRET line; the autostash holds the
    edit as the filter cleans it (a change, not HEAD's blob): the line is still named."""
    _edited_since(repo, "secret")
    (repo / "a.txt").write_bytes(b"line\nSECRET=hunter2\nmine\n")
    gs(repo, "-m", "just before")
    ran = git(repo, "rebase", "--autostash", "B")
    assert (repo / "a.txt").read_bytes() == b"line\nmine\n"
    (rep,) = [r for r in ran.reports if "a.txt" in r.names.split(", ")]
    assert "git's filter" in rep.kinds, rep
    gs(repo, *rep.command[2:])
    assert (repo / "a.txt").read_bytes() == b"line\nSECRET=hunter2\nmine\n"
