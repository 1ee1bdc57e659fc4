"""Loss reports that left out what a snapshot keeps (DESIGN "Loss reports": *every* path the
operation overwrote or deleted is compared): a file's mode, an empty folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import write


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\nbuild/\n")
    commit(repo, "tool.sh", b"#!/bin/sh\necho hi\n")
    install(repo)
    return repo


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_run_reset_hard_names_a_mode_only_change(hooked: Path) -> None:
    """`chmod +x` is an uncommitted edit (git status says so); reset --hard undoes it and git
    holds the content only as 100644."""
    (hooked / "tool.sh").chmod(0o755)
    ran = gs(hooked, "run", "--", "git", "reset", "-q", "--hard")
    (rep,) = ran.reports
    assert rep.names == "tool.sh (mode 755 -> 644, bytes unchanged)"  # (RED44 F8.4)
    assert rep.kinds == "1 file with uncommitted edits"
    assert _mode(hooked / "tool.sh") == 0o644
    restore(hooked, rep)
    assert _mode(hooked / "tool.sh") == 0o755


def test_checkout_of_a_file_names_a_mode_only_change(hooked: Path) -> None:
    (hooked / "tool.sh").chmod(0o755)
    gs(hooked, "create")
    ran = git(hooked, "checkout", "--", "tool.sh")
    (rep,) = ran.reports
    assert rep.names == "tool.sh (mode 755 -> 644, bytes as saved)"  # (RED44 F8.4)
    restore(hooked, rep)
    assert _mode(hooked / "tool.sh") == 0o755


def test_a_committed_mode_change_is_not_reported(hooked: Path) -> None:
    """Git gives back 100755 from the branch it was committed on: no false alarm."""
    (hooked / "tool.sh").chmod(0o755)
    git(hooked, "checkout", "-q", "-b", "wip")
    git(hooked, "commit", "-q", "-am", "x bit")
    ran = git(hooked, "checkout", "-q", "main")
    assert ran.reports == []
    assert _mode(hooked / "tool.sh") == 0o644


def test_a_committed_mode_change_undone_by_reset_is_not_reported(hooked: Path) -> None:
    """The commit reset moved away from (ORIG_HEAD) holds the 100755 version."""
    (hooked / "tool.sh").chmod(0o755)
    git(hooked, "commit", "-q", "-am", "x bit")
    ran = gs(hooked, "run", "--", "git", "reset", "-q", "--hard", "HEAD~1")
    assert ran.reports == []


def test_run_clean_names_the_empty_folders_it_removed(hooked: Path) -> None:
    (hooked / "empty" / "inner").mkdir(parents=True)
    (hooked / "build").mkdir()
    (hooked / "sub").mkdir()
    (hooked / "sub" / "notes.txt").write_bytes(b"mine\n")
    ran = gs(hooked, "run", "--", "git", "clean", "-q", "-fdx")
    (rep,) = ran.reports
    assert rep.names == "build/, empty/inner/, sub/notes.txt"
    assert rep.kinds == "1 ignored folder, 1 untracked file, 1 untracked folder"
    restore(hooked, rep)
    assert (hooked / "empty" / "inner").is_dir()
    assert (hooked / "build").is_dir()
    assert (hooked / "sub" / "notes.txt").read_bytes() == b"mine\n"
    assert "build/, empty/inner/, sub/notes.txt" in gs(hooked, "losses").out
    (entry,) = json.loads(gs(hooked, "losses", "--json"))
    assert {(x["path"], x["type"]) for x in entry["lost"]} == {
        ("build", "dir"),
        ("empty/inner", "dir"),
        ("sub/notes.txt", "file"),
    }


def test_checkout_over_an_empty_folder_names_it(hooked: Path) -> None:
    """B tracks a file where the worktree has an empty untracked folder: git removes it."""
    git(hooked, "checkout", "-q", "-b", "B")
    commit(hooked, "slot", b"a file\n")
    git(hooked, "checkout", "-q", "main")
    (hooked / "slot").mkdir()
    gs(hooked, "create")
    ran = git(hooked, "checkout", "-q", "B")
    (rep,) = ran.reports
    assert rep.names == "slot/"
    assert rep.kinds == "1 untracked folder"


def test_a_long_report_restores_the_lost_folder_not_its_parent(hooked: Path) -> None:
    """150 ignored files lost under app/cache/ (B tracks app/cache as a file), while the
    merge also wrote app/main.py: 'restore N app' pasted put back main's app/main.py."""
    (hooked / ".gitignore").write_bytes(b".env\nbuild/\napp/cache/\n")
    commit(hooked, "app/main.py", b"main\n")
    git(hooked, "checkout", "-q", "-b", "B")
    (hooked / "app" / "main.py").write_bytes(b"B\n")
    commit(hooked, "app/cache", b"now a file\n", force=True)
    git(hooked, "checkout", "-q", "main")
    for i in range(150):
        write(hooked / "app" / "cache" / f"f{i}", b"cached %d\n" % i)
    gs(hooked, "create")
    ran = git(hooked, "merge", "-q", "B")
    (rep,) = ran.reports
    assert rep.names == "app/ (150 files)"
    assert rep.command[3:] == [str(rep.snap), "app/cache"]


def test_a_stale_auto_merge_does_not_hide_a_discarded_edit(hooked: Path) -> None:
    """git 2.39 leaves .git/AUTO_MERGE after a clean `stash pop`: a tree holding the edit. Git
    offers it back only while a merge (MERGE_HEAD...) is under way; counting it afterwards
    made `run -- git checkout -- tool.sh` discarding that very edit say nothing."""
    (hooked / "tool.sh").write_bytes(b"my edit\n")
    git(hooked, "stash", "-q")
    git(hooked, "stash", "pop", "-q")
    assert (hooked / ".git" / "AUTO_MERGE").exists()
    ran = gs(hooked, "run", "--", "git", "checkout", "--", "tool.sh")
    (rep,) = ran.reports
    assert rep.names == "tool.sh"


def test_folded_names_count_folders_as_folders() -> None:
    from git_snapshot import lossreport

    paths = [b"build/o%d" % i for i in range(8)] + [b"build/e%d/" % i for i in range(4)]
    assert lossreport.fold(paths) == ["build/ (8 files, 4 folders)"]
    assert lossreport.fold([b"a/%d/" % i for i in range(11)]) == ["a/ (11 folders)"]
