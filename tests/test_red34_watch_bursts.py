"""RED34 A2: the watcher's loss entries of an `rm -rf`, with a real daemon and inotify.

A2: a file written (or moved) into a folder and the folder removed right after gave two
entries for one deletion: the file made after the last snapshot went to the snapshot before
it (bursts.unsettled), whose entry, widened to the deleted folder, named the other files
again, from that older snapshot, as "an earlier version"; `git snapshot undo` applied both,
the older last, so a file ended at the version before its newest saved one."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import make_repo
from test_watch_daemon import settled
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.store import Snapshot

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def _saved(w: Watcher, repo: Path, after: Snapshot) -> Snapshot:
    """The watch snapshot the daemon takes of what was just written (newer than *after*)."""
    wait_for(lambda: watch_snaps(repo)[-1].id != after.id, what="a watch snapshot")
    return settled(w, repo)


def _recorded(w: Watcher, repo: Path) -> list[dict[str, Any]]:
    """The loss entries, once the daemon has recorded the burst (all its parts at once)."""
    wait_for(w.bursts, timeout=90, what="the burst recorded")
    entries: list[dict[str, Any]] = json.loads(gs(repo, "losses", "--json"))
    return entries


def _named(entries: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((x["path"], e["snapshot"]) for e in entries for x in e.get("lost", []))


def _one_entry_per_path(w: Watcher, repo: Path, act: list[list[str]]) -> None:
    """a/keep.txt saved at v1, then at v2; after the burst window, *act* then `rm -rf a`:
    a/keep.txt named once, from the snapshot holding v2, exactly; undo gives v2 back."""
    (repo / "a").mkdir()
    (repo / "a" / "keep.txt").write_text("keep v1\n")
    (repo / "z").mkdir()
    (repo / "z" / "X.txt").write_text("X\n")
    time.sleep(2.5)  # settled: the first snapshot's walk finds no folder changing (unsettled)
    add(w.store, repo)
    w.start()
    w.watching(repo)
    first = settled(w, repo)
    (repo / "a" / "keep.txt").write_text("keep v2 (newest)\n")
    newest = _saved(w, repo, first)
    time.sleep(6)  # the burst window (5 s) is over: the overwrite is no part of what follows
    for argv in act:
        subprocess.run(argv, cwd=repo, check=True)
    subprocess.run(["rm", "-rf", "a"], cwd=repo, check=True)
    entries = _recorded(w, repo)
    named = _named(entries)
    assert [n for n in named if n[0] == "a/keep.txt"] == [("a/keep.txt", newest.id)], entries
    assert len({p for p, _ in named}) == len(named), entries  # one entry a path
    for e in entries:
        assert "a/keep.txt" not in e.get("maybe_older", []), e
    gs(repo, "undo")
    assert (repo / "a" / "keep.txt").read_text() == "keep v2 (newest)\n"


@pytest.mark.slow
def test_a_file_written_into_a_folder_then_rm_rf_names_each_file_once(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path)
    _one_entry_per_path(watcher, repo, [["sh", "-c", "echo fresh > a/new.txt"]])


@pytest.mark.slow
def test_a_file_moved_into_a_folder_then_rm_rf_names_each_file_once(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path)
    _one_entry_per_path(watcher, repo, [["mv", "z/X.txt", "a/X.txt"]])
