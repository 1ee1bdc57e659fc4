"""RED32 B1: a file or folder renamed while a snapshot walked the tree was in that snapshot under
neither name, and nothing said so. The walk listed the folder holding it (the old name), then
found that name gone when it lstat'ed, read or listed it; the new name came after the listing,
so it was never seen: `mv precious zz_precious` or a log rotation (`mv app.log app.log.1`)
during a first snapshot left the files out of every snapshot, with "0 skipped".

Now a folder with an entry gone as it was read is listed once more when its entries are done
(walker._Walker._relisted), and the names that are new there (or back) are taken; a folder
that keeps changing past RELISTS listings has what it still lacks named as "moved while it was
read". A real deletion (the name gone, nothing new) is what it was: nothing to lose, no skip.
Each race is made at its exact moment here (a hook in os.scandir, in walker._lstats or in a
DirEntry's lstat), and
once more by a real renamer running beside many snapshots."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import snapshot_contents
from storehelpers import take
from test_red26_far_dates import _split
from test_red26_far_dates import impl as impl  # (the fixture: C and twin)

from git_snapshot.store import Store
from git_snapshot.store import walker
from git_snapshot.store.walker import MOVED
from git_snapshot.store.walker import MOVED_IN


def _held(store: Store, snap: Any) -> dict[bytes, bytes]:
    return {k: v.data for k, v in snapshot_contents(store, snap).items() if v.kind == "file"}


def _src(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"0big": D({b"f%d" % i: F(b"big %d\n" % i) for i in range(20)}),
                b"precious": D({b"p%d" % i: F(b"precious %d\n" % i) for i in range(5)}),
                b"app.log": F(b"log line\n"),
                b"b.txt": F(b"b\n"),
            }
        ),
    )
    return src


def _on_scandir(
    monkeypatch: pytest.MonkeyPatch, path: Path, act: Any, after: bool = False, times: int = 1
) -> list[int]:
    """Run *act* when the walk lists *path* (its first *times* listings): before the listing,
    or with *after* once it is listed (the names read, the folder not walked yet)."""
    real = os.scandir
    target = os.fsencode(path)
    done: list[int] = []

    def scandir(p: Any) -> Any:
        if len(done) < times and not isinstance(p, int) and os.fsencode(p) == target:
            done.append(1)
            if not after:
                act()
                return real(p)
            with real(p) as it:
                listed = list(it)
            act()
            return _Listing(listed)
        return real(p)

    monkeypatch.setattr(os, "scandir", scandir)
    return done


class _Listing:
    """What os.scandir gives, read already (a context manager and an iterator)."""

    def __init__(self, des: list[Any]) -> None:
        self.des = des

    def __enter__(self) -> _Listing:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __iter__(self) -> Any:
        return iter(self.des)


class _StatThenAct:
    """A DirEntry whose lstat runs *act* once it is had: the entry renamed between the lstat
    the walk packs and its read."""

    def __init__(self, de: Any, act: Any) -> None:
        self.de, self.act = de, act
        self.name, self.path = de.name, de.path

    def stat(self, *, follow_symlinks: bool = True) -> Any:
        st = self.de.stat(follow_symlinks=follow_symlinks)
        act, self.act = self.act, None
        if act is not None:
            act()
        return st

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return bool(self.de.is_dir(follow_symlinks=follow_symlinks))

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        return bool(self.de.is_file(follow_symlinks=follow_symlinks))

    def is_symlink(self) -> bool:
        return bool(self.de.is_symlink())

    def inode(self) -> int:
        return int(self.de.inode())


def _after_lstat(
    monkeypatch: pytest.MonkeyPatch, folder: Path, name: bytes, act: Any, way: str
) -> list[str]:
    """Run *act* right after the walk lstat's *folder*/*name* from its first listing, by the
    *way* the walk lstat's a listed folder's entries: "lstats" (walker._lstats, one call for
    the folder, as trusted names get theirs), or "direntry" (that call made to fail for the
    folder: each DirEntry's lstat, the fallback). The list says where *act* ran (*way*)."""
    real = os.scandir
    target = os.fsencode(folder)
    pre = target + b"/"
    listed: list[int] = []
    ran: list[str] = []

    def acted(where: str) -> None:
        if not ran:
            ran.append(where)
            act()

    def scandir(p: Any) -> Any:
        if not listed and not isinstance(p, int) and os.fsencode(p) == target:
            listed.append(1)
            with real(p) as it:
                des = [
                    _StatThenAct(de, lambda: acted("direntry")) if de.name == name else de
                    for de in it
                ]
            return _Listing(des)
        return real(p)

    real_lstats = walker._lstats or walker._lstatter()

    def lstats(p: bytes, names: list[bytes]) -> Any:
        if p != pre or name not in names or ran:
            return real_lstats(p, names)
        if way == "direntry":
            return None  # (as when one of them failed)
        got = real_lstats(p, names)
        acted("lstats")
        return got

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(walker, "_lstats", lstats)
    return ran


# the two ways a listed folder's entries are lstat'ed (_after_lstat)
_WAYS = pytest.mark.parametrize("way", ["lstats", "direntry"])


def test_a_folder_renamed_before_it_is_listed_is_taken_under_its_new_name(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    src = _src(tmp_path)
    with Store(store_dir) as store:
        done = _on_scandir(
            monkeypatch, src / "precious", lambda: os.rename(src / "precious", src / "zz_precious")
        )
        snap = take(store, "s", src)
        assert done
        held = _held(store, snap)
        assert {k for k in held if k.startswith(b"zz_precious/")} == {
            b"zz_precious/p%d" % i for i in range(5)
        }, sorted(held)
        assert held[b"zz_precious/p3"] == b"precious 3\n"
        assert not any(k.startswith(b"precious") for k in held)
        assert snap.meta["skipped_paths"] == [] and snap.skipped == 0
        assert snap.files == 27


def test_a_folder_renamed_while_it_is_read_is_taken_under_its_new_name(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """Listed under its old name, then renamed before its files are read: what was read
    through the old name is dropped (walker._moved: GONE) and the new name taken."""
    src = _src(tmp_path)
    with Store(store_dir) as store:
        done = _on_scandir(
            monkeypatch,
            src / "precious",
            lambda: os.rename(src / "precious", src / "zz_precious"),
            after=True,
        )
        snap = take(store, "s", src)
        assert done
        held = _held(store, snap)
        assert sum(k.startswith(b"zz_precious/") for k in held) == 5, sorted(held)
        assert not any(k.startswith(b"precious") for k in held)
        assert snap.meta["skipped_paths"] == []
        assert snap.files == 27


@_WAYS
def test_a_file_renamed_between_its_lstat_and_its_read_is_taken_under_its_new_name(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str, way: str
) -> None:
    """Log rotation as the walk reads the top folder: app.log lstat'ed, then renamed."""
    src = _src(tmp_path)
    with Store(store_dir) as store:
        ran = _after_lstat(
            monkeypatch,
            src,
            b"app.log",
            lambda: os.rename(src / "app.log", src / "app.log.1"),
            way,
        )
        snap = take(store, "s", src)
        assert ran == [way]
        held = _held(store, snap)
        assert held.get(b"app.log.1") == b"log line\n", sorted(held)
        assert b"app.log" not in held
        assert snap.meta["skipped_paths"] == []
        assert snap.files == 27


def test_a_file_renamed_between_listing_and_lstat_is_taken_under_its_new_name(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    src = _src(tmp_path)
    with Store(store_dir) as store:
        _on_scandir(
            monkeypatch, src, lambda: os.rename(src / "app.log", src / "app.log.1"), after=True
        )
        snap = take(store, "s", src)
        held = _held(store, snap)
        assert held.get(b"app.log.1") == b"log line\n", sorted(held)
        assert snap.meta["skipped_paths"] == []


def test_a_renamed_entry_of_a_cached_walk_is_taken_under_its_new_name(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """The second snapshot (the files cache's records compared, the top folder changed): the
    same rename of a folder as its parent is walked."""
    src = _src(tmp_path)
    with Store(store_dir) as store:
        take(store, "s", src)
        (src / "new.txt").write_bytes(b"new\n")
        _on_scandir(
            monkeypatch, src / "precious", lambda: os.rename(src / "precious", src / "zz_precious")
        )
        snap = take(store, "s", src)
        held = _held(store, snap)
        assert sum(k.startswith(b"zz_precious/") for k in held) == 5, sorted(held)
        assert snap.meta["skipped_paths"] == [] and snap.files == 28
        again = take(store, "s", src)  # the record made so is no stale one
        assert _held(store, again) == held


@_WAYS
def test_a_real_deletion_is_still_nothing_to_lose(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str, way: str
) -> None:
    src = _src(tmp_path)
    with Store(store_dir) as store:
        ran = _after_lstat(monkeypatch, src, b"app.log", lambda: os.unlink(src / "app.log"), way)
        snap = take(store, "s", src)
        assert ran == [way]
        held = _held(store, snap)
        assert not any(k.startswith(b"app.log") for k in held)
        assert snap.meta["skipped_paths"] == [] and snap.skipped == 0
        assert snap.files == 26


def test_a_folder_renamed_at_every_listing_is_said_not_silently_left_out(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """Renamed again each time the top folder is listed (and the first time as it is read):
    listed again a bounded number of times, then what it still lacks is named."""
    src = _src(tmp_path)
    names = [b"precious"]

    def rename() -> None:
        new = b"zz%d" % len(names)
        os.rename(os.fsencode(src) + b"/" + names[-1], os.fsencode(src) + b"/" + new)
        names.append(new)

    with Store(store_dir) as store:
        done = _on_scandir(monkeypatch, src, rename, after=True, times=99)
        snap = take(store, "s", src)
        # (each walk of the top folder lists it so: the walk looks again at a folder that
        # changed while it ran, walker._walk, AGAIN times at most; then once to say which
        # folder took names: _gained)
        assert 2 <= len(done) <= (walker.RELISTS + 2) * (walker.AGAIN + 1) + 1, done
        held = _held(store, snap)
        assert not any(b"/p" in k for k in held), sorted(held)
        # (the name the walk's last listing had: renamed again as it was listed, and once
        # more by _gained's; and the top folder, which still takes a new name after the last
        # walk again: MOVED_IN)
        assert [tuple(x) for x in snap.meta["skipped_paths"]] == [
            (os.fsdecode(names[-3]), MOVED),
            (".", MOVED_IN),
        ]
        assert snap.skipped == 2


def test_the_split_walk_takes_the_new_name_as_one_walk_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """A folder renamed as either process lists it (the processes share the hook): the parent
    walks its parent again, and the snapshot is the one a single walk makes."""
    _split(monkeypatch)
    src = tmp_path / "src"
    for i in range(6):
        build(src / f"f{i}", D({b"x.txt": F(b"x %d\n" % i)}))
    build(src / "z", D({b"in.txt": F(b"z\n")}))
    with Store(tmp_path / "store") as store:
        take(store, "s", src)
        (src / "z" / "edited.txt").write_bytes(b"edited\n")
        _on_scandir(monkeypatch, src / "z", lambda: os.rename(src / "z", src / "zz"))
        snap = take(store, "s", src)
        held = _held(store, snap)
        assert held.get(b"zz/in.txt") == b"z\n" and held.get(b"zz/edited.txt") == b"edited\n"
        assert not any(k.startswith(b"z/") for k in held)
        assert snap.meta["skipped_paths"] == [] and snap.files == 8


def test_the_split_walks_child_answers_for_no_folder_it_listed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """A file renamed in the child's first unit as the child reads it: the child lists the
    folder again (walker._relisted) and answers nothing for it; the parent walks it."""
    _split(monkeypatch)
    src = tmp_path / "src"
    for i in range(6):
        build(src / f"f{i}", D({b"x.txt": F(b"x %d\n" % i)}))
    build(src / "z", D({b"in.txt": F(b"z\n")}))
    parent = os.getpid()

    def rotate() -> None:
        if os.getpid() != parent:  # (the child's listing of its first unit)
            os.rename(src / "z" / "in.txt", src / "z" / "in.txt.1")

    with Store(tmp_path / "store") as store:
        take(store, "s", src)
        (src / "z" / "edited.txt").write_bytes(b"edited\n")
        _on_scandir(monkeypatch, src / "z", rotate, after=True)
        snap = take(store, "s", src)
        held = _held(store, snap)
        assert held.get(b"z/in.txt.1") == b"z\n" and held.get(b"z/edited.txt") == b"edited\n"
        assert b"z/in.txt" not in held
        assert snap.meta["skipped_paths"] == [] and snap.files == 8


_RENAMER = """
import os, sys, time
a, b, end = sys.argv[1].encode(), sys.argv[2].encode(), time.time() + float(sys.argv[3])
while time.time() < end:
    os.rename(a, b)
    os.rename(b, a)
"""


@pytest.mark.parametrize("what", ["folder", "file"])
def test_a_renamer_beside_many_snapshots_never_makes_a_silent_miss(
    store_dir: Path, tmp_path: Path, what: str
) -> None:
    """renamer.sh's loop (`mv a z; mv z a`) beside 25 snapshots: each holds the files under
    one name or the other, or says what it lacks (before: 23 of 25 held neither, 22 of them
    silently)."""
    src = tmp_path / "src"
    build(src / "m", D({b"g%d" % i: F(b"%d\n" % i) for i in range(200)}))
    if what == "folder":
        build(src / "a_dir", D({b"f%d" % i: F(b"%d\n" % i) for i in range(300)}))
        moving, total = "a_dir", 500
    else:
        build(src, D({b"a_file": F(b"rotated\n")}))
        moving, total = "a_file", 201
    renamer = subprocess.Popen(
        [sys.executable, "-c", _RENAMER, str(src / moving), str(src / "z_moved"), "60"]
    )
    silent = []
    try:
        with Store(store_dir) as store:
            for _ in range(25):
                snap = take(store, "s", src)
                if snap.files != total and not snap.meta["skipped_paths"]:
                    silent.append(snap.files)
    finally:
        renamer.kill()
        renamer.wait()
    assert silent == [], silent
