"""The watch worker computes find's deltas after its snapshots (store/history.warm_deltas), so
that a first ``find`` on a long history computes nothing: a real daemon, real inotify."""

from __future__ import annotations

from pathlib import Path

from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import make_repo
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (a fixture)

from git_snapshot.store import Store
from git_snapshot.store import deltas
from git_snapshot.store.history import find


def test_after_a_watch_snapshot_find_has_every_delta_cached(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    (repo / "src" / "new.txt").write_text("written while watched\n")
    wait_for(lambda: watch_snaps(repo), what="a watch snapshot")
    with Store() as store:
        snaps = store.snapshots(watch_snaps(repo)[0].source)
        pairs = [(a.root if a else b"", s.root) for a, s in zip([None, *snaps], snaps)]
        wait_for(
            lambda: all(deltas.cached(store, a, b) for a, b in pairs if a != b),
            what=f"the worker to cache the deltas of {len(snaps)} snapshots",
        )
        calls: list[tuple[int, int]] = []
        runs = find(
            store, snaps, lambda p, e: e.name == b"new.txt", progress=lambda *a: calls.append(a)
        )
        assert calls == []  # nothing computed: every delta was there
        assert [r.snapshots[-1].id for r in runs] == [snaps[-1].id]
