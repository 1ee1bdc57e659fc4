"""gc records as damaged what a kept snapshot names and the index lacks (GcPlan.missing), as
verify does: a gc before session 50 deleted whole a pack whose only live objects were empty or
tiny files' group members (tests/test_gc_group_members.py), and the files cache of every later
snapshot kept naming the lost content, so no snapshot stored it again. Recorded as damaged,
the next snapshot reads each file of that content still on disk and stores it, which heals
every snapshot that names it. A preview (prune --dry-run) records nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from clihelpers import gs
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import walker
from git_snapshot.store.gc import gc
from git_snapshot.store.gc import preview
from git_snapshot.store.objects import digest
from git_snapshot.store.verify import verify


def test_what_kept_snapshots_lack_is_stored_again_by_the_next_snapshot(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(walker, "RACY_NS", 0)  # the files cache trusts what it just saw
    src = tmp_path / "src"
    build(src, D({b"a.txt": F(b"alpha\n"), b"sub": D({b"empty": F(b"")})}))
    time.sleep(0.02)  # past the file system clock's grain
    empty = digest(b"")
    with Store(store_dir) as store:
        first = take(store, "s", src)
        # what such a gc left: the index's row of the empty file's content gone
        with store.index.write() as db:
            db.execute("DELETE FROM objects WHERE key = ?", (empty,))
        assert preview(store).missing == [empty]
        assert store.index.damaged() == {}  # (a preview changes nothing)
        report = gc(store)
        assert report.missing == 1
        assert list(store.index.damaged()) == [empty]
        take(store, "s", src)  # sub/empty is on disk: read and stored again
        assert store.index.damaged() == {}
        out = tmp_path / "out"
        restore(store, first, out)
        assert diff(scan(src), scan(out)) == []
        assert verify(store, read_data=True).ok
        assert gc(store).missing == 0


def test_prune_says_so_and_verify_is_clean_after_the_next_snapshot(
    repo: Path, store_dir: Path
) -> None:
    (repo / "empty.txt").write_bytes(b"")
    gs(repo)
    with Store(store_dir) as store, store.index.write() as db:
        db.execute("DELETE FROM objects WHERE key = ?", (digest(b""),))
    assert gs(repo, "verify", rc=1).rc == 1
    out = gs(repo, "prune")
    assert "1 file content(s) that kept snapshots name were missing from the store" in out
    gs(repo)  # (the repository's hooks are not installed: a snapshot by hand)
    gs(repo, "verify", "--read-data")
