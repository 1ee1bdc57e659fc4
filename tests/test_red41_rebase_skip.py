"""A plain `git rebase --skip` discards every uncommitted edit, in files the rebase never
touches too (git resets the worktree as `reset --hard` does), with no hook before it: an
edit made during the stop is in no snapshot (red41R2 F10). README's table of commands with
no hook did not list it; it now does, with `git snapshot run -- git rebase --skip`, which
names the edit. Both backends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def stopped(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* on topic, whose first pick conflicts with main in a.txt; b.txt untouched by
    the rebase."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"base\n")
    commit(repo, "b.txt", b"b\n")
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "a.txt", b"topic\n")
    commit(repo, "c.txt", b"t2\n")
    git(repo, "checkout", "-q", "main")
    commit(repo, "a.txt", b"mainside\n")
    git(repo, "checkout", "-q", "topic")
    install(repo)
    return repo


@pytest.mark.parametrize("backend", ["--merge", "--apply"])
def test_run_names_the_edit_rebase_skip_discards(stopped: Path, backend: str) -> None:
    r = stopped
    git(r, "rebase", backend, "main", rc=None)
    assert (r / ".git" / ("rebase-merge" if backend == "--merge" else "rebase-apply")).is_dir()
    write(r / "b.txt", b"my edit during the stop\n")
    ran = gs(r, "run", "--", "git", "rebase", "--skip")
    assert (r / "b.txt").read_bytes() == b"b\n"  # git discarded it
    assert [(x.names, x.kinds) for x in ran.reports] == [
        ("b.txt", "1 file with uncommitted edits")
    ], ran.said
    gs(r, "restore", str(ran.reports[0].snap), "b.txt")
    assert (r / "b.txt").read_bytes() == b"my edit during the stop\n"


def test_the_readme_lists_rebase_skip_among_the_commands_with_no_hook() -> None:
    rows = [ln for ln in README.read_text().splitlines() if ln.startswith("| `git rebase --skip`")]
    assert len(rows) == 1, rows
    assert re.search(r"\*\*none\*\*", rows[0]), rows
    assert "git snapshot run -- git rebase --skip" in rows[0], rows
