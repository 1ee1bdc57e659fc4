"""Review RB48 of bd48 (b970241): a boundary written before git began is not git's own lock.

post-checkout took the daemon's last boundary after the prepared tree as the moment git took
its index.lock, and dropped RW45's guard (a file the tree added, where git wrote, sets it
aside). A git that locks another file raises no boundary: `GIT_INDEX_FILE=.git/idx2 git
checkout feat` locks .git/idx2.lock (strace, git 2.39). The last boundary was then a prompt's
`git status` from before git began, and the user's `rm .env` in the same line as git, marked
by the daemon after git began (its latency: made certain here by stopping the daemon until
the hook starts), counted as git's: "git checkout destroyed .env" from the prepared tree,
though git found no .env. A boundary is git's only when written after git's process began.

Real daemon, real git and hooks; the daemon is stopped (SIGSTOP) across the line and resumed
by the post-checkout hook's first line, before the hook's sync: no timing."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from clihelpers import git
from prephelpers import MARKS
from prephelpers import prepared_with
from test_bd48_git_lock_bound import _line
from test_bd48_git_lock_bound import w  # noqa: F401  (the fixture)
from test_red48_new_ignored_prepared import MINE
from test_red48_new_ignored_prepared import THEIRS
from test_red48_new_ignored_prepared import _readme_repo
from test_watch_daemon import Watcher
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.watch import dirtyset

pytestmark = MARKS


def test_an_rm_marked_after_git_began_is_not_taken_as_gits_when_gits_lock_raised_no_boundary(
    tmp_path: Path,
    store_dir: Path,
    w: Watcher,  # noqa: F811
) -> None:
    r = _readme_repo(tmp_path, store_dir, w)
    prepared_with(store_dir, r, ".env", MINE)
    git(r, "status", "--short")  # a prompt's: a boundary after the tree, before git began
    assert dirtyset.sync(str(store_dir), str(r)), "the daemon did not sync"
    daemon = w.procs[-1].pid
    hook = r / ".git" / "hooks" / "post-checkout"
    first, _, rest = hook.read_text().partition("\n")
    hook.write_text(f"{first}\nkill -CONT {daemon}\n{rest}")
    shutil.copyfile(r / ".git" / "index", r / ".git" / "idx2")
    os.kill(daemon, signal.SIGSTOP)
    try:
        ran = _line(r, "rm .env && GIT_INDEX_FILE=.git/idx2 git checkout feat")
    finally:
        os.kill(daemon, signal.SIGCONT)
    assert ran.rc == 0, ran.err
    assert (r / ".env").read_bytes() == THEIRS
    assert ran.reports == [], ran.err  # (git found no .env: it names nothing)


def test_an_rm_marked_after_git_began_is_the_users_when_gits_own_lock_came_after_it(
    tmp_path: Path,
    store_dir: Path,
    w: Watcher,  # noqa: F811
) -> None:
    """bd48's case made certain (its tests repeat the line: the late mark is a race): the
    daemon stopped across `rm .env && git checkout feat`, so the rm is marked after git
    began; git's own index.lock, queued after the rm, is the last boundary: the rm is the
    user's, nothing is named."""
    r = _readme_repo(tmp_path, store_dir, w)
    prepared_with(store_dir, r, ".env", MINE)
    git(r, "status", "--short")  # (a prompt's boundary before it too)
    assert dirtyset.sync(str(store_dir), str(r)), "the daemon did not sync"
    daemon = w.procs[-1].pid
    hook = r / ".git" / "hooks" / "post-checkout"
    first, _, rest = hook.read_text().partition("\n")
    hook.write_text(f"{first}\nkill -CONT {daemon}\n{rest}")
    os.kill(daemon, signal.SIGSTOP)
    try:
        ran = _line(r, "rm .env && git checkout feat")
    finally:
        os.kill(daemon, signal.SIGCONT)
    assert ran.rc == 0, ran.err
    assert (r / ".env").read_bytes() == THEIRS
    assert ran.reports == [], ran.err
