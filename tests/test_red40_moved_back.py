"""An uncommitted edit whose new bytes (or link target) equal another tracked path's committed
version is still named when that other path is rewritten too (RED40 A finding 2).

loststash._moved_back took a lost tracked file for one side of a rename when its version was
now on disk at another index path where the snapshot held something else; it did not ask
whether the lost path had left the index. Swapping two links, or copying one file's committed
config over another and then editing that one, was a rename to it: `run -- git reset --hard`
named one of four edits, and `undo` gave back only that one. A rename (`git mv`) undone is
still not named: there the lost path is gone from the index.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path


@pytest.fixture
def swapped(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* with two committed links and two committed configs, each edited so that its
    new version is the other path's committed one (g.txt edited on top)."""
    put_venv_on_path(monkeypatch)
    (repo / "a.txt").write_bytes(b"A\n")
    (repo / "b.txt").write_bytes(b"B\n")
    os.symlink("a.txt", repo / "link")
    os.symlink("b.txt", repo / "u")
    (repo / "f.txt").write_bytes(b"config for f: port=1\n")
    (repo / "g.txt").write_bytes(b"config for g: port=2\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    install(repo)
    for name, target in (("u", "a.txt"), ("link", "b.txt")):
        os.unlink(repo / name)
        os.symlink(target, repo / name)
    (repo / "f.txt").write_bytes(b"config for g: port=2\n")
    (repo / "g.txt").write_bytes(b"config for g: port=3\n")
    return repo


def _lost(repo: Path) -> list[str]:
    return [x["path"] for e in json.loads(gs(repo, "losses", "--json").out) for x in e["lost"]]


def test_a_swap_between_two_tracked_paths_is_named(swapped: Path) -> None:
    ran = gs(swapped, "run", "--", "git", "reset", "--hard")
    assert sorted(_lost(swapped)) == ["f.txt", "g.txt", "link", "u"], ran.err


def test_undo_gives_back_every_swapped_edit(swapped: Path) -> None:
    gs(swapped, "run", "--", "git", "reset", "--hard")
    gs(swapped, "undo")
    assert os.readlink(swapped / "u") == "a.txt"
    assert os.readlink(swapped / "link") == "b.txt"
    assert (swapped / "f.txt").read_bytes() == b"config for g: port=2\n"
    assert (swapped / "g.txt").read_bytes() == b"config for g: port=3\n"


def test_a_rename_undone_is_still_not_named(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    put_venv_on_path(monkeypatch)
    (repo / "src").mkdir()
    (repo / "src" / "y.py").write_bytes(b"y = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "y")
    install(repo)
    (repo / "lib").mkdir()
    git(repo, "mv", "src/y.py", "lib/y.py")
    ran = gs(repo, "run", "--", "git", "reset", "--hard")
    assert "destroyed" not in ran.err, ran.err
    assert (repo / "src" / "y.py").read_bytes() == b"y = 1\n"
