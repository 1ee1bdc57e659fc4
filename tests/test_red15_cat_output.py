"""``git snapshot cat ID PATH > FILE`` on a full disk (here /dev/full, which fails every write
with ENOSPC) said "internal error ... please report it": the output it wrote is incomplete and
the user must know that and why, in one line, never a crash report."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import gs


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("name", ["big", "link"])
def test_cat_into_a_full_disk_is_one_line_saying_the_output_is_incomplete(
    repo: Path, name: str
) -> None:
    (repo / "big").write_bytes(os.urandom(3 << 20))
    (repo / "link").symlink_to("big")
    gs(repo)
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    with open("/dev/full", "wb") as full:
        res = subprocess.run(
            ["git", "snapshot", "cat", "1", name],
            cwd=repo,
            stdout=full,
            stderr=subprocess.PIPE,
            env=env,
            check=False,
            timeout=120,
        )
    err = res.stderr.decode()
    assert res.returncode == 1, err
    assert "internal error" not in err and "Exception" not in err, err
    assert err.count("\n") == 1 and "No space left on device" in err, err
    assert f"{name} could not be written whole" in err, err
