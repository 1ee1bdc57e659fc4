"""Review of 3ff3371 (session 42, RK42): after a plain switch, lostfrom._switch_kept dropped a
left-out path (snapshot.exclude) where git wrote only paths the commit it left does not
track and no ignore rule matches, because "git refuses to write over an untracked file or a
folder holding any". Not so for a folder holding ignored files only: git deletes it to write
the branch's file or link there. A data folder git ignores and snapshots leave out, which a
branch tracks as a link (data -> elsewhere), was deleted by a plain switch with no line (named
"not saved" before 3ff3371): `check-ignore` of the path git wrote (a link now) says nothing of
the files that were in the folder. Such a path is named again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.mark.parametrize("rule", ["/data/", "*.bin"])
def test_an_ignored_folder_a_plain_switch_replaced_by_a_link_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch, rule: str
) -> None:
    put_venv_on_path(monkeypatch)
    write(repo / ".gitignore", rule.encode() + b"\n")
    commit(repo, "a.txt", b"base\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    git(repo, "config", "snapshot.exclude", rule)
    git(repo, "checkout", "-q", "-b", "linked")
    os.symlink("/nonexistent/datasets", repo / "data")
    git(repo, "add", "data")
    git(repo, "commit", "-qm", "data is a link here")
    git(repo, "checkout", "-q", "main")
    install(repo)
    write(repo / "data" / "mine.bin", b"only here\n")
    assert git(repo, "status", "--porcelain").out == ""  # ignored
    gs(repo, "-m", "before")
    ran = git(repo, "checkout", "-q", "linked")
    assert (repo / "data").is_symlink()  # git deleted the folder and mine.bin
    assert [ln for ln in ran.said if "not saved" in ln and "data" in ln], ran.said
