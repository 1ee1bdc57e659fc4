"""Where git began, in the daemon's order of events (bd48): a new ignored file git overwrote
is named from the watcher's prepared tree, and one the user deleted or rewrote in the same
shell line as git is not.

The README's case (tests/test_red48_new_ignored_prepared.py, wt48): main ignores .env, feat
tracks one; a NEW .env (SECRET=mine) written 0.5-2.5 s before `git checkout feat` was in a
prepared tree, but post-checkout set aside any prepared tree holding a file the last snapshot
lacks where git wrote (RW45): `rm f && git checkout -f B` in ONE line, f made since the
snapshot and prepared, B tracking f, may have its rm marked by the daemon after git began
(its latency; /proc's start time is truncated to a tick), and f was named as destroyed
though the user deleted it. The daemon now watches each worktree's git dir for index.lock
(git checkout/switch take it before writing any worktree file) and records a boundary in
the same sequence as its marks; post-checkout, once synced, takes the last boundary after
the tree: every mark up to it is the user's (set aside where it meets git's writes or the
tree's changes), every later one git's. With no boundary known (an older daemon), the old
rules hold exactly.

Each shell-line case runs its line several times (the window is milliseconds); no sleeps
are asserted on."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from conftest import init_repo
from hookhelpers import by_id
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import triggers
from prephelpers import MARKS
from prephelpers import NEVER
from prephelpers import OLD
from prephelpers import prepared_with
from prephelpers import watched_repo
from test_red48_new_ignored_prepared import MINE
from test_red48_new_ignored_prepared import THEIRS
from test_red48_new_ignored_prepared import _readme_repo
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.watch import dirtyset

pytestmark = MARKS
ROUNDS = 4


@pytest.fixture
def w(watcher: Watcher, monkeypatch: pytest.MonkeyPatch) -> Watcher:  # noqa: F811
    put_venv_on_path(monkeypatch)
    monkeypatch.delenv("GIT_OPTIONAL_LOCKS", raising=False)  # (a prompt's git status locks)
    return watcher


def _line(r: Path, line: str) -> Ran:
    """*line* run by sh in *r*: its commands one after the other, as typed."""
    return run(r, "sh", "-c", line)


def _named_bytes(r: Path, ran: Ran, rel: str) -> list[bytes]:
    """The bytes of *rel* in each snapshot a report of *ran* names it from."""
    return [
        gs(r, "cat", f"{rep.snap}:{rel}").encode()
        for rep in ran.reports
        if rel in rep.names.split(", ")
    ]


def _bounded(store_dir: Path, r: Path) -> None:
    """The daemon watches *r*'s git dir in its epoch and recorded git's locks (the case
    above went through the boundary, not the rules without one)."""
    con = sqlite3.connect(dirtyset.journal_path(str(store_dir), str(r)))
    try:
        (epoch,) = con.execute("SELECT epoch FROM state").fetchone()
        assert con.execute("SELECT epoch FROM lockwatch").fetchone() == (epoch,)
        assert con.execute("SELECT 1 FROM bounds WHERE epoch = ?", (epoch,)).fetchone()
    finally:
        con.close()


def _again(store_dir: Path, r: Path) -> None:
    """Back on main (feat's .env goes with feat), then a new .env (MINE), prepared."""
    git(r, "switch", "-q", "main")
    assert not (r / ".env").exists()
    (r / ".env").write_bytes(MINE)
    prepared_with(store_dir, r, ".env", MINE)


def test_a_new_env_deleted_in_the_same_line_as_checkout_is_never_named(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """`rm .env && git checkout feat` in one line, .env new since the last snapshot and in
    the prepared tree: git found nothing there; no line names it (RW45's false line)."""
    r = _readme_repo(tmp_path, store_dir, w)
    prepared_with(store_dir, r, ".env", MINE)
    for i in range(ROUNDS):
        if i:
            _again(store_dir, r)
        ran = _line(r, "rm .env && git checkout feat")
        assert (r / ".env").read_bytes() == THEIRS
        assert ran.reports == [], ran.err
        assert "prepared" not in triggers(r)
    _bounded(store_dir, r)


def test_a_new_env_rewritten_in_the_same_line_as_checkout_is_not_named_with_the_tree(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """`printf other > .env && git checkout feat`: git destroyed "other", never MINE (the
    prepared tree's bytes): a line naming .env names what git found, or none names it."""
    r = _readme_repo(tmp_path, store_dir, w)
    prepared_with(store_dir, r, ".env", MINE)
    for i in range(ROUNDS):
        if i:
            _again(store_dir, r)
        ran = _line(r, "printf other > .env && git checkout feat")
        assert (r / ".env").read_bytes() == THEIRS
        assert all(got == b"other" for got in _named_bytes(r, ran, ".env")), ran.err
    _bounded(store_dir, r)


def test_a_prompts_git_status_between_the_tree_and_the_rm_changes_nothing(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """A prompt's `git status` (it takes index.lock: a boundary of its own) after the tree
    was prepared and before `rm .env && git checkout feat`: the rm lies after that boundary,
    before git's own, the last one; still not named."""
    r = _readme_repo(tmp_path, store_dir, w)
    prepared_with(store_dir, r, ".env", MINE)
    for i in range(ROUNDS):
        if i:
            _again(store_dir, r)
        git(r, "status", "--short")
        assert dirtyset.sync(str(store_dir), str(r)), "the daemon did not sync"
        ran = _line(r, "rm .env && git checkout feat")
        assert ran.reports == [], ran.err
        assert "prepared" not in triggers(r)
    _bounded(store_dir, r)


def test_an_existing_file_deleted_in_the_same_line_as_switch_is_not_named_from_the_tree(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """x.log in the last snapshot (OLD), rewritten (MINE) and prepared, then `rm x.log &&
    git switch b` in one line: git found no x.log. RW45's residual (README: deleted less
    than ~10 ms before git began, named with the prepared tree's MINE) is closed: the rm is
    before git's index.lock. A line may still name the last snapshot's OLD ("an earlier
    version"), never MINE."""
    repo = watched_repo(tmp_path, store_dir, w, prepare=0.1, b_tracks=("x.log",))
    for i in range(ROUNDS):
        if i:
            git(repo, "switch", "-q", "main")
            (repo / "x.log").write_bytes(OLD)
            gs(repo, "create", "-m", "x.log holds OLD")
        (repo / "x.log").write_bytes(MINE)
        prepared_with(store_dir, repo, "x.log", MINE)
        ran = _line(repo, "rm x.log && git switch b")
        assert all(got == OLD for got in _named_bytes(repo, ran, "x.log")), ran.err
        assert "prepared" not in triggers(repo)


def _drop_bounds(store_dir: Path, r: Path) -> None:
    """The dirty set as an older daemon keeps it: no boundary, no git dir said watched."""
    con = sqlite3.connect(dirtyset.journal_path(str(store_dir), str(r)))
    try:
        con.execute("DROP TABLE IF EXISTS lockwatch")
        con.execute("DROP TABLE IF EXISTS bounds")
        con.commit()
    finally:
        con.close()


def test_without_a_boundary_a_new_file_where_git_wrote_is_set_aside(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """An older daemon's dirty set (no boundary rows, no git dir watched): the rules before,
    exactly; the prepared tree holding the new .env is set aside (RW45's guard), as the
    marks' times alone cannot tell an rm a moment before git from git's own."""
    r = _readme_repo(tmp_path, store_dir, w)
    prepared_with(store_dir, r, ".env", MINE)
    _drop_bounds(store_dir, r)
    ran = git(r, "checkout", "feat")
    assert (r / ".env").read_bytes() == THEIRS
    assert ran.reports == [], ran.err
    assert "prepared" not in triggers(r)


def test_a_new_ignored_env_in_a_linked_worktree_is_named(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    """The README's case in a linked worktree, whose index.lock is in its own git dir
    (.git/worktrees/X): named from the prepared tree, restored byte for byte."""
    config(watchQuiet=NEVER, watchMaxDelay=NEVER, watchPrepare=0.1)
    main = Path(os.path.realpath(init_repo(tmp_path / "main")))
    (main / ".gitignore").write_text(".env\n")
    (main / "a.txt").write_text("a\n")
    git(main, "add", ".")
    git(main, "commit", "-q", "-m", "init")
    git(main, "switch", "-q", "-c", "feat")
    (main / ".env").write_bytes(THEIRS)
    git(main, "add", "-f", ".env")
    git(main, "commit", "-q", "-m", "feat tracks .env")
    git(main, "switch", "-q", "main")
    lw = tmp_path / "linked"
    git(main, "worktree", "add", "-q", "-b", "side", str(lw), "main")
    lw = Path(os.path.realpath(lw))
    assert (lw / ".git").is_file()
    ran = gs(lw, "install", GIT_SNAPSHOT_WATCH="0")
    assert "reference-transaction: installed" in ran.out + ran.err, ran
    gs(lw, "create", "-m", "before .env")
    add(store_dir, lw)
    w.start()
    w.watching(lw)
    (lw / ".env").write_bytes(MINE)
    prepared_with(store_dir, lw, ".env", MINE)
    ran = git(lw, "checkout", "feat")
    assert (lw / ".env").read_bytes() == THEIRS
    (rep,) = ran.reports
    assert rep.names == ".env", ran.err
    assert by_id(lw, rep.snap)["trigger"] == "prepared"
    git(lw, "switch", "-q", "side")
    restore(lw, rep)
    assert (lw / ".env").read_bytes() == MINE
