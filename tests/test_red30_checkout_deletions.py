"""RED30 (redA 1 and 2): what a checkout deletes without moving HEAD, and what `git restore
--source` writes over an untracked or ignored file while the watcher runs.

A post-checkout hook compares only the paths the command wrote (modified since it started,
holding content git has). A path it deleted has no mtime: `checkout -f`, `switch
--discard-changes` (same commit) and `restore --staged --worktree .` deleting a staged new
file, `restore --source=REV dir` / `checkout --no-overlay REV -- dir` deleting a tracked file
REV lacks with its uncommitted edit, `restore --source=B conf` replacing an untracked folder
conf/ by B's file conf were never named; nor, with the watcher, a file `restore --source`
wrote over an untracked or ignored one (the watched hook took "untracked after the command"
as "not written by it", which holds for a branch switch, not for a restore without
--staged). Now a path gone whose nearest folder the command wrote is named when git can have
deleted it (tracked, or staged since the snapshot); one under a file the command wrote over
its folder is named too. What the user deleted before the command is not.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import side_commit
from hookhelpers import write
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import paths_in
from test_watch_daemon import settled
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.store import Snapshot
from git_snapshot.watch import instance


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b"*.log\n")
    commit(repo, "a.txt", b"committed a\n")
    install(repo)
    return repo


def _lost(repo: Path) -> list[list[str]]:
    import json

    return [[x["path"] for x in e["lost"]] for e in json.loads(gs(repo, "losses", "--json"))]


# --------------------------------------------------------------------------- staged new files


@pytest.mark.parametrize(
    "cmd",
    [
        ["checkout", "-f", "main"],
        ["switch", "--discard-changes", "main"],
        ["restore", "--staged", "--worktree", "."],
        ["checkout", "-f"],
    ],
)
@pytest.mark.parametrize("add", [["add"], ["add", "-N"]], ids=["add", "add -N"])
def test_a_staged_new_file_deleted_without_moving_head_is_named(
    hooked: Path, cmd: list[str], add: list[str]
) -> None:
    r = hooked
    write(r / "sub" / "new.txt", b"MY NEW FILE\n")
    write(r / "top-new.txt", b"MY OTHER NEW FILE\n")
    git(r, *add, "sub/new.txt", "top-new.txt")
    write(r / "a.txt", b"edit a\n")
    gs(r, "create")
    ran = git(r, *cmd)
    assert not (r / "sub").exists() and not (r / "top-new.txt").exists()
    (rep,) = ran.reports
    assert rep.names == "a.txt, sub/new.txt, top-new.txt", ran.said
    restore(r, rep)
    assert (r / "sub" / "new.txt").read_bytes() == b"MY NEW FILE\n"
    assert (r / "top-new.txt").read_bytes() == b"MY OTHER NEW FILE\n"


# --------------------------------------------------------------------------- restore --source


@pytest.mark.parametrize(
    "cmd",
    [
        ["restore", "--source=HEAD~1", "dir"],
        ["checkout", "--no-overlay", "HEAD~1", "--", "dir"],
        ["restore", "--source=HEAD~1", "--staged", "--worktree", "."],
    ],
)
def test_a_tracked_file_the_source_lacks_is_named_with_its_edit(
    hooked: Path, cmd: list[str]
) -> None:
    r = hooked
    commit(r, "dir/y", b"y\n")
    commit(r, "dir/x", b"x\n")  # HEAD~1 lacks dir/x
    write(r / "dir" / "x", b"MY UNCOMMITTED EDIT\n")
    gs(r, "create")
    ran = git(r, *cmd)
    assert not (r / "dir" / "x").exists()
    (rep,) = ran.reports
    assert rep.names == "dir/x", ran.said
    restore(r, rep)
    assert (r / "dir" / "x").read_bytes() == b"MY UNCOMMITTED EDIT\n"


def test_a_tracked_file_the_source_lacks_without_an_edit_is_no_loss(hooked: Path) -> None:
    r = hooked
    commit(r, "dir/y", b"y\n")
    commit(r, "dir/x", b"x\n")
    write(r / "dir" / "y", b"edit y\n")
    gs(r, "create")
    ran = git(r, "restore", "--source=HEAD~1", "dir")
    assert not (r / "dir" / "x").exists()
    (rep,) = ran.reports
    assert rep.names == "dir/y", ran.said  # dir/x: HEAD holds it


# --------------------------------------------------------------------------- a folder replaced


@pytest.mark.parametrize("how", ["restore", "checkout"])
def test_an_untracked_folder_a_checked_out_file_replaces_is_named(hooked: Path, how: str) -> None:
    r = hooked
    side_commit(r, "B", {"conf": b"conf of B\n"})
    write(r / "conf" / "local", b"MY LOCAL SETTINGS\n")
    write(r / "conf" / "deep" / "more.log", b"MY IGNORED NOTES\n")
    gs(r, "create")
    cmd = ["restore", "--source=B", "conf"] if how == "restore" else ["checkout", "B", "--", "conf"]
    ran = git(r, *cmd)
    assert (r / "conf").is_file()
    (rep,) = ran.reports
    assert rep.names == "conf/deep/more.log, conf/local", ran.said
    restore(r, rep)
    assert (r / "conf" / "local").read_bytes() == b"MY LOCAL SETTINGS\n"
    assert (r / "conf" / "deep" / "more.log").read_bytes() == b"MY IGNORED NOTES\n"


def test_an_untracked_file_a_checked_out_folder_replaces_is_named(hooked: Path) -> None:
    r = hooked
    side_commit(r, "B", {"d/x": b"x of B\n"})
    write(r / "d", b"MY UNTRACKED FILE\n")
    gs(r, "create")
    ran = git(r, "restore", "--source=B", "d")
    assert (r / "d").is_dir()
    (rep,) = ran.reports
    assert rep.names == "d", ran.said
    restore(r, rep)
    assert (r / "d").read_bytes() == b"MY UNTRACKED FILE\n"


# --------------------------------------------------------------------------- no false alarms


def test_what_the_user_deleted_before_the_checkout_is_not_named(hooked: Path) -> None:
    """Untracked files the snapshot before holds that the user removed (a scratch file, a
    backup copy of a committed file git holds the bytes of) before a `checkout -f` that
    writes in the same folder: only the edit the checkout discarded is named."""
    r = hooked
    write(r / "scratch.txt", b"MY SCRATCH\n")
    write(r / "a.txt.bak", b"committed a\n")  # the bytes of a committed file
    write(r / "a.txt", b"edit a\n")
    time.sleep(0.1)  # (the objects git wrote above are older than the snapshot)
    gs(r, "create")
    os.unlink(r / "scratch.txt")
    os.unlink(r / "a.txt.bak")
    time.sleep(0.1)
    ran = git(r, "checkout", "-f")
    (rep,) = ran.reports
    assert rep.names == "a.txt", ran.said
    assert _lost(r) == [["a.txt"]]


def test_a_staged_file_the_user_deleted_a_plain_switch_keeps_is_not_named(
    hooked: Path,
) -> None:
    r = hooked
    write(r / "staged.txt", b"STAGED\n")
    git(r, "add", "staged.txt")
    gs(r, "create")
    os.unlink(r / "staged.txt")
    side_commit(r, "other", {"b.txt": b"b\n"})
    ran = git(r, "checkout", "other")  # writes b.txt beside it; the index keeps staged.txt
    assert (r / "b.txt").exists()
    assert ran.reports == [], ran.said


def test_a_staged_file_deleted_by_the_user_and_kept_in_the_index_is_not_named(
    hooked: Path,
) -> None:
    r = hooked
    write(r / "new.txt", b"STAGED\n")
    git(r, "add", "new.txt")
    write(r / "a.txt", b"edit a\n")
    gs(r, "create")
    os.unlink(r / "new.txt")
    ran = git(r, "restore", "a.txt")  # the index keeps new.txt: git gives it back
    (rep,) = ran.reports
    assert rep.names == "a.txt", ran.said


# --------------------------------------------------------------------------- with the watcher


@pytest.fixture
def watched(
    hooked: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Path, Watcher]:
    monkeypatch.delenv(instance.ENV_AUTOSTART, raising=False)
    # a quiet period no git command here waits out: the snapshot before it is the one the
    # test waited for (settled), not one taken of what the test did right before it
    config(watchQuiet=2)
    r = Path(os.path.realpath(hooked))
    add(store_dir, r)
    watcher.start()
    watcher.watching(r)
    return r, watcher


def _settled(w: Watcher, r: Path, *names: str) -> Snapshot:
    """The watcher's snapshot holding *names*, once it has nothing left to do."""
    wait_for(
        lambda: (snaps := watch_snaps(r)) and set(names) <= paths_in(snaps[-1]),
        what=f"a watch snapshot holding {names}",
    )
    return settled(w, r)


def test_watched_restore_source_over_untracked_and_ignored_files_is_named(
    watched: tuple[Path, Watcher],
) -> None:
    r, w = watched
    side_commit(r, "B", {"u.txt": b"u of B\n", "x.log": b"log of B\n"})
    write(r / "u.txt", b"MY UNTRACKED\n")
    write(r / "x.log", b"MY IGNORED\n")
    snap = _settled(w, r, "u.txt", "x.log")
    ran = git(r, "restore", "--source=B", "u.txt", "x.log")
    assert (r / "u.txt").read_bytes() == b"u of B\n"
    (rep,) = ran.reports
    assert (rep.names, rep.snap) == ("u.txt, x.log", snap.id), ran.said
    restore(r, rep)
    assert (r / "u.txt").read_bytes() == b"MY UNTRACKED\n"
    assert (r / "x.log").read_bytes() == b"MY IGNORED\n"


def test_watched_checkout_f_names_a_file_staged_after_the_watch_snapshot(
    watched: tuple[Path, Watcher],
) -> None:
    """`git add` changes no file: the watcher's snapshot (before the add) labels the new file
    untracked. Its blob, written by the add since, says it was staged; the user's own
    deletion of an untracked file just before (in the snapshot, gone) is not named."""
    r, w = watched
    write(r / "new.txt", b"MY NEW FILE\n")
    write(r / "scratch.txt", b"MY SCRATCH\n")
    write(r / "a.txt", b"edit a\n")
    snap = _settled(w, r, "new.txt", "scratch.txt")
    git(r, "add", "new.txt")
    os.unlink(r / "scratch.txt")
    ran = git(r, "checkout", "-f")
    assert not (r / "new.txt").exists()
    (rep,) = ran.reports
    assert (rep.names, rep.snap) == ("a.txt, new.txt", snap.id), ran.said
    restore(r, rep)
    assert (r / "new.txt").read_bytes() == b"MY NEW FILE\n"
