"""The prepared tree with the real daemon and real processes: the worker prepares the next
snapshot snapshot.watchPrepare seconds after changes settle, hooks and the daemon's own
snapshot commit it; two hooks at once, a hook beside a watch snapshot, a worker killed while
it prepares: every snapshot is the full walk's, the store verifies."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import wait_for
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.walker import RACY_NS
from git_snapshot.watch import dirtyset
from git_snapshot.watch import prep


@pytest.fixture
def w(watcher: Watcher) -> Watcher:  # noqa: F811  (test_watch_daemon's, stopped after)
    return watcher


pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)
# seconds longer than any test: a setting that must not come into play (the fixture's
# watchMaxDelay, 30 s, did: a loaded run took longer and had the daemon's own snapshot in it)
NEVER = 3600


def _full_root(top: Path, tmp: Path) -> bytes:
    with Store(tmp / "full-walks") as other:
        return worktree.take(other, gitrepo.find_repo(str(top)), trigger="manual").snapshot.root


def _prep(store_dir: Path, top: Path) -> prep.Prep | None:
    begun = dirtyset.begin(str(store_dir), str(top))
    return None if begun is None else prep.prepared(str(store_dir), str(top), begun)


def _edit(repo: Path, n: int, tag: str) -> None:
    for i in range(n):
        d = repo / "src" / f"d{i % 7}"
        d.mkdir(exist_ok=True)
        (d / f"f{i}.txt").write_text(f"{tag} {i}\n")


def _hook(repo: Path) -> list[str]:
    head = git(repo, "rev-parse", "HEAD").strip()
    return [str(VENV_BIN / "git-snapshot"), "hook", "post-checkout", head, head, "1"]


def _snaps(repo: Path) -> list[Any]:
    with Store() as store:
        return [s for s in store.snapshots() if s.worktree == str(repo)]


def _walk_began(s: Snapshot) -> float:
    """When the walk of snapshot *s* began (its unsettled ``since`` is 2 s before it)."""
    return float(s.meta["unsettled"]["since"]) + RACY_NS / 1e9


def _verify(repo: Path) -> None:
    out = gs(repo, "verify", "--read-data")
    assert "ok" in out, out


def test_a_hook_and_the_watch_snapshot_commit_the_prepared_tree(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    config(watchQuiet=NEVER, watchMaxDelay=NEVER, watchPrepare=0.2)
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    w.start()
    w.watching(repo)
    _edit(repo, 40, "one")
    p = wait_for(lambda: _prep(store_dir, repo), what="a prepared tree")
    assert w.tree(repo) is not None
    gs(repo, *_hook(repo)[1:])
    snap = _snaps(repo)[-1]
    assert snap.trigger == "post-checkout" and snap.root == p.root
    assert snap.root == _full_root(repo, tmp_path)
    # the daemon's own snapshot commits it too
    config(watchQuiet=1, watchMaxDelay=30)
    w.stop()
    w.start()
    w.watching(repo)
    _edit(repo, 40, "two")
    p = wait_for(lambda: _prep(store_dir, repo), what="a prepared tree")
    snaps = wait_for(
        lambda: [s for s in _snaps(repo) if s.trigger == "watch" and s.root == p.root],
        what="a watch snapshot of the prepared tree",
    )
    assert snaps[-1].root == _full_root(repo, tmp_path)
    _verify(repo)


def test_two_hooks_and_a_watch_snapshot_at_once(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    config(watchQuiet=0.6, watchPrepare=0.1)
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    w.start()
    w.watching(repo)
    for round_ in range(3):
        _edit(repo, 60, f"round {round_}")
        wrote = time.time()
        time.sleep(0.1 * round_)  # before, during and after the preparation
        hooks = [subprocess.Popen(_hook(repo), cwd=repo) for _ in range(2)]
        time.sleep(0.5)
        hooks.append(subprocess.Popen(_hook(repo), cwd=repo))  # beside the watch snapshot
        assert [h.wait(timeout=60) for h in hooks] == [0, 0, 0]
        time.sleep(1.5)  # the watch snapshot (none is added when a hook's holds it all)
        wait_for(lambda: not w.tree(repo).get("changed_since"), what="the watch snapshot")
        full = _full_root(repo, tmp_path)
        # (one whose walk began before the edits were all written, held between two of them
        # past watchQuiet, is rightly of the files then: it may commit after them)
        after = [s for s in _snaps(repo) if _walk_began(s) > wrote]
        assert after and {s.root for s in after} == {full}, after
        assert after[-1].root == full
    # the worker prepared a tree in a round at least (its log). Not the status's last_prep:
    # only the last preparation's, which is "nothing" when a hook wanted what the one before
    # had just prepared (the last round's hooks meeting it, as a late daemon has them do)
    assert re.search(r": prepared seq \d+ in ", w.log()), w.log()
    _verify(repo)


def test_a_worker_killed_while_it_prepares(tmp_path: Path, store_dir: Path, w: Watcher) -> None:
    # no snapshot of the daemon's own: one killed holds the worktree's next preparation
    # back for daemon.SNAPSHOT_RETRY_S (30 s), and the last wait_for failed so under load
    config(watchQuiet=NEVER, watchMaxDelay=NEVER, watchPrepare=0.05)
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    daemon = w.start()
    w.watching(repo)
    killed = 0
    for round_ in range(4):
        _edit(repo, 300, f"round {round_}")
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:  # SIGKILL whatever worker runs, again and again
            for pid in _children(daemon.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:  # (it ended since it was listed)
                    continue
                killed += 1
            time.sleep(0.03)
        gs(repo, *_hook(repo)[1:])  # falls back to rebuilding from the base
        assert _snaps(repo)[-1].root == _full_root(repo, tmp_path)
    assert killed
    assert "preparing a snapshot failed" in w.log()
    _edit(repo, 5, "after")  # and the next worker prepares again: the whole tree, in the end
    full = _full_root(repo, tmp_path)
    # (not the first prepared tree seen: under load the worker may begin between two of the
    # five writes, and the hook then rebuilds the marks after it, as it should)
    p = wait_for(
        lambda: (q := _prep(store_dir, repo)) is not None and q.root == full and q,
        what="the whole tree prepared after the kills",
    )
    gs(repo, *_hook(repo)[1:])
    assert _snaps(repo)[-1].root == p.root == full
    _verify(repo)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def test_a_hook_right_after_the_writes_has_the_worker_prepare_for_it(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """A hook that syncs before the worker began preparing (snapshot.watchPrepare not yet
    passed) does not rebuild the changes itself: the daemon has its warm worker prepare them
    at once, the hook waits for that and commits it (the full walk's tree)."""
    # no preparation but the one the hook asks for, no snapshot of the daemon's own
    config(watchQuiet=NEVER, watchMaxDelay=NEVER, watchPrepare=NEVER)
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    w.start()
    w.watching(repo)
    for round_ in range(2):
        _edit(repo, 40, f"round {round_}")
        wait_for(lambda: w.tree(repo).get("changed_since"), what="the changes seen")
        time.sleep(1.0)  # the worker (started by the first change) is up
        assert _prep(store_dir, repo) is None
        gs(repo, *_hook(repo)[1:])
        snap = _snaps(repo)[-1]
        assert snap.trigger == "post-checkout"
        assert snap.root == _full_root(repo, tmp_path)

        # the worker prepared for the hook's sync (watchPrepare is NEVER: nothing else asks
        # it). The hook committed it when it came within prep.PREP_WAIT_S, else rebuilt the
        # same tree itself: under CI's load the answer can come after the hook read the log
        def prepared_for_it(n: int = round_ + 1) -> bool:
            return w.log().count("prepared seq") == n

        wait_for(prepared_for_it, what="the preparation the hook asked for")
    _verify(repo)
