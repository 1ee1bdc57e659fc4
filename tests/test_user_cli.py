"""A user's first mistakes at the command line: what git-snapshot says back must be true and
say what to do next."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import gs


@pytest.mark.parametrize("command", ["restore", "show"])
def test_a_missing_id_names_only_what_is_missing(repo: Path, command: str) -> None:
    """argparse called an optional PATH... required ('the following arguments are required:
    ID, PATH'), though `restore 3` alone restores the whole tree."""
    ran = gs(repo, command, rc=2)
    (line,) = [ln for ln in ran.err_lines if "required" in ln]
    assert "ID" in line and "PATH" not in line, line
