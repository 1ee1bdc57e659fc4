"""The README's quick start on a fresh clone (session 14, USER2): its command 2 makes the test
venv (.venv, ~350 MB) in the clone that command 1 protects and watches. The watcher then
snapshotted all of it (6,000 files, +100 MB in the store on its first watch snapshot) and
every change pytest and pip made there; the venv is rebuilt by that very line."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import put_venv_on_path

README = Path(__file__).resolve().parent.parent / "README.md"


def _quick_start_tests() -> list[str]:
    """The README's quick-start command 2, as its steps."""
    m = re.search(r"# 2\. [^\n]*\n([^\n]+)\n", README.read_text())
    assert m, "the README has no quick-start command 2"
    return m.group(1).split(" && ")


def test_the_quick_starts_test_venv_stays_out_of_the_snapshots(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".venv/\n__pycache__/\n")  # as this repository's
    gs(repo, "install")
    steps = _quick_start_tests()
    first = next(i for i, s in enumerate(steps) if s.startswith("python3 -m venv .venv"))
    for step in steps[:first]:  # what the line does before it makes the venv
        subprocess.run(["sh", "-c", step], cwd=repo, check=True)
    # the venv as `python3 -m venv` and pip lay it out (not made here: slow, and needs PyPI)
    site = repo / ".venv" / "lib" / "python3.11" / "site-packages" / "pkg"
    site.mkdir(parents=True)
    (repo / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (site / "__init__.py").write_text("x = 1\n")
    (repo / "notes.txt").write_text("mine\n")
    gs(repo)
    paths = [e["path"] for e in json.loads(gs(repo, "show", "latest", "--json").out)["entries"]]
    assert "notes.txt" in paths
    assert not [p for p in paths if p == ".venv" or p.startswith(".venv/")], paths
