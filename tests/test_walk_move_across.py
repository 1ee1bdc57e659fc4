"""RED32 V1 finding 2: files or a folder moved while a snapshot walked the tree, out of a folder
not walked yet into one the walk had finished (a Maildir's `mv new/m* cur/` with cur/ walked
first; `mv zz 00early/zz`), were in that snapshot under neither name, and nothing said so.
Session 32's relisting (walker._Walker._relisted) takes a name new in the folder an entry
went from; a move into another folder it took for a deletion.

Now a walk that saw entries come or go in a folder while it ran (an entry gone as it was
read, or a folder whose own mtime is the walk's or changed between its parent's lstat and
the end of its walk) looks at the folders it walked again (one lstat each), and walks again
those that changed since, and the folders above them (walker._walk, _Walker._walk_again);
what still changes after AGAIN such walks is named (walker.MOVED_IN). Each move is made at
its exact moment here: a hook in _Walker.tree, between two folders of the walk."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take
from test_red26_far_dates import _split
from test_red26_far_dates import impl as impl  # (the fixture: C and twin)

from git_snapshot.store import Store
from git_snapshot.store import filescache
from git_snapshot.store import walker
from git_snapshot.store.walker import MOVED_IN


def _held(store: Store, snap: Any) -> dict[bytes, bytes]:
    return {k: v.data for k, v in snapshot_contents(store, snap).items() if v.kind == "file"}


def _on_disk(src: Path) -> dict[bytes, bytes]:
    return {k: v.data for k, v in scan(src).items() if v.kind == "file"}


def _aged(src: Path) -> None:
    """Every folder's mtime a minute back: only a move made during the walk makes one of them
    look changed while it ran (a tree built just before the walk looks so too)."""
    then = time.time() - 60
    for d, _, _ in os.walk(src):
        os.utime(d, (then, then))


def _tops(src: Path, n: int = 5, files: int = 4) -> list[bytes]:
    names = [b"d%d" % i for i in range(n)]
    build(
        src,
        D(
            {
                **{
                    name: D({name + b"_%d" % j: F(b"%s %d\n" % (name, j)) for j in range(files)})
                    for name in names
                },
                b"top.txt": F(b"top\n"),
            }
        ),
    )
    _aged(src)
    return names


class _MoveAcross:
    """_Walker.tree wrapped: when the walk starts a folder of *tops* while another of them is
    done (its tree() returned) and a third is not started, the third's files (*files*) or
    the folder itself are moved into the done one, once (in the split walk's child only,
    with *child*). Which folders they were goes to the file *flag* (the child's too)."""

    def __init__(self, src: Path, tops: list[bytes], files: bool, flag: Path, child: bool) -> None:
        self.src, self.tops, self.files, self.flag = os.fsencode(src), set(tops), files, flag
        self.parent = os.getpid() if child else -1
        self.started: list[bytes] = []
        self.ended: list[bytes] = []
        self.real = walker._Walker.tree

    def tree(self, w: Any, path: bytes, rel: bytes, label: int) -> Any:
        name = rel[:-1]
        if name in self.tops:
            if os.getpid() != self.parent and not self.flag.exists():
                self._maybe(name)
            self.started.append(name)
        key = self.real(w, path, rel, label)
        if name in self.tops:
            self.ended.append(name)
        return key

    def _maybe(self, now: bytes) -> None:
        later = sorted(self.tops - set(self.started) - {now})
        if not self.ended or not later:
            return
        dest, moving = self.ended[0], later[-1]
        base = self.src + b"/"
        if self.files:
            for name in os.listdir(base + moving):
                os.rename(base + moving + b"/" + name, base + dest + b"/" + name)
        else:
            os.rename(base + moving, base + dest + b"/" + moving)
        self.flag.write_bytes(b"%s -> %s" % (moving, dest))


def _move_across(
    monkeypatch: pytest.MonkeyPatch, src: Path, tops: list[bytes], files: bool, child: bool = False
) -> Path:
    flag = src.parent / "moved"
    hook = _MoveAcross(src, tops, files, flag, child)
    monkeypatch.setattr(walker._Walker, "tree", lambda w, p, r, lab: hook.tree(w, p, r, lab))
    return flag


@pytest.mark.parametrize("files", [False, True], ids=["folder", "files"])
@pytest.mark.parametrize("cached", [False, True], ids=["first", "cached"])
def test_what_moves_into_a_walked_folder_is_in_the_snapshot_under_its_new_name(
    store_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    impl: str,
    files: bool,
    cached: bool,
) -> None:
    src = tmp_path / "src"
    tops = _tops(src)
    with Store(store_dir) as store:
        if cached:
            take(store, "s", src)
            (src / "top.txt").write_bytes(b"edited\n")  # (the top folder walked entry by entry)
            _aged(src)
        flag = _move_across(monkeypatch, src, tops, files)
        snap = take(store, "s", src)
        assert flag.exists()
        moving, _, dest = flag.read_bytes().partition(b" -> ")
        held = _held(store, snap)
        assert held == _on_disk(src), (flag.read_bytes(), sorted(held))
        inside = dest + b"/" + (moving + b"/" if not files else b"") + moving + b"_2"
        assert held[inside] == b"%s 2\n" % moving
        assert snap.meta["skipped_paths"] == [] and snap.files == 21
        again = take(store, "s", src)  # the records this walk left are no stale ones
        assert _held(store, again) == held


@pytest.mark.parametrize("files", [False, True], ids=["folder", "files"])
def test_a_first_walk_whose_records_went_to_the_cache_file_walks_again_as_well(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str, files: bool
) -> None:
    """A first walk writes its records to the cache file as they come (_Walker._spill): here
    each at once. Their heads stay (walker.spilled): enough to look at each folder again and
    to keep those that did not change."""
    monkeypatch.setattr(filescache.Writer, "CHUNK", 1)
    src = tmp_path / "src"
    tops = _tops(src)
    with Store(store_dir) as store:
        flag = _move_across(monkeypatch, src, tops, files)
        snap = take(store, "s", src)
        assert flag.exists()
        held = _held(store, snap)
        assert held == _on_disk(src), (flag.read_bytes(), sorted(held))
        assert snap.meta["skipped_paths"] == [] and snap.files == 21
        again = take(store, "s", src)  # the cache file written so: its records as this tree
        assert again.root == snap.root


def test_a_maildir_whose_new_mail_moves_to_cur_keeps_every_mail(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """repro_move_files_across.sh's shape, in a cached walk as a hook makes it: new/ was empty
    at the last snapshot, mail came, and the client moves it to cur/ (walked already) while
    d_big/ is walked; new/ is then listed as empty, as its record has it. Restored, every
    mail is there."""
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"cur": D({b"m0": F(b"old mail\n")}),
                b"d_big": D({b"f%d" % i: F(b"%d\n" % i) for i in range(30)}),
                b"new": D({}),
            }
        ),
    )
    _aged(src)
    with Store(store_dir) as store:
        take(store, "s", src)
        for i in range(1, 21):
            (src / "new" / f"m{i}").write_bytes(b"mail %d\n" % i)
        real = walker._Walker.tree
        moved: list[int] = []

        def tree(w: Any, path: bytes, rel: bytes, label: int) -> Any:
            if rel == b"d_big/" and not moved:
                for name in os.listdir(src / "new"):
                    os.rename(src / "new" / name, src / "cur" / name)
                moved.append(1)
            return real(w, path, rel, label)

        monkeypatch.setattr(walker._Walker, "tree", tree)
        snap = take(store, "s", src)
        assert moved
        assert snap.meta["skipped_paths"] == []
        out = tmp_path / "out"
        restore(store, snap, out)
        assert sorted(os.listdir(out / "cur")) == sorted(["m0", *(f"m{i}" for i in range(1, 21))])
        assert (out / "cur" / "m7").read_bytes() == b"mail 7\n"
        assert os.listdir(out / "new") == []


def test_the_split_walk_takes_what_moved_into_a_folder_its_child_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """The child walks from the back and answers for the folders it finds as recorded; files
    moved, in the child's time, from a folder not walked yet into one it answered for."""
    _split(monkeypatch)
    src = tmp_path / "src"
    tops = _tops(src, n=6)
    with Store(tmp_path / "store") as store:
        take(store, "s", src)
        (src / "top.txt").write_bytes(b"edited\n")
        _aged(src)
        flag = _move_across(monkeypatch, src, tops, files=True, child=True)
        snap = take(store, "s", src)
        assert flag.exists()
        held = _held(store, snap)
        assert held == _on_disk(src), (flag.read_bytes(), sorted(held))
        assert snap.meta["skipped_paths"] == [] and snap.files == 25


def test_a_folder_that_keeps_taking_moved_files_is_named(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """A mail moved into cur/ each time the walk is done with cur/: each walk again finds cur/
    changed; past AGAIN of them the snapshot names it, never silent."""
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"cur": D({b"m0": F(b"old mail\n")}),
                b"d_big": D({b"f%d" % i: F(b"%d\n" % i) for i in range(5)}),
                b"new": D({b"m%d" % i: F(b"mail %d\n" % i) for i in range(1, 21)}),
            }
        ),
    )
    _aged(src)
    real = walker._Walker.tree
    moved: list[int] = []

    def tree(w: Any, path: bytes, rel: bytes, label: int) -> Any:
        key = real(w, path, rel, label)
        if rel == b"cur/":
            n = len(moved) + 1
            os.rename(src / "new" / f"m{n}", src / "cur" / f"m{n}")
            moved.append(n)
        return key

    monkeypatch.setattr(walker._Walker, "tree", tree)
    with Store(store_dir) as store:
        snap = take(store, "s", src)
        assert len(moved) == walker.AGAIN + 1
        held = _held(store, snap)
    last = moved[-1]
    assert b"cur/m%d" % last not in held and b"new/m%d" % last not in held
    assert all(b"cur/m%d" % n in held for n in moved[:-1])
    assert [tuple(x) for x in snap.meta["skipped_paths"]] == [("cur", MOVED_IN)]
    assert snap.skipped == 1


def test_an_unchanged_or_edited_tree_is_not_looked_at_again(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """The common path: no folder changed while the walk ran, no lstat of the folders again."""
    src = tmp_path / "src"
    _tops(src)
    calls: list[int] = []
    real = walker._Walker._changed_since

    def changed_since(w: Any, *args: Any) -> Any:
        calls.append(1)
        return real(w, *args)

    monkeypatch.setattr(walker._Walker, "_changed_since", changed_since)
    with Store(store_dir) as store:
        take(store, "s", src)
        take(store, "s", src)
        (src / "d1" / "d1_0").write_bytes(b"edited\n")
        take(store, "s", src)
        (src / "d2" / "d2_1").unlink()
        _aged(src)  # (as a hook finds it: the change older than the walk by far more than 10 ms)
        take(store, "s", src)
    assert calls == []


def test_a_deletion_while_the_walk_runs_is_no_move_and_nothing_is_said(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """Files deleted from a folder not walked yet (its parent listed it before): that folder
    changed after its parent lstat'ed it, so it is walked again once (what was its listing
    is not known to be newer than the deletion), and nothing is said: a deletion loses
    nothing."""
    src = tmp_path / "src"
    _tops(src)
    real = walker._Walker.tree
    again: list[list[bytes]] = []
    real_again = walker._Walker._walk_again
    done: list[int] = []

    def tree(w: Any, path: bytes, rel: bytes, label: int) -> Any:
        if rel == b"d2/" and not done:
            for name in os.listdir(src / "d4"):
                os.unlink(src / "d4" / name)
            done.append(1)
        return real(w, path, rel, label)

    def walk_again(w: Any, root: bytes, changed: list[bytes]) -> Any:
        again.append(changed)
        return real_again(w, root, changed)

    monkeypatch.setattr(walker._Walker, "tree", tree)
    monkeypatch.setattr(walker._Walker, "_walk_again", walk_again)
    with Store(store_dir) as store:
        snap = take(store, "s", src)
        assert done and again == [[b"d4"]]
        assert _held(store, snap) == _on_disk(src)
        assert snap.meta["skipped_paths"] == [] and snap.files == 17


def test_a_walked_folder_replaced_by_a_symlink_is_not_looked_at_forever(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """d0 walked, then renamed away and a symlink put in its place, and files deleted from
    d4 (a move, for all the walk knows): d0's record names no folder now; it is not taken
    for one that changed (walked again and again, then named as taking files)."""
    src = tmp_path / "src"
    _tops(src)
    real = walker._Walker.tree
    done: list[int] = []

    def tree(w: Any, path: bytes, rel: bytes, label: int) -> Any:
        if rel == b"d2/" and not done:
            os.rename(src / "d0", tmp_path / "d0.away")
            os.symlink("d1", src / "d0")
            for name in os.listdir(src / "d4"):
                os.unlink(src / "d4" / name)
            done.append(1)
        return real(w, path, rel, label)

    monkeypatch.setattr(walker._Walker, "tree", tree)
    with Store(store_dir) as store:
        snap = take(store, "s", src)
        assert done
        assert snap.meta["skipped_paths"] == []
        got = snapshot_contents(store, snap)
        assert got[b"d0"].kind == "link" and got[b"d0"].data == b"d1"
        assert not any(k.startswith(b"d0/") or k.startswith(b"d4/") for k in got)
