"""RED32 C7: `restore --dry-run --delete` stopped at a folder that may be listed but not
searched (chmod 644) with "restore stopped at .../noexec: Permission denied; make it writable",
while the real `restore --delete` keeps what is in it (its pre-restore snapshot could not read
it) and succeeds. The dry run now says what the restore would do.

Run with the capabilities that bypass file permissions dropped (setpriv), as in
tests/test_red26_unsearchable.py: the suite runs as root."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import Ran
from clihelpers import run
from conftest import committed_repo

AS_A_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def _prefix() -> list[str]:
    return AS_A_USER if os.geteuid() == 0 else []


@pytest.fixture
def noexec(tmp_path: Path) -> Iterator[Path]:
    repo = committed_repo(tmp_path / "repo")
    (repo / "ok.txt").write_text("ok\n")
    (repo / "noexec").mkdir()
    (repo / "noexec" / "f.txt").write_text("x\n")
    (repo / "noexec").chmod(0o644)
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("root, and no setpriv to run a command without its permission bypass")
    probe = subprocess.run([*_prefix(), "cat", str(repo / "noexec" / "f.txt")], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("permissions are not enforced for the commands here")
    try:
        yield repo
    finally:
        (repo / "noexec").chmod(0o755)


def _gs(repo: Path, *argv: str, rc: int = 0) -> Ran:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return run(repo, *_prefix(), "git", "snapshot", *argv, env=env, rc=rc)


def test_the_dry_run_says_what_the_restore_does(noexec: Path) -> None:
    _gs(noexec, "create")
    (noexec / "ok.txt").write_text("changed\n")
    dry = _gs(noexec, "restore", "1", "--dry-run", "--delete")
    assert "restore stopped" not in dry.err, dry.err
    assert "would update ok.txt" in dry.out, dry.out
    assert "kept 1 path(s)" in dry.out and "noexec/f.txt" in dry.out, dry.out
    assert (noexec / "ok.txt").read_text() == "changed\n"
    real = _gs(noexec, "restore", "1", "--delete")
    assert "kept 1 path(s)" in real.out and "noexec/f.txt" in real.out, real.out
    assert (noexec / "ok.txt").read_text() == "ok\n"


def test_a_folder_the_snapshot_holds_that_became_unsearchable(noexec: Path) -> None:
    (noexec / "noexec").chmod(0o755)
    _gs(noexec, "create")  # holds noexec/f.txt
    (noexec / "noexec").chmod(0o644)
    dry = _gs(noexec, "restore", "1", "--dry-run", "--delete")
    real = _gs(noexec, "restore", "1", "--delete")
    for r in (dry, real):
        assert "kept 1 path(s)" in r.out and "noexec/f.txt" in r.out, r.out


def test_elsewhere_nothing_saved_first(noexec: Path, tmp_path: Path) -> None:
    """--to a folder in no worktree: the restore makes a folder it deletes searchable first,
    so the dry run says it would delete it; one it writes into and may not search stops both,
    with the chmod that lets it through (not 'make it writable': it is writable)."""
    (noexec / "noexec").chmod(0o755)
    _gs(noexec, "create")
    (noexec / "noexec").chmod(0o644)
    out = tmp_path / "out"
    for folder in ("locked", "noexec"):
        (out / folder).mkdir(parents=True)
        (out / folder / "mine.txt").write_text("mine\n")
        (out / folder).chmod(0o644)
    try:
        for dry in (["--dry-run"], []):
            r = _gs(noexec, "restore", "1", "--to", str(out), "--delete", *dry, rc=1)
            assert "stopped at" in r.err and "/out/noexec/" in r.err, r.err
            assert "chmod u+rwX" in r.err and "make it writable" not in r.err, r.err
        (out / "noexec").chmod(0o755)
        said = _gs(noexec, "restore", "1", "--to", str(out), "--delete", "--dry-run")
        assert "would delete locked\n" in said.out, said.out
        _gs(noexec, "restore", "1", "--to", str(out), "--delete")
        assert not (out / "locked").exists()
    finally:
        for folder in ("locked", "noexec"):
            if (out / folder).exists():
                (out / folder).chmod(0o755)
