"""RED32 C5: the user's own store made read-only (``chmod -R a-w``, a copy back from a backup)
or with its tmp/ alone not writable.

Every command but list said the lock "must be a plain file: remove whatever is there" (it is
one: its mode is what stops the open), and doing so led to an internal PermissionError; cat
and repair ended in an internal PermissionError when tmp/ was not writable. Now the commands
that only read (cat, show, log, find, diff, verify) work on a read-only store, and those that
must write say in one line what is not writable and the chmod that fixes it.

The suite runs as root, whom no permission stops: the commands run here without the two
capabilities that bypass file permissions (setpriv), as tests/test_red30_store_owner.py."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import gs

AS_A_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root (to drop the capabilities that bypass permissions) and setpriv",
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


def _chmod_all(root: Path, writable: bool) -> None:
    for p in [root, *root.rglob("*")]:
        if p.is_symlink():
            continue
        mode = stat.S_IMODE(p.stat().st_mode)
        os.chmod(p, mode | 0o200 if writable else mode & ~0o222)


@pytest.fixture
def snapped(repo: Path) -> Iterator[Path]:
    (repo / "a.txt").write_text("a\n")
    gs(repo)
    (repo / "a.txt").write_text("b\n")
    gs(repo)
    yield repo


def _one_line_with_chmod(ran: subprocess.CompletedProcess[str], store_dir: Path) -> None:
    lines = ran.stderr.splitlines()
    assert ran.returncode == 1 and len(lines) == 1, ran.stderr
    assert "internal error" not in ran.stderr and "plain file" not in ran.stderr, ran.stderr
    assert f"chmod -R u+rwX {store_dir}" in ran.stderr, ran.stderr


def test_a_read_only_store_reads_and_says_how_to_write(snapped: Path, store_dir: Path) -> None:
    _chmod_all(store_dir, writable=False)
    try:
        for argv in (["list"], ["show", "1"], ["log", "a.txt"], ["find", "a.txt"], ["verify"]):
            ran = _as_user(snapped, *argv)
            assert ran.returncode == 0, (argv, ran.stderr)
        ran = _as_user(snapped, "cat", "1", "a.txt")
        assert ran.returncode == 0 and ran.stdout == "a\n", ran.stderr
        assert _as_user(snapped, "diff", "1", "2").returncode in (0, 1)
        for argv in (["create"], ["prune", "--keep-last", "1"], ["repair"]):
            _one_line_with_chmod(_as_user(snapped, *argv), store_dir)
    finally:
        _chmod_all(store_dir, writable=True)
    gs(snapped, "verify")


def test_a_store_whose_tmp_is_not_writable(snapped: Path, store_dir: Path) -> None:
    os.chmod(store_dir / "tmp", 0o500)
    try:
        ran = _as_user(snapped, "cat", "1", "a.txt")
        assert ran.returncode == 0 and ran.stdout == "a\n", ran.stderr
        _one_line_with_chmod(_as_user(snapped, "repair"), store_dir)
    finally:
        os.chmod(store_dir / "tmp", 0o700)
    gs(snapped, "repair")
