"""After ``git snapshot run -- git stash drop``, the worktree's newest snapshot is the worktree.

``run`` snapshots the worktree, then each stash entry the command drops (its files written
into a scratch folder, stored as a snapshot of this worktree so that ``list`` shows it).
The stash entry's snapshot was taken second, so it became the worktree's newest: ``latest``
named it (``restore latest .env``: ".env is not in snapshot N", the stash holds no ignored
file), and the next post-checkout compared the worktree with the stash's files: a
``checkout -f`` over a clean worktree said "git checkout destroyed 1 file with uncommitted
edits: a.txt", the stash's edit, and its restore command put that edit over the branch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit


@pytest.fixture
def dropped(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hooked repository whose one stash entry (an edit of a.txt) was dropped under run; the
    worktree is clean but for its ignored .env."""
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n")
    commit(repo, "a.txt", b"committed a\n")
    side_commit(repo, "other", {"a.txt": b"other's a\n"})
    install(repo)
    (repo / ".env").write_bytes(b"SECRET=1\n")
    (repo / "a.txt").write_bytes(b"committed a\nstashed edit\n")
    git(repo, "stash", "-q")
    ran = gs(repo, "run", "--", "git", "stash", "drop")
    assert "dropped stash@{0} (1 file: a.txt)" in ran.err, ran
    return repo


def test_a_forced_checkout_after_a_stash_drop_reports_nothing(dropped: Path) -> None:
    ran = git(dropped, "checkout", "-f", "other")
    assert ran.reports == [] and "destroyed" not in ran.err, ran.err
    assert json.loads(gs(dropped, "losses", "--json").out)[-1]["command"] == "git stash drop"


def test_latest_after_a_stash_drop_is_the_worktree(dropped: Path) -> None:
    (dropped / ".env").write_bytes(b"SECRET=changed\n")
    gs(dropped, "restore", "latest", ".env")
    assert (dropped / ".env").read_bytes() == b"SECRET=1\n"
    # and the snapshot the report named still holds the stash's edit
    line = [ln for ln in gs(dropped, "losses").out.splitlines() if "stash" in ln][-1]
    assert "git stash drop" in line, line


def test_list_and_show_call_the_stash_entrys_snapshot_a_stash(dropped: Path) -> None:
    """Not '(detached)': HEAD was on main; the snapshot holds a stash entry's files."""
    stash = json.loads(gs(dropped, "list", "--json").out)[-2]
    assert stash["message"].startswith("stash@{0} ("), stash
    row = [ln for ln in gs(dropped, "list").out.splitlines() if ln.split()[0] == str(stash["id"])]
    assert row and "(stash)" in row[0] and "(detached)" not in row[0], row
    header = gs(dropped, "show", str(stash["id"])).out.splitlines()[0]
    assert " (stash) " in header and "(detached)" not in header, header


def test_log_does_not_see_the_worktree_change_in_a_stash_entrys_snapshot(dropped: Path) -> None:
    """Between two snapshots of the worktree, a stash entry's files (no ignored file, the
    stash's edits) made 'log .env' say 'vanished' then 'appeared' again, and 'log a.txt'
    'changed' twice, as if the worktree had been so; the stash's versions are listed as such."""
    (dropped / "a.txt").write_bytes(b"committed a\nsecond stash\n")
    git(dropped, "stash", "-q")
    gs(dropped, "run", "--", "git", "stash", "drop")
    kinds = {
        s["id"]: s["message"].startswith("stash@")
        for s in json.loads(gs(dropped, "list", "--json").out)
    }
    env = json.loads(gs(dropped, "log", ".env", "--json").out)
    assert [(v["status"], kinds[v["id"]]) for v in env] == [("appeared", False)], env
    a = json.loads(gs(dropped, "log", "a.txt", "--json").out)
    assert [(v["status"], kinds[v["id"]]) for v in a] == [
        ("stashed", True),
        ("appeared", False),
        ("stashed", True),
    ], a
    assert a[0]["content"] != a[2]["content"] != a[1]["content"]
    assert "stashed" in gs(dropped, "log", "a.txt").out


def test_latest_n_counts_the_worktrees_snapshots_only(dropped: Path) -> None:
    """After a second drop, latest~1 was the second stash entry's files, not the worktree's
    snapshot before: latest~N passes over a stash entry's, as latest passes over pre-restore."""
    (dropped / "a.txt").write_bytes(b"committed a\nsecond stash\n")
    git(dropped, "stash", "-q")
    gs(dropped, "run", "--", "git", "stash", "drop")
    listed = json.loads(gs(dropped, "list", "--json").out)
    assert [s["message"].startswith("stash@") for s in listed] == [True, False, True, False]
    shown = gs(dropped, "show", "latest~1").out.splitlines()[0]
    assert shown.startswith(f"snapshot {listed[1]['id']} "), shown


def test_a_date_passes_over_a_stash_entrys_snapshot() -> None:
    """The stash entry's snapshot and the worktree's are taken within milliseconds: a date
    falls between them only across a second's edge, so this one is built by hand."""
    from git_snapshot import snapids
    from git_snapshot.store import Snapshot

    def snap(n: int, at: float, **meta: str) -> Snapshot:
        return Snapshot(n, "k", n, at, "run", "", "/w", b"", 0, 0, 0, 0, meta)

    snaps = [snap(1, 100.0), snap(2, 200.9, stash="abc"), snap(3, 201.1)]
    got = snapids.select(snapids.parse("@{then}"), snaps, "/w", when=lambda _: 200.0)
    assert got.id == 1


def test_newest_takes_a_dropped_stash_entrys_file_that_only_it_holds(dropped: Path) -> None:
    """``restore --newest`` looks through every snapshot of the worktree, a stash entry's
    too (a copy is a copy: `log` lists it as 'stashed'), passing over only those restore took
    itself, by the rule ``latest`` passes them over with (snapids.passing_restores)."""
    (dropped / "new.txt").write_bytes(b"only in the stash\n")
    git(dropped, "stash", "-q", "-u")
    gs(dropped, "run", "--", "git", "stash", "drop")
    assert not (dropped / "new.txt").exists()
    ran = gs(dropped, "restore", "--newest", "new.txt")
    assert (dropped / "new.txt").read_bytes() == b"only in the stash\n", ran.out
    # restore's own pre-restore snapshot (it holds no new.txt) changes nothing of it
    (dropped / "new.txt").write_bytes(b"spoilt\n")
    gs(dropped, "restore", "--newest", "new.txt")
    assert (dropped / "new.txt").read_bytes() == b"only in the stash\n"
