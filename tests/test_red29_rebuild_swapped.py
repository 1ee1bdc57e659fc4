"""RED29 (session 29): RED25's swap on the watcher's path. With the watcher running (what
`git snapshot install` sets up), a hook's snapshot is a rebuild (store/rebuild.py): only the
entries the watcher marked are looked at again, each by its path. A marked folder swapped
for a symlink to an outside folder while its entries were read had the outside files stored
as its own, and nothing lstat'ed the folder again afterwards (the walk's check, walker._moved,
runs only in the walker's own folders): restored, files the worktree never had. Now the
rebuild checks each folder whose marked entries it read as the walk does: another type there
now is taken as it is (the symlink, never followed), the folder moved away and back or
another folder is read afresh once, and one that keeps changing is left out and said."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from storehelpers import snapshot_contents
from test_red25_swapped_folder import OUTSIDE
from test_red25_swapped_folder import _tree as _walk_tree
from test_red26_far_dates import impl as impl  # (the fixture: C and twin)
from test_red28_folder_retaken import read_through_a_symlink
from test_red28_folder_retaken import swap_while_read

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store import rebuild
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance


def _tree(repo: Path) -> Path:
    (repo / "a").mkdir()
    (repo / "a" / "x.txt").write_bytes(b"inside\n")
    (repo / "a" / "y.txt").write_bytes(b"y inside\n")
    outside = repo.parent / "outside"
    outside.mkdir()
    (outside / "x.txt").write_bytes(OUTSIDE)
    (outside / "y.txt").write_bytes(OUTSIDE)
    return outside


def _rebuilt(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    swap: Any,
    times: int = 1,
    back: Any = None,
    relist: bool = False,
) -> tuple[Store, Any]:
    """A watch snapshot of *repo* (the base, a full walk), `a/x.txt` edited and marked, then
    the rebuild's snapshot, *swap* run as the rebuild looks at `a/x.txt` (its first *times*
    looks) and *back* (if given) once that look is done. With *relist*, the root is marked
    as a folder to list again: the walker lists it and meets `a` (Rebuild.sub), else the
    rebuild goes down to `a` itself (Rebuild.inside)."""
    store = Store()
    with instance.hold(store.path) as got:
        assert got
        dirtyset.watching(store.path, str(repo))
        found = gitrepo.find_repo(str(repo))
        worktree.take(store, found, trigger="watch")
        (repo / "a" / "x.txt").write_bytes(b"inside, edited\n")
        dirs = [str(repo)] if relist else []
        dirtyset.mark(store.path, str(repo), dirs, [str(repo / "a" / "x.txt")])
        real = rebuild.Rebuild.entry
        done: list[int] = []

        def entry(self: Any, path: bytes, rel: bytes, *rest: Any) -> Any:
            if rel != b"a/x.txt" or len(done) >= times:
                return real(self, path, rel, *rest)
            done.append(1)
            swap()
            try:
                return real(self, path, rel, *rest)
            finally:
                if back is not None:
                    back()

        monkeypatch.setattr(rebuild.Rebuild, "entry", entry)
        snap = worktree.take(store, found, trigger="watch").snapshot
        monkeypatch.setattr(rebuild.Rebuild, "entry", real)
        assert done
    return store, snap


def _sound(snap: Any, got: dict[bytes, Any]) -> None:
    """The snapshot holds nothing of the outside folder, and its counts are those of what it
    holds (what the look through the swapped path counted, undone)."""
    assert all(seen.data != OUTSIDE for seen in got.values()), got
    assert snap.files == sum(seen.kind in ("file", "link") for seen in got.values())
    assert snap.bytes == sum(len(seen.data) for seen in got.values() if seen.kind == "file")


def _link(repo: Path, outside: Path) -> None:
    shutil.rmtree(repo / "a")
    os.symlink(outside, repo / "a")


@pytest.mark.parametrize("relist", [False, True])
def test_a_marked_folder_swapped_for_a_symlink_is_taken_as_the_symlink(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, relist: bool
) -> None:
    outside = _tree(repo)
    store, snap = _rebuilt(repo, monkeypatch, lambda: _link(repo, outside), relist=relist)
    with store:
        got = snapshot_contents(store, snap)
    _sound(snap, got)
    assert got[b"a"].kind == "link" and got[b"a"].data == os.fsencode(outside)
    assert b"a/x.txt" not in got and b"a/y.txt" not in got
    assert snap.meta["skipped_paths"] == [] and output.snapshot_warnings(snap) == []


@pytest.mark.parametrize("relist", [False, True])
def test_a_marked_folder_swapped_and_back_is_read_again(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, relist: bool
) -> None:
    """Swapped for the symlink as its entry is looked at, back once that look is done: what
    was read went through the symlink; the folder, moved away and back (its ctime), is read
    afresh."""
    outside = _tree(repo)

    def away() -> None:
        os.rename(repo / "a", repo / "a.old")
        os.symlink(outside, repo / "a")

    def back() -> None:
        os.unlink(repo / "a")
        os.rename(repo / "a.old", repo / "a")

    store, snap = _rebuilt(repo, monkeypatch, away, back=back, relist=relist)
    with store:
        got = snapshot_contents(store, snap)
    _sound(snap, got)
    assert got[b"a/x.txt"].data == b"inside, edited\n"
    assert got[b"a/y.txt"].data == b"y inside\n"
    assert snap.meta["skipped_paths"] == []


@pytest.mark.parametrize("relist", [False, True])
def test_a_marked_folder_that_keeps_changing_is_left_out_and_said(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, relist: bool
) -> None:
    """Another folder put in its place at each look (a tool writing a folder aside and
    renaming it over the old one, again and again): read afresh once, then left out and
    said, never a mix of the folders."""
    _tree(repo)
    made: list[int] = []

    def swap() -> None:
        made.append(1)
        new = repo / f"a.new{len(made)}"
        new.mkdir()
        (new / "x.txt").write_bytes(b"folder %d\n" % len(made))
        shutil.rmtree(repo / "a")
        os.rename(new, repo / "a")

    store, snap = _rebuilt(repo, monkeypatch, swap, times=5, relist=relist)
    with store:
        got = snapshot_contents(store, snap)
    assert len(made) == 2  # the look, and the fresh one
    assert not any(p == b"a" or p.startswith(b"a/") for p in got), got
    assert [list(p) for p in snap.meta["skipped_paths"]] == [["a", "moved while it was read"]]
    assert output.snapshot_warnings(snap)
    _sound(snap, got)


# -- gone when the check comes: the walk and the rebuild -------------------------------------


def test_a_walked_folder_read_through_a_symlink_and_gone_at_its_check_keeps_nothing(
    store_dir: Path, tmp_path: Path, impl: str
) -> None:
    """Session 28's race (4 snapshots of 150): `a` renamed away and a symlink to an outside
    folder put in its place as its edited file is read, then the symlink removed before the
    walk lstats `a` again, `a` not back yet: nothing there, and "gone" kept what was read, the
    outside file as a/x.txt. Gone is now what stands there: nothing of `a` is kept (it is
    taken as it is now, as a folder gone before its listing is, RED28)."""
    src, outside = _walk_tree(tmp_path)
    with Store(store_dir) as store:
        snap, gone = read_through_a_symlink(store, src, outside, tmp_path / "a.away", False)
        assert gone
        got = snapshot_contents(store, snap)
        _sound(snap, got)
        assert not any(p == b"a" or p.startswith(b"a/") for p in got), got
        assert snap.meta["skipped_paths"] == []


@pytest.mark.parametrize("relist", [False, True])
def test_a_marked_folder_read_through_a_symlink_and_gone_at_its_check_keeps_nothing(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, relist: bool
) -> None:
    outside = _tree(repo)

    def away() -> None:
        os.rename(repo / "a", repo / "a.old")
        os.symlink(outside, repo / "a")

    store, snap = _rebuilt(
        repo, monkeypatch, away, back=lambda: os.unlink(repo / "a"), relist=relist
    )
    with store:
        got = snapshot_contents(store, snap)
    _sound(snap, got)
    assert not any(p == b"a" or p.startswith(b"a/") for p in got), got
    assert snap.meta["skipped_paths"] == []


# -- a folder the rebuild walks whole: new there, or listed again ----------------------------


@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("before", ["absent", "link", "listed"])
def test_a_folder_the_rebuild_walks_whole_swapped_for_a_symlink_is_taken_as_it(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, before: str, back: bool
) -> None:
    """A folder the base did not hold as one (absent, or a symlink then), or held but whose
    entries changed with no event naming them (its mtime: listed again): the rebuild has the
    walker walk it whole (Rebuild.sub), which lstat'ed nothing afterwards there (its own
    stat unknown): a swap for a symlink while its file was read stored the outside file
    (the real race, 1 snapshot of 81 with the watcher running). Now the same check; with
    *back*, the folder is moved back before it and walked again (what the base held there
    taken off the counts once)."""
    outside = repo.parent / "outside"
    outside.mkdir()
    (outside / "x.txt").write_bytes(OUTSIDE)
    if before == "link":
        os.symlink(outside, repo / "a")
    elif before == "listed":
        (repo / "a").mkdir()
        (repo / "a" / "old.txt").write_bytes(b"old\n")
    with Store() as store, instance.hold(store.path) as got:
        assert got
        dirtyset.watching(store.path, str(repo))
        found = gitrepo.find_repo(str(repo))
        worktree.take(store, found, trigger="watch")
        if before == "link":
            os.unlink(repo / "a")
        if before == "listed":  # written with no event for it: only the folder is marked
            (repo / "a" / "old.txt").unlink()
            (repo / "a" / "x.txt").write_bytes(b"inside\n")
            dirtyset.mark(store.path, str(repo), [], [str(repo)])
        else:
            (repo / "a").mkdir()
            (repo / "a" / "x.txt").write_bytes(b"inside\n")
            dirtyset.mark(store.path, str(repo), [], [str(repo / "a")])
        with pytest.MonkeyPatch.context() as mp:
            then = "back" if back else "stays"
            swap_while_read(mp, rebuild, repo, outside, repo.parent / "a.away", then)
            snap = worktree.take(store, found, trigger="watch").snapshot
        held = snapshot_contents(store, snap)
    _sound(snap, held)
    if back:
        assert held[b"a/x.txt"].data == b"inside\n"
    else:
        assert held[b"a"].kind == "link" and held[b"a"].data == os.fsencode(outside)
        assert b"a/x.txt" not in held
    assert snap.meta["skipped_paths"] == []
