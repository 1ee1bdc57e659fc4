"""Write a snapshot as a tar archive that plain ``tar`` extracts.

Every tree is checked (store.validate) before the archive is opened, and every file's content
is checked against its key and size before its first byte goes into the archive: tar copies
exactly the recorded size, so a check after the last chunk would come too late. A file whose
data is damaged is left out and named at the end (Damaged); everything intact is exported.
The archive is written to a temp file beside it (0600: it holds .env files), then renamed.
An existing file at the archive's path is never replaced unless asked (``overwrite``): the
name is given to the archive with link(2), which fails if something took it meanwhile.
"""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
from collections.abc import Callable
from collections.abc import Iterator

import zstandard

from git_snapshot.errors import UserError
from git_snapshot.store import leftovers
from git_snapshot.store import validate
from git_snapshot.store.core import Store
from git_snapshot.store.index import Location
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.restorer import NEVER
from git_snapshot.store.restorer import Damaged
from git_snapshot.store.restorer import left_off
from git_snapshot.store.restorer import restored_mode
from git_snapshot.store.safewrite import TEMP_MARK
from git_snapshot.store.safewrite import atomic_file
from git_snapshot.store.safewrite import is_temp_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import IO

FORMATS = {".tar": "", ".tar.gz": "gz", ".tgz": "gz", ".tar.zst": "zst", ".tzst": "zst"}
SMALL = 8 << 20  # read whole and checked; a bigger file is read twice: checked, then copied


class _BlobReader(io.RawIOBase):
    """A file object over a stored blob, for tarfile."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def compression_for(path: str) -> str:
    for suffix, comp in sorted(FORMATS.items(), key=lambda kv: -len(kv[0])):
        if path.endswith(suffix):
            return comp
    raise UserError(
        f"cannot tell the archive format of {path}: name it .tar, .tar.gz, .tgz or .tar.zst"
    )


def check_destination(store: Store, path: str, overwrite: bool = False) -> None:
    """Refuse, before any work, an archive path that cannot be written as a file, or that
    names something that exists (a file, a link, anything) unless *overwrite*."""
    if os.path.isdir(path):
        raise UserError(
            f"cannot export to {path}: it is a directory; name the archive file, e.g. "
            f"{os.path.join(path, 'snapshot.tar')}"
        )
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UserError(
            f"cannot export to {path}: the directory {directory} does not exist; create it first"
        )
    store_real = os.path.realpath(store.path)
    real = os.path.realpath(directory)
    if real == store_real or real.startswith(store_real + "/"):
        raise UserError(f"cannot export to {path}: that is inside the snapshot store")
    if not overwrite and os.path.lexists(path):
        raise _exists(path)


def _exists(path: str) -> UserError:
    return UserError(
        f"cannot export to {path}: it exists and was left as it is; name another file, or add "
        "--force to replace it"
    )


def _leftover_of(base: str, dead: Callable[[bytes], bool]) -> Callable[[bytes], bool]:
    """Whether a name is a temp file of an earlier, killed export to *base*: ours (see
    safewrite) where *dead* (leftovers.dead_runs) proves it a dead run's. The FILE.PID.tmp
    names of older versions prove nothing (a user's file may be named so): never removed."""
    ours = os.fsencode(base)
    mark = len(TEMP_MARK) + 13  # the mark, 12 hex digits, '-'

    def match(name: bytes) -> bool:
        if not is_temp_name(name):
            return False
        tail = name[mark:]
        return bool(tail) and ours.startswith(tail) and dead(name)

    return match


def export(
    store: Store,
    snap: Snapshot,
    path: str,
    never: frozenset[bytes] = NEVER,
    overwrite: bool = False,
    setid: list[bytes] | None = None,
) -> int:
    """Write *snap* to *path* (atomically, 0600); returns the number of entries. Top-level
    names in *never* (a repository's .git) are left out. Raises Damaged, after writing the
    archive, when some files' data is damaged or missing. Something at *path* is replaced
    only with *overwrite* (else refused, also when it appears while the archive is written).
    *setid*, when given, gets the paths whose set-id bits the archive leaves off, as restore
    does (restorer.left_off), for the caller to name."""
    comp = compression_for(path)
    check_destination(store, path, overwrite)
    directory, base = os.path.split(os.path.abspath(path))
    run = leftovers.Run(store.path)  # records the temp name it gives beside *path*
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        dir_fd = -1  # (atomic_file says what is wrong with the place)
    try:
        if dir_fd >= 0:
            with contextlib.suppress(OSError):  # (a folder we cannot list: none removed)
                dead = leftovers.dead_runs(store.path, dir_fd)
                leftovers.sweep(dir_fd, _leftover_of(base, dead))
            tmp = os.path.join(directory, os.fsdecode(run.name(dir_fd, os.fsencode(base))))
        else:
            tmp = None
        return _export(store, snap, path, never, overwrite, comp, tmp, setid)
    finally:
        if dir_fd >= 0:
            os.close(dir_fd)
        run.close()


def _export(
    store: Store,
    snap: Snapshot,
    path: str,
    never: frozenset[bytes],
    overwrite: bool,
    comp: str,
    tmp: str | None,
    setid: list[bytes] | None = None,
) -> int:
    with store.lock():  # a concurrent gc must not move objects while we read them
        for _ in validate.walk(store, snap.root, damaged=lambda p, exc: None):
            pass  # a crafted tree anywhere refuses the export before it starts
        writer = _Writer(store, never)
        if setid is not None:
            writer.setid = setid
        try:
            with atomic_file(path, mode=0o600, replace=overwrite, tmp=tmp) as raw:
                leftovers.hold(raw.fileno())  # not a leftover while we write it
                writer.write(snap, raw, comp)
        except FileExistsError as exc:
            if exc.filename != path:
                raise
            raise _exists(path) from None
        except (OSError, zstandard.ZstdError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise UserError(
                f"cannot write {path}: {why}; nothing was exported (free space or choose "
                "another place)"
            ) from exc
    if writer.damaged:
        raise Damaged(writer.damaged, "exported", written=writer.count)
    return writer.count


class _Writer:
    def __init__(self, store: Store, never: frozenset[bytes]) -> None:
        self.store = store
        self.never = never
        self.count = 0
        self.damaged: list[tuple[bytes, str]] = []
        self.setid: list[bytes] = []  # entries written without their set-id bits
        self.locs: dict[bytes, Location] = {}  # of the files of the directories entered

    def _entered(self, key: bytes, entries: list[Entry]) -> None:
        """Look up where the small files of a directory lie, one index query for them all."""
        small = [e.ref for e in entries if e.kind == FILE and e.size <= SMALL]
        if small:  # kept until used: the walk comes back to them after each subdirectory
            self.locs.update(self.store.index.locate_many(small))

    def write(self, snap: Snapshot, raw: IO[bytes], comp: str) -> None:
        out: IO[bytes] = raw
        zwriter = None
        if comp == "zst":
            zwriter = zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
            out = zwriter
        with tarfile.open(
            fileobj=out,
            mode="w:gz" if comp == "gz" else "w|",
            format=tarfile.PAX_FORMAT,
            encoding="utf-8",
            errors="surrogateescape",
        ) as tar:
            entries = validate.walk(
                self.store,
                snap.root,
                damaged=self._note,
                skip=lambda rel: rel.split(b"/", 1)[0] in self.never,
                seen=self._entered,
            )
            for rel, e in entries:
                if self._add(tar, rel, e):
                    self.count += 1
        if zwriter is not None:
            zwriter.flush(zstandard.FLUSH_FRAME)
            zwriter.close()  # type: ignore[no-untyped-call]

    def _note(self, rel: bytes, exc: CorruptObject) -> None:
        self.damaged.append((rel or b".", str(exc)))

    def _add(self, tar: tarfile.TarFile, rel: bytes, e: Entry) -> bool:
        info = tarfile.TarInfo(os.fsdecode(rel))
        info.mode = restored_mode(e)  # the bits restore gives (never set-uid)
        if left_off(e):
            self.setid.append(rel)
        _set_mtime(info, e.mtime_ns)
        if e.kind == DIR:
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        elif e.kind == SYMLINK:
            info.type = tarfile.SYMTYPE
            info.linkname = os.fsdecode(e.ref)
            tar.addfile(info)
        else:
            try:
                content = self._checked(e)
            except CorruptObject as exc:
                self.damaged.append((rel, str(exc)))
                return False
            info.size = e.size
            tar.addfile(info, content)
            if isinstance(content, _Checked):
                content.finish()
        return True

    def _checked(self, e: Entry) -> io.BytesIO | _Checked:
        """The file's content, already checked in full against its key and size."""
        if e.size <= SMALL:
            loc = self.locs.pop(e.ref, None)
            return io.BytesIO(validate.read_blob(self.store, e, loc, known=loc is not None))
        for _ in validate.stream_blob(self.store, e):
            pass
        return _Checked(validate.stream_blob(self.store, e))


def _set_mtime(info: tarfile.TarInfo, ns: int) -> None:
    """Give *info* the mtime *ns* exactly: whole seconds in the header field (floored, as a
    reader ignoring pax takes them), and, when that is not all of it, the exact decimal in a
    pax record (RED32 B4: a float lost the last digits, and tarfile wrote a tiny one as
    ``5e-09``, which GNU tar reads as 5 s). tarfile keeps a record already there."""
    whole, frac = divmod(ns, 10**9)
    info.mtime = whole
    if frac or whole < 0:
        sign = "-" if ns < 0 else ""
        whole, frac = divmod(abs(ns), 10**9)
        exact = f"{sign}{whole}.{frac:09d}".rstrip("0").rstrip(".")
        info.pax_headers = {**info.pax_headers, "mtime": exact}


class _Checked(io.BufferedReader):
    """A big file's content read a second time, after a first read checked it: reading it
    twice costs less than a spooled copy and needs no free space on a full disk."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        super().__init__(_BlobReader(chunks))

    def finish(self) -> None:
        """Run the second read's own check (after tar took exactly the recorded size): a
        mismatch now means the disk returned other bytes than a moment ago."""
        for _ in self._chunks:
            pass
