"""Where the store lives: checked, never imposed, and never part of what it protects."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from test_cli_helpers import query
from test_cli_helpers import snap_id
from test_cli_helpers import write

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store import location

NOTE = "is inside this worktree"


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _listing(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path below *root* with its mode and, for files, its bytes."""
    out: dict[str, tuple[int, bytes | None]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = (_mode(p), p.read_bytes() if p.is_file() else None)
    return out


def _gs_with_store(cwd: Path, store: str, *args: str, rc: int = 0) -> Ran:
    env = dict(os.environ, GIT_SNAPSHOT_STORE=store)
    return run(cwd, sys.executable, "-m", "git_snapshot", *args, rc=rc, env=env)


def _snapshot_paths(repo: Path, sid: int | str = "latest") -> set[str]:
    return {e["path"] for e in query(repo, "show", str(sid))["entries"]}


# -- #7: the location is checked, not imposed ---------------------------------------------------


def test_a_folder_holding_other_things_is_refused_and_left_as_it_was(
    repo: Path, tmp_path: Path
) -> None:
    other = tmp_path / "photos"
    write(other / "holiday.jpg", b"\xff\xd8 not really")
    os.chmod(other, 0o755)
    before = (_mode(other), _listing(other))
    ran = _gs_with_store(repo, str(other), rc=1)
    assert len(ran.err_lines) == 1
    assert f"refusing to use {other} as the snapshot store" in ran.err
    assert "GIT_SNAPSHOT_STORE" in ran.err
    assert (_mode(other), _listing(other)) == before  # not chmodded, nothing added
    _gs_with_store(repo, str(other), "list", rc=1)
    assert (_mode(other), _listing(other)) == before


def test_a_file_is_refused(repo: Path, tmp_path: Path) -> None:
    f = write(tmp_path / "afile", "x")
    ran = _gs_with_store(repo, str(f), rc=1)
    assert "not a directory" in ran.err and len(ran.err_lines) == 1
    assert f.read_text() == "x"


def test_an_empty_folder_becomes_a_store_with_its_marker(repo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o755)
    os.chmod(empty, 0o755)
    _gs_with_store(repo, str(empty))
    assert _mode(empty) == 0o700
    assert "git-snapshot store" in (empty / location.MARKER).read_text()
    assert location.is_store(empty)
    _gs_with_store(repo, str(empty))  # and it is accepted from then on


def test_a_store_another_process_is_making_at_the_same_moment_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two hooks on a new store: both find no packs/ folder, the other one makes it first. (The
    store used to ask isdir then mkdir: the second process failed with 'File exists'.)"""
    new = tmp_path / "new"
    Store(new).close()
    for sub in ("packs", "tmp", "cache"):
        shutil.rmtree(new / sub)
    real_mkdir = os.mkdir

    def mkdir_after_the_other(path: str, mode: int = 0o777) -> None:
        if os.path.basename(path) in ("packs", "tmp", "cache"):
            real_mkdir(path, mode)  # the other process, between our look and our mkdir
        real_mkdir(path, mode)

    monkeypatch.setattr(os, "mkdir", mkdir_after_the_other)
    with Store(new) as store:
        assert os.path.isdir(store.packs_dir)
    monkeypatch.setattr(os, "mkdir", real_mkdir)
    shutil.rmtree(new / "tmp")
    (new / "tmp").write_text("a file where a folder should be")
    with pytest.raises(UserError, match="is intact, but its tmp is not a folder"):
        Store(new)


def test_a_store_of_an_earlier_version_is_recognised(repo: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    sid = snap_id(_gs_with_store(repo, str(old)))
    (old / location.MARKER).unlink()  # as an earlier version left it: index and packs only
    assert snap_id(_gs_with_store(repo, str(old))) == sid + 1
    assert (old / location.MARKER).exists()
    for sign in ("index.sqlite", "packs"):  # either one is enough
        d = tmp_path / f"only-{sign}"
        d.mkdir()
        (d / sign).mkdir() if sign == "packs" else (d / sign).write_bytes(b"")
        assert location.is_store(d)
    d = tmp_path / "only-index.sqlite"
    (d / "index.sqlite").unlink()
    (d / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="refusing"):
        Store(d)


def test_only_the_stores_own_folders_are_made_private(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "new" / "deeper" / "store"
    umask = os.umask(0o022)
    os.umask(umask)
    _gs_with_store(repo, str(store))
    assert _mode(store) == 0o700
    for sub in ("packs", "tmp", "cache"):
        assert _mode(store / sub) == 0o700
    for parent in (tmp_path / "new", tmp_path / "new" / "deeper"):
        assert _mode(parent) == 0o777 & ~umask  # made as mkdir -p would, never chmodded


def test_a_relative_store_is_refused(repo: Path) -> None:
    ran = _gs_with_store(repo, "snapshots", rc=1)
    assert len(ran.err_lines) == 1
    assert "GIT_SNAPSHOT_STORE='snapshots' is a relative path" in ran.err
    assert not (repo / "snapshots").exists()
    _gs_with_store(repo, "./snapshots", "install", rc=0)  # hooks go in, with a warning
    assert not (repo / "snapshots").exists()
    ran = _gs_with_store(repo, "~/snapshots", "list")  # ~ is the home, not relative
    assert ran.err_lines == []


def test_install_says_when_the_store_location_is_refused(repo: Path) -> None:
    ran = _gs_with_store(repo, "snaps", "install")
    (line,) = ran.err_lines
    assert "the hooks cannot snapshot yet" in line and "relative path" in line


def test_the_lock_file_replaced_by_a_directory_is_one_line(repo: Path, store_dir: Path) -> None:
    gs(repo)
    (store_dir / "lock").unlink()
    (store_dir / "lock").mkdir()
    ran = gs(repo, rc=1)
    (line,) = ran.err_lines
    assert f"{store_dir / 'lock'}" in line and "remove" in line
    (store_dir / "lock").rmdir()
    gs(repo)


# -- #1: the store is never part of what it protects --------------------------------------------


@pytest.mark.parametrize("where", ["store", "a/b/c/d/store", ".cache/git-snapshot"])
def test_a_store_inside_the_worktree_is_never_snapshotted(repo: Path, where: str) -> None:
    store = repo / where
    write(repo / "a" / "mine.txt", "mine\n")
    first = _gs_with_store(repo, str(store))
    notes = [ln for ln in first.err_lines if NOTE in ln]
    assert len(notes) == 1 and str(store) in notes[0]
    assert "GIT_SNAPSHOT_STORE" in notes[0] and "move" in notes[0]
    second = _gs_with_store(repo, str(store))
    assert not [ln for ln in second.err_lines if NOTE in ln]  # the first snapshot only
    os.environ["GIT_SNAPSHOT_STORE"] = str(store)  # for query(), in this process
    paths = _snapshot_paths(repo)
    assert "a/mine.txt" in paths and "README" in paths
    assert not [p for p in paths if p == where or p.startswith(where + "/")]
    assert (store / "index.sqlite").exists()


def test_a_store_reached_through_a_symlink_is_never_snapshotted(repo: Path, tmp_path: Path) -> None:
    real = repo / "hidden" / "real-store"
    real.mkdir(parents=True)
    (repo / "link").symlink_to("hidden/real-store")  # a link inside the worktree
    outside = tmp_path / "outside-link"
    outside.symlink_to(real)  # and one outside it
    for via in (repo / "link", outside):
        ran = _gs_with_store(repo, str(via))
        assert [ln for ln in ran.err_lines if NOTE in ln] or via != repo / "link"
    os.environ["GIT_SNAPSHOT_STORE"] = str(real)
    snaps = query(repo, "list")
    assert [s["id"] for s in snaps] == [1, 2]
    for s in snaps:
        paths = _snapshot_paths(repo, s["id"])
        assert "link" in paths  # kept as a link, never followed
        assert not [p for p in paths if p.startswith("hidden/real-store")]


def test_the_default_store_of_a_home_repository_is_never_snapshotted(tmp_path: Path) -> None:
    """A dotfiles repository rooted at $HOME: the default store lies inside its worktree."""
    home = tmp_path / "home"
    git(tmp_path, "init", "-q", str(home))
    write(home / ".bashrc", "alias ll='ls -l'\n")
    env = {k: v for k, v in os.environ.items() if k != "GIT_SNAPSHOT_STORE"}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"))
    store = home / ".local" / "share" / "git-snapshot"
    ran = run(home, sys.executable, "-m", "git_snapshot", "install", env=env)
    (note,) = ran.err_lines  # (said once: install's first snapshot says it, install not again)
    assert NOTE in note and str(store) in note
    assert "first snapshot 1: " in ran.out, ran.out
    write(home / ".profile", "x\n")
    ran = run(home, sys.executable, "-m", "git_snapshot", env=env)
    assert not [ln for ln in ran.err_lines if NOTE in ln]
    assert (store / location.MARKER).exists()
    assert ran.out.startswith("snapshot 2: "), ran.out
    ran = run(home, sys.executable, "-m", "git_snapshot", "show", "2", env=env)
    assert ".bashrc" in ran.out and ".profile" in ran.out
    assert "git-snapshot/" not in ran.out and "index.sqlite" not in ran.out


def test_restore_delete_keeps_a_store_inside_the_worktree(repo: Path) -> None:
    """The observation of issue 7: `restore N --delete` deleted the store and every history
    in it. The store and every snapshot must survive, and each snapshot stay restorable."""
    store = repo / ".snapshots"
    os.environ["GIT_SNAPSHOT_STORE"] = str(store)
    write(repo / "one.txt", "1\n")
    gs(repo)
    write(repo / "two.txt", "2\n")
    gs(repo)
    write(repo / "three.txt", "3\n")
    gs(repo)
    before = {s["id"] for s in query(repo, "list")}
    gs(repo, "restore", "1", "--delete")
    assert (repo / "one.txt").exists() and not (repo / "two.txt").exists()
    assert (store / "index.sqlite").exists() and (store / location.MARKER).exists()
    after = {s["id"] for s in query(repo, "list")}
    assert before < after  # every snapshot, plus the pre-restore one
    gs(repo, "verify", "--read-data")
    gs(repo, "restore", "3")
    assert (repo / "three.txt").read_text() == "3\n"
