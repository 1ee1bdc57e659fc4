"""RED26 (session 26): a folder that may be listed but not searched (`chmod -R 644 dir`, the
classic slip that takes the x bit off folders) made every snapshot of its worktree fail for a
user who is not root: "cannot take the snapshot: .../d/x: Permission denied; nothing was
stored (earlier snapshots are intact); run it again", and so every hook: no protection at all
while it stayed. The walk lists the folder (r) and then lstats each entry by path (x). Now
those entries are left out and said as unreadable at every snapshot, everything else kept
(the walker's _statable, as for a path past PATH_MAX: tests/test_red26_deep_paths.py).

The suite runs as root, whom no permission stops: the commands run here with the two
capabilities that bypass file permissions dropped from their bounding set (setpriv), so the
kernel checks permissions for them as for any user."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import Ran
from clihelpers import gs
from clihelpers import run
from conftest import committed_repo

AS_A_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def _prefix() -> list[str]:
    return AS_A_USER if os.geteuid() == 0 else []


@pytest.fixture
def unsearchable(tmp_path: Path) -> Iterator[Path]:
    """A repository whose folder d (a file and a folder in it) has mode 644."""
    repo = committed_repo(tmp_path / "repo")
    (repo / "d" / "sub").mkdir(parents=True)
    (repo / "d" / "x.txt").write_text("x\n")
    (repo / "d" / "sub" / "y.txt").write_text("y\n")
    (repo / "kept.txt").write_text("kept\n")
    (repo / "d").chmod(0o644)
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("root, and no setpriv to run a command without its permission bypass")
    probe = subprocess.run([*_prefix(), "cat", str(repo / "d" / "x.txt")], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("permissions are not enforced for the commands here")
    try:
        yield repo
    finally:
        (repo / "d").chmod(0o755)  # (so that the test's folder can be removed)


def _as_user(repo: Path, *argv: str) -> Ran:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return run(repo, *_prefix(), *argv, env=env)


def test_a_folder_listed_but_not_searched_is_left_out_and_said(unsearchable: Path) -> None:
    repo = unsearchable
    for n in (1, 2):  # every snapshot says it (its folder's record trusts nothing)
        r = _as_user(repo, "git", "snapshot")
        assert f"snapshot {n}:" in r.out, r.out + r.err
        said = r.out + r.err
        assert "d/x.txt (unreadable: Permission denied)" in said, said
        assert "d/sub (unreadable: Permission denied)" in said, said
        assert "nothing was stored" not in said
    assert gs(repo, "cat", "2", "kept.txt").out == "kept\n"
    _as_user(repo, "git", "snapshot", "diff", "2")  # no crash on what cannot be lstat'ed
    gs(repo, "install")
    (repo / "kept.txt").write_text("edited\n")
    r = _as_user(repo, "git", "checkout", "-b", "other")  # the hooks, as git runs them
    assert "git-snapshot: snapshot 3 (post-checkout)" in r.err, r.err
    assert "could not be read" in r.err and "Permission denied" in r.err, r.err
