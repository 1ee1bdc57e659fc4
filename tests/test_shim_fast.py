"""The shim starts Python without ``site`` (its .pth files: ~3 ms of every hook), with the
folders ``install`` found on its path, and runs the console script instead whenever anything
about them is off: another Python, a folder gone, an import that fails. Real shims, real git."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import run
from hookhelpers import head
from hookhelpers import install
from hookhelpers import put_venv_on_path

from git_snapshot import hookfiles
from git_snapshot import install as inst

HOOK = Path(".git") / "hooks" / "post-checkout"


def _line(repo: Path) -> str:
    text = (repo / HOOK).read_text()
    found = re.search(r"(?m)^exe=.*$", text)
    assert found is not None
    return found.group(0)


def _set(repo: Path, field: str, value: str) -> None:
    """Rewrite one field of the line install filled in (as a moved environment would leave
    it): the rest of the shim stays as installed."""
    path = repo / HOOK
    text = path.read_text()
    line = _line(repo)
    path.write_text(text.replace(line, re.sub(rf" {field}=\S*", f" {field}={value}", line)))


def _hook(repo: Path, **env: str) -> str:
    """The post-checkout shim as git runs it, traced: the command lines sh ran and the output."""
    h = head(repo)
    ran = run(repo, "sh", "-x", str(repo / HOOK), h, h, "1", env={**os.environ, **env})
    return ran.err


@pytest.fixture
def installed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    install(repo)
    git(repo, "snapshot", "create")
    return repo


def test_install_writes_the_fast_start_and_the_hook_runs_without_site(installed: Path) -> None:
    py, tag, lib = hookfiles.fast_start(inst.current_exe())
    assert _line(installed).endswith(f" py={py} tag={tag} lib={lib}")
    assert os.path.isabs(py) and tag and all(os.path.isdir(p) for p in lib.split(":"))
    # a decoy package where the hook runs (the worktree root) is never what gets imported
    decoy = installed / "git_snapshot"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise SystemExit('the worktree was on sys.path')\n")
    (decoy / "hookmain.py").write_text("raise SystemExit('the worktree was on sys.path')\n")
    out = _hook(installed)
    assert f"+ {py} -S -c " in out, out
    assert "git-snapshot: snapshot 2 (post-checkout)" in out, out  # the decoy is new
    assert "the worktree was on sys.path" not in out, out


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lib", "/nonexistent/lib"),  # a folder gone (an upgraded or moved environment)
        ("tag", "cpython-27"),  # another Python now answers to that name
        ("lib", "/"),  # folders there, but git-snapshot is not in them: the import fails
    ],
)
def test_anything_off_runs_the_console_script(
    installed: Path, field: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)  # only what the line says
    _set(installed, field, value)
    out = _hook(installed)
    assert " -S -c " in out, out  # tried, then handed over with the same arguments
    assert "git-snapshot: unchanged since snapshot 1" in out, out


def test_a_python_gone_runs_the_console_script(installed: Path) -> None:
    _set(installed, "py", "/nonexistent/python3")
    out = _hook(installed)
    assert " -S -c " not in out, out
    assert "git-snapshot: unchanged since snapshot 1" in out, out
