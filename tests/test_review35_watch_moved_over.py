"""Review of RED35 M1: a file renamed onto a name another rename brought a file to.

settle_moves left an old name out of a burst when its content was on disk under its new
name. But a rename onto a name replaces what is there, and the watcher feeds no loss for
that (an editor's save renames over the file it saves). Two files renamed to one name, as a
script flattening folders whose files share names does (`mv d*/x.txt flat/`, one at a time):
the first one's content is gone, yet its new name is on disk, holding the second's. It was
left out, and nothing named it; before M1 its old name was named as deleted. It is named
again, from the snapshot that holds it; the one that stayed is not."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs
from conftest import init_repo
from test_red35_watch_move import MANY
from test_red35_watch_move import _recorded
from test_red35_watch_move import _run
from test_red35_watch_move import _started
from test_watch_daemon import Watcher
from test_watch_daemon import make_repo
from test_watch_daemon import watcher  # noqa: F401  (the fixture)


def _named(entries: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((x["path"], e["snapshot"]) for e in entries for x in e.get("lost", []))


def test_a_file_renamed_over_by_another_rename_is_named(tmp_path: Path, store_dir: Path) -> None:
    from git_snapshot.store import Store
    from git_snapshot.watch import take

    repo = Path(os.path.realpath(init_repo(tmp_path / "wt")))
    for d in ("d1", "d2", "d3", "flat"):
        (repo / d).mkdir()
    for d in ("d1", "d2", "d3"):
        (repo / d / "x.txt").write_text(f"{d}'s x, the user's work\n")
    (repo / "flat" / "keep.txt").write_text("keep\n")
    gs(repo, "create", "-m", "one")
    with Store() as store:
        (one,) = store.snapshots(None, str(repo))
    time.sleep(0.05)
    paths: dict[str, tuple[str, float]] = {}
    moves: list[list[Any]] = []
    new = str(repo / "flat" / "x.txt")
    for d in ("d1", "d2", "d3"):  # (the order inotify says it in: MOVED_FROM, MOVED_TO)
        old = str(repo / d / "x.txt")
        paths[old] = ("delete", time.time())
        os.rename(old, new)
        moves.append([old, new, time.time()])
    ended = time.time() + 0.1
    item = {
        "paths": list(paths),
        "started": min(t for _, t in paths.values()),
        "ended": ended,
        "kinds": {p: k for p, (k, _) in paths.items()},
        "times": {p: t for p, (_, t) in paths.items()},
        "lost_events": False,
        "moves": moves,
    }
    res = take.record_bursts(str(repo), [item])
    assert "retry" not in res, res
    entries = json.loads(gs(repo, "losses", "--json"))
    # d3's is on disk as flat/x.txt; d1's and d2's are in snapshot one only
    assert _named(entries) == [("d1/x.txt", one.id), ("d2/x.txt", one.id)], entries
    assert (repo / "flat" / "x.txt").read_text() == "d3's x, the user's work\n"


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_files_renamed_to_one_name_are_named_by_the_watcher(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """The same with a real daemon: MANY files renamed one by one to one name (a burst); all
    but the last one renamed are gone, and named, from the snapshot that holds them."""
    repo = make_repo(tmp_path)
    first = _started(watcher, repo)
    _run(repo, "sh", "-c", f"for i in $(seq 0 {MANY - 1}); do mv d1/m$i.txt d2/m.txt; done")
    entries = _recorded(watcher, repo)
    want = sorted((f"d1/m{i}.txt", first.id) for i in range(MANY - 1))
    assert _named(entries) == want, entries
    assert (repo / "d2" / "m.txt").read_text() == f"m{MANY - 1}\n"
