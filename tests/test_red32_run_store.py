"""RED32 A1: a repository at $HOME with the default store (~/.local/share/git-snapshot, an
untracked folder of that worktree). ``git snapshot run -- git clean -fdx`` deleted the whole
store (every repository's snapshots, the one just taken) and then said "object ... is missing
from the index". ``run`` now passes git clean an exclude for the store, and says so; a command
that deletes the store anyway (``rm -rf ~/.local``) is told in one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository at a fake $HOME whose git-snapshot uses the default store location
    ($HOME/.local/share/git-snapshot): this test opts in to it by unsetting the variables
    conftest sets (the real home is never reached: HOME is a temp dir), and runs git-snapshot
    only as a subprocess (conftest's guard on default_store_dir is in-process)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GIT_SNAPSHOT_STORE")
    monkeypatch.delenv("XDG_DATA_HOME")
    git(home, "init", "-q")
    (home / ".gitignore").write_text(".bashrc\n")
    git(home, "add", ".gitignore")
    git(home, "commit", "-q", "-m", "dotfiles")
    (home / ".bashrc").write_text("secret\n")
    (home / "notes.txt").write_text("untracked notes\n")
    return home


def _store(home: Path) -> Path:
    return home / ".local" / "share" / "git-snapshot"


def test_run_git_clean_keeps_the_default_store_inside_the_worktree(home: Path) -> None:
    (home / ".local" / "state").mkdir(parents=True)
    (home / ".local" / "state" / "junk").write_text("untracked beside the store\n")
    gs(home, "-m", "before")
    assert (_store(home) / "index.sqlite").exists()
    ran = gs(home, "run", "--", "git", "clean", "-fdxq")
    # the store and its snapshots survive; its untracked siblings do not
    assert (_store(home) / "index.sqlite").exists()
    assert not (home / "notes.txt").exists() and not (home / ".bashrc").exists()
    assert not (home / ".local" / "state").exists()
    (line,) = [ln for ln in ran.ours if "taken before" in ln]
    assert "-e /.local/share/git-snapshot/" in line and "store" in line, ran.err
    assert "missing" not in ran.err and "could not check" not in ran.err, ran.err
    # what the clean destroyed is reported from the snapshot taken before it, and restorable
    assert any("destroyed" in ln for ln in ran.ours), ran.err
    ids = [s["id"] for s in json.loads(gs(home, "list", "--json").out)]
    assert ids == [1, 2], ids
    gs(home, "restore", "2", "notes.txt")
    assert (home / "notes.txt").read_text() == "untracked notes\n"


def test_run_git_clean_from_a_subfolder_and_with_dash_C(home: Path) -> None:
    """The exclude is relative to the worktree's top (as git reads -e), whichever folder the
    clean runs in; a clean that names the whole tree (:/) from a subfolder keeps the store."""
    (home / "sub").mkdir()
    (home / "sub" / "x").write_text("x\n")
    gs(home, "run", "--", "git", "-C", "sub", "clean", "-fdxq", "--", ":/", rc=None)
    assert (_store(home) / "index.sqlite").exists() and not (home / "notes.txt").exists()
    (home / "sub").mkdir(exist_ok=True)  # (git spares the folder it runs in)
    (home / "sub" / "y").write_text("y\n")
    (home / "other").write_text("o\n")
    ran = gs(home / "sub", "run", "--", "git", "clean", "-fdxqe", "nothing", ":/", rc=None)
    assert "-e /.local/share/git-snapshot/" in ran.err, ran.err
    assert (_store(home) / "index.sqlite").exists() and not (home / "other").exists()


def test_a_command_that_deletes_the_store_is_told_plainly(home: Path) -> None:
    gs(home)
    ran = gs(home, "run", "--", "rm", "-rf", str(home / ".local"))
    assert ran.rc == 0
    said = "\n".join(ran.ours)
    assert "deleted the snapshot store" in said and str(_store(home)) in said, ran.err
    assert "missing from the index" not in ran.err, ran.err


def test_the_exclude_is_literal_and_goes_after_the_users_own() -> None:
    from git_snapshot import guards

    assert guards.gitignore_literal("a*b/[x]?/#c\\d") == "/a\\*b/\\[x]\\?/#c\\\\d/"
    assert guards._clean_options(["-fdx", "-e", "--", "--", "p"]) == (3, "fdx")
    assert guards._clean_options(["-fdxe", "--", "p"]) == (3, "fdx")
    assert guards._clean_options(["--excl", "--", "-f"]) == (3, "f")
    assert guards._clean_options(["-f", "--exclude=--", "p"]) == (3, "f")
    assert guards._clean_options(["-fdx", "-e"]) is None  # git refuses it: left alone


def test_run_git_clean_X_never_makes_the_store_ignored(home: Path) -> None:
    """RED32 V1: ``clean -fdX`` removes ignored files only; the -e meant to keep the store out
    made it an ignored folder, and -X deleted it. Unignored, the store is left alone without
    an -e; ignored (here by a folder above it), the clean is refused in one line."""
    (home / "build.log").write_text("ignored\n")
    (home / ".gitignore").write_text(".bashrc\n*.log\n")
    gs(home, "-m", "before")
    ran = gs(home, "run", "--", "git", "clean", "-fdXq")
    assert (_store(home) / "index.sqlite").exists(), ran.err
    assert not (home / "build.log").exists() and (home / "notes.txt").exists()
    assert "-e " not in ran.err, ran.err
    (home / ".gitignore").write_text(".bashrc\n*.log\n.local/\n")
    (home / "other.log").write_text("ignored\n")
    ran = gs(home, "run", "--", "git", "clean", "-fdXq", rc=1)
    assert (_store(home) / "index.sqlite").exists() and (home / "other.log").exists()
    assert any("refusing to run git clean -X" in ln for ln in ran.err_lines), ran.err
