"""Moving a clean submodule between two of its commits is no loss (RED39 B4).

`checkout --recurse-submodules`, `submodule.recurse=true` and `run -- git submodule update
--force` move a submodule from s1 to s2; every file that differs was named as a destroyed
"uncommitted edit", though the submodule's repository holds both versions, and a later checkout
that did not touch the submodule was blamed again for what `update --force` wrote. The versions
a submodule can give back were its HEAD's and index's after the operation only: not the commit
it was moved from.
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
def superproject(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* on branch work at p1 (sub at s1), branch b2 at p2 (sub at s2: lib.c and README
    differ); the submodule clean; hooks installed."""
    put_venv_on_path(monkeypatch)
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q")
    commit(lib, "README", b"doc1\n")
    commit(lib, "lib.c", b"v1\n")
    git(lib, "tag", "s1")
    commit(lib, "README", b"doc2\n")
    commit(lib, "lib.c", b"v2\n")
    git(lib, "tag", "s2")
    commit(repo, "top.txt", b"top\n")
    git(repo, *ALLOW, "submodule", "-q", "add", str(lib), "sub")
    git(repo / "sub", "checkout", "-q", "s2")
    git(repo, "add", "sub")
    git(repo, "commit", "-qm", "p2")
    git(repo, "branch", "b2")
    git(repo / "sub", "checkout", "-q", "s1")
    git(repo, "add", "sub")
    git(repo, "commit", "-qm", "p1")
    git(repo, "checkout", "-q", "-b", "work")
    install(repo)
    gs(repo, "-m", "before")
    return repo


def _reports(repo: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(repo, "losses", "--json").out)]


@pytest.mark.parametrize(
    "cmd",
    [
        ("checkout", "--recurse-submodules", "b2"),
        ("-c", "submodule.recurse=true", "switch", "--discard-changes", "b2"),
    ],
)
def test_a_recursing_checkout_of_a_clean_submodule_names_nothing(
    superproject: Path, cmd: tuple[str, ...]
) -> None:
    ran = git(superproject, *cmd)
    assert (superproject / "sub" / "lib.c").read_bytes() == b"v2\n"
    assert "destroyed" not in ran.err, ran.err
    assert _reports(superproject) == []


def test_update_force_of_a_clean_submodule_names_nothing_then_or_later(
    superproject: Path,
) -> None:
    git(superproject, "checkout", "-q", "b2")  # sub stays at s1
    ran = gs(superproject, "run", "--", "git", "submodule", "update", "--force")
    assert (superproject / "sub" / "lib.c").read_bytes() == b"v2\n"
    assert "destroyed" not in ran.err, ran.err
    ran = git(superproject, "checkout", "-q", "work")  # does not touch sub
    assert "destroyed" not in ran.err, ran.err
    assert _reports(superproject) == []


def test_an_edit_in_the_moved_submodule_is_still_named(superproject: Path) -> None:
    (superproject / "sub" / "lib.c").write_bytes(b"MY EDIT\n")
    gs(superproject, "-m", "holds the edit")
    ran = git(superproject, "-c", "submodule.recurse=true", "checkout", "-f", "b2")
    assert (superproject / "sub" / "lib.c").read_bytes() == b"v2\n"
    assert "sub/lib.c" in ran.err, ran.err
    assert _reports(superproject) == [["sub/lib.c"]]
    gs(superproject, "undo")
    assert (superproject / "sub" / "lib.c").read_bytes() == b"MY EDIT\n"
