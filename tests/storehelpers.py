"""Shared helpers for the archiving-core tests, and a child-process runner.

As a module: build trees on disk from a small spec (``D``/``F``/``L``), scan a tree into a
comparable form, take and restore snapshots, craft snapshot records by hand.

As a script (``python tests/storehelpers.py MODE ...``): the child side of the crash,
concurrency and memory tests. ``GS_KILL_AT=<point>`` (and ``GS_KILL_NTH=<n>``, default 1) make
the child SIGKILL itself at the n-th time it reaches a write point; see ``KILL_POINTS``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import random
import resource
import signal
import stat
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Union

from git_snapshot.store import Store
from git_snapshot.store import create_snapshot
from git_snapshot.store import packs
from git_snapshot.store.archiver import Options
from git_snapshot.store.index import Index
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import RECORD
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import TREE
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import digest
from git_snapshot.store.objects import encode_tree
from git_snapshot.store.packs import PackWriter
from git_snapshot.store.records import encode_record
from git_snapshot.store.restorer import Report
from git_snapshot.store.restorer import Restorer

HELPER = str(Path(__file__).resolve())
StrPath = Union[str, "os.PathLike[str]"]

# -- a tree spec -------------------------------------------------------------------------------


@dataclass
class F:
    data: bytes = b""
    mode: int = 0o644
    mtime_ns: int | None = None


@dataclass
class L:
    target: bytes
    mtime_ns: int | None = None


@dataclass
class D:
    children: dict[bytes, Node] = field(default_factory=dict)
    mode: int = 0o755
    mtime_ns: int | None = None


Node = Union[F, L, D]


def build(root: StrPath | bytes, spec: D) -> None:
    """Create *spec* below *root* (created if missing). Root's own mode/mtime are not set."""
    base = os.fsencode(root)
    os.makedirs(base, exist_ok=True)
    _fill(base, spec)


def _fill(path: bytes, d: D) -> None:
    for name, node in d.children.items():
        p = path + b"/" + name
        if isinstance(node, F):
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            try:
                view = memoryview(node.data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, node.mode)
                if node.mtime_ns is not None:
                    os.utime(fd, ns=(node.mtime_ns, node.mtime_ns))
            finally:
                os.close(fd)
        elif isinstance(node, L):
            os.symlink(node.target, p)
            if node.mtime_ns is not None:
                os.utime(p, ns=(node.mtime_ns, node.mtime_ns), follow_symlinks=False)
        else:
            os.mkdir(p, 0o700)
            _fill(p, node)
            os.chmod(p, node.mode)
            if node.mtime_ns is not None:
                os.utime(p, ns=(node.mtime_ns, node.mtime_ns))


@dataclass(frozen=True)
class Seen:
    """What one path looks like on disk: kind, permission bits, mtime, content or target."""

    kind: str  # "file", "dir", "link", "other"
    mode: int  # 0 for links (always 0o777 on Linux; not restorable)
    mtime_ns: int
    data: bytes  # file content, link target; b"" for dirs


def scan(root: StrPath | bytes, mtimes: bool = True) -> dict[bytes, Seen]:
    """Every path below *root* (not root itself), relative, as bytes."""
    out: dict[bytes, Seen] = {}
    _scan(os.fsencode(root), b"", out, mtimes)
    return out


def _scan(path: bytes, rel: bytes, out: dict[bytes, Seen], mtimes: bool) -> None:
    with os.scandir(path) as it:
        entries = sorted(it, key=lambda de: de.name)
    for de in entries:
        r = rel + de.name
        st = de.stat(follow_symlinks=False)
        mt = st.st_mtime_ns if mtimes else 0
        if stat.S_ISLNK(st.st_mode):
            out[r] = Seen("link", 0, mt, os.readlink(de.path))
        elif stat.S_ISDIR(st.st_mode):
            _scan(de.path, r + b"/", out, mtimes)
            out[r] = Seen("dir", stat.S_IMODE(st.st_mode), mt, b"")
        elif stat.S_ISREG(st.st_mode):
            with open(de.path, "rb") as f:
                out[r] = Seen("file", stat.S_IMODE(st.st_mode), mt, f.read())
        else:
            out[r] = Seen("other", stat.S_IMODE(st.st_mode), mt, b"")


def diff(expected: dict[bytes, Seen], got: dict[bytes, Seen]) -> list[str]:
    """Human-readable differences (empty when equal)."""
    out = []
    for k in sorted(expected.keys() | got.keys()):
        a, b = expected.get(k), got.get(k)
        if a != b:
            out.append(f"{k!r}: expected {_short(a)}, got {_short(b)}")
    return out[:20]


def _short(s: Seen | None) -> str:
    if s is None:
        return "nothing"
    data = s.data if len(s.data) < 40 else s.data[:20] + b"..." + str(len(s.data)).encode()
    return f"{s.kind} mode={s.mode:o} mtime={s.mtime_ns} data={data!r}"


def snapshot_contents(store: Store, snap: Snapshot, mtimes: bool = True) -> dict[bytes, Seen]:
    """What *snap* holds, in the form ``scan`` gives, read from the store without writing."""
    out: dict[bytes, Seen] = {}
    for rel, e in store.walk(snap.root):
        mt = e.mtime_ns if mtimes else 0
        if e.kind == FILE:
            out[rel] = Seen("file", e.mode & 0o7777, mt, b"".join(store.stream_blob(e.ref)))
        elif e.kind == DIR:
            out[rel] = Seen("dir", e.mode & 0o7777, mt, b"")
        elif e.kind == SYMLINK:
            out[rel] = Seen("link", 0, mt, e.ref)
        else:
            out[rel] = Seen("other", e.mode, mt, b"")
    return out


# -- store helpers -------------------------------------------------------------------------------


def take(store: Store, source: str, directory: StrPath, options: Options | None = None) -> Snapshot:
    return create_snapshot(store, source, os.fspath(directory), options=options).snapshot


def restore(
    store: Store,
    snap: Snapshot,
    target: StrPath,
    paths: list[str | bytes] | None = None,
    **kw: Any,
) -> Report:
    return Restorer(store, **kw).restore(snap, os.fspath(target), paths)


def store_files(root: StrPath) -> dict[str, int]:
    """Every file in a store (relative path -> size)."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            out[os.path.relpath(p, root)] = os.lstat(p).st_size
    return out


def pack_bytes(root: StrPath) -> int:
    d = os.path.join(root, "packs")
    return sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d))


def pack_names(root: StrPath) -> set[str]:
    return set(os.listdir(os.path.join(root, "packs")))


def entry_of(store: Store, snap: Snapshot, path: bytes) -> Entry:
    for rel, e in store.walk(snap.root):
        if rel == path:
            return e
    raise AssertionError(f"{path!r} is not in snapshot {snap.id}")


def paths_of(store: Store, snap: Snapshot) -> set[bytes]:
    return {rel for rel, _ in store.walk(snap.root)}


def random_tree(seed: int, files: int, dirs: int = 20, max_size: int = 3000) -> D:
    """A deterministic tree of *files* small files spread over *dirs* directories."""
    rnd = random.Random(seed)
    root = D()
    subdirs = [root] + [D() for _ in range(dirs)]
    for i, d in enumerate(subdirs[1:]):
        root.children[b"d%03d" % i] = d
    for i in range(files):
        size = rnd.choice((0, 1, 10, 100, rnd.randrange(max_size)))
        rnd.choice(subdirs).children[b"f%05d" % i] = F(rnd.randbytes(size))
    return root


def mutate(root: StrPath, seed: int, share: float = 0.05) -> None:
    """Change, add and delete a share of the files below *root* (deterministic per seed)."""
    rnd = random.Random(seed)
    paths = sorted(p for p in Path(root).rglob("*") if p.is_file() and not p.is_symlink())
    for p in rnd.sample(paths, max(1, int(len(paths) * share))):
        choice = rnd.random()
        if choice < 0.6:
            p.write_bytes(rnd.randbytes(rnd.randrange(1, 4000)))
        elif choice < 0.8:
            p.unlink()
        else:
            (p.parent / f"new-{seed}-{p.name}").write_bytes(rnd.randbytes(rnd.randrange(5000)))


# -- crafted (hostile) snapshots -------------------------------------------------------------------


class Crafter:
    """Writes hand-made trees and blobs, then enters them as one snapshot. Entries are
    encoded in the order given: sort them for a well-formed tree."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.writer = PackWriter(store.path)
        self.keys: set[bytes] = set()

    def _object(self, type_: int, data: bytes) -> bytes:
        """Write an object of *type_* unless this Crafter already did; returns its key."""
        key = digest(data)
        if key not in self.keys:
            self.writer.add(type_, key, data)
            self.keys.add(key)
        return key

    def blob(self, data: bytes) -> bytes:
        return self._object(BLOB, data)

    def tree(self, entries: list[Entry]) -> bytes:
        return self._object(TREE, encode_tree(entries))

    def file(self, name: bytes, data: bytes, mode: int = 0o644, mtime_ns: int = 10**18) -> Entry:
        return Entry(name, FILE, mode, mtime_ns, len(data), self.blob(data))

    def dir(self, name: bytes, entries: list[Entry], mode: int = 0o755) -> Entry:
        return Entry(name, DIR, mode, 10**18, 0, self.tree(entries))

    def link(self, name: bytes, target: bytes) -> Entry:
        return Entry(name, SYMLINK, 0o777, 10**18, len(target), target)

    def commit(
        self, source: str, root_entries: list[Entry], worktree: str = "/crafted"
    ) -> Snapshot:
        """Enter a snapshot of *worktree* whose root holds *root_entries* (in the order given)."""
        root = self.tree(root_entries)
        seq = self.store.index.reserve_seq(source, worktree)
        snap = Snapshot(0, source, seq, time.time(), "test", "", worktree, root, 0, 0, 0, 0, {})
        record = encode_record(snap, worktree)
        snap.record = self._object(RECORD, record)
        done = self.writer.finish()
        self.writer = PackWriter(self.store.path)
        return self.store.index.add_snapshot(done, snap)


# -- file-system faults ---------------------------------------------------------------------------


class FullDisk(io.FileIO):
    """A raw file that fails with ENOSPC once *budget* bytes have been written through it."""

    budget = 0

    def write(self, b: Any) -> int:
        n = len(memoryview(b))
        if FullDisk.budget < n:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        FullDisk.budget -= n
        return super().write(b)


@contextmanager
def full_disk_for(match: Callable[[str], bool], budget: int) -> Iterator[list[str]]:
    """While active, files opened with ``os.fdopen`` whose path *match*es run out of space
    after *budget* bytes in total. Yields the list of paths it caught."""
    real = os.fdopen
    caught: list[str] = []

    def fdopen(fd: int, mode: str = "r", *args: Any, **kw: Any) -> Any:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if "w" in mode and match(path):
            caught.append(path)
            return io.BufferedWriter(FullDisk(fd, "w", closefd=True))
        return real(fd, mode, *args, **kw)

    FullDisk.budget = budget
    os.fdopen = fdopen
    try:
        yield caught
    finally:
        os.fdopen = real


# -- the child side -------------------------------------------------------------------------------

KILL_POINTS = (
    "pack_add:after",  # an object was appended to a temp pack
    "fsync:before",  # a temp pack is complete but not yet durable
    "fsync:after",
    "rename:before",  # the pack is durable in tmp/, not yet in packs/
    "rename:after",  # the pack is in packs/, the index does not know it
    "fsync_dir:after",
    "commit:before",  # inside the index transaction, before COMMIT
    "commit:after",  # the snapshot is committed, the files cache is not saved
    "cache:before",  # the new files cache is written to its temp file, not renamed
    "cache:after",
)


def _install_kill_point(point: str, nth: int) -> None:
    count = [0]

    def hit(here: str) -> None:
        if here == point:
            count[0] += 1
            if count[0] == nth:
                os.kill(os.getpid(), signal.SIGKILL)

    def around(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kw: Any) -> Any:
            hit(name + ":before")
            out = fn(*args, **kw)
            hit(name + ":after")
            return out

        return wrapper

    write_frame, commit = PackWriter._write, packs.StreamRecord.commit

    def write_hook(
        self: PackWriter, type_: int, key: bytes, size: int, marker: bytes, frame: bytes
    ) -> None:
        write_frame(self, type_, key, size, marker, frame)  # the object is in the temp pack now
        hit("pack_add:after")

    def commit_hook(self: packs.StreamRecord, type_: int) -> int:
        n = commit(self, type_)
        hit("pack_add:after")
        return n

    write_group = PackWriter._write_group

    def group_hook(
        self: PackWriter,
        table: bytes,
        frame: bytes,
        members: list[tuple[int, bytes, int]] | None = None,
    ) -> None:
        write_group(self, table, frame, members)
        hit("pack_add:after")

    PackWriter._write = write_hook  # type: ignore[method-assign]
    PackWriter._write_group = group_hook  # type: ignore[method-assign]
    packs.GROUP_BYTES = 1  # a group per blob: a kill point per object written, as before groups
    packs.StreamRecord.commit = commit_hook  # type: ignore[method-assign]
    os.fsync = around("fsync", os.fsync)
    os.rename = around("rename", os.rename)
    packs.fsync_dir = around("fsync_dir", packs.fsync_dir)
    os.replace = around("cache", os.replace)  # only the files cache renames with it
    os.pwrite = around("cache", os.pwrite)  # or appends to it (filescache.Appender)

    @contextmanager
    def write(self: Index) -> Iterator[Any]:
        self._retry(lambda: self.db.execute("BEGIN IMMEDIATE"))
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        hit("commit:before")
        self._retry(lambda: self.db.execute("COMMIT"))
        hit("commit:after")

    Index.write = write  # type: ignore[method-assign]


def _max_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_main(argv: list[str]) -> int:
    mode = argv[0]
    if mode == "snapshot":  # snapshot STORE SOURCE DIR
        store_path, source, directory = argv[1:4]
        max_pack = os.environ.get("GS_MAX_PACK")
        if max_pack:
            PackWriter.__init__.__defaults__ = (int(max_pack),)
        with Store(store_path) as store:
            point = os.environ.get("GS_KILL_AT")
            if point:
                _install_kill_point(point, int(os.environ.get("GS_KILL_NTH", "1")))
            snap = take(store, source, directory)
        print(json.dumps({"id": snap.id}), flush=True)
        return 0
    if mode == "repair":  # repair STORE
        from git_snapshot.store.repair import repair

        with Store(argv[1], repairing=True) as store:
            point = os.environ.get("GS_KILL_AT")
            if point:
                _install_kill_point(point, int(os.environ.get("GS_KILL_NTH", "1")))
            repair(store)
        return 0
    if mode == "loop":  # loop STORE SOURCE DIR COUNT GO-FILE MUTATE(0/1)
        store_path, source, directory, count, go, mutating = argv[1:7]
        _wait_for(go)
        # GS_LOOP_UNTIL: go on past COUNT (up to 8 times it) until that file exists
        until = os.environ.get("GS_LOOP_UNTIL", "")
        i = 0
        while i < int(count) or (until and not os.path.exists(until) and i < 8 * int(count)):
            i += 1
            content = f"{source} {i} {os.getpid()}".encode()
            if mutating == "1":
                Path(directory, "counter").write_bytes(content)
            with Store(store_path) as store:
                snap = take(store, source, directory)
            print(json.dumps({"id": snap.id, "counter": content.decode()}), flush=True)
            time.sleep(random.uniform(0, float(os.environ.get("GS_LOOP_PAUSE", "0"))))
        return 0
    if mode == "gcloop":  # gcloop STORE GO-FILE STOP-FILE [RAN-FILE: made once gc removed some]
        from git_snapshot.store.prune import Policy
        from git_snapshot.store.prune import forget_by_policy
        from git_snapshot.store.prune import gc

        store_path, go, stop = argv[1:4]
        _wait_for(go)
        rounds = removed = forgotten = during = 0
        while not os.path.exists(stop) or rounds < 2:
            with Store(store_path) as store:
                sources = [k for k, _ in store.index.sources()]
                forgotten += len(forget_by_policy(store, Policy(keep_last=2), sources))
                report = gc(store)
                removed += report.objects_removed
                if report.objects_removed and not os.path.exists(stop):
                    during += 1  # collected while the snapshotting processes still ran
                    if len(argv) > 4:
                        Path(argv[4]).touch()
            rounds += 1
            time.sleep(0.005)
        out = {"rounds": rounds, "removed": removed, "forgotten": forgotten, "during": during}
        print(json.dumps(out))
        return 0
    if mode == "memory":  # memory STORE DIR WHAT
        from git_snapshot.store.export import export
        from git_snapshot.store.verify import verify

        store_path, directory, what = argv[1:4]
        with Store(store_path) as store:
            before = _max_rss_kb()
            t0 = time.monotonic()
            if what == "snapshot":
                take(store, "mem", directory)
            else:
                snap = store.get("mem", "latest")
                if what == "verify":
                    assert verify(store, read_data=True).ok
                elif what == "restore":
                    restore(store, snap, os.path.join(os.path.dirname(directory), "restored"))
                elif what == "export":
                    export(store, snap, os.path.join(os.path.dirname(directory), "out.tar"))
            grown = _max_rss_kb() - before
        print(json.dumps({"grown_kb": grown, "seconds": time.monotonic() - t0}), flush=True)
        return 0
    raise SystemExit(f"unknown mode {mode}")


def _wait_for(path: str) -> None:
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise SystemExit("never told to go")
        time.sleep(0.002)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(child_main(sys.argv[1:]))


def flip_byte(path: Path, offset: int, mask: int = 0xFF) -> None:
    """Damage one byte of the file at *path* in place."""
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ mask]))


def flip_stored(store_dir: Path, s: Store, key: bytes) -> Path:
    """Flip a byte in the middle of the stored copy of *key*; returns its pack."""
    loc = s.index.locate(key)
    assert loc is not None
    path = store_dir / "packs" / loc.pack
    flip_byte(path, loc.offset + loc.length // 2)
    s.reader.close()  # the next read opens the damaged file afresh
    return path


def damage_sub(repo: Path, store_dir: Path) -> None:
    """Snapshot 1 (git snapshot create) of a worktree with sub/ (a, deep/b), other/c and top,
    then the stored listing of sub/ damaged (a flipped byte)."""
    from clihelpers import gs

    for rel, data in (("sub/a", "1\n"), ("sub/deep/b", "2\n"), ("other/c", "3\n"), ("top", "4\n")):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(data)
    gs(repo, "create")
    with Store(store_dir) as s:
        flip_stored(store_dir, s, entry_of(s, s.snapshots()[-1], b"sub").ref)


# Scripts for `python -c SCRIPT STORE TARGET`: killed (SIGKILL) in the middle of their work.
# RESTORE_KILLER: a restore of snapshot "s" latest into TARGET, killed halfway through its
# first file, written under a temp name (no O_TMPFILE); EXPORT_KILLER: an export of it to
# the archive TARGET, killed after its first member. Both with no janitor (NO_JANITOR), as a
# kill it does not outlive leaves them (the machine's crash): what the next run must clean.
NO_JANITOR = """
from git_snapshot.store import leftovers
leftovers.Run._watch = lambda self: None
"""
RESTORE_KILLER = (
    NO_JANITOR
    + """
import os, signal, sys
from git_snapshot.store import Store
from git_snapshot.store import restore_write
from git_snapshot.store.restorer import Restorer

real = restore_write._pwrite_all
def write_then_die(fd, data, offset):
    real(fd, data[: len(data) // 2], offset)
    os.kill(os.getpid(), signal.SIGKILL)
restore_write._pwrite_all = write_then_die
restore_write._TMPFILE = 0  # a file system without O_TMPFILE: temp files are named while written
with Store(sys.argv[1]) as store:
    Restorer(store).restore(store.get("s", "latest"), sys.argv[2], None)
"""
)

EXPORT_KILLER = (
    NO_JANITOR
    + """
import os, signal, sys
from git_snapshot.store import Store
from git_snapshot.store import export as ex

real = ex._Writer._add
def add_then_die(self, tar, rel, e):
    out = real(self, tar, rel, e)
    os.kill(os.getpid(), signal.SIGKILL)
ex._Writer._add = add_then_die
with Store(sys.argv[1]) as store:
    ex.export(store, store.get("s", "latest"), sys.argv[2])
"""
)


def live_run(store_dir: Path, folder: Path, *names: bytes) -> tuple[Any, list[bytes]]:
    """A restore writing in *folder* right now (its store/temps record held): the run
    (store.leftovers.Run) and the temp names it gave there for *names*."""
    from git_snapshot.store import leftovers

    run = leftovers.Run(str(store_dir))
    fd = os.open(folder, os.O_RDONLY)
    try:
        return run, [run.name(fd, name) for name in names]
    finally:
        os.close(fd)


def tar_members(archive: Path) -> dict[str, bytes]:
    """Every member of the tar archive *archive*: name -> content (b"" for what is not a file)."""
    import tarfile

    with tarfile.open(archive) as tar:
        out = {}
        for m in tar.getmembers():
            f = tar.extractfile(m)
            out[m.name] = f.read() if f is not None else b""
        return out


def ours(store_dir: Path) -> list[int]:
    """The processes started with this test's store in their environment (restores, their
    writers, janitors), this one left out."""
    mark = b"\0GIT_SNAPSHOT_STORE=" + os.fsencode(store_dir) + b"\0"
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = b"\0" + f.read()
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue  # (ended meanwhile, or not ours to read)
        if mark in env and state != b"Z":
            found.append(int(name))
    return found


def wait_gone(store_dir: Path, keep: tuple[int, ...] = ()) -> None:
    """Until every process of ours but *keep* has ended (60 s at most: a bound, not a time
    the test depends on)."""
    for _ in range(600):
        if not set(ours(store_dir)) - set(keep):
            return
        time.sleep(0.1)
    raise AssertionError(f"still running: {ours(store_dir)}")
