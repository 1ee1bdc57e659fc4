"""RED31 E5: install forwards to a global core.hooksPath; when the user later points the
global setting elsewhere (or unsets it), the repository's hooks follow it, as in a repository
without git-snapshot, and doctor names the one hook that keeps install's value (the
reference-transaction shim spawns no process to look it up). Real git, the real CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import put_venv_on_path


def _hooks(where: Path, tag: str, log: Path) -> Path:
    for name in ("pre-commit", "reference-transaction"):
        path = where / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'#!/bin/sh\n[ "$1" = prepared ] || echo "{tag} {name}" >> "{log}"\n')
        path.chmod(0o755)
    return where


@pytest.fixture
def setup(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    put_venv_on_path(monkeypatch)
    log = tmp_path / "log"
    old = _hooks(tmp_path / "hooks-old", "old", log)
    _hooks(tmp_path / "hooks-new", "new", log)
    git(repo, "config", "--global", "core.hooksPath", str(old))
    gs(repo, "install")
    return repo, log


def _ran(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


def test_hooks_follow_the_global_setting(setup: tuple[Path, Path], tmp_path: Path) -> None:
    repo, log = setup
    git(repo, "commit", "-q", "--allow-empty", "-m", "1")
    assert "old pre-commit" in _ran(log)
    gs(repo, "doctor")

    git(repo, "config", "--global", "core.hooksPath", str(tmp_path / "hooks-new"))
    git(repo, "commit", "-q", "--allow-empty", "-m", "2")
    assert "new pre-commit" in _ran(log)
    doc = gs(repo, "doctor", rc=1).out
    (line,) = [ln for ln in doc.splitlines() if ln.startswith("the global core.hooksPath")]
    assert str(tmp_path / "hooks-old") in line
    assert str(tmp_path / "hooks-new") in line and "run git snapshot install again" in line
    gs(repo, "install")
    gs(repo, "doctor")
    git(repo, "commit", "-q", "--allow-empty", "-m", "3")
    assert _ran(log) == ["new pre-commit", "new reference-transaction"]

    git(repo, "config", "--global", "--unset", "core.hooksPath")
    git(repo, "commit", "-q", "--allow-empty", "-m", "4")
    assert "new pre-commit" not in _ran(log)


def test_the_gone_line_undoes_exactly(setup: tuple[Path, Path], tmp_path: Path) -> None:
    """The program gone: the printed commands give back the configuration before install
    (no local core.hooksPath), from any directory."""
    repo, _log = setup
    shim = repo / ".git" / "git-snapshot" / "hooks" / "post-checkout"
    text = shim.read_text()
    shim.write_text(text.replace("\nexe=/", "\nexe=/nonexistent/", 1))
    res = git(repo, "switch", "-q", "-c", "x")
    (line,) = [ln for ln in res.err.splitlines() if ln.startswith("git-snapshot:")]
    cmd = line.split("to remove this hook: ")[1]
    ran = subprocess.run(["sh", "-c", cmd], cwd=tmp_path, capture_output=True, text=True)
    assert ran.returncode == 0, (cmd, ran.stderr)
    assert git(repo, "config", "--local", "core.hooksPath", rc=None).rc == 1
    assert not (repo / ".git" / "git-snapshot" / "hooks").exists()
