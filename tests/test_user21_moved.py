"""A repository moved with `mv` (or a worktree with `git worktree move`) keeps its id, but the
store keys its history by the old place (a copy must not share the original's numbering):
list said "no snapshots yet", restore "no snapshot 1: this repository has none in this store"
and log "no snapshots of this worktree yet", while the store held them all. Each then named
where they are and the command that lists them (a moved linked worktree still does); since
session 28 a moved repository's first command at its new place takes that history over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import SECRET
from hookhelpers import put_venv_on_path
from hookhelpers import write

from git_snapshot import identity
from git_snapshot.store import Store


@pytest.fixture
def moved(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    write(repo / ".gitignore", b".env\n")
    write(repo / ".env", SECRET)
    gs(repo, "-m", "before the move")
    to = tmp_path / "moved"
    repo.rename(to)
    return to


@pytest.mark.parametrize(
    "args", [["list"], ["restore", "latest", ".env"], ["restore", "1", ".env"], ["log", ".env"]]
)
def test_a_moved_repository_finds_its_history(moved: Path, args: list[str]) -> None:
    """Before session 28 each of these named the old place and `list --repo`; the history is
    this repository's at its new place now (identity._adopt_moved), from the first command."""
    write(moved / ".env", b"overwritten\n")
    ran = gs(moved, *args)
    if args[0] == "restore":
        assert (moved / ".env").read_bytes() == SECRET
    else:
        assert " 1 " in ran.out and ("before the move" in ran.out or args[0] == "log"), ran


def test_a_moved_linked_worktree_names_its_history(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked), "-b", "linked")
    write(linked / "notes.txt", b"mine\n")
    gs(linked, "-m", "in the linked worktree")
    git(repo, "worktree", "move", str(linked), str(tmp_path / "there"))
    ran = gs(tmp_path / "there", "list")
    # (RED33 A1: its history follows it, as a moved repository's; it named the old place)
    assert "in the linked worktree" in ran.out, ran


def test_a_moved_repository_goes_on_with_its_history(moved: Path, repo: Path) -> None:
    """Session 28: its first snapshot at the new place takes over the history of the old one
    (which no longer exists): numbered after it, listed with it, and `restore 1` is still the
    snapshot an old loss line named 1 (before: a new numbering from 1, so that once it got
    there an old `restore 41 .env` restored the new place's 41)."""
    made = json.loads(gs(moved, "create", "--json", "-m", "after the move").out)
    assert made["id"] == 2, made
    listed = gs(moved, "list").out
    assert "before the move" in listed and "after the move" in listed, listed
    write(moved / ".env", b"overwritten\n")
    gs(moved, "restore", "1", ".env")
    assert (moved / ".env").read_bytes() == SECRET
    assert str(repo) not in gs(moved, "list").err


def test_a_copy_beside_its_original_starts_its_own_history(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    write(repo / "notes.txt", b"original\n")
    gs(repo, "-m", "in the original")
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, symlinks=True)
    made = json.loads(gs(copy, "create", "--json", "-m", "in the copy").out)
    assert made["id"] == 1, made
    assert "in the original" not in gs(copy, "list").out
    assert "in the copy" not in gs(repo, "list").out
    shutil.rmtree(repo)  # the original gone now: the copy's history is its own already
    assert json.loads(gs(copy, "create", "--json", "-m", "again").out)["id"] == 2


def test_a_repair_after_a_move_loses_nothing(moved: Path, repo: Path, store_dir: Path) -> None:
    """The records keep the key a snapshot was taken under: a repair (the index rebuilt from
    the packs) gives the snapshots before the move back to the old key, those after to the
    new one, then the old ones back to the moved repository, whose numbers went on from
    theirs (identity.rejoin_moved, RED36 B-repair); every one is still there and restores."""
    gs(moved, "-m", "after the move")
    (store_dir / "index.sqlite").unlink()
    gs(moved, "repair")
    listed = gs(moved, "list").out
    assert "after the move" in listed and " 2 " in listed, listed
    assert "before the move" in listed  # (given back to the moved one: RED36 B-repair)
    assert "before the move" in gs(moved, "list", "--all").out
    write(moved / ".env", b"overwritten\n")
    gs(moved, "restore", "2", ".env")
    assert (moved / ".env").read_bytes() == SECRET


def test_a_label_printed_before_the_move_still_names_its_snapshots(
    moved: Path, store_dir: Path
) -> None:
    """The qualified label a gone-repository report or `list --all` printed before the move
    (`repo#3f2a1c:1`) names the same snapshot after it, though the repository is called
    `moved` now: its tag, the start of its id, did not change."""
    gs(moved, "list")  # (the take-over: its first command there)
    assert "moved:1" in gs(moved, "list", "--all").out
    with Store(store_dir) as store:
        [key] = [k for k, _ in store.index.sources()]
    tag = identity.tagged(key).rpartition("#")[2]
    assert (
        gs(moved, "cat", f"repo#{tag}:1", ".env").out.encode("utf-8", "surrogateescape") == SECRET
    )
    assert (
        gs(moved.parent, "cat", f"repo#{tag}:1", ".env").out.encode("utf-8", "surrogateescape")
        == SECRET
    )
