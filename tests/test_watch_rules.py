"""A change of the snapshot.* settings the walk depends on (snapshot.exclude,
snapshot.skipCacheDirs) is not an event: a snapshot with the dirty set, and the worker's
preparation, must then not reuse the base's folders, which were made under the old ones. It
did: a file no longer excluded stayed out of every watched snapshot (its "excluded" note
in), a newly excluded one stayed in."""

from __future__ import annotations

from pathlib import Path

import pytest
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


def _based(store: Store, top: Path, before: bool) -> None:
    """The base snapshot with a/x.log, *before*: excluded by snapshot.exclude (then the
    setting is removed), else not (then it is set)."""
    (top / "a" / "x.log").write_text("log\n")
    if before:
        git(top, "config", "snapshot.exclude", "*.log")
    _take(store, top)
    if before:
        git(top, "config", "--unset", "snapshot.exclude")
    else:
        git(top, "config", "snapshot.exclude", "*.log")


@pytest.mark.parametrize(
    ("before", "trigger"),
    [(True, "post-checkout"), (False, "watch")],
    ids=["a file no longer excluded is in", "a newly excluded file leaves"],
)
def test_the_next_watched_snapshot_follows_snapshot_exclude(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
    before: bool,
    trigger: str,
) -> None:
    store, top, daemon = watched
    _based(store, top, before)  # the base without a/x.log (before), or with it
    _hook(store, top, daemon, tmp_path, trigger)


def test_the_worker_prepares_nothing_under_other_settings_than_the_base(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
) -> None:
    store, top, daemon = watched
    _based(store, top, before=True)
    (top / "e" / "new.txt").write_text("new\n")
    daemon.entries(top / "e" / "new.txt")
    out = take.prepare(str(top))
    assert out["prepared"] is None and "exclude" in str(out["why"])
    daemon.ack_syncs()
    res = _take(store, top, trigger="post-checkout")
    assert _same(res.snapshot) == _same(_full(top, tmp_path / "x"))
