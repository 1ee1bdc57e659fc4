"""A command whose output cannot be written (``git snapshot list > FILE`` on a full disk; here
/dev/full, which fails every write with ENOSPC) ends with one line saying the output is
incomplete and why, exit 1: never "internal error ... please report it", never Python's
"Exception ignored" at exit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from clihelpers import gs_into_full


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["list"], ["show", "1"], ["log", "a.txt"], ["list", "--json"]])
def test_output_into_a_full_disk_is_one_line(repo: Path, argv: list[str]) -> None:
    (repo / "a.txt").write_text("a\n")
    gs(repo)
    res = gs_into_full(repo, *argv)
    err = res.stderr.decode()
    assert res.returncode == 1, err
    assert "internal error" not in err and "Exception" not in err, err
    assert err.count("\n") == 1 and "No space left on device" in err, err
    assert "the output is incomplete" in err, err
