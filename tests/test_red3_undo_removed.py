"""Red team (session 9): the watcher reports a worktree removed whole (``git worktree remove
--force``) in another worktree of its repository, with a restore command that writes back
``--to`` the removed path. ``undo`` there did not: it tried the snapshot in place, refused
("restore it ... with --to DIR, or into this worktree with --here", options undo has not),
and its --dry-run said 'would undo' first. It now does what the printed command does."""

from __future__ import annotations

import time
from pathlib import Path

from clihelpers import git
from clihelpers import gs

from git_snapshot.store import Store
from git_snapshot.watch import bursts


def test_undo_of_a_removed_worktrees_entry_writes_it_back_where_it_was(
    repo: Path, tmp_path: Path
) -> None:
    wt2 = tmp_path / "wt2"
    git(repo, "worktree", "add", "-q", str(wt2))
    (wt2 / "notes.txt").write_text("wt2 notes\n")
    gs(wt2, "create")
    (repo / "notes.txt").write_text("main notes\n")
    git(repo, "worktree", "remove", "--force", str(wt2))
    now = time.time()
    gone = (str(wt2 / "notes.txt"), str(wt2))
    burst = bursts.Burst(gone, now, now, {gone[0]: bursts.DELETE, gone[1]: bursts.DELETE_DIR})
    with Store() as store:
        snap = next(s for s in store.snapshots() if s.worktree == str(wt2))
        entry = bursts.record(store, str(wt2), burst, snap)  # as the watcher's worker does
    assert entry is not None and entry["removed_worktree"] == str(wt2)
    dry = gs(repo, "undo", "--dry-run")
    assert "would create notes.txt" in dry and str(wt2) in dry, dry
    assert not wt2.exists()
    gs(repo, "undo")
    assert (wt2 / "notes.txt").read_text() == "wt2 notes\n"
    assert (repo / "notes.txt").read_text() == "main notes\n"
