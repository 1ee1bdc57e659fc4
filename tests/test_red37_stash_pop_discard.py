"""`git stash; git checkout -b x; git stash pop; git checkout -- a.txt`: the popped edit is
in an older snapshot, and git cannot give it back (RED36A finding 4).

The snapshot before the discard (the post-checkout one of `checkout -b x`) was taken while the
edit sat in the stash: it holds HEAD's version. The pop dropped the entry. Nothing was named,
though the snapshot the user took before stashing holds the edit. Each snapshot now records
the stash entries of its moment: one gone since, whose version of a path the discard wrote
over, is named from the newest older snapshot holding that very version, hedged ("an earlier
version ... is in snapshot N"). A `stash drop` (nothing popped, nothing to discard), a
committed pop, and the plain discard without any stash keep their reports as they were.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import MINE
from hookhelpers import commit
from hookhelpers import edited_and_saved
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return edited_and_saved(repo, monkeypatch)


def _holding(repo: Path) -> int:
    """The number of the snapshot 'holds MINE'."""
    snaps = json.loads(gs(repo, "list", "--json").out)
    return int(next(s["id"] for s in snaps if s.get("message") == "holds MINE"))


def _reports(repo: Path) -> list[dict[str, Any]]:
    return list(json.loads(gs(repo, "losses", "--json").out))


def _stash_switch(repo: Path) -> None:
    git(repo, "stash", "-q")
    git(repo, "checkout", "-q", "-b", "x")


def test_a_popped_edit_discarded_is_named_from_the_older_snapshot(hooked: Path) -> None:
    _stash_switch(hooked)
    git(hooked, "stash", "pop", "-q")
    assert (hooked / "a.txt").read_bytes() == MINE
    ran = git(hooked, "checkout", "--", "a.txt")
    n = _holding(hooked)
    assert "destroyed" in ran.err and "a.txt" in ran.err, ran.err
    assert "an earlier version, saved" in ran.err and f"is in snapshot {n};" in ran.err, ran.err
    got = [e for e in _reports(hooked) if any(x["path"] == "a.txt" for x in e["lost"])]
    assert [(e["snapshot"], e["exact"]) for e in got] == [(n, False)], got
    gs(hooked, "undo")
    assert (hooked / "a.txt").read_bytes() == MINE


def test_only_the_popped_files_the_checkout_wrote_over_are_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"v1\n")
    commit(repo, "sub/b.txt", b"b1\n")
    install(repo)
    (repo / "a.txt").write_bytes(MINE)
    (repo / "sub" / "b.txt").write_bytes(b"my b\n")
    gs(repo, "-m", "holds MINE")
    _stash_switch(repo)
    git(repo, "stash", "pop", "-q")
    ran = git(repo, "checkout", "--", "sub/b.txt")
    assert "destroyed" in ran.err and "sub/b.txt" in ran.err and "a.txt" not in ran.err, ran.err
    assert named_lost(repo) == ["sub/b.txt"]
    assert (repo / "a.txt").read_bytes() == MINE


def test_a_later_discard_does_not_name_the_popped_edit_again(hooked: Path) -> None:
    _stash_switch(hooked)
    git(hooked, "stash", "pop", "-q")
    git(hooked, "checkout", "--", "a.txt")
    assert named_lost(hooked) == ["a.txt"]
    (hooked / "a.txt").write_bytes(b"a new edit, never saved\n")
    ran = git(hooked, "checkout", "--", "a.txt")
    assert "destroyed" not in ran.err, ran.err
    assert named_lost(hooked) == ["a.txt"]


def test_a_dropped_entry_with_nothing_to_discard_names_nothing(hooked: Path) -> None:
    _stash_switch(hooked)
    git(hooked, "stash", "drop", "-q")
    ran = git(hooked, "checkout", "--", "a.txt")
    assert "destroyed" not in ran.err, ran.err
    assert named_lost(hooked) == []


def test_a_forced_checkout_after_a_pop_names_the_edit(hooked: Path) -> None:
    _stash_switch(hooked)
    git(hooked, "stash", "pop", "-q")
    ran = git(hooked, "checkout", "-f", "x")
    assert "destroyed" in ran.err and f"is in snapshot {_holding(hooked)};" in ran.err, ran.err


def test_a_checkout_of_another_version_after_a_drop_names_nothing(hooked: Path) -> None:
    """git writes the file whatever it held: the dropped edit was not there to lose."""
    (hooked / "a.txt").write_bytes(b"v1\n")
    commit(hooked, "a.txt", b"v2\n")
    (hooked / "a.txt").write_bytes(MINE)
    git(hooked, "stash", "-q")
    git(hooked, "checkout", "-q", "-b", "x")
    git(hooked, "stash", "drop", "-q")
    ran = git(hooked, "checkout", "HEAD~1", "--", "a.txt")
    assert (hooked / "a.txt").read_bytes() == b"v1\n"
    assert "destroyed" not in ran.err, ran.err
    assert named_lost(hooked) == []


def test_a_committed_pop_names_nothing(hooked: Path) -> None:
    _stash_switch(hooked)
    git(hooked, "stash", "pop", "-q")
    git(hooked, "commit", "-qam", "the popped edit")
    ran = git(hooked, "checkout", "--", "a.txt")
    assert "destroyed" not in ran.err, ran.err
    assert named_lost(hooked) == []


def test_an_applied_entry_still_held_by_the_stash_names_nothing(hooked: Path) -> None:
    _stash_switch(hooked)
    git(hooked, "stash", "apply", "-q")
    ran = git(hooked, "checkout", "--", "a.txt")
    assert "destroyed" not in ran.err, ran.err  # (git gives it back: stash@{0})
    assert named_lost(hooked) == []


def test_the_plain_discard_keeps_its_report(hooked: Path) -> None:
    ran = git(hooked, "checkout", "--", "a.txt")
    n = _holding(hooked)
    assert "destroyed" in ran.err and "a.txt" in ran.err and f"snapshot {n}" in ran.err, ran.err
    assert [e["snapshot"] for e in _reports(hooked)] == [n]
    gs(hooked, "undo")
    assert (hooked / "a.txt").read_bytes() == MINE


def test_stash_ids_reads_the_entries_newest_first(hooked: Path) -> None:
    from git_snapshot import gitrepo
    from git_snapshot import worktree

    git(hooked, "stash", "-q")
    (hooked / "a.txt").write_bytes(b"second\n")
    git(hooked, "stash", "-q")
    entries = git(hooked, "log", "-g", "--format=%H", "refs/stash").out.split()
    assert len(entries) == 2
    assert worktree.stash_ids(gitrepo.find_repo(str(hooked))) == entries
