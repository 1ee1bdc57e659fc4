"""RED40 B F3: a push to a file:// remote whose disk fills said "not pushed: proj#5c1e2a:2
(... free space on that disk (git snapshot remote prune NAME --keep-last N deletes old
snapshots there) ...)": a literal NAME where the remote's name (known) belongs, and the
snapshot in a form ``list`` never shows (each skipped snapshot of one repository counted as
another repository of that name, so the label took its tag).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import gs
from conftest import committed_repo

# the remote's disk is full: every file bigger than a snapshot document fails as it is
# written into the remote's .tmp/ (as ENOSPC does, part way)
FULL_PUSH = """
import errno, sys
from git_snapshot.store import backend_file
real = backend_file.FileBackend._temp
def _temp(self, parts):
    data = b"".join(parts)
    if len(data) > 20000:
        raise OSError(errno.ENOSPC, "No space left on device")
    return real(self, [data])
backend_file.FileBackend._temp = _temp
from git_snapshot.cli import main
sys.exit(main(["push", "usb"]))
"""


@pytest.fixture(autouse=True)
def _config_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def _push_to_full(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", FULL_PUSH], cwd=repo, capture_output=True, text=True, check=False
    )


def test_a_full_remote_disk_names_the_remote_and_the_snapshots_as_list_does(
    tmp_path: Path,
) -> None:
    repo = committed_repo(tmp_path / "proj")
    for i, size in ((1, 5000), (2, 60000), (3, 60000)):  # 1 fits, 2 and 3 do not
        (repo / f"data{i}.bin").write_bytes(os.urandom(size))
        gs(repo, "-m", f"s{i}")
    gs(repo, "remote", "add", "usb", f"file://{tmp_path}/remote")
    ran = _push_to_full(repo)
    skipped = [line for line in ran.stderr.splitlines() if "not pushed:" in line]
    assert len(skipped) == 2, ran.stderr
    listed = gs(repo, "list", "--all").out
    for line, snap in zip(skipped, (2, 3), strict=True):
        assert f"not pushed: proj:{snap} (" in line, line  # as list --all names it
        assert f"proj:{snap}" in listed
        assert "remote prune usb --keep-last N" in line, line
        assert "NAME" not in line, line


def test_a_full_remote_disk_stopping_the_push_names_the_remote(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "proj")
    (repo / "data.bin").write_bytes(os.urandom(60000))
    gs(repo, "-m", "big")
    gs(repo, "remote", "add", "usb", f"file://{tmp_path}/remote")
    ran = _push_to_full(repo)  # (no pack went: the push stops in one line)
    assert ran.returncode == 1 and "No space left on device" in ran.stderr, ran.stderr
    assert "remote prune usb --keep-last N" in ran.stderr and "NAME" not in ran.stderr
