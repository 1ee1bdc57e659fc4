"""RED31: a repository another user owns gets one line naming git's safe.directory check and
the command that trusts it, not "git rev-parse --show-toplevel failed (exit 128)"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repository away")
def test_a_repository_of_another_user(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    git(tmp_path, "init", "-q", str(theirs))
    (theirs / "sub").mkdir()
    for d, _, files in os.walk(theirs):
        for name in [d, *(os.path.join(d, f) for f in files)]:
            os.lchown(name, 1000, 1000)
    for where in (theirs, theirs / "sub"):
        err = gs(where, rc=1).err
        assert err.count("\n") == 1, err
        assert "safe.directory" in err and "exit 128" not in err, err
        assert f"git config --global --add safe.directory {theirs}" in err, err
