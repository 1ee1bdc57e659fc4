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
from clihelpers import gs_into_full


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("name", ["big", "link"])
def test_cat_into_a_full_disk_is_one_line_saying_the_output_is_incomplete(
    repo: Path, name: str
) -> None:
    (repo / "big").write_bytes(os.urandom(3 << 20))
    (repo / "link").symlink_to("big")
    gs(repo)
    res = gs_into_full(repo, "cat", "1", name)
    err = res.stderr.decode()
    assert res.returncode == 1, err
    assert "internal error" not in err and "Exception" not in err, err
    assert err.count("\n") == 1 and "No space left on device" in err, err
    assert f"{name} could not be written whole" in err, err


def _pasted(cwd: Path, err: str) -> subprocess.CompletedProcess[bytes]:
    """The command cat's error line names, run as pasted into a shell in *cwd*."""
    command = err.rsplit("with: ", 1)[1].strip()
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["sh", "-c", command], cwd=cwd, capture_output=True, env=env, check=False, timeout=120
    )


@pytest.mark.parametrize("typed", ["gone", "-rf", "."])
def test_cats_hints_work_as_pasted_in_a_subfolder(repo: Path, typed: str) -> None:
    """cat named the path from the worktree's top (git snapshot log sub/gone), which log and
    show, run in the same folder, take as relative to it (sub/sub/gone): the hint found
    nothing; and a name starting with '-' was read as an option."""
    sub = repo / "sub"
    sub.mkdir()
    (sub / "-rf").write_text("dash\n")
    (sub / "gone").write_text("gone\n")
    gs(repo)  # snapshot 1
    (sub / "-rf").unlink()
    (sub / "gone").unlink()
    gs(repo)  # snapshot 2: without them
    ran = gs(sub, "cat", "2", "--", typed, rc=1)
    pasted = _pasted(sub, ran.err)
    assert pasted.returncode == 0, (ran.err, pasted.stderr)
    if typed == ".":
        assert b"sub/" in pasted.stdout, pasted.stdout  # show 2 .: the folder's entries
    else:
        assert b"appeared" in pasted.stdout, pasted.stdout  # log: its version in snapshot 1


def test_cats_hint_for_another_repository_keeps_repo(repo: Path, tmp_path: Path) -> None:
    (repo / "f").write_text("f\n")
    gs(repo)
    ran = gs(tmp_path, "cat", "--repo", str(repo), "1", "nothere", rc=1)
    assert "--repo=" in ran.err, ran.err
    ran = gs(tmp_path, "cat", "--repo", str(repo), "1", ".", rc=1)
    assert _pasted(tmp_path, ran.err).returncode == 0, ran.err
