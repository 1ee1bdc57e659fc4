"""Review 36 of RED36 B-repair: a repair merging a moved repository's pre-move history back
(Index.merge_source) said every snapshot of the merged history taken at the old main
worktree's path was taken in the new one -- the moved repository's own too: those of a linked
worktree it added since at its old path became the main worktree's (its list, latest).
Only the snapshots given back move with the main worktree, as the takeover moved them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import write


def _ids(wt: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(wt, "list", "--json"))]


def test_a_linked_worktree_at_the_old_path_keeps_its_snapshots(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, "a", b"a\n")
    write(repo / "notes", b"main 1\n")
    gs(repo, "create", "-m", "before")
    new = repo.parent / "renamed"
    os.rename(repo, new)
    write(new / "notes", b"main 2\n")
    gs(new, "create", "-m", "after")
    git(new, "worktree", "add", "-q", str(repo), "-b", "side")
    write(repo / "notes", b"side\n")
    gs(repo, "create", "-m", "side")
    assert _ids(new) == [1, 2] and _ids(repo) == [3]
    store = Path(os.environ["GIT_SNAPSHOT_STORE"])
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (store / name).unlink(missing_ok=True)
    ran = gs(new, "repair")
    assert _ids(new) == [1, 2] and _ids(repo) == [3], ran.out
    assert gs(new, "cat", "latest", "notes").out == "main 2\n"
