"""The archiving core on a real file system: what a snapshot reads, stores, skips and refuses."""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from readhelp import python_reads  # noqa: F401  (pytestmark below)
from storehelpers import HELPER
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import build
from storehelpers import diff
from storehelpers import entry_of
from storehelpers import pack_bytes
from storehelpers import pack_names
from storehelpers import paths_of
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store import create_snapshot
from git_snapshot.store import location
from git_snapshot.store import walker
from git_snapshot.store.archiver import Options
from git_snapshot.store.export import export
from git_snapshot.store.objects import CHANGED_WHILE_READ
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import RECORD
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.repair import repair
from git_snapshot.store.verify import verify

pytestmark = pytest.mark.usefixtures("python_reads")  # (they watch os.open/os.read)

_real_open = os.open


@pytest.fixture
def store(store_dir: Path) -> Iterator[Store]:
    with Store(store_dir) as s:
        yield s


@pytest.fixture
def no_racy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let files written a moment ago be cached (the racy window is tested on its own)."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    time.sleep(0.02)  # the file system's coarse clock must have moved past the last write


class OpenCounter:
    """Records every ``os.open`` of a path below *root* (relative, as bytes)."""

    def __init__(self, root: Path) -> None:
        self.root = os.fsencode(root) + b"/"
        self.paths: list[bytes] = []

    def __call__(self, path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        p = os.fsencode(path)
        if p.startswith(self.root):
            self.paths.append(p[len(self.root) :])
        return _real_open(path, flags, mode, **kw)


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> OpenCounter:
    counter = OpenCounter(tmp_path)
    monkeypatch.setattr(os, "open", counter)
    return counter


def _deny(monkeypatch: pytest.MonkeyPatch, func: str, path: Path) -> None:
    """``os.<func>`` of *path* fails as a permission problem does (EACCES); of anything
    else, it works as before."""
    real = getattr(os, func)
    denied = os.fsencode(path)

    def denying(p: Any, *args: Any, **kw: Any) -> Any:
        if os.fsencode(p) == denied:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), p)
        return real(p, *args, **kw)

    monkeypatch.setattr(os, func, denying)


def meta_of(store: Store, source: str, snap_id: int) -> dict[str, Any]:
    """The snapshot's meta as the index holds it (after the JSON round trip)."""
    return store.get(source, snap_id).meta


# -- import isolation and store hygiene -----------------------------------------------------------


def test_core_imports_without_git() -> None:
    code = (
        "import git_snapshot.store, git_snapshot.api, sys\n"
        "bad = sorted(m for m in sys.modules if m == 'git' or m.startswith('git.')"
        " or m == 'git_snapshot.gitrepo')\n"
        "assert not bad, bad\n"
        "assert 'platformdirs' not in sys.modules, 'platformdirs is imported eagerly'\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_store_dirs_0700_and_files_0600(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, D({b"a": F(b"x" * 100), b"d": D({b"b": F(b"y")})}))
    old = os.umask(0)  # modes must not depend on a friendly umask
    try:
        root = tmp_path / "fresh-store"
        with Store(root) as s:
            take(s, "src", src)
            dirs: list[str] = []
            files: list[str] = []
            for dirpath, _dirnames, filenames in os.walk(root):
                dirs.append(dirpath)
                files.extend(os.path.join(dirpath, f) for f in filenames)
            names = {os.path.relpath(f, root) for f in files}
            assert "index.sqlite" in names
            assert any(n.startswith("packs/") for n in names)
            assert any(n.startswith("cache/") for n in names)
            assert {"index.sqlite-wal", "lock"} <= names
            for d in dirs:
                assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d
            for f in files:
                assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
    finally:
        os.umask(old)


def test_existing_store_root_is_tightened(store_dir: Path) -> None:
    os.chmod(store_dir, 0o755)
    with Store(store_dir):
        assert stat.S_IMODE(os.stat(store_dir).st_mode) == 0o700


@pytest.mark.parametrize("where", ["dev_shm", "tmp"])
def test_ephemeral_store_refused_naming_the_safe_default(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    safe = Path("/home/someone/.local/share/git-snapshot")  # judged, never created
    if location.ephemeral_reason(safe):
        pytest.skip("/home is ephemeral on this machine")
    monkeypatch.setattr(location, "default_store_dir", lambda: safe)
    monkeypatch.delenv(location.ENV_ALLOW_EPHEMERAL)
    if where == "dev_shm":
        if not os.path.isdir("/dev/shm"):
            pytest.skip("no /dev/shm")
        bad = Path("/dev/shm") / f"gs-test-{os.getpid()}-{time.monotonic_ns()}"
    else:
        bad = tmp_path / "store"
    for attempt in ("explicit", "env"):
        monkeypatch.setenv(location.ENV_STORE, str(bad))
        with pytest.raises(UserError) as info:
            Store(bad if attempt == "explicit" else None)
        msg = str(info.value)
        assert str(bad) in msg
        assert str(safe) in msg
        assert location.ENV_STORE in msg
        assert "\n" not in msg
        assert not bad.exists(), "the refused store was created anyway"
    for value in ("0", "yes", "true", ""):
        monkeypatch.setenv(location.ENV_ALLOW_EPHEMERAL, value)
        with pytest.raises(UserError):
            Store(bad)


def test_an_ephemeral_default_store_is_refused_with_advice_that_applies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # HOME itself under /tmp (a container, a CI runner): the default is the refused place, so
    # "unset GIT_SNAPSHOT_STORE to use the safe default" would send the user round in a circle
    default = tmp_path / "home" / ".local" / "share" / "git-snapshot"
    monkeypatch.setattr(location, "default_store_dir", lambda: default)
    monkeypatch.delenv(location.ENV_ALLOW_EPHEMERAL)
    monkeypatch.delenv(location.ENV_STORE)
    with pytest.raises(UserError) as info:
        Store()
    msg = str(info.value)
    assert str(default) in msg
    assert "unset" not in msg and "safe default" not in msg
    assert f"set {location.ENV_STORE} to a directory on a persistent disk" in msg
    assert not default.exists()


def test_ephemeral_opt_in_accepted(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, D({b"f": F(b"data")}))
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm")
    shm = tempfile.mkdtemp(dir="/dev/shm", prefix="gs-test-")
    try:
        assert location.ephemeral_reason(Path(shm)) is not None
        with Store(Path(shm) / "store") as s:
            snap = take(s, "src", src)
            assert snapshot_contents(s, snap)[b"f"].data == b"data"
    finally:
        shutil.rmtree(shm)


def test_persistent_location_has_no_ephemeral_reason() -> None:
    # the default per-user data dir of a real user (the path need not exist to be judged)
    persistent = Path("/home/someone/.local/share/git-snapshot")
    if location._mount_fstype(str(persistent)) in ("tmpfs", "ramfs"):
        pytest.skip("/home is a tmpfs on this machine")
    assert location.ephemeral_reason(persistent) is None


def test_snapshot_of_non_directory_is_a_user_error(store: Store, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError):
        take(store, "s", tmp_path / "file")
    with pytest.raises(UserError):
        take(store, "s", tmp_path / "missing")
    assert store.snapshots() == []


# -- the files cache: what a second snapshot reads -------------------------------------------------


def _small_tree() -> D:
    return D(
        {
            b"a.txt": F(b"alpha\n" * 50),
            b"b.bin": F(os.urandom(5000), 0o755),
            b"empty": F(b""),
            b"sub": D({b"c.txt": F(b"gamma"), b"deep": D({b"d.txt": F(b"delta" * 3)})}),
            b"link": L(b"a.txt"),
        }
    )


def test_unchanged_tree_second_snapshot_reads_no_file(
    store: Store, store_dir: Path, tmp_path: Path, opens: OpenCounter, no_racy: None
) -> None:
    src = tmp_path / "src"
    build(src, _small_tree())
    time.sleep(0.02)
    opens.paths.clear()
    first = take(store, "s", src)
    assert sorted(opens.paths) == [
        b"src/a.txt",
        b"src/b.bin",
        b"src/empty",
        b"src/sub/c.txt",
        b"src/sub/deep/d.txt",
    ]
    packs_before = pack_names(store_dir)
    size_before = pack_bytes(store_dir)
    opens.paths.clear()

    second = take(store, "s", src)
    assert opens.paths == [], "unchanged files were opened again"
    assert second.id == first.id + 1
    assert second.root == first.root
    assert second.added_bytes == 0
    # the only new pack holds the snapshot's record and nothing else
    (new_pack,) = pack_names(store_dir) - packs_before
    assert [o.type for o in scan_pack(str(store_dir / "packs" / new_pack))] == [RECORD]
    assert pack_bytes(store_dir) - size_before < 2048
    assert second.files == first.files == 6
    assert second.bytes == first.bytes


def test_file_changed_moments_ago_is_read_again(
    store: Store, tmp_path: Path, opens: OpenCounter
) -> None:
    """Within the racy window size+mtime+ctime cannot prove a file unchanged: read it again."""
    src = tmp_path / "src"
    build(src, D({b"fresh": F(b"1234", mtime_ns=10**18)}))  # an old mtime, but a new ctime
    opens.paths.clear()
    take(store, "s", src)
    assert opens.paths == [b"src/fresh"]
    take(store, "s", src)
    assert opens.paths == [b"src/fresh", b"src/fresh"]


def test_changed_file_is_read_again(
    store: Store, tmp_path: Path, opens: OpenCounter, no_racy: None
) -> None:
    src = tmp_path / "src"
    build(src, _small_tree())
    time.sleep(0.02)
    take(store, "s", src)
    opens.paths.clear()
    (src / "sub" / "c.txt").write_bytes(b"GAMMA, longer now")
    (src / "a.txt").write_bytes(b"ALPHA\n" * 50)  # same size, new mtime
    time.sleep(0.02)
    snap = take(store, "s", src)
    assert sorted(opens.paths) == [b"src/a.txt", b"src/sub/c.txt"]
    got = snapshot_contents(store, snap)
    assert got[b"sub/c.txt"].data == b"GAMMA, longer now"
    assert got[b"a.txt"].data == b"ALPHA\n" * 50
    assert got[b"b.bin"].data == (src / "b.bin").read_bytes()


def test_same_size_and_mtime_but_new_ctime_is_read_again(
    store: Store, tmp_path: Path, opens: OpenCounter, no_racy: None
) -> None:
    src = tmp_path / "src"
    build(src, D({b"c": F(b"AAAA", mtime_ns=1_600_000_000_123_456_789)}))
    time.sleep(0.02)
    take(store, "s", src)
    before = os.lstat(src / "c")
    time.sleep(0.02)
    with open(src / "c", "r+b") as f:
        f.write(b"BBBB")
    os.utime(src / "c", ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.lstat(src / "c")
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    assert after.st_ctime_ns != before.st_ctime_ns
    time.sleep(0.02)
    opens.paths.clear()
    snap = take(store, "s", src)
    assert opens.paths == [b"src/c"]
    assert snapshot_contents(store, snap)[b"c"].data == b"BBBB"


def test_cache_is_per_source_and_directory(
    store: Store, tmp_path: Path, opens: OpenCounter, no_racy: None
) -> None:
    """A second source over a copy of the same tree has no cache of its own yet: it reads."""
    a, b = tmp_path / "a", tmp_path / "b"
    build(a, D({b"f": F(b"same")}))
    build(b, D({b"f": F(b"same")}))
    time.sleep(0.02)
    opens.paths.clear()
    take(store, "A", a)
    take(store, "B", b)
    assert opens.paths == [b"a/f", b"b/f"]
    take(store, "A", a)
    take(store, "B", b)
    assert opens.paths == [b"a/f", b"b/f"]


def test_files_cache_is_not_trusted_by_a_new_index(
    store_dir: Path, tmp_path: Path, no_racy: None
) -> None:
    src = tmp_path / "src"
    build(src, _small_tree())
    time.sleep(0.02)
    with Store(store_dir) as s:
        take(s, "s", src)
    for name in os.listdir(store_dir):  # the index is lost, then rebuilt from the packs
        if name.startswith("index.sqlite"):
            os.unlink(store_dir / name)
    with Store(store_dir, repairing=True) as s:
        repair(s)
    with Store(store_dir) as s:
        snap = take(s, "s", src)
        report = verify(s, read_data=True)
        assert report.ok, report.problems
        assert diff(scan(src), snapshot_contents(s, snap)) == []


def test_identical_content_in_two_sources_is_stored_once(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    blob = os.urandom(1 << 20)
    a, b = tmp_path / "a", tmp_path / "b"
    build(a, D({b"big": F(blob), b"x": F(b"only in a")}))
    build(b, D({b"copy": D({b"big2": F(blob), b"big3": F(blob)})}))
    first = take(store, "A", a)
    assert first.added_bytes > len(blob)  # random data does not compress
    size_after_a = pack_bytes(store_dir)
    second = take(store, "B", b)
    assert second.added_bytes < 4096, second.added_bytes
    assert pack_bytes(store_dir) - size_after_a < 4096
    got = snapshot_contents(store, second)
    assert got[b"copy/big2"].data == got[b"copy/big3"].data == blob
    assert verify(store, read_data=True).ok


# -- what is kept and what is left out -------------------------------------------------------------


def test_fifos_sockets_and_devices_are_skipped_and_counted(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, D({b"keep": F(b"k"), b"sub": D()}))
    os.mkfifo(src / "sub" / "pipe")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(src / "sock"))
        expected = [["sock", "socket"], ["sub/pipe", "fifo"]]
        try:
            os.mknod(src / "dev", stat.S_IFCHR | 0o600, os.makedev(1, 3))
            expected.insert(0, ["dev", "device"])
        except OSError:
            pass  # no mknod in this container: fifo and socket still prove the point
        snap = take(store, "s", src)
    finally:
        sock.close()
    assert snap.skipped == len(expected)
    assert sorted(meta_of(store, "s", snap.id)["skipped_paths"]) == expected
    assert paths_of(store, snap) == {b"keep", b"sub"}


def test_cachedir_tag_directories_are_skipped(store: Store, tmp_path: Path) -> None:
    sig = b"Signature: 8a477f597d28d172789f06886806bc55\n# a cache\n"
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"CACHEDIR.TAG": F(sig),  # on the root itself: the root is still snapshotted
                b"build": D({b"CACHEDIR.TAG": F(sig), b"junk.o": F(b"obj")}),
                b"fake": D({b"CACHEDIR.TAG": F(b"not the signature"), b"kept": F(b"k")}),
                b"src.c": F(b"int main;"),
            }
        ),
    )
    snap = take(store, "s", src)
    assert paths_of(store, snap) == {
        b"CACHEDIR.TAG",
        b"fake",
        b"fake/CACHEDIR.TAG",
        b"fake/kept",
        b"src.c",
    }
    assert snap.skipped == 1
    assert meta_of(store, "s", snap.id)["skipped_paths"] == [
        ["build", "cache directory (CACHEDIR.TAG)"]
    ]
    everything = take(store, "s", src, Options(skip_cachedir_tag=False))
    assert {b"build/junk.o", b"build/CACHEDIR.TAG"} <= paths_of(store, everything)


def test_symlinks_are_stored_not_followed(store: Store, tmp_path: Path, opens: OpenCounter) -> None:
    outside = tmp_path / "outside"
    build(outside, D({b"secret": F(b"do not read"), b"d": D({b"inner": F(b"no")})}))
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"to_file": L(os.fsencode(outside / "secret")),
                b"to_dir": L(os.fsencode(outside / "d")),
                b"rel_dir": L(b"../outside/d"),
                b"dangling": L(b"no/such/target"),
                b"self": L(b"self"),
                b"target": F(b"t"),
                b"to_sibling": L(b"target"),
            }
        ),
    )
    opens.paths.clear()
    snap = take(store, "s", src)
    assert not any(p.startswith(b"outside") for p in opens.paths), opens.paths
    entries = dict(store.walk(snap.root))
    assert set(entries) == {
        b"to_file",
        b"to_dir",
        b"rel_dir",
        b"dangling",
        b"self",
        b"target",
        b"to_sibling",
    }
    for name, target in [
        (b"to_file", os.fsencode(outside / "secret")),
        (b"to_dir", os.fsencode(outside / "d")),
        (b"rel_dir", b"../outside/d"),
        (b"dangling", b"no/such/target"),
        (b"self", b"self"),
    ]:
        e = entries[name]
        assert (e.kind, e.ref, e.size) == (SYMLINK, target, len(target)), name
    out = tmp_path / "restored"
    restore(store, snap, out)
    assert os.readlink(out / "to_dir") == str(outside / "d")
    assert os.readlink(out / "dangling") == "no/such/target"
    assert (out / "to_dir").is_symlink() and not (out / "to_dir" / "inner").is_symlink()
    assert (outside / "secret").read_bytes() == b"do not read"


def test_empty_directories_are_kept(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, D({b"e1": D(), b"e2": D({b"e3": D(mode=0o700)}), b"f": F(b"x")}))
    snap = take(store, "s", src)
    e1 = entry_of(store, snap, b"e1")
    assert e1.kind == DIR and store.read_tree(e1.ref) == []
    assert entry_of(store, snap, b"e2/e3").mode == 0o700
    out = tmp_path / "out"
    restore(store, snap, out)
    assert sorted(os.listdir(out)) == ["e1", "e2", "f"]
    assert os.listdir(out / "e1") == [] and os.listdir(out / "e2" / "e3") == []
    assert stat.S_IMODE(os.stat(out / "e2" / "e3").st_mode) == 0o700


def test_store_inside_the_snapshotted_directory_is_left_out(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, D({b"work.txt": F(b"w"), b".store2": D({b"not-the-store": F(b"n")})}))
    with Store(src / ".store") as s:
        first = take(s, "s", src)
        second = take(s, "s", src)
        for snap in (first, second):
            assert paths_of(s, snap) == {b"work.txt", b".store2", b".store2/not-the-store"}
        assert second.root == first.root
        assert verify(s, read_data=True).ok


def test_store_in_a_subdirectory_is_left_out(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, D({b"a": D({b"f": F(b"f")})}))
    with Store(src / "a" / "b" / "store") as s:
        snap = take(s, "s", src)
        assert paths_of(s, snap) == {b"a", b"a/f", b"a/b"}


def test_exclude_classify_and_omit(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b".git": D({b"HEAD": F(b"ref")}),
                b"node_modules": D({b"pkg": F(b"p")}),
                b"app.py": F(b"print()"),
                b"app.pyc": F(b"\0"),
                b"lib": D({b"x.py": F(b"x")}),
            }
        ),
    )

    def classify(rel: bytes, is_dir: bool, parent: int) -> int:
        if parent:
            return parent
        return 3 if rel.endswith(b".pyc") else (2 if rel == b"lib" else 1)

    opts = Options(
        classify=classify,
        exclude=lambda rel, is_dir: rel == b"node_modules",
        omit=frozenset({b".git"}),
    )
    snap = take(store, "s", src, opts)
    labels = {rel: e.label for rel, e in store.walk(snap.root)}
    assert labels == {b"app.py": 1, b"app.pyc": 3, b"lib": 2, b"lib/x.py": 2}
    assert meta_of(store, "s", snap.id)["skipped_paths"] == [["node_modules", "excluded"]]
    assert snap.skipped == 1


def test_skip_if_unchanged_returns_the_previous_snapshot(
    store: Store, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, _small_tree())
    first = take(store, "s", src)
    again = create_snapshot(store, "s", str(src), skip_if_unchanged=True)
    assert not again.new and again.snapshot.id == first.id
    assert len(store.snapshots("s")) == 1
    assert os.listdir(store_dir / "tmp") == []
    (src / "a.txt").write_text("changed")
    changed = create_snapshot(store, "s", str(src), skip_if_unchanged=True)
    assert changed.new and changed.snapshot.id == first.id + 1


def test_unchanged_result_still_fills_the_files_cache(
    store: Store, tmp_path: Path, opens: OpenCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files too fresh to cache at the first snapshot are cached by a later identical one."""
    src = tmp_path / "src"
    build(src, _small_tree())
    monkeypatch.setattr(walker, "RACY_NS", 10**18)  # everything is "just changed"
    first = take(store, "s", src)
    monkeypatch.setattr(walker, "RACY_NS", 0)
    time.sleep(0.02)
    opens.paths.clear()
    same = create_snapshot(store, "s", str(src), skip_if_unchanged=True)
    assert not same.new and same.snapshot.id == first.id
    assert len(opens.paths) == 5  # read again: the first snapshot could not cache them
    opens.paths.clear()
    again = create_snapshot(store, "s", str(src), skip_if_unchanged=True)
    assert not again.new
    assert opens.paths == [], "the identical snapshot did not save what it learned"


# -- reading files that fight back ----------------------------------------------------------------


def _grow_at_eof(monkeypatch: pytest.MonkeyPatch, path: Path, times: int) -> list[int]:
    """Append one byte to *path* each time a read of it reaches the end (at most *times*):
    an empty read, or a short first one (a small file is read in one call of its size plus
    one byte)."""
    real = os.read
    target = os.fsencode(os.path.realpath(path))
    done = [0]

    def read(fd: int, n: int) -> bytes:
        first = os.lseek(fd, 0, os.SEEK_CUR) == 0
        data = real(fd, n)
        if (
            len(data) < n
            and (first or not data)
            and done[0] < times
            and os.readlink(b"/proc/self/fd/%d" % fd) == target
        ):
            done[0] += 1
            with open(path, "ab") as f:
                f.write(b"+")
        return data

    monkeypatch.setattr(os, "read", read)
    return done


def test_file_changing_once_while_read_is_read_again(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opens: OpenCounter
) -> None:
    src = tmp_path / "src"
    build(src, D({b"log": F(b"line\n" * 100), b"other": F(b"o")}))
    _grow_at_eof(monkeypatch, src / "log", times=1)
    opens.paths.clear()
    snap = take(store, "s", src)
    assert opens.paths.count(b"src/log") == 2
    e = entry_of(store, snap, b"log")
    assert e.flags & CHANGED_WHILE_READ == 0
    assert snapshot_contents(store, snap)[b"log"].data == b"line\n" * 100 + b"+"
    assert "changed_while_read" not in meta_of(store, "s", snap.id)


@pytest.mark.parametrize("size", [500, 5 << 20], ids=["small", "streamed"])
def test_file_that_keeps_changing_is_flagged(
    size: int,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    opens: OpenCounter,
) -> None:
    src = tmp_path / "src"
    body = os.urandom(size)
    build(src, D({b"log": F(body)}))
    _grow_at_eof(monkeypatch, src / "log", times=1000)
    opens.paths.clear()
    snap = take(store, "s", src)
    assert opens.paths.count(b"src/log") == walker.READ_TRIES
    e = entry_of(store, snap, b"log")
    assert e.flags & CHANGED_WHILE_READ
    assert meta_of(store, "s", snap.id)["changed_while_read"] == ["log"]
    # stored as last read: two appends happened before the last read began
    assert snapshot_contents(store, snap)[b"log"].data == body + b"++"
    # abandoned attempts are not kept: one copy of incompressible data, not three
    assert snap.added_bytes < size * 1.2 + 4096
    assert verify(store, read_data=True).ok


def test_file_that_keeps_changing_records_the_size_it_stored(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    build(src, D({b"log": F(b"x" * 100)}))
    _grow_at_eof(monkeypatch, src / "log", times=1000)
    snap = take(store, "s", src)
    monkeypatch.undo()
    e = entry_of(store, snap, b"log")
    stored = store.read_object(e.ref)
    assert e.size == len(stored), (e.size, len(stored))
    export(store, snap, str(tmp_path / "out.tar"))  # tar needs the size to match the data


def test_unreadable_file_is_counted_with_its_reason(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    build(src, D({b"ok": F(b"fine"), b"d": D({b"secret": F(b"locked")})}))
    _deny(monkeypatch, "open", src / "d" / "secret")
    snap = take(store, "s", src)
    assert snap.skipped == 1
    assert meta_of(store, "s", snap.id)["skipped_paths"] == [
        ["d/secret", "unreadable: " + os.strerror(errno.EACCES)]
    ]
    assert paths_of(store, snap) == {b"ok", b"d"}


def test_unreadable_directory_is_counted_with_its_reason(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    build(src, D({b"ok": F(b"fine"), b"locked": D({b"f": F(b"x")})}))
    _deny(monkeypatch, "scandir", src / "locked")
    snap = take(store, "s", src)
    monkeypatch.undo()
    assert snap.skipped == 1
    assert meta_of(store, "s", snap.id)["skipped_paths"] == [
        ["locked", "unreadable: " + os.strerror(errno.EACCES)]
    ]
    assert paths_of(store, snap) == {b"ok"}


def test_skipped_directories_are_named_like_other_paths(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sig = b"Signature: 8a477f597d28d172789f06886806bc55"
    src = tmp_path / "src"
    build(src, D({b"locked": D({b"f": F(b"x")}), b"cache": D({b"CACHEDIR.TAG": F(sig)})}))
    _deny(monkeypatch, "scandir", src / "locked")
    snap = take(store, "s", src)
    monkeypatch.undo()
    assert sorted(p for p, _ in meta_of(store, "s", snap.id)["skipped_paths"]) == [
        "cache",
        "locked",
    ]


# -- overlay: content that belongs in the snapshot but is not on disk now -----------------------


def test_overlay_and_overlay_deleted(
    store: Store, tmp_path: Path, opens: OpenCounter, no_racy: None
) -> None:
    src = tmp_path / "src"
    build(
        src,
        D({b"a.txt": F(b"on disk"), b"gone.txt": F(b"still on disk"), b"d": D({b"k": F(b"k")})}),
    )
    stash = tmp_path / "stash"
    build(
        stash,
        D({b"a": F(b"the real edit", 0o600), b"n": F(b"new file"), b"dd": D({b"x": F(b"x")})}),
    )
    time.sleep(0.02)
    take(store, "s", src)  # fills the files cache with the on-disk versions
    opens.paths.clear()
    opts = Options(
        overlay={
            b"a.txt": os.fsencode(stash / "a"),
            b"new/deeper/n.txt": os.fsencode(stash / "n"),
            b"d/added": os.fsencode(stash / "n"),
            b"whole": os.fsencode(stash / "dd"),
        },
        overlay_deleted=frozenset({b"gone.txt"}),
    )
    snap = take(store, "s", src, opts)
    got = snapshot_contents(store, snap, mtimes=False)
    assert got[b"a.txt"].data == b"the real edit"
    assert got[b"a.txt"].mode == 0o600
    assert got[b"new/deeper/n.txt"].data == b"new file"
    assert got[b"new"].kind == got[b"new/deeper"].kind == "dir"
    assert got[b"d/added"].data == b"new file"
    assert got[b"d/k"].data == b"k"
    assert got[b"whole/x"].data == b"x"
    assert b"gone.txt" not in got
    assert opens.paths.count(b"src/a.txt") == 0  # the disk version was not what was wanted
    # the overlay is not remembered as the content of the path on disk
    plain = take(store, "s", src)
    got = snapshot_contents(store, plain, mtimes=False)
    assert got[b"a.txt"].data == b"on disk"
    assert got[b"gone.txt"].data == b"still on disk"
    assert b"new" not in got and b"d/added" not in got


# -- memory -------------------------------------------------------------------------------------


def _sparse_file(path: Path, size: int) -> None:
    """Mostly holes (zeros), with some random blocks: compresses extremely well."""
    with open(path, "wb") as f:
        f.truncate(size)
        for i in range(0, size, 64 << 20):
            f.seek(i)
            f.write(os.urandom(256 << 10))


def _child(args: list[str], timeout: float) -> dict[str, Any]:
    res = subprocess.run(
        [sys.executable, HELPER, *args], capture_output=True, text=True, timeout=timeout
    )
    assert res.returncode == 0, res.stderr
    out: dict[str, Any] = json.loads(res.stdout.splitlines()[-1])
    return out


BIG = 300 << 20
MEMORY_LIMIT_KB = 64 << 10  # well under the 300 MB file


@pytest.mark.slow
def test_big_file_snapshot_keeps_memory_bounded(store_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _sparse_file(src / "big", BIG)
    got = _child(["memory", str(store_dir), str(src), "snapshot"], timeout=300)
    assert got["grown_kb"] < MEMORY_LIMIT_KB, got
    with Store(store_dir) as s:
        snap = s.get("mem", "latest")
        assert snap.bytes == BIG
        assert entry_of(s, snap, b"big").size == BIG


@pytest.mark.slow
@pytest.mark.parametrize("what", ["verify", "restore", "export"])
def test_big_file_read_back_keeps_memory_bounded(
    what: str, store_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _sparse_file(src / "big", BIG)
    _child(["memory", str(store_dir), str(src), "snapshot"], timeout=300)
    try:
        got = _child(["memory", str(store_dir), str(src), what], timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} of a {BIG >> 20} MB file took over a minute")
    assert got["grown_kb"] < MEMORY_LIMIT_KB, got
    if what == "restore":
        assert scan(tmp_path / "restored", mtimes=False) == scan(src, mtimes=False)


def test_diff_helper_reports_nothing_for_equal_trees(tmp_path: Path) -> None:
    """The comparison the other tests rely on does see a difference."""
    build(tmp_path / "a", _small_tree())
    build(tmp_path / "b", _small_tree())
    a, b = scan(tmp_path / "a", mtimes=False), scan(tmp_path / "b", mtimes=False)
    assert diff(a, a) == []
    assert diff(a, b) != []  # b.bin is random in each


def test_packs_are_readable_without_the_index(store: Store, tmp_path: Path) -> None:
    """The record headers of the packs list exactly the objects the index places in them."""

    src = tmp_path / "src"
    build(src, D({b"a": F(b"alpha"), b"d": D({b"b": F(b"beta" * 1000)}), b"e": D({})}))
    take(store, "s", src)
    rows = store.index.db.execute(
        "SELECT p.name, o.key, o.offset, o.length, o.size, o.type "
        "FROM objects o JOIN packs p ON p.id = o.pack"
    ).fetchall()
    from_headers = {
        (name, o.key, o.offset, o.length, o.size, o.type)
        for name in store.index.packs()
        for o in scan_pack(os.path.join(store.path, "packs", name))
    }
    assert set(rows) == from_headers and len(rows) == 6  # 2 blobs, 3 trees, 1 record


@pytest.mark.parametrize("readonly", [False, True])
def test_a_store_written_by_a_newer_version_is_refused_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, readonly: bool
) -> None:
    # an older git-snapshot would read the newer packs as damaged and write its own schema
    # number back; a newer index is refused, whole, with what to do
    from git_snapshot.store import index as index_mod

    src = tmp_path / "src"
    build(src, D({b"f": F(b"data")}))
    with Store(tmp_path / "store") as s:
        take(s, "src", src)
        s.index.db.execute(f"PRAGMA user_version={index_mod.SCHEMA_VERSION + 1}")
    before = {p.name: p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file()}
    if readonly:  # a full disk opens the index read-only: the same refusal
        monkeypatch.setattr(index_mod, "_low_space", lambda path: True)
    with pytest.raises(UserError) as info:
        Store(tmp_path / "store")
    msg = str(info.value)
    assert "newer git-snapshot" in msg and "upgrade" in msg and "\n" not in msg
    after = {p.name: p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file()}
    assert after == before
