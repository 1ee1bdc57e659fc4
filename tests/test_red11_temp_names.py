"""A user's file or folder whose name looks like the tool's temp files (``.gsnap-tmp-`` + 12
hex digits + ``-``: a repository that committed one, a copy of a killed restore's leftover, a
name chosen by chance) is the user's: snapshotted like any other, never deleted by a
snapshot or a restore. Only a temp file that the store's record of a run proves its own,
given in that very folder by a run now dead, is removed (and never snapshotted)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from storehelpers import EXPORT_KILLER
from storehelpers import RESTORE_KILLER
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import live_run
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import splitwalk
from git_snapshot.store.safewrite import is_temp_name

USER_FILE = b".gsnap-tmp-0123456789ab-notes.txt"
USER_DIR = b".gsnap-tmp-abcdef012345-drafts"
USER_LINK = b".gsnap-tmp-00000000beef-link"


def user_tree() -> D:
    return D(
        {
            b"a.txt": F(b"a\n"),
            USER_FILE: F(b"my notes, not a temp file\n"),
            USER_DIR: D({b"draft.md": F(b"# draft\n"), USER_FILE: F(b"inner\n")}),
            b"sub": D({USER_FILE: F(b"deeper notes\n"), b"b.txt": F(b"b\n")}),
        }
    )


def expect_user_names(store: Store, src: Path) -> None:
    held = snapshot_contents(store, store.get("s", "latest"), mtimes=False)
    on_disk = scan(src, mtimes=False)
    for rel in (
        USER_FILE,
        USER_DIR,
        USER_DIR + b"/draft.md",
        USER_DIR + b"/" + USER_FILE,
        b"sub/" + USER_FILE,
    ):
        assert rel in on_disk, f"{rel!r} deleted by the snapshot"
        assert held.get(rel) == on_disk[rel], f"{rel!r} not in the snapshot as on disk"


def test_a_snapshot_keeps_and_stores_a_user_file_named_like_a_temp_file(
    store: Store, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, user_tree())
    os.symlink("a.txt", src / os.fsdecode(USER_LINK))
    take(store, "s", src)  # a first walk
    expect_user_names(store, src)
    assert os.path.islink(src / os.fsdecode(USER_LINK))
    (src / "a.txt").write_bytes(b"changed\n")
    take(store, "s", src)  # a walk with a files cache
    expect_user_names(store, src)
    take(store, "s", src)  # unchanged
    expect_user_names(store, src)


def test_the_split_walk_keeps_and_stores_them_too(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(splitwalk, "MIN_FILES", 10)
    src = tmp_path / "src"
    build(src, user_tree())
    for i in range(8):
        build(src / f"pkg{i}", D({f"f{j}".encode(): F(b"%d %d\n" % (i, j)) for j in range(30)}))
        build(src / f"pkg{i}" / os.fsdecode(USER_DIR), D({USER_FILE: F(b"pkg %d\n" % i)}))
    take(store, "s", src)
    take(store, "s", src)  # the files cache makes the next walks split ones
    (src / "pkg3" / "f1").write_bytes(b"changed\n")
    (src / "pkg5" / os.fsdecode(USER_FILE)).write_bytes(b"new\n")
    take(store, "s", src)
    expect_user_names(store, src)
    held = snapshot_contents(store, store.get("s", "latest"), mtimes=False)
    assert held == scan(src, mtimes=False)


def test_a_restore_never_deletes_a_user_file_named_like_a_temp_file(
    store: Store, tmp_path: Path
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    build(src, D({b"a.txt": F(b"a\n"), b"sub": D({b"b.txt": F(b"b\n")})}))
    snap = take(store, "s", src)
    build(out, D({USER_FILE: F(b"mine\n"), b"sub": D({USER_FILE: F(b"mine too\n")})}))
    os.symlink("nowhere", out / "sub" / os.fsdecode(USER_LINK))
    restore(store, snap, out)
    assert (out / os.fsdecode(USER_FILE)).read_bytes() == b"mine\n"
    assert (out / "sub" / os.fsdecode(USER_FILE)).read_bytes() == b"mine too\n"
    assert os.path.islink(out / "sub" / os.fsdecode(USER_LINK))
    assert (out / "sub" / "b.txt").read_bytes() == b"b\n"


def test_a_restored_snapshot_gives_them_back(store: Store, tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    build(src, user_tree())
    take(store, "s", src)
    restore(store, store.get("s", "latest"), out)
    assert scan(out, mtimes=False) == scan(src, mtimes=False)


# -- the tool's own leftovers still go ----------------------------------------------------------


def temps(root: Path) -> list[bytes]:
    return sorted(p for p in scan(root, mtimes=False) if is_temp_name(p.rsplit(b"/", 1)[-1]))


def killed_restore(store_dir: Path, tmp_path: Path, store: Store) -> tuple[Path, Path]:
    src, out = tmp_path / "src", tmp_path / "out"
    build(src, D({b"big": F(os.urandom(300_000)), b"d": D({b"f": F(os.urandom(5000))})}))
    take(store, "s", src)
    res = subprocess.run(
        [sys.executable, "-c", RESTORE_KILLER, str(store_dir), str(out)], capture_output=True
    )
    assert res.returncode == -signal.SIGKILL, res.stderr
    assert temps(out), "the kill left no temp file: the test proves nothing"
    return src, out


def test_a_killed_restores_leftover_is_removed_by_the_next_snapshot_not_stored(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    _src, out = killed_restore(store_dir, tmp_path, store)
    build(out / "mine", D({USER_FILE: F(b"mine\n")}))
    take(store, "o", out)
    assert temps(out) == [b"mine/" + USER_FILE]
    held = snapshot_contents(store, store.get("o", "latest"), mtimes=False)
    assert [p for p in held if b"gsnap" in p] == [b"mine/" + USER_FILE]


def test_a_copy_of_a_killed_restores_leftover_is_the_users(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    """The record names the folder the run wrote in: a copy elsewhere is not its litter."""
    _src, out = killed_restore(store_dir, tmp_path, store)
    copy = tmp_path / "copy"
    shutil.copytree(out, copy, symlinks=True)
    left = temps(copy)
    take(store, "c", copy)
    assert temps(copy) == left
    held = snapshot_contents(store, store.get("c", "latest"), mtimes=False)
    assert [p for p in held if b"gsnap" in p] == left
    restore(store, store.get("s", "latest"), out)  # its own litter goes, the copy's stays
    assert temps(out) == [] and temps(copy) == left


# -- a hook's snapshot with the watcher's dirty set (store/rebuild.py) --------------------------


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_a_watched_hook_snapshot_keeps_and_stores_them(store_dir: Path, tmp_path: Path) -> None:
    from test_watch_daemon import make_repo
    from test_watch_whole import full_walk
    from test_watch_whole import hook
    from test_watch_whole import live

    repo = make_repo(tmp_path)
    (repo / "src" / "lib").mkdir()
    (repo / "src" / "lib" / "a.py").write_text("a\n")
    for w in live(store_dir, repo, budget=1000):
        hook(repo)  # the epoch's first: a full walk, the base
        build(repo / "src", D({USER_FILE: F(b"notes\n"), USER_DIR: D({b"d.md": F(b"d\n")})}))
        build(repo / "src" / "lib", D({USER_FILE: F(b"lib notes\n")}))
        (repo / "src" / "lib" / "a.py").write_text("changed\n")
        w.settle()
        snap = hook(repo)
        for rel in (USER_FILE, USER_DIR + b"/d.md", b"lib/" + USER_FILE):
            assert os.path.lexists(repo / "src" / os.fsdecode(rel)), f"{rel!r} deleted"
        assert (snap.root, snap.files, snap.bytes) == full_walk(repo, tmp_path)
        with Store(store_dir) as store:
            held = snapshot_contents(store, snap, mtimes=False)
        assert held[b"src/" + USER_DIR + b"/d.md"].data == b"d\n"
        assert held[b"src/lib/" + USER_FILE].data == b"lib notes\n"
        (repo / "src" / os.fsdecode(USER_DIR) / "d.md").write_text("d2\n")
        (repo / "src" / os.fsdecode(USER_FILE)).write_text("notes 2\n")
        w.settle()
        snap = hook(repo)
        assert (snap.root, snap.files, snap.bytes) == full_walk(repo, tmp_path)
        with Store(store_dir) as store:
            held = snapshot_contents(store, snap, mtimes=False)
        assert held[b"src/" + USER_DIR + b"/d.md"].data == b"d2\n"
        assert held[b"src/" + USER_FILE].data == b"notes 2\n"


def test_a_live_runs_temp_files_stay_unstored_and_go_once_it_died(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, D({b"a.txt": F(b"a\n")}))
    run, [link, file] = live_run(store_dir, src, b"l", b"f")  # a restore writing in src/ now
    os.symlink("a.txt", src / os.fsdecode(link))
    (src / os.fsdecode(file)).write_bytes(b"half")
    take(store, "s", src)
    assert temps(src) == sorted([link, file])  # neither removed while the run lives...
    held = snapshot_contents(store, store.get("s", "latest"), mtimes=False)
    assert sorted(held) == [b"a.txt"]  # ...nor stored
    os.close(run.fd)  # the run is killed: its record stays, unheld
    take(store, "s", src)
    assert temps(src) == []
    assert sorted(snapshot_contents(store, store.get("s", "latest"), mtimes=False)) == [b"a.txt"]


# -- export writes beside FILE: the same rule there ----------------------------------------------


def test_export_never_deletes_a_user_file_named_like_its_temp_file(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    from git_snapshot.store.export import export

    src, out = tmp_path / "src", tmp_path / "out"
    build(src, D({b"a": F(os.urandom(50_000)), b"b": F(b"b")}))
    take(store, "s", src)
    build(out, D({b".gsnap-tmp-0123456789ab-snap.tar": F(b"mine\n")}))
    res = subprocess.run(
        [sys.executable, "-c", EXPORT_KILLER, str(store_dir), str(out / "snap.tar")],
        capture_output=True,
    )
    assert res.returncode == -signal.SIGKILL, res.stderr
    left = [n for n in os.listdir(out) if n != ".gsnap-tmp-0123456789ab-snap.tar"]
    assert len(left) == 1 and is_temp_name(os.fsencode(left[0])), left  # the kill's leftover
    export(store, store.get("s", "latest"), str(out / "snap.tar"))
    assert sorted(os.listdir(out)) == [".gsnap-tmp-0123456789ab-snap.tar", "snap.tar"]
    assert (out / ".gsnap-tmp-0123456789ab-snap.tar").read_bytes() == b"mine\n"
