"""A staged rename (`git mv`) of an EMPTY tracked file undone by `run -- git reset --hard` is
no loss (RED40 F finding 4).

loststash._moved_back matched a lost tracked file with a rename only when it held bytes (the
empty blob is at many index paths, each an unrelated match): `git mv __init__.py pkg/...`
then `reset --hard` named the empty file as destroyed uncommitted edits, and `undo` left an
untracked duplicate. An empty file counts as moved back only to a path the snapshot held
nothing at (the rename's old path, written back): an empty new file whose match is another
path an edit was discarded at is still named.
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


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, "__init__.py", b"")
    commit(repo, "full.py", b"x = 1\n")
    install(repo)
    return repo


def _lost(repo: Path) -> list[str]:
    return [x["path"] for e in json.loads(gs(repo, "losses", "--json").out) for x in e["lost"]]


def test_an_empty_file_renamed_then_reset_hard_is_no_loss(hooked: Path) -> None:
    git(hooked, "mv", "__init__.py", "pkg_init.py")
    git(hooked, "mv", "full.py", "full2.py")
    ran = gs(hooked, "run", "--", "git", "reset", "--hard")
    assert (hooked / "__init__.py").read_bytes() == b""
    assert not (hooked / "pkg_init.py").exists()
    assert "destroyed" not in ran.err, ran.err
    assert _lost(hooked) == []


def test_an_empty_file_moved_into_a_folder_then_reset_hard_is_no_loss(hooked: Path) -> None:
    (hooked / "pkg").mkdir()
    git(hooked, "mv", "__init__.py", "pkg/__init__.py")
    ran = gs(hooked, "run", "--", "git", "reset", "--hard")
    assert "destroyed" not in ran.err, ran.err
    assert _lost(hooked) == []


def test_a_new_empty_file_over_a_discarded_edit_is_still_named(hooked: Path) -> None:
    # __init__.py's edit is undone to the empty blob, which new.py held: no rename of new.py
    (hooked / "__init__.py").write_bytes(b"edited\n")
    (hooked / "new.py").write_bytes(b"")
    git(hooked, "add", "new.py")
    ran = gs(hooked, "run", "--", "git", "reset", "--hard")
    assert sorted(_lost(hooked)) == ["__init__.py", "new.py"], ran.err
