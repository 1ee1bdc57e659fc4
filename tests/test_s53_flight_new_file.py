"""F1 (s52, findlosses._began_before_tree / _written_after) with a file the prepared tree
does not hold.

A `git snapshot` by hand whose walk began before the watcher's prepared tree was done,
committed after git began (passed over by _prepared_before's `later`, in flight), names only
what it read written after the tree's version (by mtime). A file the tree lacks, made after
the tree was done and before git began (a new ignored .env, its creation marked only after
git began: taken as git's write, the tree still committed), read by that snapshot: there is
no tree version to compare, and it was dropped, so .env was named by nothing while that
snapshot held it. Written after the tree was done, it is named from that snapshot; one the
tree lacks because it was deleted before the tree was done (read before that) is older than
the tree and still left out.

The worker and the held post-checkout are test_s52_red_flight_versions'. No timing decides
an outcome."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import by_id
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import snaps
from prephelpers import past_a_tick
from test_pl48_look_explained import _daemon
from test_pl48_look_explained import _prepared
from test_pl48_look_explained import _read
from test_s51_watch_snapshot_as_git_began import CFG
from test_s51_watch_snapshot_as_git_began import INOTIFY
from test_s51_watch_snapshot_as_git_began import MINE
from test_s51_watch_snapshot_as_git_began import _checkout_with_watch_snapshot
from test_s52_red_flight_versions import NEWEST
from test_s52_red_flight_versions import _Recorded
from test_watch_daemon import add

THEIRS = b"SECRET=feat's\n"


def _two_env_repo(tmp_path: Path, store_dir: Path) -> Path:
    """main ignores *.env, feat tracks .env and b.env; the hooks installed, a snapshot
    without either, the repository added to the watched ones."""
    r = Path(os.path.realpath(init_repo(tmp_path / "wt")))
    (r / ".gitignore").write_text("*.env\n")
    (r / "a.txt").write_text("a\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "init")
    git(r, "switch", "-q", "-c", "feat")
    (r / ".env").write_bytes(THEIRS)
    (r / "b.env").write_bytes(THEIRS)
    git(r, "add", "-f", ".env", "b.env")
    git(r, "commit", "-q", "-m", "feat tracks .env and b.env")
    git(r, "switch", "-q", "main")
    ran = gs(r, "install", GIT_SNAPSHOT_WATCH="0")
    assert "reference-transaction: installed" in ran.out + ran.err, ran
    gs(r, "create", "-m", "before")
    add(store_dir, r)
    return r


@INOTIFY
@pytest.mark.parametrize("made", ["after", "before"], ids=["made-after-it", "deleted-before-it"])
def test_a_new_file_the_tree_lacks_read_by_a_snapshot_begun_before_it_is_named(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, made: str
) -> None:
    """b.env (SECRET=mine) in the prepared tree; .env made after the tree was done, before
    git began (NEWEST), read by a `git snapshot` whose walk began before the tree, committed
    after git's first tick; `git checkout feat` writes both. b.env is named from the tree,
    .env from that snapshot, and its restore gives NEWEST back. Was: .env named by nothing.
    Its mtime before that snapshot's walk began instead (read before the tree, deleted
    before the tree was done: git wrote where nothing was): b.env alone is named."""
    put_venv_on_path(monkeypatch)
    r = _two_env_repo(tmp_path, store_dir)
    rec = _Recorded(monkeypatch, tmp_path / "worker")
    with _daemon(store_dir, r, CFG) as d:
        rec.walked = time.time() - 0.5  # (before the tree)
        rec.after, rec.trigger = 0.05, "create"  # (committed after git's first tick)
        (r / "b.env").write_bytes(MINE)
        _read(d)
        _prepared(d, store_dir, r, "b.env", MINE)
        # (.env's making: after the tree, before git began; or before that walk began)
        rec.mtime = time.time() if made == "after" else rec.walked - 1.0
        past_a_tick()
        ran, late, _ = _checkout_with_watch_snapshot(d, r, half=NEWEST, snap=rec.snap)
    assert gs(r, "cat", f"{late}:.env").out.encode() == NEWEST
    (tree,) = [s["id"] for s in snaps(r) if s["trigger"] == "prepared"]
    assert by_id(r, late)["trigger"] == "create" and late < tree
    assert gs(r, "cat", f"{tree}:.env", rc=None).rc != 0  # (the tree lacks it)
    got = sorted((rep.names, rep.snap) for rep in ran.reports)
    if made == "before":
        assert got == [("b.env", tree)], ran.err
        return
    assert got == sorted([(".env", late), ("b.env", tree)]), ran.err
    git(r, "switch", "-q", "main")
    (rep,) = [rep for rep in ran.reports if rep.snap == late]
    restore(r, rep)
    assert (r / ".env").read_bytes() == NEWEST
