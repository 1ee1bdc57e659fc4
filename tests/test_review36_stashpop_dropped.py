"""A conflicted `git stash pop` whose entry the user then drops: AUTO_MERGE still holds the
files the pop applied cleanly, the user's stashed edits, and nothing else does once a
`reset --hard` removes AUTO_MERGE. Counted as what git can give back for every path, it hid
their loss (review of RED36 A-stashpopmarkers). The marker file too (c.txt) holds the only
copy of the stashed side once the entry is gone: it is named as well (review40 RA1).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from test_red36_stashpop_markers import conflicted_pop


@pytest.fixture
def dropped(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A conflicted pop (c.txt conflicts, a.txt applied cleanly), its entry then dropped."""
    put_venv_on_path(monkeypatch)
    conflicted_pop(repo)
    git(repo, "stash", "drop", "-q")
    assert (repo / "a.txt").read_bytes() == b"stashed a\n"
    return repo


def _lost(repo: Path) -> list[str]:
    return [x["path"] for e in json.loads(gs(repo, "losses", "--json").out) for x in e["lost"]]


def test_reset_hard_names_the_cleanly_applied_edit(dropped: Path) -> None:
    marked = (dropped / "c.txt").read_bytes()
    ran = gs(dropped, "run", "--", "git", "reset", "--hard")
    assert "destroyed" in ran.err and "a.txt" in ran.err, ran.err
    assert "c.txt" in ran.err, ran.err  # (the stashed side's only copy: review40 RA1)
    assert {"a.txt", "c.txt"} <= set(_lost(dropped))
    gs(dropped, "undo")
    assert (dropped / "c.txt").read_bytes() == marked
    assert (dropped / "a.txt").read_bytes() == b"stashed a\n"


def test_a_checkout_hook_names_the_cleanly_applied_edit(dropped: Path) -> None:
    gs(dropped, "-m", "after-pop")
    ran = git(dropped, "checkout", "HEAD", "--", ".")
    assert "a.txt" in ran.err, ran.err
    assert "c.txt" in ran.err, ran.err  # (the stashed side's only copy: review40 RA1)


def test_a_clean_pops_stale_auto_merge_under_another_conflict_hides_nothing(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clean pop leaves AUTO_MERGE (b.txt: the popped edit); a `git apply --3way` that
    conflicts in d.txt then gives the index unmerged entries, and writes no AUTO_MERGE."""
    put_venv_on_path(monkeypatch)
    commit(repo, "b.txt", b"base b\n")
    commit(repo, "d.txt", b"base d\n")
    install(repo)
    (repo / "d.txt").write_bytes(b"theirs d\n")
    patch = git(repo, "diff").out
    git(repo, "checkout", "--", "d.txt")
    (repo / "b.txt").write_bytes(b"stashed b\n")
    git(repo, "stash", "-q")
    commit(repo, "d.txt", b"ours d\n")
    git(repo, "stash", "pop", "-q")
    (repo / "p.patch").write_text(patch)
    git(repo, "apply", "--3way", "p.patch", rc=1)
    assert git(repo, "ls-files", "--unmerged").out
    ran = gs(repo, "run", "--", "git", "reset", "--hard")
    assert "destroyed" in ran.err and "b.txt" in ran.err, ran.err
