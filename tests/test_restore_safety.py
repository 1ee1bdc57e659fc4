"""Restore on a bad day: damaged data, hostile records, the store in the way, kills, full or
read-only disks. Everything intact is written, nothing outside the target is touched, never
.git or the store, and every failure is one line."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from storehelpers import RESTORE_KILLER
from storehelpers import Crafter
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import restore
from storehelpers import scan
from storehelpers import take
from test_cli_helpers import snap_id
from test_cli_helpers import tree_state
from test_cli_helpers import write

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store.restorer import Damaged
from git_snapshot.store.restorer import Restorer
from git_snapshot.store.safewrite import is_temp_name


def flip(store_dir: Path, key: bytes) -> None:
    """Damage the stored copy of the object *key* in the middle of its compressed data."""
    with Store(store_dir) as store:
        loc = store.index.locate(key)
    assert loc is not None
    pack = store_dir / "packs" / loc.pack
    data = bytearray(pack.read_bytes())
    data[loc.offset + loc.length // 2] ^= 0x55
    pack.write_bytes(bytes(data))


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@contextmanager
def small_fs(where: Path, size: str = "1m", options: str = "") -> Iterator[Path]:
    """A real, small file system (tmpfs) mounted at *where*; skipped where mounting is not
    allowed."""
    where.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (f",{options}" if options else "")
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True, check=False
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def temp_leftovers(root: Path) -> list[str]:
    return [
        os.path.join(d, n)
        for d, dirs, files in os.walk(root)
        for n in dirs + files
        if is_temp_name(os.fsencode(n))
    ]


# -- damage: everything intact is written, every damaged path is named ---------------------------

# frames of their own: damage to a group (small files share one) would take its other members
DAMAGED_A, DAMAGED_B = os.urandom(300_000), os.urandom(400_000)


def _damaged_snapshot(store: Store, store_dir: Path, src: Path) -> None:
    build(
        src,
        D(
            {
                b"a.bin": F(DAMAGED_A),
                b"ok.txt": F(b"fine"),
                b"sub": D({b"b.bin": F(DAMAGED_B), b"z.txt": F(b"also fine")}),
                b"zz": D({b"last.txt": F(b"the end")}),
            }
        ),
    )
    take(store, "s", src)
    store.reader.close()
    flip(store_dir, sha(DAMAGED_A))
    flip(store_dir, sha(DAMAGED_B))


def test_whole_tree_restore_writes_everything_intact_and_names_the_damage(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    _damaged_snapshot(store, store_dir, tmp_path / "src")
    snap = store.get("s", "latest")
    out = tmp_path / "out"
    with pytest.raises(Damaged) as raised:
        restore(store, snap, out)
    assert [p for p, _ in raised.value.damaged] == [b"a.bin", b"sub/b.bin"]
    assert "verify --read-data" in str(raised.value)
    got = {k: v.data for k, v in scan(out).items() if v.kind == "file"}
    assert got == {b"ok.txt": b"fine", b"sub/z.txt": b"also fine", b"zz/last.txt": b"the end"}
    assert temp_leftovers(out) == []


def test_a_damaged_directory_listing_is_named_and_skipped(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    c = Crafter(store)
    lost = c.dir(b"lost", [c.file(b"x", b"gone")])
    snap = c.commit("s", [c.file(b"a", b"1"), lost, c.file(b"z", b"2")])
    store.reader.close()
    flip(store_dir, lost.ref)
    out = tmp_path / "out"
    with pytest.raises(Damaged) as raised:
        restore(store, snap, out)
    assert [p for p, _ in raised.value.damaged] == [b"lost"]
    assert (out / "a").read_bytes() == b"1" and (out / "z").read_bytes() == b"2"


def test_cli_names_every_damaged_path_and_ends_with_what_to_do(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    write(repo / "a.bin", DAMAGED_A)
    write(repo / "sub" / "b.bin", DAMAGED_B)
    write(repo / "sub" / "fine.txt", "fine\n")
    gs(repo)
    flip(store_dir, sha(DAMAGED_A))
    flip(store_dir, sha(DAMAGED_B))
    write(repo / "a.bin", "changed since\n")
    write(repo / "sub" / "b.bin", "changed too\n")
    for args in (["--to", str(tmp_path / "out")], ["--delete"]):
        ran = gs(repo, "restore", "1", *args, rc=1)
        damaged = [ln for ln in ran.out.splitlines() if ln.startswith("DAMAGED ")]
        assert [ln.split(":")[0] for ln in damaged] == ["DAMAGED a.bin", "DAMAGED sub/b.bin"]
        (last,) = ran.err_lines
        assert "git snapshot verify --read-data" in last and "next snapshot" in last
    assert (tmp_path / "out" / "sub" / "fine.txt").read_text() == "fine\n"
    assert (tmp_path / "out" / "README").read_text() == "hello\n"
    # in place, the damaged ones are left as they are (and the pre-restore snapshot holds them)
    assert (repo / "a.bin").read_text() == "changed since\n"
    assert (repo / "sub" / "fine.txt").read_text() == "fine\n"


# -- never .git --------------------------------------------------------------------------------


def _crafted_hook(repo: Path) -> int:
    """A snapshot of *repo* that holds an executable .git/hooks/post-checkout."""
    gs(repo)
    with Store() as store:
        source = identity.source(store, gitrepo.find_repo(str(repo)))
        c = Crafter(store)
        hook = c.file(b"post-checkout", b"#!/bin/sh\ntouch pwned\n", mode=0o755)
        dot_git = c.dir(b".git", [c.dir(b"hooks", [hook])])
        snap = c.commit(source, [dot_git, c.file(b"README", b"hello\n")], str(repo.resolve()))
    return snap.id


def test_restore_never_writes_into_dot_git(repo: Path, tmp_path: Path) -> None:
    sid = _crafted_hook(repo)
    hook = repo / ".git" / "hooks" / "post-checkout"
    ran = gs(repo, "restore", str(sid))
    assert not hook.exists()
    assert "left out" in ran.out and ".git/hooks" not in ran.err
    ran = gs(repo, "restore", str(sid), ".git/hooks/post-checkout", rc=1)
    assert len(ran.err_lines) == 1 and ".git" in ran.err
    gs(repo, "restore", str(sid), ".git", rc=1)
    gs(repo, "restore", str(sid), "--to", str(repo / ".git" / "hooks"), rc=1)
    gs(repo, "restore", str(sid), "--delete")
    assert not hook.exists() and (repo / ".git" / "HEAD").exists()
    git(repo, "status")
    # elsewhere, too: the target may become a repository's worktree
    gs(repo, "restore", str(sid), "--to", str(tmp_path / "out"))
    assert not (tmp_path / "out" / ".git").exists()


def test_the_api_never_writes_into_dot_git(store: Store, tmp_path: Path) -> None:
    c = Crafter(store)
    hook = c.file(b"post-checkout", b"#!/bin/sh\n", mode=0o755)
    snap = c.commit("s", [c.dir(b".git", [c.dir(b"hooks", [hook])]), c.file(b"a", b"1")])
    out = tmp_path / "out"
    report = restore(store, snap, out)
    assert sorted(os.listdir(out)) == ["a"] and report.refused == [b".git"]
    with pytest.raises(UserError):
        restore(store, snap, out, [".git/hooks/post-checkout"])
    with pytest.raises(UserError):
        restore(store, snap, out, ["./.git//hooks"])
    assert sorted(os.listdir(out)) == ["a"]


# -- the store is never written, replaced or deleted -----------------------------------------------


def _restorable(repo: Path, ids: list[int], tmp_path: Path) -> None:
    for sid in ids:
        gs(repo, "restore", str(sid), "--to", str(tmp_path / f"check{sid}"))
    gs(repo, "verify", "--read-data")


def test_restore_to_the_worktree_with_delete_keeps_a_store_inside_it(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = repo / "store"
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(store))
    write(repo / "one.txt", "1\n")
    first = snap_id(gs(repo))
    write(repo / "two.txt", "2\n")
    second = snap_id(gs(repo))
    before = tree_state(store, skip=())
    ran = gs(repo, "restore", str(first), "--to", str(repo), "--delete")
    assert not (repo / "two.txt").exists() and "snapshot store" in ran.out
    gs(repo, "restore", str(first), "--delete", "--dry-run")
    ran = gs(repo, "restore", str(first), "--delete")
    # the packs and the index only ever grow by what the restores added
    after = tree_state(store, skip=())
    assert all(k in after for k in before if not k.startswith(b"tmp/"))
    _restorable(repo, [first, second], tmp_path)


def test_a_store_reached_through_a_symlink_in_the_worktree_is_kept(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "elsewhere" / "store"
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(real))
    first = snap_id(gs(repo))  # the link does not exist yet: snapshot 1 does not hold it
    os.symlink(real, repo / "store-link")
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(repo / "store-link"))
    gs(repo)
    gs(repo, "restore", str(first), "--delete")
    assert os.readlink(repo / "store-link") == str(real)
    gs(repo, "restore", str(first), "--to", str(repo), "--delete")
    assert os.readlink(repo / "store-link") == str(real)
    _restorable(repo, [first], tmp_path)


def test_a_file_of_the_snapshot_never_replaces_the_store(tmp_path: Path) -> None:
    """A snapshot with a file (or a directory) where the store now lies: the store stays."""
    target = tmp_path / "target"
    with Store(target / "store") as store:
        c = Crafter(store)
        snap = c.commit("s", [c.file(b"store", b"not a store")])
        report = Restorer(store, delete=True).restore(snap, str(target), None)
        assert report.store == [b"store"] and (target / "store" / "index.sqlite").exists()
        snap = c.commit("s", [c.dir(b"store", [c.file(b"index.sqlite", b"evil")])])
        report = Restorer(store, delete=True).restore(snap, str(target), None)
        assert report.store == [b"store"]
        assert (target / "store" / "index.sqlite").read_bytes() != b"evil"
        assert [s.id for s in store.snapshots("s")] == [1, 2]


def test_restore_into_the_store_is_refused(repo: Path, store_dir: Path) -> None:
    gs(repo)
    for where in (store_dir, store_dir / "packs", store_dir / "new"):
        ran = gs(repo, "restore", "1", "--to", str(where), rc=1)
        assert len(ran.err_lines) == 1 and "store" in ran.err
    assert not (store_dir / "README").exists() and not (store_dir / "new").exists()


# -- leftovers of a killed restore ----------------------------------------------------------------


def test_a_killed_restore_leaves_nothing_the_next_run_keeps(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    build(src, D({b"big": F(os.urandom(300_000)), b"d": D({b"f": F(os.urandom(5000))})}))
    take(store, "s", src)
    for _ in range(3):
        res = subprocess.run(
            [sys.executable, "-c", RESTORE_KILLER, str(store_dir), str(out)], capture_output=True
        )
        assert res.returncode == -signal.SIGKILL, res.stderr
    litter = temp_leftovers(out)
    assert litter, "the kill left no temp file: the test proves nothing"
    restore(store, store.get("s", "latest"), out)
    assert temp_leftovers(out) == []
    assert scan(out, mtimes=False) == scan(src, mtimes=False)


def test_a_temp_file_in_use_is_not_taken_for_a_leftover(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    import fcntl

    from git_snapshot.store import leftovers

    src, out = tmp_path / "src", tmp_path / "out"
    build(src, D({b"a": F(b"a")}))
    take(store, "s", src)
    out.mkdir()
    run = leftovers.Run(str(store_dir))  # another restore's, alive: its record held
    fd = os.open(out, os.O_RDONLY)
    busy = out / os.fsdecode(run.name(fd, b"a"))
    os.close(fd)
    with open(busy, "wb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        restore(store, store.get("s", "latest"), out)
        assert os.path.exists(busy)
    restore(store, store.get("s", "latest"), out)
    assert os.path.exists(busy)  # its run still lives
    os.close(run.fd)  # the run dies (killed): its record stays, unheld
    restore(store, store.get("s", "latest"), out)
    assert not os.path.exists(busy)


# -- one line, never a traceback -----------------------------------------------------------------


def test_restore_to_a_file_or_below_one_is_one_line(repo: Path, tmp_path: Path) -> None:
    gs(repo)
    a_file = write(tmp_path / "a-file", "x")
    for where in (a_file, a_file / "below"):
        ran = gs(repo, "restore", "1", "--to", str(where), rc=1)
        assert len(ran.err_lines) == 1 and "a file" in ran.err
    assert a_file.read_text() == "x"


def test_restore_to_a_read_only_place_is_one_line(repo: Path, tmp_path: Path) -> None:
    gs(repo)
    with small_fs(tmp_path / "ro", options="ro") as ro:
        for where in (ro, ro / "new"):
            ran = gs(repo, "restore", "1", "--to", str(where), rc=1)
            assert len(ran.err_lines) == 1 and "Read-only" in ran.err


def test_a_full_disk_during_restore_is_one_line(repo: Path, tmp_path: Path) -> None:
    write(repo / "big.bin", os.urandom(3 << 20))
    write(repo / "small.txt", "small\n")
    gs(repo)
    with small_fs(tmp_path / "small", size="1m") as small:
        ran = gs(repo, "restore", "1", "--to", str(small / "out"), rc=1)
        assert len(ran.err_lines) == 1 and "No space left" in ran.err
        assert "big.bin" in ran.err and "free space" in ran.err
        assert temp_leftovers(small) == []
        assert not (small / "out" / "big.bin").exists()


def test_names_and_links_no_file_system_holds_are_one_line(repo: Path, tmp_path: Path) -> None:
    gs(repo)
    ids = []
    with Store() as store:
        source = identity.source(store, gitrepo.find_repo(str(repo)))
        c = Crafter(store)
        for bad in (
            c.file(b"n" * 300, b"x"),
            c.link(b"empty", b""),
            c.link(b"nul", b"a\0b"),
        ):
            ids.append(c.commit(source, [bad], str(repo.resolve())).id)
    for sid in ids:
        for args in ([], ["--to", str(tmp_path / "out")]):
            ran = gs(repo, "restore", str(sid), *args, rc=1)
            assert len(ran.err_lines) == 1 and "refusing" in ran.err
        ran = gs(repo, "verify", str(sid), rc=1)
        assert "refused" in ran.out


# -- sparse files, and names that would drive a terminal -------------------------------------------


def test_sparse_files_are_restored_sparse(store: Store, tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    with open(probe, "wb") as f:
        f.truncate(8 << 20)
    if os.stat(probe).st_blocks * 512 >= 8 << 20:
        pytest.skip("this file system has no holes")
    data = b"head" + bytes(8 << 20) + b"tail" + bytes(100_000)
    src = tmp_path / "src"
    build(src, D({b"sparse": F(data), b"dense": F(os.urandom(1 << 20))}))
    take(store, "s", src)
    out = tmp_path / "out"
    restore(store, store.get("s", "latest"), out)
    assert (out / "sparse").read_bytes() == data
    assert os.stat(out / "sparse").st_blocks * 512 < 1 << 20
    assert os.stat(out / "dense").st_blocks * 512 >= 1 << 20


def test_names_with_escape_sequences_are_printed_escaped(repo: Path, tmp_path: Path) -> None:
    evil = b"red\x1b[31m\x07name\x9b2J"
    with open(os.path.join(os.fsencode(repo), evil), "wb") as f:
        f.write(b"x")
    os.mkfifo(os.path.join(os.fsencode(repo), b"pipe\x1b[2J"))  # named as skipped by show
    gs(repo)
    os.unlink(os.path.join(os.fsencode(repo), evil))
    outs = [
        gs(repo, "restore", "1", "--dry-run").out,
        gs(repo, "diff").out,
        gs(repo, "show", "1").out,
        gs(repo, "show", "1", "--json").out,
    ]
    for out in outs:
        assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    for out in outs[:3]:  # as the shell word that gives the name back (RED34)
        assert "\"$(printf 'red\\033[31m\\007name\\2332J')\"" in out
    assert "skipped: \"$(printf 'pipe\\033[2J')\"" in outs[2]
    (entry,) = [e for e in json.loads(outs[3])["entries"] if e["path"].startswith("red")]
    assert os.fsencode(entry["path"]) == evil  # JSON escapes it: the name itself (RED31)
