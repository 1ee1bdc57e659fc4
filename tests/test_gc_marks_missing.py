"""gc records as damaged what a kept snapshot names and the index lacks (GcPlan.missing), as
verify does: a gc before session 50 deleted whole a pack whose only live objects were empty or
tiny files' group members (tests/test_gc_group_members.py), and the files cache of every later
snapshot kept naming the lost content, so no snapshot stored it again. Recorded as damaged,
the next snapshot reads each file of that content still on disk and stores it, which heals
every snapshot that names it. A preview (prune --dry-run) records nothing."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from clihelpers import gs
from fullfs import fill
from fullfs import free_bytes
from fullfs import store_on_small_fs
from fullfs import unfill
from storehelpers import Crafter
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
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import digest
from git_snapshot.store.reserve import ensure_reserve
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
    said = "1 file content(s) that kept snapshots name are missing from the store"
    out = gs(repo, "prune", "--dry-run").out
    assert said in out and "prune notes them" in out, out
    with Store(store_dir) as store:
        assert store.index.damaged() == {}
    out = gs(repo, "prune").out
    assert said in out and "the next snapshot stores again" in out, out
    gs(repo)  # (the repository's hooks are not installed: a snapshot by hand)
    gs(repo, "verify", "--read-data")


def test_prune_json_counts_them(repo: Path, store_dir: Path) -> None:
    """``prune --json`` says what the text says: how many contents are missing, and whether
    gc noted them (null in a preview); none once the next snapshot stored them again."""
    (repo / "empty.txt").write_bytes(b"")
    gs(repo)
    with Store(store_dir) as store, store.index.write() as db:
        db.execute("DELETE FROM objects WHERE key = ?", (digest(b""),))
    dry = json.loads(gs(repo, "prune", "--dry-run", "--json").out)
    assert (dry["missing_contents"], dry["missing_marked"]) == (1, None), dry
    done = json.loads(gs(repo, "prune", "--json").out)
    assert (done["missing_contents"], done["missing_marked"]) == (1, True), done
    gs(repo)
    after = json.loads(gs(repo, "prune", "--json").out)
    assert (after["missing_contents"], after["missing_marked"]) == (0, None), after


def _lose(store: Store, *contents: bytes) -> None:
    """What a gc before session 50 left: the index's rows of *contents* gone."""
    with store.index.write() as db:
        for table in ("objects", "recent"):
            db.executemany(f"DELETE FROM {table} WHERE key = ?", [(digest(c),) for c in contents])


def test_a_mark_goes_with_the_last_snapshot_naming_its_content(
    store: Store, tmp_path: Path
) -> None:
    """A content lost for good (no file has it any more) stays marked while a kept snapshot
    names it; once none does, gc drops the mark. A mark left behind kept every snapshot of
    every worktree off its fast paths for ever (no unchanged snapshot reused, no folder's
    tree kept whole, no split walk, no prepared tree): M's unchanged snapshot 0.6 -> 0.9 s."""
    src = tmp_path / "src"
    build(src, D({b"a.txt": F(b"alpha\n"), b"gone.txt": F(b"tiny"), b"kept.txt": F(b"kept")}))
    first = take(store, "s", src)
    _lose(store, b"tiny", b"kept")
    (src / "gone.txt").unlink()
    (src / "kept.txt").unlink()
    build(src, D({b"old.txt": F(b"kept")}))  # (read afresh: stored again, not lost)
    second = take(store, "s", src)
    _lose(store, b"kept")  # lost again: named by both snapshots, by no file on disk
    (src / "old.txt").unlink()
    take(store, "s", src)
    assert gc(store).missing == 2
    assert set(store.index.damaged()) == {digest(b"tiny"), digest(b"kept")}
    store.forget([first])
    report = gc(store)
    assert report.missing == 1  # the second snapshot still names it
    assert set(store.index.damaged()) == {digest(b"kept")}
    store.forget([second])
    assert gc(store).missing == 0
    assert store.index.damaged() == {}
    assert verify(store, read_data=True).ok


def test_a_snapshot_record_the_index_lacks_is_not_called_a_file_content(
    repo: Path, store_dir: Path
) -> None:
    """A kept snapshot's record the index lacks is no file content: no snapshot stores it
    again (repair writes it, as verify says), so it is not marked, and prune does not say
    that the next snapshot stores it."""
    gs(repo)
    gs(repo)
    with Store(store_dir) as store, store.index.write() as db:
        db.execute("DELETE FROM objects WHERE key = ?", (store.snapshots()[0].record,))
    out = gs(repo, "prune").out
    assert "file content" not in out, out
    with Store(store_dir) as store:
        assert store.index.damaged() == {}
    assert "(snapshot record)" in gs(repo, "verify", rc=1).out


def test_gc_frees_space_on_a_full_disk_whatever_it_finds_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk, the reserve given up: gc's marks of what kept snapshots lack (here 30,000
    contents, rows of 4 MB) come after the transaction and the unlinks that free space, and
    never stop them (they were first, took the reserve's 1 MiB and more, and prune said
    "free some space ... and run prune again": it could free nothing)."""
    big = 4 << 20
    with store_on_small_fs(tmp_path, monkeypatch) as where, Store(where) as store:
        src = tmp_path / "src"
        olds = []
        for i in range(2):
            build(src, D({b"big": F(os.urandom(big)), b"n": F(b"%d" % i)}))
            olds.append(take(store, "s", src))
        crafter = Crafter(store)
        lost = [
            Entry(b"f%05d" % i, FILE, 0o644, 0, 9, digest(b"lost %d" % i)) for i in range(30_000)
        ]
        crafter.commit("s", [crafter.dir(b"lost", lost)])  # kept: names contents never stored
        store.forget(olds)
        store.index.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no log space to reuse
        assert ensure_reserve(store)
        fill(where.parent)
        before = free_bytes(where.parent)
        report = gc(store)
        assert report.bytes_freed > 2 * big * 0.9
        assert free_bytes(where.parent) - before > 1 << 20  # (the marks' log took some)
        assert report.missing == 30_000
        assert len(store.index.damaged()) == 30_000  # (marked once there was room)


def test_on_a_disk_that_stays_full_gc_does_its_work_and_marks_at_its_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing to free and a full disk: gc commits with its reserve, the marks do not fit (and
    never take the reserve, made to free space): gc ends, saying they wait; the next gc with
    room marks them."""
    with store_on_small_fs(tmp_path, monkeypatch) as where, Store(where) as store:
        crafter = Crafter(store)
        lost = [
            Entry(b"f%05d" % i, FILE, 0o644, 0, 9, digest(b"lost %d" % i)) for i in range(30_000)
        ]
        crafter.commit("s", [crafter.dir(b"lost", lost)])
        store.index.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert ensure_reserve(store)
        fill(where.parent)
        report = gc(store)
        assert (report.missing, report.marked) == (30_000, False)
        assert store.index.damaged() == {}
        unfill(where.parent)
        report = gc(store)
        assert (report.missing, report.marked) == (30_000, True)
        assert len(store.index.damaged()) == 30_000


def test_a_dropped_mark_makes_the_generation_another(store: Store) -> None:
    """gc_drop with marks to drop (gc._stale_marks) and no dead object makes the generation
    another, as for dead objects: a files cache of before that still named such a key is
    trusted only if gc carries it (naming live objects alone)."""
    key = digest(b"named by no snapshot, lacked by the index")
    store.index.mark_damaged(key, "content missing from the index")
    before = store.index.meta_get("generation", "0")
    store.index.gc_drop([], [], [])
    assert store.index.meta_get("generation", "0") == before  # (nothing went)
    store.index.gc_drop([], [], [], [key])
    assert store.index.meta_get("generation", "0") != before
    assert store.index.damaged() == {}


def test_a_mark_that_names_no_key_is_passed_over(repo: Path, store_dir: Path) -> None:
    """A row of the damaged table whose key is text (a hand-edited or damaged index: no object
    has such a key) stopped every snapshot, and gc, which reads the marks now, with an
    internal error; it names nothing, so it is passed over."""
    gs(repo)
    with Store(store_dir) as store, store.index.write() as db:
        db.execute("INSERT INTO damaged(key, why, found) VALUES ('text', 'x', 0)")
    gs(repo)
    gs(repo, "prune")
    gs(repo, "verify", "--read-data")
