"""RED19: the watcher's snapshots (the dirty set, the worker's prepared rebuild) across a
change of .gitignore that un-ignores a folder whose files did not change, or ignores one: its
files' labels (inherit: below an ignored folder no labeller call, also in the rebuild's
``inside``) are those of a full walk under the new rules, never the base's."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_prep_tree import watched  # noqa: F401  (a fixture)
from test_watch_dirtyset import Daemon
from test_watch_dirtyset import _full
from test_watch_dirtyset import _same
from test_watch_dirtyset import _take

from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.watch import take


def _labels(store: Store, root: bytes) -> dict[bytes, int]:
    return {rel: e.label for rel, e in store.walk(root)}


@pytest.mark.parametrize("prepare", [False, True], ids=["dirty set", "prepared"])
@pytest.mark.parametrize(
    ("rules", "want"),
    [("*.log\n", worktree.UNTRACKED), ("*.log\nbuild/\ne/\n", worktree.IGNORED)],
    ids=["build/ un-ignored", "e/ ignored"],
)
def test_a_watched_snapshot_labels_by_the_new_rules(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
    prepare: bool,
    rules: str,
    want: int,
) -> None:
    store, top, daemon = watched
    _take(store, top)  # the base: build/ ignored, e/ untracked
    (top / ".gitignore").write_text(rules)
    (top / "a" / "new.txt").write_text("new\n")
    daemon.entries(top / ".gitignore", top / "a" / "new.txt")
    if prepare:
        # (the worker declines, "git's labels changed since the base": .gitignore's edit
        # relabels folders it does not read again; one that went ahead would have to give
        # the full walk's labels below)
        take.prepare(str(top))
    daemon.ack_syncs()
    snap = _take(store, top, trigger="post-checkout")
    full = _full(top, tmp_path / "full")
    got = _labels(store, snap.root)
    folder = b"build" if want == worktree.UNTRACKED else b"e"
    assert got[folder + (b"/x/f0.txt" if folder == b"build" else b"/f0.txt")] == want
    assert _same(snap) == _same(full)
    with Store(tmp_path / "full-walks") as other:
        assert got == _labels(other, full.root)
