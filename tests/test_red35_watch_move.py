"""RED35 M1: a file moved inside the worktree while the watcher runs is no deletion.

inotify says a rename as IN_MOVED_FROM (the old name) and IN_MOVED_TO (the new one), paired by
a cookie. The watcher fed the old name to the burst detector as deleted and dropped the
cookie, so any burst that took it in (an rm -rf within the window, a `mv` of many files)
named the old name as lost, from a snapshot that holds it under that name: "z/X.txt was
deleted ... an earlier version ... is in snapshot 1", while the file lived on under its new
name, on disk or in a newer snapshot (the rebuild race of RED34 A5: the snapshot taken as it
moved holds it under the new name only). Following that advice restores an old version.

Now the source keeps the cookie, the watch set pairs the two, and the detector knows the old
name's content went to the new one: the old name is named only when that content is neither
on disk under the new name nor in the snapshot that names the new name's loss (moved, then
the new place deleted before any snapshot saw it: the old name is all a snapshot holds of
it, and is named, as before). A move out of the worktree is still a deletion."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import settled
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.store import Snapshot

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)
MANY = 120  # over snapshot.burstFiles (100): a `mv` of them alone opens a burst


def _named(entries: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((x["path"], e["snapshot"]) for e in entries for x in e.get("lost", []))


def _recorded(w: Watcher, repo: Path) -> list[dict[str, Any]]:
    wait_for(w.bursts, timeout=90, what="the burst recorded")
    entries: list[dict[str, Any]] = json.loads(gs(repo, "losses", "--json"))
    return entries


def _run(repo: Path, *argv: str) -> None:
    subprocess.run(list(argv), cwd=repo, check=True)


def _started(w: Watcher, repo: Path) -> Snapshot:
    """d1/ (one.txt and MANY m*.txt), d2/keep.txt, d3/ (3 files) saved by the watcher."""
    for d in ("d1", "d2", "d3"):
        (repo / d).mkdir()
    (repo / "d1" / "one.txt").write_text("one, the user's work\n")
    for i in range(MANY):
        (repo / "d1" / f"m{i}.txt").write_text(f"m{i}\n")
    (repo / "d2" / "keep.txt").write_text("keep\n")
    for i in range(3):
        (repo / "d3" / f"t{i}.txt").write_text(f"t{i}\n")
    time.sleep(2.5)  # settled: the first snapshot's walk finds no folder changing
    add(w.store, repo)
    w.start()
    w.watching(repo)
    return settled(w, repo)


D3 = ["d3/t0.txt", "d3/t1.txt", "d3/t2.txt"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "act",
    [
        ["mv", "d1/one.txt", "d2/one.txt"],
        ["sh", "-c", "mv d1/m*.txt d2/"],
        ["mv", "d1", "d2/d1"],
    ],
    ids=["one file", "many files", "a folder"],
)
def test_files_moved_inside_the_worktree_are_no_loss(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    act: list[str],
) -> None:
    """A move, then an rm -rf of another folder within the burst's window: the burst names
    what the rm -rf deleted, nothing moved."""
    repo = make_repo(tmp_path)
    first = _started(watcher, repo)
    _run(repo, *act)
    _run(repo, "rm", "-rf", "d3")
    entries = _recorded(watcher, repo)
    assert _named(entries) == [(p, first.id) for p in D3], entries


@pytest.mark.slow
def test_files_moved_out_of_the_worktree_are_still_deleted(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path)
    first = _started(watcher, repo)
    out = tmp_path / "elsewhere"
    out.mkdir()
    _run(repo, "sh", "-c", f"mv d1/m*.txt {out}/")
    entries = _recorded(watcher, repo)
    assert _named(entries) == sorted((f"d1/m{i}.txt", first.id) for i in range(MANY)), entries


@pytest.mark.slow
@pytest.mark.parametrize("saved", [True, False], ids=["saved there", "not saved there"])
@pytest.mark.parametrize(
    "act",
    [["mv", "d1/one.txt", "d2/one.txt"], ["mv", "d1", "d2/d1"]],
    ids=["a file", "a folder"],
)
def test_the_new_place_deleted_is_named_from_the_snapshot_that_holds_it(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    act: list[str],
    saved: bool,
) -> None:
    """A move, then (a snapshot of the new place, or not) an rm -rf of the new place: its
    content is named once, from the newest snapshot holding it, under the name that snapshot
    holds it by; undo gives it back there."""
    config(burstSeconds=12)  # the move is in the window of the rm -rf, however slow the snapshot
    repo = make_repo(tmp_path)
    first = _started(watcher, repo)
    _run(repo, *act)
    snap = first
    if saved:
        wait_for(lambda: watch_snaps(repo)[-1].id != first.id, what="a watch snapshot")
        snap = settled(watcher, repo)
    _run(repo, "rm", "-rf", "d2")
    entries = _recorded(watcher, repo)
    named = _named(entries)
    where = "d2/" if saved else ""
    one = f"{where}d1/one.txt" if act[1] == "d1" else ("d2/one.txt" if saved else "d1/one.txt")
    assert (one, snap.id) in named, entries
    assert ("d2/keep.txt", snap.id) in named, entries
    assert len({p for p, _ in named}) == len(named), entries  # one entry a path
    others = [p for p, _ in named if p not in (one, "d2/keep.txt")]
    if act[1] == "d1":  # (the folder: all it held, under the name the snapshot holds)
        assert sorted(others) == sorted(f"{where}d1/m{i}.txt" for i in range(MANY)), entries
    else:
        assert others == [], entries
    for e in entries:
        assert not e.get("maybe_older"), e
    gs(repo, "undo")
    assert (repo / one).read_text() == "one, the user's work\n"


def _item(paths: dict[str, tuple[str, float]], ended: float, **extra: Any) -> dict[str, Any]:
    """A burst as the daemon hands it to its recorder (daemon._burst_json)."""
    return {
        "paths": list(paths),
        "started": min(t for _, t in paths.values()),
        "ended": ended,
        "kinds": {p: k for p, (k, _) in paths.items()},
        "times": {p: t for p, (_, t) in paths.items()},
        "lost_events": False,
        **extra,
    }


def test_a_file_moved_as_a_snapshot_ran_is_named_by_its_new_name_only(
    tmp_path: Path, store_dir: Path
) -> None:
    """The finding's case (RED34 A5's race): z/X.txt edited, then moved to a/X.txt while the
    watch snapshot ran (its move read during that walk), which holds it as a/X.txt; then
    `rm -rf a`. The entry names a/X.txt from that snapshot, as saved, and no line says
    "z/X.txt was deleted ... an earlier version is in snapshot 1"."""
    from conftest import init_repo

    from git_snapshot.store import Store
    from git_snapshot.store.walker import walk_began
    from git_snapshot.watch import take

    repo = Path(os.path.realpath(init_repo(tmp_path / "wt")))
    for d in ("a", "z"):
        (repo / d).mkdir()
    (repo / "z" / "X.txt").write_text("old X\n")
    (repo / "a" / "keep.txt").write_text("keep\n")
    gs(repo, "create", "-m", "one")
    time.sleep(0.05)
    (repo / "z" / "X.txt").write_text("NEW X: the user's latest work\n")
    os.rename(repo / "z" / "X.txt", repo / "a" / "X.txt")
    gs(repo, "create", "-m", "two")
    _run(repo, "rm", "-rf", "a")
    with Store() as store:
        _, two = sorted(store.snapshots(None, str(repo)), key=lambda s: s.created)
    began = walk_began(two) or two.created - 0.01
    moved = (began + two.created) / 2  # read during the walk of snapshot two
    gone = two.created + 0.5
    z, a = str(repo / "z" / "X.txt"), str(repo / "a")
    paths = {
        z: ("delete_edited", moved),
        a + "/X.txt": ("delete", gone),
        a + "/keep.txt": ("delete", gone),
        a: ("delete_dir", gone),
    }
    item = _item(paths, gone + 0.1, moves=[[z, a + "/X.txt", moved]])
    res = take.record_bursts(str(repo), [item])
    assert "retry" not in res, res
    entries = json.loads(gs(repo, "losses", "--json"))
    assert _named(entries) == [("a/X.txt", two.id), ("a/keep.txt", two.id)], entries
    assert not any(e.get("maybe_older") for e in entries), entries
    gs(repo, "undo")
    assert (repo / "a" / "X.txt").read_text() == "NEW X: the user's latest work\n"
    assert not (repo / "z" / "X.txt").exists()


def test_the_detector_hands_its_renames_to_the_burst() -> None:
    """The renames the watcher pairs reach the burst that follows (the recorder's
    settle_moves reads them): those of the window before it opened and during it; one older
    than MOVES_KEPT_S before is forgotten."""
    from git_snapshot.watch import bursts

    det = bursts.BurstDetector(threshold_files=3, window_s=5)
    det.feed(0.0, "/w/old/a", "delete")
    det.moved(0.0, "/w/old/a", "/w/new/a")
    det.feed(100.0, "/w/d1/x", "delete")
    det.moved(100.0, "/w/d1/x", "/w/d2/x")
    det.feed(101.0, "/w/d3", "delete_dir")  # opens a burst
    det.moved(102.0, "/w/d4", "/w/d5")  # (a folder: nothing fed)
    (burst,) = det.take(200.0)
    assert burst.moves == (("/w/d1/x", "/w/d2/x", 100.0), ("/w/d4", "/w/d5", 102.0))
    assert burst.paths == ("/w/d1/x", "/w/d3")  # (the recorder tells the rename apart)
