"""RED36 B-repair: a repository moved with `mv` takes its history over at its first command at
the new place (identity._adopt_moved), in the index alone: the packs' records still name the
old place. A `repair` that rebuilt the index gave the snapshots from before the move back to a
"repository" at the old, gone place: `list`, `log`, `latest~1` and the numbers printed before
lost them, and repair said nothing.

Now repair gives them back to the moved repository where its numbers show it took them over
(the new place's went on from the old one's), and says so; where that cannot be told (a copy
whose original is gone since: its numbers start anew) it says in one line that they stay
apart and how to reach them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import write


def _ids(wt: Path) -> list[int]:
    return [s["id"] for s in json.loads(gs(wt, "list", "--json"))]


def _every(wt: Path) -> list[dict[str, object]]:
    """list --all --json, by qualified id: it lists the repositories in the order the index
    entered them, which a rebuilt one takes from the packs (the copy's first at times)."""
    return sorted(json.loads(gs(wt, "list", "--all", "--json")), key=lambda s: s["qualified_id"])


def _lose_index() -> None:
    store = Path(os.environ["GIT_SNAPSHOT_STORE"])
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (store / name).unlink(missing_ok=True)


@pytest.fixture
def moved(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* with snapshots 1, 2 (and 3 in a linked worktree), moved with mv; 4 taken there."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a", b"a\n")
    for v in (b"v1\n", b"v2\n"):
        write(repo / "notes", v)
        gs(repo, "create", "-m", v.decode().strip())
    wt = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "side")
    write(wt / ".env", b"wt-secret\n")
    gs(wt, "create", "-m", "wt")
    new = repo.parent / "renamed"
    os.rename(repo, new)
    git(new, "worktree", "repair")
    write(new / "notes", b"v3\n")
    gs(new, "create", "-m", "after-move")
    return new


def test_repair_keeps_a_moved_repositorys_history(moved: Path) -> None:
    wt = moved.parent / "wt"
    before = json.loads(gs(moved, "list", "--all", "--json"))
    assert _ids(moved) == [1, 2, 4] and _ids(wt) == [3]
    _lose_index()
    ran = gs(moved, "repair")
    assert "renamed" in ran.out and "moved" in ran.out, ran.out
    assert _ids(moved) == [1, 2, 4] and _ids(wt) == [3]
    assert json.loads(gs(moved, "list", "--all", "--json")) == before
    assert gs(moved, "cat", "latest~1", "notes").out == "v2\n"
    log = gs(moved, "log", "notes")
    assert [ln.split()[0] for ln in log.out.splitlines()[1:]] == ["1", "2", "4"], log.out
    write(moved / "notes", b"v4\n")
    assert json.loads(gs(moved, "create", "--json"))["id"] == 5
    again = gs(moved, "repair")  # (a second repair: the same answers)
    assert _ids(moved) == [1, 2, 4, 5], again.out


def test_repair_says_when_it_cannot_tell(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy beside its original starts its own history (numbers from 1): the original
    deleted since, a repair cannot tell its snapshots for the copy's, and says so."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a", b"a\n")
    write(repo / "notes", b"original\n")
    gs(repo, "create", "-m", "original")
    copy = repo.parent / "copy"
    shutil.copytree(repo, copy, symlinks=True)
    write(copy / "notes", b"copy\n")
    gs(copy, "create", "-m", "copy")
    assert _ids(copy) == [1]
    shutil.rmtree(repo)
    listed = _every(copy)
    _lose_index()
    ran = gs(copy, "repair")
    assert _every(copy) == listed
    (line,) = [ln for ln in ran.out.splitlines() if "apart" in ln]
    assert str(repo) in line and "--repo=" in line, line
    cmd = line.split("with: ", 1)[1].split(")")[0].split(";")[0].strip()
    assert cmd.startswith("git snapshot list --repo="), line
    assert "original" in gs(copy, *cmd.split()[2:]).out
