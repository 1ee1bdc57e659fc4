"""RED40 F2: with the watcher on, a plain ``git worktree remove`` of a clean linked worktree
(git refuses a dirty one without --force) recorded the files committed there as lost,
"watcher: deleted", in the main worktree's ``losses``, where ``undo`` took it as the latest
report. The burst's check of a removed worktree asked git only what the main worktree's
HEAD and index hold: not the removed worktree's own HEAD (its branch), which holds them.

What git holds in the removed worktree's branch is no loss now; an ignored file removed with
it still is (git deletes those without --force). A real daemon, real inotify, hooks installed
as a user installs them."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import settled
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.store import Store
from git_snapshot.watch import bursts

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def _committed_in_linked(tmp_path: Path, store_dir: Path, watcher: Watcher) -> tuple[Path, Path]:  # noqa: F811
    """A main worktree and a linked one on branch "side", watched, where new1.txt was saved
    by a watch snapshot (taken while HEAD did not hold it yet), then committed on "side"."""
    config(burstFiles=50, burstSeconds=1)
    main = make_repo(tmp_path, "main")
    linked = Path(os.path.realpath(tmp_path)) / "wt2"
    git(main, "worktree", "add", "-q", "-b", "side", str(linked), "HEAD")
    add(store_dir, linked)
    watcher.start()
    watcher.watching(linked)
    gs(main, "install")  # the hooks, shared by both worktrees (the watcher runs already)
    (linked / "new1.txt").write_text("committed work\n")
    wait_for(
        lambda: [s for s in watch_snaps(linked) if "new1.txt" in paths_in(s)],
        what="a watch snapshot holding new1.txt",
    )
    settled(watcher, linked)
    git(linked, "add", "new1.txt")
    git(linked, "commit", "-q", "-m", "add new1")
    return main, linked


def _recorded(watcher: Watcher, linked: Path) -> list[str]:  # noqa: F811
    """The daemon's lines of the bursts of *linked* its recorder took."""
    return [ln for ln in watcher.bursts() if str(linked) in ln]


@pytest.mark.slow
def test_a_clean_linked_worktree_removed_by_git_is_no_loss(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    main, linked = _committed_in_linked(tmp_path, store_dir, watcher)
    git(main, "worktree", "remove", str(linked))  # plain: git removes clean ones only
    assert not linked.exists()
    lines = wait_for(lambda: _recorded(watcher, linked), what="the burst of wt2 recorded")
    assert json.loads(gs(main, "losses", "--json")) == [], lines
    assert git(main, "show", "side:new1.txt") == "committed work\n"


@pytest.mark.slow
def test_an_ignored_file_removed_with_it_is_still_reported_alone(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    main, linked = _committed_in_linked(tmp_path, store_dir, watcher)
    (linked / "run.log").write_text("ignored, only here\n")  # (make_repo ignores *.log)
    wait_for(
        lambda: [s for s in watch_snaps(linked) if "run.log" in paths_in(s)],
        what="a watch snapshot holding run.log",
    )
    settled(watcher, linked)
    git(main, "worktree", "remove", str(linked))
    assert not linked.exists()
    (entry,) = wait_for(
        lambda: json.loads(gs(main, "losses", "--json")), what="the loss entry in main"
    )
    assert entry["removed_worktree"] == str(linked)
    assert [(x["path"], x["kind"]) for x in entry["lost"]] == [("run.log", "ignored")]


def _record(linked: Path) -> dict[str, object] | None:
    """The watcher's record of *linked* gone whole, against its newest snapshot (as its
    recorder calls it: test_red3_undo_removed)."""
    now = time.time()
    with Store() as store:
        snap = [s for s in store.snapshots() if s.worktree == str(linked)][-1]
        gone = [str(linked / os.fsdecode(p)) for p, _ in store.walk(snap.root)]
        kinds = {**dict.fromkeys(gone, bursts.DELETE), str(linked): bursts.DELETE_DIR}
        burst = bursts.Burst((*gone, str(linked)), now, now, kinds)
        return bursts.record(store, str(linked), burst, snap)


def _lost(entry: dict[str, object] | None) -> list[str]:
    assert entry is not None
    return sorted(x["path"] for x in entry["lost"])  # type: ignore[attr-defined]


def test_an_rm_rf_of_a_dirty_linked_worktree_names_only_what_git_lacks(repo: Path) -> None:
    """rm -rf leaves git's admin dir: the worktree's HEAD there (a commit made after the
    snapshot) holds its committed files; the edit and the untracked file are lost."""
    linked = Path(os.path.realpath(repo.parent)) / "wt2"
    git(repo, "worktree", "add", "-q", "-b", "side", str(linked))
    (linked / "new1.txt").write_text("committed after the snapshot\n")
    (linked / "README").write_text("an edit, only here\n")
    (linked / "wip.txt").write_text("untracked, only here\n")
    gs(linked, "create")
    git(linked, "add", "new1.txt")
    git(linked, "commit", "-q", "-m", "add new1")
    git(linked, "branch", "-q", "-m", "side", "renamed")  # (the snapshot's branch is gone)
    shutil.rmtree(linked)
    assert _lost(_record(linked)) == ["README", "wip.txt"]


def test_files_only_a_detached_head_held_are_lost_with_its_worktree(repo: Path) -> None:
    """A commit made on a detached HEAD is reachable from no ref once git removed the
    worktree (its HEAD and reflog go with it): its files are named."""
    linked = Path(os.path.realpath(repo.parent)) / "wt3"
    git(repo, "worktree", "add", "-q", "--detach", str(linked))
    (linked / "new1.txt").write_text("committed on a detached HEAD\n")
    git(linked, "add", "new1.txt")
    git(linked, "commit", "-q", "-m", "add new1")
    gs(linked, "create")
    git(repo, "worktree", "remove", str(linked))
    entry = _record(linked)
    assert _lost(entry) == ["new1.txt"]
    assert entry is not None and entry["removed_worktree"] == str(linked)
