"""RED32 V2 (a newcomer): with pre-commit and the plain hooks both installed, doctor still
told them to install the plain hooks alongside. It says so only while they are missing."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs


def _pre_commit_line(repo: Path) -> str:
    out = gs(repo, "doctor", rc=None).out.splitlines()
    (line,) = [x for x in out if x.startswith("pre-commit: ")]
    return line


def test_doctor_advises_the_plain_hooks_only_while_they_are_missing(repo: Path) -> None:
    (repo / ".pre-commit-config.yaml").write_text("repos: []\n")
    assert _pre_commit_line(repo).endswith("keep the plain hooks alongside (git snapshot install)")
    gs(repo, "install")
    line = _pre_commit_line(repo)
    assert line.endswith("the plain hooks installed alongside cover these"), line
    assert "cannot run reference-transaction" in line
