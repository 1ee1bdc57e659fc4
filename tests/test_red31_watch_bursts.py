"""Red team (session 31, D1 and D3): a burst kept open across a watch snapshot.

Files edited in place open a burst (their first writes since the last snapshot are fed as
overwrites); the watcher saves them in a snapshot; a deletion less than ``burstSeconds``
after the last edit joins the same burst. Each deletion was matched against the snapshot
before the burst *began* (the old versions), not the last one before the deletion (which
holds the edits): the report named the old snapshot as exact (its restore and `undo` gave
back the old bytes), and a `git reset --hard` of the edits was "nothing lost". Each path
lost is now matched by its own deletion's time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import settled
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/sys/fs/inotify").exists(), reason="inotify (Linux) only"),
]
N = 30
WINDOW = 10  # burstSeconds: the deletion comes well within it after the edits


def _idle(w: Watcher, repo: Path) -> None:
    """Until the daemon has nothing pending for *repo* (its first snapshot may be unchanged:
    no watch snapshot for settled() to wait for)."""
    wait_for(
        lambda: (
            (t := w.tree(repo)).get("last_snapshot")
            and not t.get("changed_since")
            and not t.get("snapshotting")
        ),
        what="the daemon idle",
    )


def _cat(repo: Path, snap: int, rel: str) -> str:
    return str(gs(repo, "cat", str(snap), rel)).strip()


def _edited_and_saved(repo: Path, files: list[Path], watcher: Watcher) -> tuple[int, float]:  # noqa: F811
    """Edit *files* in place, wait for the watch snapshot that holds the edits: its id,
    and when the last edit was made."""
    before = {s.id for s in watch_snaps(repo)}
    for f in files:
        with open(f, "r+") as fh:  # in place (a formatter, sed without -i)
            fh.truncate(0)
            fh.write(f"NEW {f.name}\n")
    edited = time.monotonic()
    snap = wait_for(
        lambda: [
            s
            for s in watch_snaps(repo)
            if s.id not in before
            and _cat(repo, s.id, files[0].relative_to(repo).as_posix()) == f"NEW {files[0].name}"
        ],
        what="the watch snapshot of the edits",
    )[-1]
    return snap.id, edited


def test_deletions_after_a_watch_snapshot_of_edits_name_that_snapshot(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    config(burstFiles=20, burstSeconds=WINDOW)
    repo = make_repo(tmp_path)
    d = repo / "d"
    d.mkdir()
    files = [d / f"f{i}.txt" for i in range(N)]
    for i, f in enumerate(files):
        f.write_text(f"old {i}\n")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    old = wait_for(
        lambda: [s for s in watch_snaps(repo) if "d/f0.txt" in paths_in(s)], what="old saved"
    )[-1].id
    settled(watcher, repo)
    new, edited = _edited_and_saved(repo, files, watcher)
    assert new != old
    for f in files:
        f.unlink()  # the folder stays
    assert time.monotonic() - edited < WINDOW - 1, "too slow: the deletion opened its own burst"
    entry = wait_for(lambda: json.loads(gs(repo, "losses", "--json")), what="the loss entry")[-1]
    assert entry["snapshot"] == new, (entry["snapshot"], old, new, watcher.bursts())
    assert len(entry["lost"]) == N
    gs(repo, "restore", str(entry["snapshot"]), "d/")
    assert (d / "f0.txt").read_text() == "NEW f0.txt\n"


def test_a_reset_hard_right_after_a_watch_snapshot_of_edits_is_reported(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    config(burstFiles=20, burstSeconds=WINDOW)
    repo = make_repo(tmp_path)
    files = [repo / f"t{i}.txt" for i in range(N)]
    for i, f in enumerate(files):
        f.write_text(f"v1 {i}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "tracked")
    gs(repo, "create", "-m", "committed")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    _idle(watcher, repo)
    new, edited = _edited_and_saved(repo, files, watcher)
    git(repo, "reset", "-q", "--hard")
    assert time.monotonic() - edited < WINDOW - 1, "too slow: the reset opened its own burst"
    assert (repo / "t0.txt").read_text() == "v1 0\n"
    entry = wait_for(
        lambda: json.loads(gs(repo, "losses", "--json")),
        timeout=WINDOW + 40,
        what=f"the loss entry (bursts: {watcher.bursts()})",
    )[-1]
    assert entry["snapshot"] == new
    assert sorted(x["path"] for x in entry["lost"]) == sorted(f.name for f in files)
