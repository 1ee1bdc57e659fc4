"""RED32 A3: a malformed value on the command line is a usage error (exit 2, DESIGN: "2 on a
usage error"), as a bad ``-n`` already was; a well-formed ID that names no snapshot, and a bad
value in git config, are errors (exit 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--since", "garbage"],
        ["list", "--since", "1.huor.ago"],
        ["prune", "--keep-within", "garbage", "--dry-run"],
        ["show", "notanid"],
        ["show", "latest~-1"],
        ["show", "@{}"],
        ["show", "@{garbage}"],
        ["cat", "latest~x", "f"],
        ["forget", "1..3", "--dry-run"],
        ["export", "1x", "out.tar"],
    ],
)
def test_a_malformed_value_is_a_usage_error(repo: Path, args: list[str]) -> None:
    (repo / "f").write_text("f\n")
    gs(repo)
    ran = gs(repo, *args, rc=2)
    # one line saying what is wrong (after argparse's usage, for an option's value)
    assert "bad " in ran.err_lines[-1] or "cannot read" in ran.err_lines[-1], ran.err


@pytest.mark.parametrize(
    "args", [["show", "99"], ["show", "latest~5"], ["show", "@{2000-01-01}"], ["cat", "1", "nope"]]
)
def test_a_well_formed_id_that_names_nothing_is_an_error(repo: Path, args: list[str]) -> None:
    (repo / "f").write_text("f\n")
    gs(repo)
    assert gs(repo, *args, rc=1).err.startswith("git-snapshot: ")


def test_a_bad_duration_in_git_config_is_an_error_not_a_usage_error(repo: Path) -> None:
    gs(repo)
    git(repo, "config", "snapshot.keepWithin", "garbage")
    assert "garbage" in gs(repo, "prune", "--dry-run", rc=1).err
