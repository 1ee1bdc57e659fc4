"""red41R2 S1, without ``run``: the snapshot store inside a worktree (the default store with a
dotfiles repository at $HOME; here GIT_SNAPSHOT_STORE names a folder inside a temp worktree,
the same setup), and a plain ``git stash -u`` there, which no hook sees: git moves the whole
store into the stash entry. The next hook, in any repository, made a new, empty store at the
same path; ``git stash pop`` then refused ("already exists, no checkout") and every snapshot
was out of reach but by digging in the stash.

A store that is not there is now looked for in the stash entries of the worktrees around its
path before one is made: found, nothing is made, and the line says where it is and how to
bring it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import install

STORE_REL = ".local/share/git-snapshot"


@pytest.fixture
def stashed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* with hooks, its store at repo/.local/share/git-snapshot (untracked), two
    snapshots, then a plain ``git stash -u`` that took the store."""
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(repo / STORE_REL))
    install(repo)
    gs(repo, "-m", "first")
    (repo / "notes.txt").write_text("untracked notes\n")
    gs(repo, "-m", "second")
    git(repo, "stash", "-u", "-q")
    assert not (repo / STORE_REL).exists()
    return repo


def test_the_next_hook_makes_no_empty_store_and_says_where_it_is(stashed: Path) -> None:
    repo = stashed
    ran = git(repo, "checkout", "-q", "-b", "next", rc=None)
    assert not (repo / STORE_REL).exists(), ran.err
    said = " ".join(ran.err.split())
    assert f"git -C {repo} stash pop stash@{{0}}" in said, ran.err
    ran = gs(repo, "list", rc=None)
    assert ran.rc != 0 and not (repo / STORE_REL).exists(), ran.err
    # another repository's hook (the store is every repository's) makes none either
    other = committed_repo(repo.parent / "other")
    install_ran = gs(other, "install", rc=None)
    assert not (repo / STORE_REL).exists(), install_ran.err
    # the pop brings it back whole
    git(repo, "stash", "pop", "-q")
    assert (repo / "notes.txt").read_text() == "untracked notes\n"
    messages = [s["message"] for s in json.loads(gs(repo, "list", "--json").out)]
    assert messages[:2] == ["first", "second"], messages


def test_a_store_in_an_older_entry_is_found(stashed: Path) -> None:
    repo = stashed
    (repo / "README").write_text("edited\n")
    git(repo, "stash", "-q")
    ran = git(repo, "checkout", "-q", "-b", "next", rc=None)
    assert not (repo / STORE_REL).exists(), ran.err
    assert "stash@{1}" in ran.err, ran.err


def test_run_says_where_a_stash_took_the_store(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under run, a '!' alias's git stash -u (run cannot read a shell command, and adds no
    pathspec): the line said "deleted ... nothing can be restored from it"; it now names the
    entry and the pop."""
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(repo / STORE_REL))
    install(repo)
    gs(repo, "-m", "first")
    (repo / "notes.txt").write_text("untracked notes\n")
    git(repo, "config", "alias.su", "!git stash -u -q")
    ran = gs(repo, "run", "--", "git", "su")
    assert not (repo / STORE_REL).exists()
    said = " ".join(ran.err.split())
    assert "nothing can be restored" not in said, ran.err
    assert f"into its entry stash@{{0}}; bring it back with: git -C {repo} stash pop" in said
    git(repo, "stash", "pop", "-q")
    assert json.loads(gs(repo, "list", "--json").out)[0]["message"] == "first"
