"""RED36 B-logrepo: `log --repo NAME` read only the main worktree's snapshots when it had any,
while `list --repo` and `find --repo` cover every worktree of the repository (README: "--repo
searches every worktree"): a file only a linked worktree held was "in none of the 1
snapshot(s) of this worktree" (said outside any worktree), the line `cat --repo NAME latest`
pointed to. Now `log --repo` reads every worktree's, each compared with its own worktree's
earlier ones (two branches' versions are not "changes"), a WORKTREE field naming each, and
its "in none" line names the repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def two(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Snapshot 1 in *repo* (main: no .env), 2 in its linked worktree wt (.env), 3 in main."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a", b"a\n")
    write(repo / "f", b"main\n")
    gs(repo, "create")
    wt = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "side")
    write(wt / ".env", b"wt secret\n")
    write(wt / "f", b"wt\n")
    gs(wt, "create")
    gs(repo, "create")
    return wt


def test_log_repo_reads_every_worktree(repo: Path, two: Path) -> None:
    out = repo.parent  # outside any worktree
    name = repo.name
    rows = json.loads(gs(out, "log", "--repo", name, ".env", "--json"))
    assert [(r["id"], r["status"], r["worktree"]) for r in rows] == [(2, "appeared", str(two))]
    # f: each worktree's versions against its own earlier ones (main's 3: unchanged)
    rows = json.loads(gs(out, "log", "--repo", name, "f", "--json"))
    assert [(r["id"], r["status"]) for r in rows] == [(1, "appeared"), (2, "appeared")]
    text = gs(out, "log", "--repo", name, ".env").out
    assert "WORKTREE" in text and str(two) in text, text
    # in this worktree, log stays this worktree's
    assert [r["id"] for r in json.loads(gs(repo, "log", "f", "--json"))] == [1]


def test_cats_hint_leads_to_the_versions(repo: Path, two: Path) -> None:
    out = repo.parent
    ran = gs(out, "cat", "--repo", repo.name, "1", ".env", rc=1)
    hint = ran.err.split("with: ", 1)[1].strip()
    assert hint.startswith("git snapshot log --repo="), ran.err
    assert "2" in gs(out, *hint.split()[2:]).out


def test_none_names_the_repository(repo: Path, two: Path) -> None:
    ran = gs(repo.parent, "log", "--repo", repo.name, "nothere", rc=1)
    assert "of this worktree" not in ran.err and f"of {repo.name}" in ran.err, ran.err
