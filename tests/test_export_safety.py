"""Export on a bad day: content checked before it goes into the archive, damage named, .git
left out, archives private, leftovers of killed exports removed, failures one line."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import gs
from storehelpers import EXPORT_KILLER
from storehelpers import Crafter
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import take
from storehelpers import tar_members
from test_cli_helpers import write
from test_restore_safety import flip
from test_restore_safety import sha
from test_restore_safety import small_fs

from git_snapshot.store import Store
from git_snapshot.store.export import SMALL
from git_snapshot.store.export import export
from git_snapshot.store.packs import GROUP_OBJECT
from git_snapshot.store.restorer import Damaged
from git_snapshot.store.safewrite import is_temp_name


def _export_with_one_flip(
    store: Store, store_dir: Path, tmp_path: Path, tree: D, forged: bytes
) -> tuple[pytest.ExceptionInfo[Damaged], Path]:
    """Snapshot *tree*, flip a stored byte of *forged*, export: the Damaged raised, the archive."""
    src = tmp_path / "src"
    build(src, tree)
    snap = take(store, "s", src)
    store.reader.close()
    flip(store_dir, sha(forged))
    archive = tmp_path / "out.tar"
    with pytest.raises(Damaged) as raised:
        export(store, snap, str(archive))
    return raised, archive


@pytest.mark.parametrize("size", [GROUP_OBJECT + 1, SMALL + 1], ids=["small", "big"])
def test_forged_content_never_goes_into_the_archive(
    size: int, store: Store, store_dir: Path, tmp_path: Path
) -> None:
    """Observed: export wrote forged content with exit 0 (tar copies exactly the recorded
    size, so the hash check after the last chunk never ran)."""
    forged = os.urandom(size)
    tree = D({b"a.txt": F(b"fine"), b"forged": F(forged), b"z": D({b"b": F(b"b")})})
    raised, archive = _export_with_one_flip(store, store_dir, tmp_path, tree, forged)
    assert [p for p, _ in raised.value.damaged] == [b"forged"]
    assert tar_members(archive) == {"a.txt": b"fine", "z": b"", "z/b": b"b"}
    assert raised.value.written == 3


def test_a_damaged_group_keeps_every_member_out_of_the_archive(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    # small files share a group (store/packs.py): one flipped byte damages them all, and
    # export names each, writes none, and writes what lies outside the group
    forged = os.urandom(20_000)
    other = os.urandom(GROUP_OBJECT + 1)  # a frame of its own
    tree = D({b"a.txt": F(b"fine"), b"forged": F(forged), b"own": F(other)})
    raised, archive = _export_with_one_flip(store, store_dir, tmp_path, tree, forged)
    assert sorted(p for p, _ in raised.value.damaged) == [b"a.txt", b"forged"]
    assert tar_members(archive) == {"own": other}


def test_cli_export_names_the_damage_and_exits_1(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    forged = os.urandom(GROUP_OBJECT + 1)  # a frame of its own: the damage is its alone
    write(repo / "sub" / "forged.bin", forged)
    gs(repo)
    flip(store_dir, sha(forged))
    ran = gs(repo, "export", "1", str(tmp_path / "out.tar.zst"), rc=1)
    assert [ln.split(":")[0] for ln in ran.out.splitlines() if ln.startswith("DAMAGED")] == [
        "DAMAGED sub/forged.bin"
    ]
    (last,) = ran.err_lines
    assert "verify --read-data" in last and "next snapshot" in last
    assert (tmp_path / "out.tar.zst").exists()


def test_export_leaves_dot_git_out(store: Store, tmp_path: Path) -> None:
    c = Crafter(store)
    hook = c.file(b"post-checkout", b"#!/bin/sh\n", mode=0o755)
    snap = c.commit("s", [c.dir(b".git", [c.dir(b"hooks", [hook])]), c.file(b"a", b"1")])
    export(store, snap, str(tmp_path / "out.tar"))
    assert tar_members(tmp_path / "out.tar") == {"a": b"1"}


def test_archives_are_private(repo: Path, tmp_path: Path) -> None:
    write(repo / ".env", "SECRET=1\n", 0o600)
    gs(repo)
    for name in ("out.tar", "out.tar.gz", "out.tar.zst"):
        subprocess.run(
            [sys.executable, "-m", "git_snapshot", "export", "1", str(tmp_path / name)],
            cwd=repo,
            check=True,
            preexec_fn=lambda: os.umask(0o022),
        )
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600


def test_a_killed_export_leaves_nothing_after_the_next_one(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, D({b"a": F(os.urandom(100_000)), b"b": F(b"b")}))
    take(store, "s", src)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    archive = out_dir / "snap.tar"
    for _ in range(3):
        res = subprocess.run(
            [sys.executable, "-c", EXPORT_KILLER, str(store_dir), str(archive)], capture_output=True
        )
        assert res.returncode == -signal.SIGKILL, res.stderr
    other = out_dir / "other.tar.12345678.tmp"  # not for this archive: not ours to remove
    other.write_bytes(b"y")
    litter = [n for n in os.listdir(out_dir) if is_temp_name(os.fsencode(n))]
    # each killed run removed the leftover of the one before
    assert len(litter) == 1, "the kills left no temp file: the test proves nothing"
    export(store, store.get("s", "latest"), str(archive))
    assert sorted(os.listdir(out_dir)) == ["other.tar.12345678.tmp", "snap.tar"]
    assert tar_members(archive)["b"] == b"b"


def test_export_into_a_missing_directory_or_onto_one_is_one_line(
    repo: Path, tmp_path: Path
) -> None:
    gs(repo)
    ran = gs(repo, "export", "1", str(tmp_path / "missing" / "out.tar"), rc=1)
    assert len(ran.err_lines) == 1 and "does not exist" in ran.err
    ran = gs(repo, "export", "1", str(tmp_path), rc=1)
    assert len(ran.err_lines) == 1
    (tmp_path / "dir.tar").mkdir()
    ran = gs(repo, "export", "1", str(tmp_path / "dir.tar"), rc=1)
    assert len(ran.err_lines) == 1 and "is a directory" in ran.err


def test_export_on_a_full_or_read_only_disk_is_one_line(repo: Path, tmp_path: Path) -> None:
    write(repo / "big.bin", os.urandom(3 << 20))
    gs(repo)
    with small_fs(tmp_path / "small", size="1m") as small:
        ran = gs(repo, "export", "1", str(small / "out.tar"), rc=1)
        assert len(ran.err_lines) == 1 and "No space left" in ran.err
        assert os.listdir(small) == []
    with small_fs(tmp_path / "ro", options="ro") as ro:
        ran = gs(repo, "export", "1", str(ro / "out.tar"), rc=1)
        assert len(ran.err_lines) == 1 and "Read-only" in ran.err


def test_export_into_the_store_is_refused(repo: Path, store_dir: Path) -> None:
    gs(repo)
    ran = gs(repo, "export", "1", str(store_dir / "packs" / "x.tar"), rc=1)
    assert len(ran.err_lines) == 1 and "store" in ran.err
    assert not (store_dir / "packs" / "x.tar").exists()


@pytest.mark.parametrize("pid", ["dead", "99999999999999999999999", "0"])
def test_a_user_file_named_like_an_old_versions_temp_file_stays(
    store: Store, tmp_path: Path, pid: str
) -> None:
    """FILE.PID.tmp beside the archive, PID a process that is gone (or none can have): older
    versions named their temp files so, but nothing proves this one theirs: a user's own
    file (a download, an editor's save) can be named like it. Export keeps it as it is."""
    src = tmp_path / "src"
    build(src, D({b"b": F(b"b")}))
    take(store, "s", src)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    if pid == "dead":
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], stdout=-1)
        pid = str(int(dead.stdout))
    mine = out_dir / f"snap.tar.{pid}.tmp"
    mine.write_bytes(b"the user's own file\n")
    export(store, store.get("s", "latest"), str(out_dir / "snap.tar"))
    assert sorted(os.listdir(out_dir)) == sorted(["snap.tar", mine.name])
    assert mine.read_bytes() == b"the user's own file\n"
    assert tar_members(out_dir / "snap.tar")["b"] == b"b"
