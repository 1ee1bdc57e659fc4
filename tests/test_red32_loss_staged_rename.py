"""RED32 (red team D, finding 5): a staged pure rename undone by `reset --hard`, reported as a
destroyed uncommitted edit.

`git mv src/y lib/y`, then `git snapshot run -- git reset --hard`: git deletes lib/y and writes
src/y back from HEAD, byte for byte what lib/y held. Nothing the user wrote is gone (DESIGN:
content is lost only when git cannot give it back; here it is even on disk), yet lib/y was
named, and pasting the restore left an untracked duplicate. A renamed file that was also
edited is still named, and so is a staged copy of a file that stays where it was (the copy's
path is the only thing it held, but nothing moved back to say so).
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
from hookhelpers import write


@pytest.fixture
def moved(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, "src/y", b"y\n")
    commit(repo, "src/x", b"x\n")
    (repo / "lib").mkdir()
    git(repo, "mv", "src/y", "lib/y")
    return repo


def _lost(repo: Path) -> list[list[str]]:
    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(repo, "losses", "--json"))]


def test_a_staged_rename_undone_by_reset_hard_is_no_loss(moved: Path) -> None:
    r = moved
    ran = gs(r, "run", "--", "git", "reset", "--hard")
    assert (r / "src" / "y").read_bytes() == b"y\n" and not (r / "lib" / "y").exists()
    assert not ran.reports and "destroyed" not in ran.err, ran.err
    assert _lost(r) == []


def test_an_edited_rename_is_still_named(moved: Path) -> None:
    r = moved
    git(r, "mv", "src/x", "lib/x")
    write(r / "lib" / "x", b"x edited\n")
    ran = gs(r, "run", "--", "git", "reset", "--hard")
    (rep,) = ran.reports
    assert rep.names == "lib/x", ran.err
    assert _lost(r) == [["lib/x"]]


def test_a_rename_with_a_mode_change_is_still_named(moved: Path) -> None:
    r = moved
    (r / "lib" / "y").chmod(0o755)
    ran = gs(r, "run", "--", "git", "reset", "--hard")
    (rep,) = ran.reports
    assert rep.names == "lib/y", ran.err


def test_a_staged_copy_is_still_named(moved: Path) -> None:
    r = moved
    write(r / "copy", b"x\n")
    git(r, "add", "copy")
    ran = gs(r, "run", "--", "git", "reset", "--hard")
    (rep,) = ran.reports
    assert rep.names == "copy", ran.err


def test_a_forced_checkout_after_a_watched_rename_too(moved: Path) -> None:
    """The hook's report (post-checkout, against a snapshot taken after the rename)."""
    r = moved
    install(r)
    gs(r, "-m", "after the rename")
    ran = git(r, "checkout", "-f")
    assert (r / "src" / "y").read_bytes() == b"y\n" and not (r / "lib" / "y").exists()
    assert not ran.reports and "destroyed" not in ran.err, ran.err
