"""Red team of 48c7dfb (files with other names, by name): a link made in a folder already
known to hold one.

The daemon publishes, per linked folder, the names of its files with other names, and
post-checkout sets the prepared tree aside when a path git wrote is one of them. A marked
entry's lstat adds its name (new_links), but a link made in the worktree (`ln a b`) raises an
event for the new name b alone: a's link count (and ctime) moves with no event in its folder.
In a folder not known linked that asks for a look at every folder (look_pending), which finds
a; in one already linked it asked for none, so a was not among the names until the periodic
look (up to 300 s in a big worktree): a write through b after the tree, then git writing a,
named a from the tree, a version the user no longer had (before 48c7dfb the folder counted
whole)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import put_venv_on_path
from hookhelpers import snaps
from prephelpers import past_a_tick
from test_pl48_look_explained import _daemon
from test_pl48_look_explained import _git_beside
from test_pl48_look_explained import _look_now
from test_pl48_look_explained import _read
from test_red48_new_ignored_prepared import env_repo
from test_s51_hardlink_env import MINE
from test_s51_hardlink_env import NEVER
from test_s51_hardlink_env import _link
from test_s51_hardlink_env import _linked
from test_s51_hardlink_env import _prepared_now

from git_snapshot.watch import config as wconfig

INOTIFY = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)
NEWER = b"SECRET=newer, through the link made in the worktree\n"


@INOTIFY
@pytest.mark.parametrize("where", ["same folder", "other linked folder"])
def test_a_link_made_in_a_linked_folder_names_the_file_it_links(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The top folder linked (lib.so, its other name outside) and named; .env new, its tree
    prepared; then `ln .env copy` in the worktree (an event for copy alone) and a write
    through copy; git checkout feat writes .env. The tree's .env (MINE) is not what git
    found: it is set aside, nothing named from it (NEWER lives on at copy)."""
    put_venv_on_path(monkeypatch)
    r = env_repo(tmp_path, store_dir)
    _link(r, "outside")
    if where == "other linked folder":
        (r / "sub").mkdir()
        (r / "sub" / "x").write_text("x\n")
        os.link(r / "sub" / "x", tmp_path / "x-outside")
        copy = r / "sub" / "copy"
    else:
        copy = r / "copy"
    cfg = wconfig.WatchConfig(quiet=NEVER, max_delay=NEVER, prepare=0.1)
    with _daemon(store_dir, r, cfg) as d:
        (r / ".env").write_bytes(MINE)
        _read(d)
        _look_now(d, r)
        assert _linked(store_dir, r)[b""] == frozenset({b"lib.so"})  # (the case tested)
        _prepared_now(d, store_dir, r, ".env", MINE)
        # (a look at every folder just made: the next is not due within LOOK_ALL_S, as in
        # a busy worktree; the hook's sync asks for it, after git wrote)
        d.trees[str(r)].ws.looked_at = time.monotonic()
        os.link(r / ".env", copy)
        _read(d)
        copy.write_bytes(NEWER)
        _read(d)
        d.flush_marks()
        past_a_tick()
        ran = _git_beside(d, r, "checkout", "feat")
    assert ran.reports == [], ran.err  # (was: .env named from the tree, MINE)
    assert "prepared" not in {s["trigger"] for s in snaps(r)}
    assert copy.read_bytes() == NEWER
    git(r, "switch", "-q", "main")
