"""Red team (session 30): a store, or part of it, that belongs to another user (what a
``sudo git ...`` leaves: its hook wrote the index or a pack folder as root).

Every command and hook then ended in an internal error (the index: "'Index' object has no
attribute 'db'"; packs/: a PermissionError), and verify and repair of a store wholly another
user's said "no snapshot store", which is false. Now each says in one line which part is
whose, and the chown that gives it back.

The suite runs as root, whom no permission stops: the commands run here without the two
capabilities that bypass file permissions (setpriv), as tests/test_red26_unsearchable.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import gs

AS_A_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
NOBODY = 65534

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root (to give the store to another user) and setpriv",
)


def _as_user(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AS_A_USER, str(VENV_BIN / "git-snapshot"), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_SNAPSHOT_WATCH": "0"},
        check=False,
    )


@pytest.mark.parametrize("part", ["index.sqlite", "packs", "."])
def test_a_store_part_another_user_owns_is_named_with_its_fix(
    repo: Path, store_dir: Path, part: str
) -> None:
    gs(repo, "create")
    target = store_dir / part
    for p in [target, *(target.rglob("*") if part == "." else [])]:
        os.chown(p, NOBODY, -1, follow_symlinks=False)
    try:
        for cmd in (["list"], ["create"], ["verify"], ["repair", "--dry-run"]):
            ran = _as_user(repo, *cmd)
            lines = ran.stderr.splitlines()
            assert ran.returncode == 1 and len(lines) == 1, (cmd, ran.stderr)
            assert "internal error" not in ran.stderr and "no snapshot store" not in ran.stderr
            assert "belongs to" in ran.stderr and "sudo chown -R" in ran.stderr, ran.stderr
            assert str(store_dir) in ran.stderr, ran.stderr
    finally:
        for p in [target, *target.rglob("*")]:
            os.chown(p, 0, -1, follow_symlinks=False)
    assert gs(repo, "verify").rc == 0
