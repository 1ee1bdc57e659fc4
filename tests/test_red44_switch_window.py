"""An ignored file rewritten just before `git switch B` (B tracks it), the watcher running
(RED44 F6).

The snapshot before the switch was the watcher's, taken snapshot.watchQuiet (3 s) after the
last change: an ignored file rewritten less than that before the switch was named with the
version that snapshot holds, the one before the user's (the pasted command gave it back),
and one made anew was named by nothing (red44's repro/checkout_window.sh). The watcher's
worker had prepared a tree holding the new bytes (snapshot.watchPrepare, 0.1 s after the
write: watch/prep.py), its objects stored, but no snapshot named it. The post-checkout hook
now commits the newest prepared tree recorded before the git command began (each one is
logged with the time it was done), built on the last snapshot, as a snapshot of its own
(trigger "prepared") when it holds another version than that snapshot of a path the
checkout wrote; the report names the file from it. (A merge needs none: its
reference-transaction hook takes a snapshot before it writes.)

Only a tree the worker prepared (a .env made anew, which changes git's ignored answer, is
prepared since session 48: tests/test_red48_new_ignored_prepared.py). Here x.log is ignored
and was in the snapshot before, with other bytes.

Deterministic: the daemon's own snapshot never comes (watchQuiet an hour), and the test
waits for the prepared tree holding what it wrote before it runs git (no timing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import by_id
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import triggers
from prephelpers import MARKS
from prephelpers import MINE
from prephelpers import THEIRS
from prephelpers import prepared_with
from prephelpers import watched_repo
from test_watch_daemon import Watcher
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

pytestmark = MARKS


@pytest.fixture
def w(watcher: Watcher, monkeypatch: pytest.MonkeyPatch) -> Watcher:  # noqa: F811
    put_venv_on_path(monkeypatch)
    return watcher


def test_an_ignored_file_rewritten_just_before_switch_is_named(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """Before: named from the snapshot before, with OLD; the pasted command gave OLD back."""
    repo = watched_repo(tmp_path, store_dir, w, prepare=0.1, c_adds=True)
    (repo / "x.log").write_bytes(MINE)
    (repo / "x.log").chmod(0o600)
    prepared_with(store_dir, repo, "x.log", MINE)
    ran = git(repo, "switch", "b")
    assert (repo / "x.log").read_bytes() == THEIRS
    (rep,) = ran.reports
    assert rep.names == "x.log", ran.err
    assert by_id(repo, rep.snap)["trigger"] == "prepared"  # (the worker's tree, committed)
    git(repo, "switch", "-q", "main")  # (x.log tracked on b: away with b's version)
    restore(repo, rep)
    assert (repo / "x.log").read_bytes() == MINE
    assert (repo / "x.log").stat().st_mode & 0o777 == 0o600
    gs(repo, "verify", "--read-data")


def test_an_ignored_file_rewritten_just_before_a_merge_is_named(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """No window here (passed before too): a merge's reference-transaction hook takes its
    snapshot before the merge writes the worktree."""
    repo = watched_repo(tmp_path, store_dir, w, prepare=0.1, c_adds=True)
    (repo / "x.log").write_bytes(MINE)
    prepared_with(store_dir, repo, "x.log", MINE)
    ran = git(repo, "merge", "-q", "--ff-only", "b")
    assert (repo / "x.log").read_bytes() == THEIRS
    (rep,) = ran.reports
    assert rep.names == "x.log", ran.err
    git(repo, "rm", "-q", "--cached", "x.log")
    restore(repo, rep)
    assert (repo / "x.log").read_bytes() == MINE


def test_a_file_the_user_made_what_git_writes_is_not_named(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """The user rewrote x.log with b's bytes (MINE, then THEIRS) before the switch: git
    destroyed nothing. Before: OLD, which the user had replaced, was named as destroyed."""
    repo = watched_repo(tmp_path, store_dir, w, prepare=0.1, c_adds=True)
    (repo / "x.log").write_bytes(MINE)
    prepared_with(store_dir, repo, "x.log", MINE)
    (repo / "x.log").write_bytes(THEIRS)
    prepared_with(store_dir, repo, "x.log", THEIRS)
    ran = git(repo, "switch", "b")
    assert not ran.reports, ran.err


def test_a_prepared_tree_git_wrote_nothing_over_is_not_committed(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """The usual hook: changes the watcher prepared, none where the switch writes. Nothing
    is named and no snapshot but the hook's own is added."""
    repo = watched_repo(tmp_path, store_dir, w, prepare=0.1, c_adds=True)
    (repo / "notes.txt").write_text("an untracked note, not on c either\n")
    prepared_with(store_dir, repo, "notes.txt", b"an untracked note, not on c either\n")
    ran = git(repo, "switch", "c")
    assert not ran.reports, ran.err
    assert "prepared" not in triggers(repo)
