"""A change of the snapshot.* settings the walk depends on (snapshot.exclude,
snapshot.skipCacheDirs) is not an event: a snapshot with the dirty set, and the worker's
preparation, must then not reuse the base's folders, which were made under the old ones. It
did: a file no longer excluded stayed out of every watched snapshot (its "excluded" note
in), a newly excluded one stayed in."""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from test_prep_tree import _take
from test_prep_tree import watched  # noqa: F401  (a fixture)
from test_watch_dirtyset import Daemon
from test_watch_dirtyset import _full
from test_watch_dirtyset import _same

from git_snapshot.store import Store
from git_snapshot.watch import take


def _hook(store: Store, top: Path, daemon: Daemon, tmp_path: Path, trigger: str) -> None:
    """Change a file elsewhere, have a snapshot taken: it must be the full walk's."""
    (top / "e" / "new.txt").write_text(f"new {trigger}\n")
    daemon.entries(top / "e" / "new.txt")
    daemon.ack_syncs()
    res = _take(store, top, trigger=trigger)
    assert _same(res.snapshot) == _same(_full(top, tmp_path / trigger))


def test_a_file_no_longer_excluded_is_in_the_next_watched_snapshot(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    store, top, daemon = watched
    (top / "a" / "x.log").write_text("log\n")
    git(top, "config", "snapshot.exclude", "*.log")
    _take(store, top)  # the base, without a/x.log
    git(top, "config", "--unset", "snapshot.exclude")
    _hook(store, top, daemon, tmp_path, "post-checkout")


def test_a_newly_excluded_file_leaves_the_next_watched_snapshot(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    store, top, daemon = watched
    (top / "a" / "x.log").write_text("log\n")
    _take(store, top)  # the base, with a/x.log
    git(top, "config", "snapshot.exclude", "*.log")
    _hook(store, top, daemon, tmp_path, "watch")


def test_the_worker_prepares_nothing_under_other_settings_than_the_base(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    store, top, daemon = watched
    (top / "a" / "x.log").write_text("log\n")
    git(top, "config", "snapshot.exclude", "*.log")
    _take(store, top)
    git(top, "config", "--unset", "snapshot.exclude")
    (top / "e" / "new.txt").write_text("new\n")
    daemon.entries(top / "e" / "new.txt")
    out = take.prepare(str(top))
    assert out["prepared"] is None and "exclude" in str(out["why"])
    daemon.ack_syncs()
    res = _take(store, top, trigger="post-checkout")
    assert _same(res.snapshot) == _same(_full(top, tmp_path / "x"))
