"""RED32 V1: a snapshot.keepWithin value that is refused ('0d', '7') stops every snapshot
(create, each hook, run); the line said "bad duration '0d': use a number and a unit", which
'0d' is, and named neither the key nor where it is set."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs


@pytest.mark.parametrize("value", ["0d", "7"])
def test_a_refused_keep_within_names_the_key_and_the_fix(repo: Path, value: str) -> None:
    git(repo, "config", "snapshot.keepWithin", value)
    (line,) = gs(repo, rc=1).err_lines
    assert line.startswith("git-snapshot: snapshot.keepWithin in git config: bad duration"), line
    assert f"{value!r}" in line and "above 0" in line, line
    assert "git config snapshot.keepWithin 14d" in line and "--show-origin" in line, line
    git(repo, "config", "snapshot.keepWithin", "14d")
    gs(repo)
