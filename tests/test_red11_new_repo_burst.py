"""A watched worktree deleted whole and a NEW repository made at the same path before the
daemon records the burst (USER2, 09:31): the entry named the OLD repository's snapshot 2 but
went into the NEW repository's loss log and unseen lines, whose 'restore 2 ...' then named
the new repository's snapshot 2 (another version, or none). Session 15: it is reported there
with the old repository's qualified ID (name#tag:N) and --to."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from clihelpers import git
from clihelpers import gs
from conftest import init_repo

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.watch import bursts
from git_snapshot.watch.bursts import BurstDetector


def test_a_burst_of_a_deleted_repository_is_not_reported_in_a_new_one_at_its_path(
    tmp_path: Path,
) -> None:
    old = init_repo(tmp_path / "r9")
    for i in range(5):
        (old / f"n{i}.txt").write_text(f"old {i}\n")
    with Store() as store:
        snap = worktree.take(store, gitrepo.find_repo(str(old)), trigger="watch").snapshot
        d = BurstDetector(threshold_files=3)
        paths = [str(p) for p in sorted(old.glob("n*.txt"))]
        shutil.rmtree(old)
        for i, p in enumerate(paths):
            d.feed(100.0 + i * 0.001, p, "delete")
        new = init_repo(tmp_path / "r9")  # the same path, another repository
        (new / "n0.txt").write_text("new 0\n")
        git(new, "add", ".")
        git(new, "commit", "-q", "-m", "new")
        for _ in range(snap.id):  # the new repository's snapshot with the same number
            worktree.take(store, gitrepo.find_repo(str(new)), trigger="manual")
        (burst,) = d.take(200.0)
        bursts.record(store, str(new), burst, snap)
    # (session 15) reported there all the same, where its user looks, but naming the OLD
    # repository's snapshot by its qualified ID: a plain 'restore N' is the new one's N
    (line,) = [ln for ln in gs(new, "list").err.splitlines() if "were deleted" in ln]
    (entry,) = json.loads(gs(new, "losses", "--json").out)
    assert entry["snapshot"] == snap.id and entry["source"] == snap.source
    assert entry["repo"].startswith("r9#") and entry["available"] is True
    assert f"restore '{entry['repo']}:{snap.id}' --to " in line, line
    assert f"restore {snap.id} " not in line
