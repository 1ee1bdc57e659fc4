"""Write a snapshot as a tar archive that plain ``tar`` extracts."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator
from typing import IO

import zstandard

from git_snapshot.errors import UserError
from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.restorer import check_tree

FORMATS = {".tar": "", ".tar.gz": "gz", ".tgz": "gz", ".tar.zst": "zst", ".tzst": "zst"}


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


def export(store: Store, snap: Snapshot, path: str) -> int:
    """Write *snap* to *path* (atomically); returns the number of entries."""
    comp = compression_for(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    count = 0
    try:
        with open(tmp, "wb") as raw:
            out: IO[bytes] = raw
            zwriter = None
            if comp == "zst":
                zwriter = zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
                out = zwriter
            mode = "w:gz" if comp == "gz" else "w|"
            with tarfile.open(
                fileobj=out,
                mode=mode,
                format=tarfile.PAX_FORMAT,  # type: ignore[call-overload]
                encoding="utf-8",
                errors="surrogateescape",
            ) as tar:
                check_tree(store, snap.root, b"", set())
                for rel, e in store.walk(snap.root):
                    info = tarfile.TarInfo(os.fsdecode(rel))
                    info.mode = e.mode & 0o777
                    info.mtime = e.mtime_ns / 1e9
                    if e.kind == DIR:
                        info.type = tarfile.DIRTYPE
                        tar.addfile(info)
                    elif e.kind == SYMLINK:
                        info.type = tarfile.SYMTYPE
                        info.linkname = os.fsdecode(e.ref)
                        tar.addfile(info)
                    else:
                        info.size = e.size
                        tar.addfile(info, io.BufferedReader(_BlobReader(store.stream_blob(e.ref))))
                    count += 1
            if zwriter is not None:
                zwriter.flush(zstandard.FLUSH_FRAME)
                zwriter.close()  # type: ignore[no-untyped-call]
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return count
