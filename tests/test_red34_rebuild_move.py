"""RED34 A5: a file edited, then moved while the watcher's rebuild (store/rebuild.py) took its
snapshot, from a folder the rebuild looks at into one it does not (`mv z/X.txt a/X.txt`,
`a/` unmarked), was in that snapshot under neither name, and nothing said so. The full walk
looks again for such moves (walker._walk, RED32 V1); the rebuild did not.

Now a rebuild that found a marked entry gone from a folder that changed while it ran (or
entries gone from a folder it listed) looks again: every folder of its tree whose own mtime
is no longer its entry's is listed, the names new or changed there are looked at again from
the tree just built (Rebuild.look_again), AGAIN times at most; a folder that still takes
names is named (MOVED_IN). A rebuild that saw no such thing makes no call more. Each move is
made at its exact moment here: as the rebuild looks at the marked entry."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from storehelpers import snapshot_contents

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store import rebuild
from git_snapshot.store.walker import MOVED_IN
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance

NEW = b"NEW X: the user's latest work\n"


def _aged(repo: Path) -> None:
    """Every folder's mtime a minute back (but .git's): only what happens during the rebuild
    makes one of them look changed while it ran."""
    then = time.time() - 60
    for d, dirs, _ in os.walk(repo):
        if ".git" in dirs:
            dirs.remove(".git")
        os.utime(d, (then, then))


def _tree(repo: Path) -> None:
    for d in ("a", "z", "m", "b1", "b2", "b3", "b4"):
        (repo / d).mkdir()
    (repo / "z" / "X.txt").write_bytes(b"old X\n")
    (repo / "z" / "Y.txt").write_bytes(b"y\n")
    for i in range(5):
        (repo / "a" / f"k{i}.txt").write_bytes(b"k%d\n" % i)
    (repo / "m" / "old.txt").write_bytes(b"old\n")


def _rebuilt(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    act: Any,
    marked: tuple[str, ...] = ("z/X.txt", "m/new.txt"),
    edit: Any = None,
    spy: list[bytes] | None = None,
) -> tuple[Store, Any, list[int]]:
    """A watch snapshot of *repo* (the base: a full walk), z/X.txt edited and m/new.txt made
    (or *edit*), *marked* marked, then the rebuild's snapshot, *act*(rel) run as the rebuild
    looks at each marked entry *rel* (before its lstat). The third value: the times the
    rebuild looked again (Rebuild.look_again's scans). *spy*: gets every path the snapshot
    lstat's."""
    store = Store()
    scans: list[int] = []
    with instance.hold(store.path) as got:
        assert got
        dirtyset.watching(store.path, str(repo))
        found = gitrepo.find_repo(str(repo))
        worktree.take(store, found, trigger="watch")
        if edit is None:
            (repo / "z" / "X.txt").write_bytes(NEW)
            (repo / "m" / "new.txt").write_bytes(b"new\n")
        else:
            edit()
        _aged(repo)
        dirtyset.mark(store.path, str(repo), [], [str(repo / p) for p in marked])
        real_entry = rebuild.Rebuild.entry
        real_came = getattr(rebuild.Rebuild, "came", None)

        def entry(self: Any, path: bytes, rel: bytes, *rest: Any) -> Any:
            act(rel)
            return real_entry(self, path, rel, *rest)

        def came(self: Any, *args: Any) -> Any:
            scans.append(1)
            assert real_came is not None
            return real_came(self, *args)

        with monkeypatch.context() as mp:
            mp.setattr(rebuild.Rebuild, "entry", entry)
            mp.setattr(rebuild.Rebuild, "came", came, raising=False)
            if spy is not None:
                real = os.lstat

                def lstat(p: Any, *a: Any, **k: Any) -> os.stat_result:
                    spy.append(p)
                    return real(p, *a, **k)

                mp.setattr(os, "lstat", lstat)
            snap = worktree.take(store, found, trigger="watch").snapshot
    return store, snap, scans


def _held(store: Store, snap: Any) -> dict[bytes, Any]:
    with store:
        got = snapshot_contents(store, snap)
    # its counts are those of what it holds
    assert snap.files == sum(seen.kind in ("file", "link") for seen in got.values())
    assert snap.bytes == sum(len(seen.data) for seen in got.values() if seen.kind == "file")
    return got


def _once(what: Any) -> Any:
    done: list[bytes] = []

    def act(rel: bytes) -> None:
        if rel == b"z/X.txt" and not done:
            done.append(rel)
            what()

    return act


def test_an_edited_file_moved_into_an_unmarked_folder_as_the_rebuild_runs_is_in_it(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(repo)
    act = _once(lambda: os.rename(repo / "z" / "X.txt", repo / "a" / "X.txt"))
    store, snap, scans = _rebuilt(repo, monkeypatch, act)
    got = _held(store, snap)
    assert got[b"a/X.txt"].data == NEW
    assert b"z/X.txt" not in got
    assert got[b"m/new.txt"].data == b"new\n" and got[b"a/k3.txt"].data == b"k3\n"
    assert snap.meta["skipped_paths"] == [] and output.snapshot_warnings(snap) == []
    assert len(scans) == 1


def test_an_edited_file_moved_over_an_unmarked_file_is_in_the_snapshot(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renamed over a/k1.txt: the name was there already, with other times and size."""
    _tree(repo)
    act = _once(lambda: os.rename(repo / "z" / "X.txt", repo / "a" / "k1.txt"))
    store, snap, _ = _rebuilt(repo, monkeypatch, act)
    got = _held(store, snap)
    assert got[b"a/k1.txt"].data == NEW
    assert snap.meta["skipped_paths"] == []


def test_a_marked_folder_moved_into_an_unmarked_one_is_in_the_snapshot(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(repo)
    act = _once(lambda: os.rename(repo / "z", repo / "a" / "z"))
    store, snap, _ = _rebuilt(repo, monkeypatch, act)
    got = _held(store, snap)
    assert got[b"a/z/X.txt"].data == NEW and got[b"a/z/Y.txt"].data == b"y\n"
    assert snap.meta["skipped_paths"] == []


def test_an_edited_file_moved_to_the_top_folder_is_in_the_snapshot(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(repo)
    act = _once(lambda: os.rename(repo / "z" / "X.txt", repo / "X.txt"))
    store, snap, _ = _rebuilt(repo, monkeypatch, act)
    assert _held(store, snap)[b"X.txt"].data == NEW


def test_a_file_deleted_as_the_rebuild_runs_is_looked_for_once_and_nothing_is_said(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(repo)
    act = _once(lambda: os.unlink(repo / "z" / "X.txt"))
    store, snap, scans = _rebuilt(repo, monkeypatch, act)
    got = _held(store, snap)
    assert b"z/X.txt" not in got and got[b"m/new.txt"].data == b"new\n"
    assert snap.meta["skipped_paths"] == []
    assert len(scans) == 1  # (found nothing new: not a second time)


def test_a_file_that_keeps_moving_is_named(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moved on each time the rebuild looks at it under its new name: after AGAIN looks
    again, the folder it went to is named (MOVED_IN), not silently short."""
    _tree(repo)
    at = [repo / "z"] + [repo / f"b{i}" for i in range(1, 5)]
    where = [0]

    def act(rel: bytes) -> None:
        if rel.endswith(b"/X.txt") and where[0] < len(at) - 1:
            os.rename(at[where[0]] / "X.txt", at[where[0] + 1] / "X.txt")
            where[0] += 1

    store, snap, scans = _rebuilt(repo, monkeypatch, act)
    got = _held(store, snap)
    assert not any(p.endswith(b"X.txt") for p in got)
    assert len(scans) == 3 and where[0] == 3
    assert [tuple(x) for x in snap.meta["skipped_paths"]] == [("b3", MOVED_IN)]


def test_a_tree_unreadable_as_it_looks_again_leaves_the_snapshot_as_built(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Looking again reads trees the rebuild took from the base unread (`a/`): one damaged
    or missing there ends the look again (Unusable), and the snapshot as built stands; the
    CorruptObject failed the snapshot whole (a hook's, before git wrote over the files)."""
    from git_snapshot.store import treebytes
    from git_snapshot.store.objects import CorruptObject

    _tree(repo)
    real = rebuild.Rebuild.came

    def came(self: Any, *args: Any) -> Any:
        def load(store: Any, keys: Any) -> dict[bytes, bytes]:
            if list(keys):
                raise CorruptObject("object ab12 is damaged")
            return {}

        with monkeypatch.context() as mp:
            mp.setattr(treebytes, "load", load)
            mp.setattr(rebuild, "_kept", lambda store: None)
            return real(self, *args)

    monkeypatch.setattr(rebuild.Rebuild, "came", came)
    act = _once(lambda: os.rename(repo / "z" / "X.txt", repo / "a" / "X.txt"))
    store, snap, scans = _rebuilt(repo, monkeypatch, act)
    got = _held(store, snap)
    assert got[b"m/new.txt"].data == b"new\n" and got[b"a/k3.txt"].data == b"k3\n"
    assert len(scans) == 1


def test_a_common_rebuild_does_not_look_again(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit, a new file and a deletion, all before the snapshot: no look again (and no
    lstat of a folder more than before)."""
    _tree(repo)

    def edit() -> None:
        (repo / "z" / "X.txt").write_bytes(NEW)
        (repo / "m" / "new.txt").write_bytes(b"new\n")
        (repo / "a" / "k2.txt").unlink()

    lstats: list[bytes] = []
    marked = ("z/X.txt", "m/new.txt", "a/k2.txt")
    store, snap, scans = _rebuilt(repo, monkeypatch, lambda rel: None, marked, edit, lstats)
    got = _held(store, snap)
    assert got[b"z/X.txt"].data == NEW and b"a/k2.txt" not in got
    assert scans == []
    top = os.fsencode(repo) + b"/"
    seen = [
        p[len(top) :]
        for p in map(os.fsencode, lstats)
        if p.startswith(top) and not p.startswith(top + b".git")
    ]
    # each folder lstat'ed before its marked entries and after (walker._moved), `a` once more
    # for its deleted entry (the unsettled check), each marked entry once: nothing else
    assert sorted(seen) == sorted(b"a a a a/k2.txt m m m/new.txt z z z/X.txt".split()), seen


def test_the_watchers_prepared_tree_looks_again_too(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's preparation (watch/take.prepare, rebuild.build), which the next watch
    snapshot commits as it is when nothing was marked after it."""
    from git_snapshot.watch import prep
    from git_snapshot.watch import take

    _tree(repo)
    store = Store()
    with instance.hold(store.path) as holding:
        assert holding
        dirtyset.watching(store.path, str(repo))
        found = gitrepo.find_repo(str(repo))
        worktree.take(store, found, trigger="watch")
        (repo / "z" / "X.txt").write_bytes(NEW)
        (repo / "m" / "new.txt").write_bytes(b"new\n")
        _aged(repo)
        dirtyset.mark(store.path, str(repo), [], [str(repo / "z/X.txt"), str(repo / "m/new.txt")])
        act = _once(lambda: os.rename(repo / "z" / "X.txt", repo / "a" / "X.txt"))
        real = rebuild.Rebuild.entry

        def entry(self: Any, path: bytes, rel: bytes, *rest: Any) -> Any:
            act(rel)
            return real(self, path, rel, *rest)

        with monkeypatch.context() as mp:
            mp.setattr(rebuild.Rebuild, "entry", entry)
            assert take.prepare(str(repo))["prepared"] is not None
        begun = dirtyset.begin(store.path, str(repo))
        assert begun is not None and prep.prepared(store.path, str(repo), begun) is not None
        snap = worktree.take(store, found, trigger="watch").snapshot
    got = _held(store, snap)
    assert got[b"a/X.txt"].data == NEW and b"z/X.txt" not in got
    assert snap.meta["skipped_paths"] == []
