"""Review of 3ff3371 (session 42, RK42): after a plain switch, lostfrom._switch_kept drops a
left-out path (snapshot.exclude) where git wrote only files the commit it left tracks, since
git refuses to write over an edit there; not so under core.fsmonitor, where git takes a file
its monitor reported no event for as unchanged and deletes it edited (red41R1 finding 2).
Its guard emptied the tracked files, which then counted as untracked ones no ignore rule
matches ("git refuses to write over those"): the edit a switch deleted was named nowhere
(named "not saved" before 3ff3371). The guard held only for a snapshot taken at the commit
left, too, though the snapshot holds nothing of a left-out path: a commit since (no hook)
hid it the same way."""

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

# a monitor that misses every event (fsmonitor hook protocol 2: a token, no path)
LIE = b"#!/bin/sh\nprintf 'tok\\0'\n"


@pytest.mark.parametrize("since", ["snapshot", "commit"])
def test_an_edit_a_missed_event_let_a_plain_switch_delete_is_named(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, since: str
) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"base\n")
    commit(repo, "v/t.txt", b"tracked\n")
    git(repo, "config", "snapshot.exclude", "/v/")
    git(repo, "checkout", "-q", "-b", "other")
    git(repo, "rm", "-q", "-r", "v")
    git(repo, "commit", "-qm", "no v")
    git(repo, "checkout", "-q", "main")
    install(repo)
    (tmp_path / "lie.sh").write_bytes(LIE)
    (tmp_path / "lie.sh").chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(tmp_path / "lie.sh"))
    git(repo, "config", "core.fsmonitorHookVersion", "2")
    gs(repo, "-m", "before")
    if since == "commit":  # the last snapshot at an earlier commit (no post-commit hook)
        write(repo / "a.txt", b"two\n")
        git(repo, "commit", "-qam", "two")
    old = (repo / "v" / "t.txt").stat().st_mtime - 100  # (not racy: git trusts the monitor)
    os.utime(repo / "v" / "t.txt", (old, old))
    git(repo, "update-index", "-q", "--refresh")
    git(repo, "update-index", "--fsmonitor-valid", "v/t.txt")  # what the monitor's answer sets
    write(repo / "v" / "t.txt", b"MY EDIT\n")
    ran = git(repo, "checkout", "-q", "other")
    assert not (repo / "v").exists()  # git deleted the edit
    assert [ln for ln in ran.said if "not saved" in ln and " v" in ln], ran.said
