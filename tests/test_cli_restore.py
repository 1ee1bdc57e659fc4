"""``git snapshot restore``, end to end with real git: byte for byte, modes, mtimes, links; in
place, ``--to``, chosen paths, from a subdirectory, ``--dry-run``, ``--delete``, the
pre-restore snapshot, and whatever is in the way (never writing through a symlink)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from test_cli_helpers import NON_UTF8
from test_cli_helpers import build_rich_worktree
from test_cli_helpers import git_dir_state
from test_cli_helpers import query
from test_cli_helpers import snap_id
from test_cli_helpers import state_diff
from test_cli_helpers import tree_state
from test_cli_helpers import wipe
from test_cli_helpers import write


def _count(repo: Path) -> int:
    return len(query(repo, "list"))


def _pre_restore_id(out: str) -> int:
    m = re.search(r"what was there before is in snapshot (\d+)", out)
    assert m, out
    return int(m.group(1))


def test_round_trip_in_place_is_byte_for_byte(repo: Path) -> None:
    build_rich_worktree(repo)
    status = git(repo, "status", "--porcelain", "--ignored")
    assert "A  src/new.py" in status and " M README" in status  # the setup is what it claims
    head = git(repo, "rev-parse", "HEAD")
    staged = git(repo, "ls-files", "-s")
    before = tree_state(repo)
    assert before[b".env"][1] == 0o600 and before[b"bin/run.sh"][1] == 0o755
    assert sum(p.startswith(b"node_modules/") and v[0] == "file" for p, v in before.items()) == 300
    dot_git = git_dir_state(repo)

    sid = snap_id(gs(repo))
    # taking a snapshot writes nothing into .git but, the first time, the repository's id and
    # the store it went to (whichstore: RED44 F1)
    after = git_dir_state(repo)
    changed = [k for k in after if after[k] != dot_git.get(k)]
    assert changed == [b"/config", b"/git-snapshot-stores"], changed
    assert git(repo, "config", "snapshot.repoId").strip()
    dot_git = after
    wipe(repo)
    assert os.listdir(repo) == [".git"]

    out = gs(repo, "restore", "latest").out
    assert f"from snapshot {sid}" in out
    assert git_dir_state(repo) == dot_git  # .git untouched: same HEAD, index, refs, config
    assert state_diff(before, tree_state(repo)) == []
    # and git sees exactly the state it saw before
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "ls-files", "-s") == staged
    assert git(repo, "status", "--porcelain", "--ignored") == status


def test_restore_to_an_empty_dir_leaves_the_worktree_alone(repo: Path, tmp_path: Path) -> None:
    build_rich_worktree(repo, modules=40)
    before = tree_state(repo)
    gs(repo)
    n = _count(repo)
    (repo / "README").write_text("changed after the snapshot\n")
    after_edit = tree_state(repo)
    dest = tmp_path / "out"
    dest.mkdir()

    out = gs(repo, "restore", "latest", "--to", str(dest)).out
    assert str(dest) in out
    assert state_diff(before, tree_state(dest, skip=())) == []
    assert tree_state(repo) == after_edit  # nothing written in place
    assert _count(repo) == n  # no pre-restore snapshot for a restore elsewhere

    # --to is relative to -C, as in git; chosen PATHs still name worktree paths
    elsewhere = tmp_path / "sub"
    elsewhere.mkdir()
    gs(elsewhere, "-C", "../repo/src", "restore", "latest", "main.py", "--to", "../../part")
    part = tree_state(tmp_path / "part", skip=())
    assert set(part) == {b"src", b"src/main.py"}
    assert part[b"src/main.py"] == before[b"src/main.py"]


def test_restore_chosen_paths_only(repo: Path) -> None:
    build_rich_worktree(repo, modules=40)
    before = tree_state(repo)
    gs(repo)
    wipe(repo)

    gs(repo, "restore", "latest", ".env", "node_modules/pkg3", os.fsdecode(NON_UTF8), "dirlink")
    got = tree_state(repo)
    want = {b".env", NON_UTF8, b"dirlink", b"node_modules", b"node_modules/pkg3"}
    want |= {p for p in before if p.startswith(b"node_modules/pkg3/")}
    assert set(got) == want
    for path in want - {b"node_modules"}:  # the parent was only made on the way
        assert got[path] == before[path], path


def test_restore_from_a_subdirectory_takes_cwd_relative_paths(repo: Path) -> None:
    build_rich_worktree(repo, modules=5)
    before = tree_state(repo)
    gs(repo)
    (repo / "src" / "main.py").unlink()
    (repo / ".env").unlink()
    (repo / "notes.txt").write_text("kept: not asked for\n")
    edited = tree_state(repo)

    gs(repo / "src", "restore", "latest", "main.py", "../.env")
    got = tree_state(repo)
    assert got[b"src/main.py"] == before[b"src/main.py"]
    assert got[b".env"] == before[b".env"]
    assert got[b"notes.txt"] == edited[b"notes.txt"]

    ran = gs(repo / "src", "restore", "latest", "no-such-file", rc=1)
    assert len(ran.err_lines) == 1 and "not in snapshot" in ran.err
    ran = gs(repo / "src", "restore", "latest", "/etc/passwd", rc=1)
    assert len(ran.err_lines) == 1 and "outside the worktree" in ran.err


def test_dry_run_changes_nothing_and_lists(repo: Path) -> None:
    build_rich_worktree(repo, modules=5)
    gs(repo)
    (repo / "README").write_text("edited\n")
    (repo / ".env").unlink()
    write(repo / "extra.txt", "new\n")
    state = tree_state(repo)
    dot_git = git_dir_state(repo)
    n = _count(repo)

    out = gs(repo, "restore", "latest", "--dry-run", "--delete").out
    assert "would update README" in out.splitlines()
    assert "would create .env" in out.splitlines()
    assert "would delete extra.txt" in out.splitlines()
    assert not any(line.split()[-1] == ".git" for line in out.splitlines())
    assert tree_state(repo) == state
    assert git_dir_state(repo) == dot_git
    assert _count(repo) == n  # not even a pre-restore snapshot


def test_dry_run_of_a_path_below_deleted_folders(repo: Path) -> None:
    """A chosen path whose folders are all gone: listed, nothing made (the dry run has no
    descriptor for folders it would create; it once closed -1 and stopped with EBADF)."""
    write(repo / "pkg" / "sub" / "f.txt", "kept\n")
    gs(repo)
    shutil.rmtree(repo / "pkg")
    state = tree_state(repo)
    out = gs(repo, "restore", "latest", "pkg/sub/", "--dry-run").out
    assert "would create pkg/sub/f.txt" in out.splitlines()
    assert tree_state(repo) == state


def test_delete_removes_what_came_later_but_never_dot_git(repo: Path) -> None:
    build_rich_worktree(repo, modules=5)
    before = tree_state(repo)
    sid = str(snap_id(gs(repo)))
    write(repo / "later.txt", "after the snapshot\n")
    write(repo / "later-dir" / "x" / "y.txt", "after\n")
    dot_git = git_dir_state(repo)

    gs(repo, "restore", sid)  # without --delete nothing is deleted
    assert (repo / "later.txt").exists() and (repo / "later-dir" / "x" / "y.txt").exists()

    out = gs(repo, "restore", sid, "--delete").out
    assert "delete later.txt" in out.splitlines()
    assert not (repo / "later.txt").exists() and not (repo / "later-dir").exists()
    assert git_dir_state(repo) == dot_git
    assert state_diff(before, tree_state(repo)) == []
    git(repo, "status")  # the repository still works


def test_delete_keeps_what_no_snapshot_could_save(repo: Path) -> None:
    write(repo / "a.txt", "a\n")
    write(repo / "old.data", "saved before the exclude\n")
    sid = str(snap_id(gs(repo)))
    git(repo, "config", "snapshot.exclude", "*.data")
    write(repo / "old.data", "edited since\n")
    write(repo / "huge.data", "excluded: no snapshot holds it\n")
    write(repo / "later" / "x.data", "excluded too\n")
    os.mkfifo(repo / "pipe")
    write(repo / ".cache" / "CACHEDIR.TAG", b"Signature: 8a477f597d28d172789f06886806bc55")
    write(repo / ".cache" / "blob", "cached\n")
    write(repo / "extra.txt", "saved by the pre-restore snapshot\n")

    out = gs(repo, "restore", sid, "--delete").out
    assert not (repo / "extra.txt").exists()
    # the snapshot has old.data, but its edit is now excluded: no snapshot holds the edit,
    # so a restore of everything keeps it and says so
    assert (repo / "old.data").read_text() == "edited since\n"
    assert (repo / "huge.data").read_text() == "excluded: no snapshot holds it\n"
    assert (repo / "later" / "x.data").read_text() == "excluded too\n"
    assert stat.S_ISFIFO(os.lstat(repo / "pipe").st_mode)
    assert (repo / ".cache" / "blob").read_text() == "cached\n"
    assert "kept 5 path(s) that no snapshot holds" in out
    for name in (".cache", "huge.data", "later", "pipe", "old.data"):
        assert name in out
    # named, it is overwritten: the user asked for it
    gs(repo, "restore", sid, "old.data")
    assert (repo / "old.data").read_text() == "saved before the exclude\n"


def test_pre_restore_snapshot_undoes_the_restore(repo: Path) -> None:
    write(repo / ".gitignore", ".env\n")
    write(repo / ".env", "A=1\n", 0o600)
    write(repo / "work.txt", "version 1\n")
    gs(repo)
    write(repo / "work.txt", "version 2, not saved by hand\n")
    write(repo / "README", "edited README\n")
    (repo / ".env").unlink()
    write(repo / "added.txt", "new\n")
    edited = tree_state(repo)

    out = gs(repo, "restore", "1").out
    pre = _pre_restore_id(out)
    assert (repo / "work.txt").read_text() == "version 1\n"
    assert (repo / ".env").read_text() == "A=1\n"
    snaps = query(repo, "list")
    assert [s["trigger"] for s in snaps if s["id"] == pre] == ["pre-restore"]

    gs(repo, "restore", str(pre), "--delete")
    assert state_diff(edited, tree_state(repo)) == []


def test_restore_replaces_a_tracked_dir_that_took_a_files_place(repo: Path) -> None:
    write(repo / "thing", "a file in the snapshot\n")
    gs(repo)
    (repo / "thing").unlink()
    write(repo / "thing" / "inside.txt", "committed later\n")
    git(repo, "add", "thing")
    git(repo, "commit", "-q", "-m", "thing is a dir now")

    out = gs(repo, "restore", "latest", "thing").out
    assert (repo / "thing").is_file()
    assert (repo / "thing").read_text() == "a file in the snapshot\n"
    # what the restore replaced is in the pre-restore snapshot
    pre = _pre_restore_id(out)
    entries = json.loads(gs(repo, "show", str(pre), "--json").out)["entries"]
    assert {"thing/inside.txt": "tracked"}.items() <= {
        e["path"]: e["kind"] for e in entries
    }.items()


def test_restore_replaces_a_file_that_took_a_dirs_place(repo: Path) -> None:
    write(repo / "pkg" / "a.txt", "a\n")
    write(repo / "pkg" / "deep" / "b.txt", "b\n")
    before = tree_state(repo)
    gs(repo)
    for p in sorted((repo / "pkg").rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    (repo / "pkg").rmdir()
    write(repo / "pkg", "now a file\n")

    gs(repo, "restore", "latest")
    assert state_diff(before, tree_state(repo)) == []


@pytest.mark.parametrize("chosen", [False, True], ids=["whole-tree", "chosen-paths"])
def test_restore_never_writes_through_a_symlink(repo: Path, tmp_path: Path, chosen: bool) -> None:
    write(repo / "conf" / "a.txt", "config a\n")
    write(repo / "data.txt", "data\n")
    before = tree_state(repo)
    gs(repo)
    sentinel = tmp_path / "sentinel"
    write(sentinel / "data.txt", "SENTINEL\n")
    sentinel_before = tree_state(sentinel, skip=())
    # symlinks pointing out of the repo, where the snapshot has a dir and a file
    for p in sorted((repo / "conf").rglob("*"), reverse=True):
        p.unlink()
    (repo / "conf").rmdir()
    os.symlink(sentinel, repo / "conf")
    (repo / "data.txt").unlink()
    os.symlink(sentinel / "data.txt", repo / "data.txt")

    paths = ["conf/a.txt", "data.txt"] if chosen else []
    gs(repo, "restore", "latest", *paths)
    assert tree_state(sentinel, skip=()) == sentinel_before  # nothing written outside
    assert not (repo / "conf").is_symlink() and (repo / "conf").is_dir()
    assert not (repo / "data.txt").is_symlink()
    got = tree_state(repo)
    assert got[b"conf/a.txt"] == before[b"conf/a.txt"]
    assert got[b"data.txt"] == before[b"data.txt"]


def test_latest_passes_over_pre_restore_snapshots(repo: Path) -> None:
    write(repo / "a.txt", "a-good\n")
    write(repo / "b.txt", "b-good\n")
    gs(repo)
    write(repo / "a.txt", "a-broken\n")
    write(repo / "b.txt", "b-broken\n")
    gs(repo, "restore", "latest", "a.txt")
    # the restore took a pre-restore snapshot holding b-broken: latest must not mean that one
    gs(repo, "restore", "latest", "b.txt")
    assert (repo / "a.txt").read_text() == "a-good\n"
    assert (repo / "b.txt").read_text() == "b-good\n"
    triggers = [s["trigger"] for s in query(repo, "list", "--json")]
    assert triggers == ["manual", "pre-restore", "pre-restore"]


def test_in_place_restore_never_removes_what_no_snapshot_holds(repo: Path) -> None:
    write(repo / "build", "a file in the snapshot\n")
    sid = str(snap_id(gs(repo)))
    (repo / "build").unlink()
    git(repo, "config", "snapshot.exclude", "*.bin")
    write(repo / "build" / "model.bin", "excluded, so in no snapshot\n")
    write(repo / "build" / "log.txt", "saved by the pre-restore snapshot\n")
    out = gs(repo, "restore", sid).out
    assert (repo / "build" / "model.bin").read_text() == "excluded, so in no snapshot\n"
    assert "kept 1 path(s) that no snapshot holds" in out and "build" in out


def test_a_damaged_folder_on_the_way_is_named(repo: Path, tmp_path: Path) -> None:
    """A chosen path below a damaged folder listing: exit 1 naming the path and the folder
    (a reliability run got "damaged snapshot data (...)" naming nothing)."""
    from storehelpers import flip_stored

    from git_snapshot.store import Store

    (repo / "deep" / "er").mkdir(parents=True)
    (repo / "deep" / "er" / "f.txt").write_text("f\n")
    sid = snap_id(gs(repo, "create"))
    store_dir = Path(os.environ["GIT_SNAPSHOT_STORE"])
    with Store(store_dir) as s:
        snap = next(x for x in s.snapshots() if x.id == sid)
        deep = next(e for e in s.read_tree(snap.root) if e.name == b"deep")
        flip_stored(store_dir, s, deep.ref)
    out = tmp_path / "out"
    out.mkdir()
    ran = gs(repo, "restore", str(sid), "deep/er/f.txt", "--to", str(out), rc=1)
    assert "cannot restore deep/er/f.txt: the folder deep is damaged in snapshot" in ran.err
    assert "git snapshot verify --read-data" in ran.err and not list(out.iterdir())
