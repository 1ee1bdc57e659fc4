"""Shared by the tests of post-checkout's prepared tree (test_red44_switch_window,
test_review45_prepared_marks): a repository where *.log is ignored and x.log holds OLD, its
hooks installed and the test's daemon watching it, and the wait for the worker's prepared
tree."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import wait_for

from git_snapshot.store import Store
from git_snapshot.watch import dirtyset
from git_snapshot.watch import prep

# a module of these tests: its pytestmark (the daemon needs inotify; each test waits for it)
MARKS = [
    pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"),
    pytest.mark.slow,
]
NEVER = 3600  # no snapshot of the daemon's own: only the hooks' and the prepared tree
OLD = b"old, in the snapshot before\n"
MINE = b"MINE: rewritten just before the switch, not in any snapshot\n"
THEIRS = b"tracked on b\n"


def watched_repo(
    tmp_path: Path,
    store_dir: Path,
    w: Watcher,
    *,
    prepare: float,
    b_tracks: tuple[str, ...] = ("x.log",),
    c_adds: bool = False,
) -> Path:
    """main, where *.log is ignored and x.log holds OLD; b tracking *b_tracks* (THEIRS);
    with *c_adds*, c adding c.txt; a snapshot holding OLD, the hooks installed, the daemon
    watching (its base: that one), preparing *prepare* s after changes (snapshot.watchPrepare)
    and taking no snapshot of its own."""
    config(watchQuiet=NEVER, watchMaxDelay=NEVER, watchPrepare=prepare)
    r = Path(os.path.realpath(init_repo(tmp_path / "wt")))
    (r / ".gitignore").write_text("*.log\n")
    (r / "a.txt").write_text("a\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "init")
    git(r, "switch", "-q", "-c", "b")
    for rel in b_tracks:
        (r / rel).write_bytes(THEIRS)
    git(r, "add", "-f", *b_tracks)
    git(r, "commit", "-q", "-m", "b tracks " + " and ".join(b_tracks))
    if c_adds:
        git(r, "switch", "-q", "-c", "c", "main")
        (r / "c.txt").write_text("c\n")
        git(r, "add", "c.txt")
        git(r, "commit", "-q", "-m", "c adds c.txt")
    git(r, "switch", "-q", "main")
    (r / "x.log").write_bytes(OLD)
    ran = gs(r, "install", GIT_SNAPSHOT_WATCH="0")  # (the watcher: the test's own)
    assert "reference-transaction: installed" in ran.out + ran.err, ran
    gs(r, "create", "-m", "x.log holds OLD")
    add(store_dir, r)
    w.start()
    w.watching(r)
    return r


def prepared_with(store_dir: Path, repo: Path, rel: str, data: bytes) -> prep.Prep:
    """The worker's prepared tree once it holds *rel* with the size of *data* and nothing is
    marked after it. The daemon first marks every event of the writes made so far (a hook's
    sync): else a tree read between the write and its close's event was taken, the close's
    mark came after it, and post-checkout rightly set that tree aside (a false report under
    load, clean45)."""
    assert dirtyset.sync(str(store_dir), str(repo)), "the daemon did not sync"

    def got() -> prep.Prep | None:
        begun = dirtyset.begin(str(store_dir), str(repo))
        p = None if begun is None else prep.prepared(str(store_dir), str(repo), begun)
        if p is None or p.marked:
            return None
        with Store(store_dir) as store:
            sizes = {os.fsdecode(path): e.size for path, e in store.walk(p.root)}
        return p if sizes.get(rel) == len(data) else None

    found: prep.Prep = wait_for(got, what=f"a prepared tree with {rel} of {len(data)} bytes")
    past_a_tick()
    return found


def past_a_tick() -> None:
    """Wait two clock ticks: git's start is known to a tick of /proc, so what was done in the
    tick a git run at once began in may be after it (post-checkout sets a prepared tree done
    then aside); a wait, not a timing."""
    time.sleep(2 / os.sysconf("SC_CLK_TCK"))
