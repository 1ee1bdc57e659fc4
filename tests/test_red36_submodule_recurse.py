"""With ``submodule.recurse`` a forced checkout discards a saved edit inside a submodule, and
its post-checkout hook names it (RED36 A3).

The hook counts a path as written by git when its bytes are a blob git has; it asked the
superproject's object database only, so a file git wrote back inside a submodule (a blob of the
submodule's repository) was never compared: only the superproject's files were named.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path

ALLOW = ("-c", "protocol.file.allow=always")


@pytest.fixture
def project(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q")
    (lib / "s.txt").write_bytes(b"s1\n")
    git(lib, "add", ".")
    git(lib, "commit", "-qm", "lib")
    commit(repo, "top.txt", b"top\n")
    git(repo, *ALLOW, "submodule", "-q", "add", str(lib), "sub")
    git(repo, "commit", "-qm", "submodule")
    install(repo)
    git(repo, "config", "submodule.recurse", "true")
    return repo


@pytest.mark.parametrize("cmd", [("checkout", "-f"), ("switch", "--discard-changes", "main")])
def test_a_forced_checkout_names_the_submodule_edit_it_discarded(
    project: Path, cmd: tuple[str, ...]
) -> None:
    (project / "sub" / "s.txt").write_bytes(b"MY SUB EDIT\n")
    (project / "top.txt").write_bytes(b"MY TOP EDIT\n")
    gs(project, "-m", "holds both edits")
    ran = git(project, *cmd)
    assert (project / "sub" / "s.txt").read_bytes() == b"s1\n"
    assert "sub/s.txt" in ran.err and "top.txt" in ran.err, ran.err
    (entry,) = json.loads(gs(project, "losses", "--json").out)
    assert sorted(x["path"] for x in entry["lost"]) == ["sub/s.txt", "top.txt"]
    gs(project, "undo")
    assert (project / "sub" / "s.txt").read_bytes() == b"MY SUB EDIT\n"


def test_a_plain_switch_names_nothing_in_the_submodule(project: Path) -> None:
    git(project, "checkout", "-q", "-b", "other")
    ran = git(project, "checkout", "main")
    assert "destroyed" not in ran.err, ran.err
