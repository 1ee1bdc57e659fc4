"""The watcher's prepared tree (store/rebuild.build, a rebuild of what changed) closes its blob
groups at archiver.CHANGES_GROUP (1 MiB), as a walk's snapshot of changes does
(test_packs_change_groups): a rebuild is a snapshot of changes too. Its files read back byte
for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookhelpers import put_venv_on_path
from prephelpers import MARKS
from prephelpers import prepared_with
from prephelpers import watched_repo
from test_packs_change_groups import CHANGES
from test_packs_change_groups import group_sizes
from test_packs_change_groups import text_files
from test_watch_daemon import Watcher
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.store import Store
from git_snapshot.store import packs

pytestmark = MARKS


@pytest.fixture
def w(watcher: Watcher, monkeypatch: pytest.MonkeyPatch) -> Watcher:  # noqa: F811
    put_venv_on_path(monkeypatch)
    return watcher


def test_a_prepared_tree_closes_its_groups_at_changes_group(
    tmp_path: Path, store_dir: Path, w: Watcher
) -> None:
    repo = watched_repo(tmp_path, store_dir, w, prepare=0.2)
    with Store(store_dir) as store:
        before = set(store.pack_names())
    files = {rel.replace(b"/", b"-"): data for rel, data in text_files(2, 1300, 2600).items()}
    for rel, data in files.items():  # ~3.4 MB of new untracked files (new ignored ones: no
        (repo / rel.decode()).write_bytes(data)  # prepared tree while git's ignored list moved)
    last = max(files)
    p = prepared_with(store_dir, repo, last.decode(), files[last])
    with Store(store_dir) as store:
        sizes = group_sizes(store, set(store.pack_names()) - before)
        got = {path: b"".join(store.stream_blob(e.ref)) for path, e in store.walk(p.root)}
    assert {rel: got[rel] for rel in files} == files
    assert sum(sizes) >= 3 * CHANGES  # the new files, grouped
    # closed once it holds CHANGES_GROUP: at most that and one member (was 2 MiB and one)
    assert max(sizes) <= CHANGES + packs.GROUP_OBJECT
