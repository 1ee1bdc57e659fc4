"""A gone stash entry's paths looked up in the snapshots (findlosses._unstashed: _written_back,
loststash.holding): each tree read once, not once a path.

A `git stash drop` of an entry of 2,000 files in one folder made every later post-checkout
(reusing the snapshot that records the entry) take 15 s: each path's lookup read and checked
its folder's tree again, 2,000 entries each time, for the snapshot before, the hook's, and
each older one searched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from clihelpers import git

from git_snapshot import findlosses
from git_snapshot import gitrepo
from git_snapshot import loststash
from git_snapshot import worktree
from git_snapshot.store import Store

FILES = 200


def test_each_tree_is_read_once_for_all_the_paths(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = repo / "d"
    folder.mkdir()
    for i in range(FILES):
        (folder / f"f{i}").write_text("v1\n")
    git(repo, "add", "d")
    git(repo, "commit", "-q", "-m", "d")
    for i in range(FILES):
        (folder / f"f{i}").write_text(f"mine {i}\n")
    r = gitrepo.find_repo(str(repo))
    with Store() as store:
        mine = worktree.take(store, r, trigger="manual").snapshot
        git(repo, "stash", "-q")
        before = worktree.take(store, r, trigger="manual").snapshot
        entry = git(repo, "rev-parse", "refs/stash").out.strip()
        versions = loststash.stashed_versions(r, [entry])
        assert len(versions) == FILES
        reads = []
        read = store.read_object

        def counted(key: bytes, *args: Any) -> bytes:
            reads.append(key)
            return read(key, *args)

        monkeypatch.setattr(store, "read_object", counted)
        back = findlosses._written_back(store, before, before, list(versions))
        assert back == set(versions)
        assert len(reads) <= 2, len(reads)  # the root and d, of the one snapshot
        reads.clear()
        where = loststash.holding(store, [before, mine], versions)
        assert {p: s.id for p, s in where.items()} == dict.fromkeys(versions, mine.id)
        assert len(reads) <= 4, len(reads)  # the root and d, of each snapshot
