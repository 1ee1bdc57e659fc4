"""Session 33's nits from red team round 32 (V1 section 6, B's and A's smaller notes): each a
test that failed on the code before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import gs


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "-1"],
        ["show", "-0"],
        ["cat", "-2", "a"],
        ["restore", "-1", "a", "--dry-run"],
        ["export", "-1", "x.tar"],
        ["forget", "-1"],
        ["verify", "-1"],
        ["diff", "1", "-1"],
        ["show", "-12345678901234567890"],
    ],
)
def test_a_negative_id_is_a_usage_error(repo: Path, argv: list[str]) -> None:
    """A negative number is in no ID's form (numbers start at 1): malformed, exit 2, as
    1.5 and latest~-1 are (RED32 V1), not 'no snapshot -1' (exit 1)."""
    (repo / "a").write_text("a\n")
    gs(repo)
    ran = gs(repo, *argv, rc=2)
    assert ran.err_lines == [ran.err.strip()], ran.err
    assert "bad snapshot id" in ran.err and "-" in ran.err, ran.err


@pytest.mark.parametrize("more", [[], ["--dry-run"], ["--to", "out"]])
def test_restore_newest_without_a_path_says_it_needs_one(repo: Path, more: list[str]) -> None:
    """``restore --newest`` takes PATHs, no ID: argparse said 'the following arguments are
    required: ID' (RED32 V1)."""
    ran = gs(repo, "restore", "--newest", *more, rc=2)
    assert "required: ID" not in ran.err, ran.err
    assert "--newest" in ran.err and "PATH" in ran.err, ran.err
    assert ran.err_lines[-1].startswith("git snapshot restore: error:"), ran.err


@pytest.mark.parametrize("where", ["a", "a/b"])
def test_dash_c_through_a_file_says_not_a_directory(repo: Path, where: str) -> None:
    """``-C a`` where a is a file (or a path through one) said 'no such directory' (git:
    'Not a directory'; RED32 V1): the line says a file is in the way."""
    (repo / "a").write_text("a\n")
    ran = gs(repo, "-C", where, "list", rc=1)
    assert ran.err_lines == [ran.err.strip()], ran.err
    assert "no such directory" not in ran.err, ran.err
    assert "not a directory" in ran.err and f"{repo / 'a'} is a file" in ran.err, ran.err
