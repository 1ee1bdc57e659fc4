"""The watcher's check of its folders (RED38 A1b: every watched folder's entries lstat'ed again
in slices, a folder whose signature changed since its last look marked) must not hold a due
watch snapshot back. Its look finds changed what events named since the last one (the write
that made the snapshot due): it set the worktree's last change to the check's time, which
moved the snapshot watchQuiet past the check. With the default slice every 5 s, a check in the
last 2 s of the 3 s quiet period after `echo OLD > x.env` pushed the snapshot past a write 5 s
later and the `git switch` that destroyed it: no watch snapshot of OLD, and the report named
the version of the round before (or, with none, nothing): 1-2 rounds of 8 of
/tmp/wq45/window_rewrite.sh, at any load (wb45). Checks that find changes while one is due
now leave its time alone; their marks go into it.

A daemon in this process with real inotify and its real worker (the test drives its steps
and its clock: deterministic), and a real daemon beside an editor's swap file touched all the
while (its events start no snapshot; the checks seeing them held the snapshot back for as
long as it went on)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import in_process
from test_watch_daemon import make_repo
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.watch import config as wconfig
from git_snapshot.watch import daemon as wdaemon

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"),
    pytest.mark.slow,
]


def test_a_check_during_the_quiet_period_does_not_hold_the_snapshot_back(
    tmp_path: Path, store_dir: Path
) -> None:
    quiet = 10.0
    # every watched folder looked at in each check (the slices of a 2 s round)
    cfg = wconfig.WatchConfig(quiet=quiet, max_delay=600.0, deep_scan=2.0)
    r = make_repo(tmp_path)
    add(store_dir, r)
    with in_process(store_dir, r, cfg) as d:
        tree = d.trees[str(r)]
        d.maybe_snapshot(wdaemon._now())  # the snapshot watching begins with
        assert d.child_tree is tree
        d.worker_ready()
        assert d.child_tree is None and tree.first_change is None
        d.on_events(d.src.read())  # (nothing of ours: the store is elsewhere)

        (r / "x.env").write_text("OLD\n")  # a new file in the top folder: its events
        d.on_events(d.src.read())
        assert tree.first_change is not None and tree.last_change is not None
        written = tree.last_change
        assert d.due(tree) == pytest.approx(written + quiet)
        # a check halfway through the quiet period: it looks at the top folder again, whose
        # entries changed (x.env) since its last look (at setup)
        d.timers(written + quiet / 2)
        assert d.due(tree) == pytest.approx(written + quiet)  # was: written + 1.5 * quiet
        d.maybe_snapshot(written + quiet + 0.01)  # due then: the snapshot is sent
        assert d.child_tree is tree
        d.worker_ready()
    last = watch_snaps(r)[-1]
    assert gs(r, "cat", str(last.id), "x.env") == "OLD\n"


def test_a_swap_file_touched_all_along_does_not_hold_the_snapshot_back(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    # a 2 s round of checks (a slice every 0.2 s): the top folder is looked at every 0.4 s;
    # no snapshot forced by watchMaxDelay while the test waits
    config(watchQuiet=2, watchDeepScan=2, watchMaxDelay=600)
    repo = make_repo(tmp_path)
    swap = repo / ".notes.txt.swp"  # vim's, there before the daemon starts
    swap.write_bytes(b"b0VIM 9.0\0" + bytes(100))
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    before = {s.id for s in watch_snaps(repo)}
    (repo / "notes.txt").write_text("OLD\n")
    ns = [os.stat(swap).st_mtime_ns]

    def saved() -> list[int]:
        ns[0] += 1_000_000
        os.utime(swap, ns=(ns[0], ns[0]))  # vim at work: its events start no snapshot
        return [s.id for s in watch_snaps(repo) if s.id not in before]

    # was: never (each check found the top folder changed and the quiet period began again)
    got = wait_for(saved, what="a watch snapshot while the swap file is touched")
    assert gs(repo, "cat", str(got[0]), "notes.txt") == "OLD\n"
