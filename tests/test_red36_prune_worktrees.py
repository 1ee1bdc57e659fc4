"""RED36 B-prune: `prune --keep-last N`, run in one worktree, counted the snapshots of every
worktree of the repository as one list, while `list` (and log, find, latest) shows each
worktree's own: with the main worktree's one snapshot (holding `.env`) older than the
linked worktree's three, `prune --keep-last 2` forgot it, the newest and only snapshot of
the main worktree, and neither the dry run nor the run said it was another worktree's. The
automatic retention (keepLast per repository) did the same.

Now retention counts each worktree's snapshots apart (as restic groups by host and paths):
each worktree keeps its own newest N (its newest always), and a prune that forgets another
worktree's snapshots names that worktree beside their ids.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


def _ids(wt: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(wt, "list", "--json"))]


@pytest.fixture
def two(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Main worktree *repo* with one snapshot (1, its .env); linked worktree w with 2, 3, 4."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a", b"a\n")
    write(repo / ".env", b"main-secret\n")
    gs(repo, "create", "-m", "main1")
    wt = repo.parent / "w"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "side")
    for i in range(3):
        write(wt / "x", b"%d\n" % i)
        gs(wt, "create", "-m", f"w{i}")
    assert _ids(repo) == [1] and _ids(wt) == [2, 3, 4]
    return wt


def test_prune_keeps_each_worktrees_newest_n(repo: Path, two: Path) -> None:
    dry = gs(repo, "prune", "--keep-last", "2", "--dry-run")
    assert dry.out.startswith("would forget 1 snapshot(s): 2 "), dry.out
    gs(two, "prune", "--keep-last", "2")
    assert _ids(repo) == [1], "the main worktree's only snapshot went"
    assert _ids(two) == [3, 4]
    assert gs(repo, "cat", "latest", ".env").out == "main-secret\n"


def test_prune_names_another_worktrees_snapshots(repo: Path, two: Path) -> None:
    for i in range(2):
        write(repo / ".env", b"main-%d\n" % i)
        gs(repo, "create", "-m", f"main{i}")
    assert _ids(repo) == [1, 5, 6]
    # run in w, it forgets w's 2 and the main worktree's 1: the latter is said to be the main's
    ran = gs(two, "prune", "--keep-last", "2", "--dry-run")
    first = ran.out.splitlines()[0]
    assert first.startswith("would forget 2 snapshot(s): "), first
    assert f"1 (worktree {repo})" in first, first
    assert "2 (worktree" not in first, first  # w's own need no name
    js = json.loads(gs(two, "prune", "--keep-last", "2", "--json"))
    assert sorted((s["id"], s["worktree"]) for s in js["forgotten"]) == [
        (1, str(repo)),
        (2, str(two)),
    ]
    assert _ids(repo) == [5, 6] and _ids(two) == [3, 4]


def test_automatic_retention_counts_each_worktree(repo: Path, two: Path) -> None:
    git(repo, "config", "snapshot.keepLast", "1")
    git(repo, "config", "snapshot.keepWithin", "1s")
    time.sleep(1.2)
    gs(two, "run", "-m", "auto", "--", "true")  # (its snapshot, then the retention)
    assert _ids(repo) == [1], "the automatic retention forgot the main worktree's only one"
    assert _ids(two) == [5]


def test_a_reports_snapshot_in_a_worktree_is_still_kept(repo: Path, two: Path) -> None:
    """The loss reports' keep (RED34 D3, user20) within one worktree's count: the report of
    a checkout names the snapshot before it, which the hook's own after it pushes out."""
    install(repo)
    commit(repo, "f.txt", b"base\n")
    git(repo, "branch", "x")
    git(two, "merge", "-q", "--ff-only", "main")  # (side: where main is, f.txt too)
    write(two / "f.txt", b"uncommitted edit\n")
    b = json.loads(gs(two, "create", "-m", "edit", "--json"))["id"]
    ran = git(two, "checkout", "-q", "-f", "x")
    assert any(f"restore {b} f.txt" in ln for ln in ran.ours), ran.err
    assert _ids(two)[-2:] == [b, b + 1]  # (the post-checkout's snapshot after it)
    pruned = gs(two, "prune", "--keep-last", "1")
    assert f"kept 1 snapshot(s) that loss reports name as the copy of what was lost: {b} " in (
        pruned.out
    ), pruned.out
    assert b in _ids(two) and _ids(repo) == [1]
