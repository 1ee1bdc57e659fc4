"""A prepared tree is not the worktree before git when the user changed a path after it
(review RW45 of wq45, 262a25f).

post-checkout commits the watcher's newest prepared tree done before the git command began
as the snapshot before, and names from it what the checkout wrote over. The worker prepares
snapshot.watchPrepare after changes settle; a path the user deleted, or changed back, after
the tree was recorded and before the next one was, is in it as it was before: named
"destroyed" from it. f.txt made after the last snapshot and deleted again before `git
switch b` (b tracks it) was named, though git wrote over nothing (the code before 262a25f
named nothing: the last snapshot lacks it); an ignored x.log rewritten and then set back to
the last snapshot's bytes was named with the bytes the user had replaced (the code before
named the last snapshot's, which git did destroy). The daemon now records when it wrote each
mark (dirtyset.mark): a mark after the tree's, written before git began, of a path the
checkout wrote or the tree holds otherwise than the last snapshot, means the user changed it
since; and a file the tree holds and the last snapshot lacks, where git wrote, may have been
deleted too fast for the marks to tell. Either way the tree is not kept, and the snapshot
before is named from, as before 262a25f.

Deterministic: snapshot.watchPrepare is 1.5 s, so the worker prepares no newer tree between
the user's change and git (the test runs git as soon as the daemon has marked the change and
two clock ticks passed, so that the mark reads as before git's start, whose /proc time is
truncated to a tick); the daemon's own snapshot never comes (watchQuiet an hour)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import triggers
from prephelpers import MARKS
from prephelpers import MINE
from prephelpers import OLD
from prephelpers import THEIRS
from prephelpers import past_a_tick
from prephelpers import prepared_with
from prephelpers import watched_repo
from test_watch_daemon import Watcher
from test_watch_daemon import wait_for
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.watch import dirtyset

pytestmark = MARKS


@pytest.fixture
def w(watcher: Watcher, monkeypatch: pytest.MonkeyPatch) -> Watcher:  # noqa: F811
    put_venv_on_path(monkeypatch)
    return watcher


def _marked_after(store_dir: Path, repo: Path, seq: int, rel: str) -> None:
    """Wait until the daemon has marked *rel* after *seq*, then two clock ticks."""
    parent, _, name = rel.encode().rpartition(b"/")

    def got() -> bool:
        con = sqlite3.connect(dirtyset.journal_path(str(store_dir), str(repo)))
        try:
            row = con.execute(
                "SELECT 1 FROM marks WHERE seq > ? AND dir = ? AND name = ?", (seq, parent, name)
            ).fetchone()
        finally:
            con.close()
        return row is not None

    wait_for(got, what=f"a mark of {rel}")
    past_a_tick()


def _prepared_then_deleted(store_dir: Path, repo: Path, rel: str) -> None:
    """x.log rewritten (MINE) and *rel* written (MINE), both in a prepared tree; then *rel*
    deleted, and the daemon's mark of that waited for (_marked_after)."""
    (repo / "x.log").write_bytes(MINE)
    (repo / rel).write_bytes(MINE)
    prepared_with(store_dir, repo, "x.log", MINE)
    p = prepared_with(store_dir, repo, rel, MINE)
    (repo / rel).unlink()
    _marked_after(store_dir, repo, p.seq, rel)


def test_a_new_file_the_user_deleted_before_switch_is_not_named(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """x.log rewritten (MINE) and f.txt made, both prepared; f.txt deleted; `git switch b`
    destroyed x.log's MINE, and nothing at f.txt. Before: 'git switch destroyed 1 ignored
    file, 1 untracked file: x.log, f.txt', from the prepared tree."""
    repo = watched_repo(tmp_path, store_dir, w, prepare=1.5, b_tracks=("x.log", "f.txt"))
    _prepared_then_deleted(store_dir, repo, "f.txt")
    ran = git(repo, "switch", "b")
    assert (repo / "f.txt").read_bytes() == THEIRS
    (rep,) = ran.reports
    assert rep.names == "x.log", ran.err  # (from the snapshot before: OLD, hedged)


def test_a_new_file_deleted_in_the_same_line_as_switch_is_not_named(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """`rm f.txt && git switch b`: the daemon marks the delete after git began (its latency,
    and /proc's start time truncated to a tick: measured, a delete 0 and 5 ms before git was
    taken as git's, 10 ms and more as the user's), so the marks cannot tell; f.txt is not in
    the last snapshot: the prepared tree is set aside whatever the timing. Before:
    'git switch destroyed 1 ignored file, 1 untracked file: f.txt, x.log'."""
    repo = watched_repo(tmp_path, store_dir, w, prepare=1.5, b_tracks=("x.log", "f.txt"))
    (repo / "x.log").write_bytes(MINE)
    (repo / "f.txt").write_bytes(MINE)
    prepared_with(store_dir, repo, "x.log", MINE)
    prepared_with(store_dir, repo, "f.txt", MINE)
    (repo / "f.txt").unlink()
    ran = git(repo, "switch", "b")
    assert (repo / "f.txt").read_bytes() == THEIRS
    (rep,) = ran.reports
    assert rep.names == "x.log", ran.err
    assert "prepared" not in triggers(repo)


def test_a_file_changed_back_before_switch_is_named_with_what_git_destroyed(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """x.log OLD -> MINE (prepared) -> OLD, then `git switch b`: git destroyed OLD. Before:
    named from the prepared tree, and the pasted command gave MINE, which the user had
    replaced, and not OLD."""
    repo = watched_repo(tmp_path, store_dir, w, prepare=1.5, b_tracks=("x.log", "f.txt"))
    (repo / "x.log").write_bytes(MINE)
    p = prepared_with(store_dir, repo, "x.log", MINE)
    (repo / "x.log").write_bytes(OLD)
    _marked_after(store_dir, repo, p.seq, "x.log")
    ran = git(repo, "switch", "b")
    assert (repo / "x.log").read_bytes() == THEIRS
    (rep,) = ran.reports
    assert rep.names == "x.log", ran.err
    git(repo, "switch", "-q", "main")
    restore(repo, rep)
    assert (repo / "x.log").read_bytes() == OLD


def test_an_edit_the_user_deleted_before_checkout_f_is_not_named(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """a.txt (tracked) edited, prepared, then deleted; `git checkout -f b` wrote it back
    (b has the same a.txt): git destroyed x.log's MINE, not the edit. A path the checkout's
    commits do not differ at, which the tree holds otherwise than the last snapshot, counts
    too. Before: 'git checkout destroyed 1 ignored file, 1 file with uncommitted edits:
    a.txt, x.log', from the prepared tree."""
    repo = watched_repo(tmp_path, store_dir, w, prepare=1.5, b_tracks=("x.log", "f.txt"))
    _prepared_then_deleted(store_dir, repo, "a.txt")
    ran = git(repo, "checkout", "-f", "b")
    assert (repo / "a.txt").read_bytes() == b"a\n"
    (rep,) = ran.reports
    assert rep.names == "x.log", ran.err


def test_a_change_elsewhere_keeps_the_prepared_tree(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """Guard: a path the checkout does not write and the tree does not hold otherwise than
    the last snapshot, changed after the tree was prepared, does not set it aside: x.log's
    MINE is named from it."""
    repo = watched_repo(tmp_path, store_dir, w, prepare=1.5, b_tracks=("x.log", "f.txt"))
    (repo / "x.log").write_bytes(MINE)
    p = prepared_with(store_dir, repo, "x.log", MINE)
    (repo / "notes.txt").write_text("a note, written after the tree was prepared\n")
    _marked_after(store_dir, repo, p.seq, "notes.txt")
    ran = git(repo, "switch", "b")
    (rep,) = ran.reports
    assert rep.names == "x.log", ran.err
    assert "prepared" in triggers(repo)
    git(repo, "switch", "-q", "main")
    restore(repo, rep)
    assert (repo / "x.log").read_bytes() == MINE
