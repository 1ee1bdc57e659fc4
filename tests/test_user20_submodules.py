"""A submodule is a repository of its own, with its own hooks folder
(``.git/modules/NAME/hooks``): ``git snapshot install`` in the project protects none of the
git commands run inside it (``git checkout -- FILE`` there lost an edit with no report), and
neither ``install`` nor ``doctor`` said so. Both now name each checked-out submodule whose
hooks are not ours, with the command that installs them."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from conftest import committed_repo
from hookhelpers import install
from hookhelpers import put_venv_on_path

FOREACH = "git submodule foreach --quiet --recursive git snapshot install"


@pytest.fixture
def project(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    committed_repo(tmp_path / "lib")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", "../lib", "libs/my lib")
    git(repo, "commit", "-q", "-m", "a submodule")
    return repo


def _line(text: str) -> str:
    (line,) = [ln for ln in text.splitlines() if ln.startswith("submodules:")]
    return line


def test_install_and_doctor_name_a_submodule_without_our_hooks(project: Path) -> None:
    said = _line(install(project).out)
    assert "'libs/my lib'" in said and said.endswith(f"install them with: {FOREACH}"), said
    doctor = gs(project, "doctor")  # this repository's hooks all fire: exit 0 still
    assert _line(doctor.out) == said
    run(project, *shlex.split(said.rsplit(": ", 1)[1]))
    assert gs(project / "libs" / "my lib", "doctor").rc == 0
    assert "submodules:" not in gs(project, "doctor").out
    assert "submodules:" not in gs(project, "install").out


def test_a_project_without_submodules_says_nothing_of_them(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    assert "submodules" not in install(repo).out + gs(repo, "doctor").out


def test_the_submodule_once_installed_reports_its_own_losses(project: Path) -> None:
    install(project)
    sub = project / "libs" / "my lib"
    gs(sub, "install")
    (sub / "README").write_bytes(b"an edit\n")
    gs(sub)
    ran = git(sub, "checkout", "--", "README")
    (report,) = ran.reports
    assert report.names == "README" and report.what == "git checkout", ran.err
