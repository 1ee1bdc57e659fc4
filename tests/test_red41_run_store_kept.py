"""red41R2 S1 and S2: ``git snapshot run`` keeps the snapshot store out of the commands that
would take it with them when it lies inside the worktree (the default store with a dotfiles
repository at $HOME; here GIT_SNAPSHOT_STORE names a folder inside a temp worktree, the same
setup).

S1: ``run -- git stash -u`` (store untracked) or ``-a`` (store ignored) moved the whole store
into the stash entry; run's line said "nothing can be restored from it", the next hook made an
empty store in its place and ``git stash pop`` then refused ("already exists"). run now gives
the stash an exclude pathspec for the store, and says so.

S2: with the store inside an untracked nested repository of the worktree, ``run -- git clean
-ffdx`` (two -f: git removes a nested repository whole) deleted the store although run passed
``-e`` for it and said it was "kept out of it". run now also excludes the nested repository's
folder under ``-ff``, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install

STORE_REL = ".local/share/git-snapshot"


@pytest.fixture
def inside(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* with hooks, its store at repo/.local/share/git-snapshot (untracked there), a
    snapshot taken, and edits for a stash to take: a tracked edit and an untracked file."""
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(repo / STORE_REL))
    install(repo)
    (repo / ".gitignore").write_text("*.log\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore logs")
    gs(repo, "-m", "first")
    (repo / "README").write_text("edited\n")
    (repo / "notes.txt").write_text("untracked notes\n")
    (repo / "build.log").write_text("ignored\n")
    return repo


def _store_ok(repo: Path) -> bool:
    return (repo / STORE_REL / "index.sqlite").is_file()


def _ids(repo: Path) -> list[str]:
    return [ln.split()[0] for ln in gs(repo, "list").out.splitlines()[1:]]


@pytest.mark.parametrize(
    "argv",
    [
        ["git", "stash", "-u"],
        ["git", "stash", "push", "--include-untracked", "-m", "wip"],
        ["git", "stash", "push", "-u", "."],  # a pathspec without --
        ["git", "stash", "-ku", "--", "."],
        ["git", "stash", "--all"],
    ],
)
def test_run_git_stash_untracked_keeps_the_store(inside: Path, argv: list[str]) -> None:
    repo = inside
    ran = gs(repo, "run", "--", *argv)
    assert _store_ok(repo), ran.err
    assert "deleted the snapshot store" not in ran.err, ran.err
    (line,) = [ln for ln in ran.ours if "taken before" in ln]
    assert f"':(exclude,top,literal){STORE_REL}'" in line and "kept out of it" in line, line
    # the stash did what it was asked, the store aside
    assert not (repo / "notes.txt").exists() and (repo / "README").read_text() == "hello\n"
    held = git(repo, "show", "--name-only", "--format=", "stash@{0}^3").out.split()
    assert "notes.txt" in held and not any(p.startswith(".local/") for p in held), held
    if "--all" in argv:
        assert not (repo / "build.log").exists() and "build.log" in held
    # the next hook finds the same store (not a new, empty one), and the pop works
    git(repo, "checkout", "-q", "-b", "next")
    assert _ids(repo)[:2] == ["1", "2"], gs(repo, "list").out
    git(repo, "stash", "pop", "-q")
    assert (repo / "notes.txt").read_text() == "untracked notes\n"
    assert (repo / "README").read_text() == "edited\n"


def test_run_git_stash_all_keeps_an_ignored_store(inside: Path) -> None:
    """The store ignored (as `.local/` in a dotfiles repository): ``stash -u`` leaves it
    alone as it is (no pathspec added), ``stash -a`` takes ignored files: kept out."""
    repo = inside
    (repo / ".gitignore").write_text("*.log\n.local/\n")
    ran = gs(repo, "run", "--", "git", "stash", "-u")
    assert _store_ok(repo) and "exclude" not in ran.err, ran.err
    git(repo, "stash", "pop", "-q")
    ran = gs(repo, "run", "--", "git", "stash", "-a")
    assert _store_ok(repo) and "kept out of it" in ran.err, ran.err
    assert not (repo / "build.log").exists() and not (repo / "notes.txt").exists()
    git(repo, "checkout", "-q", "-b", "next")
    git(repo, "stash", "pop", "-q")
    assert (repo / "build.log").read_text() == "ignored\n"


def test_run_git_stash_save_untracked_is_refused(inside: Path) -> None:
    """``git stash save`` takes no pathspec (its words are the message): refused in one line,
    nothing stashed."""
    repo = inside
    ran = gs(repo, "run", "--", "git", "stash", "save", "-u", "wip", rc=1)
    assert _store_ok(repo) and (repo / "notes.txt").exists(), ran.err
    assert any("refusing to run git stash" in ln for ln in ran.err_lines), ran.err
    assert git(repo, "stash", "list").out == ""


def test_run_git_clean_ff_keeps_a_store_inside_a_nested_repository(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = repo / "nested"
    git(repo, "init", "-q", "nested")
    (nested / "n").write_text("n\n")
    git(nested, "add", "n")
    git(nested, "commit", "-q", "-m", "n")
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(nested / "data" / "store"))
    install(repo)
    gs(repo, "-m", "first")
    (repo / "junk.txt").write_text("junk\n")
    ran = gs(repo, "run", "--", "git", "clean", "-ffdxq")
    assert (nested / "data" / "store" / "index.sqlite").is_file(), ran.err
    assert "deleted the snapshot store" not in ran.err, ran.err
    assert not (repo / "junk.txt").exists()
    # the nested repository is kept whole, and the line says so
    assert (nested / "n").read_text() == "n\n"
    (line,) = [ln for ln in ran.ours if "taken before" in ln]
    assert "-e /nested/" in line and "nested repository" in line, line
    # one -f: git skips the nested repository itself; nothing more is added
    ran = gs(repo, "run", "--", "git", "clean", "-fdxq")
    (line,) = [ln for ln in ran.ours if "taken before" in ln]
    assert "-e /nested/ " not in line and "nested repository" not in line, line
    assert (nested / "data" / "store" / "index.sqlite").is_file(), ran.err
