"""What changed from one snapshot's tree to the next, as a flat list, cached in the store.

``find`` over a long history needs, for each snapshot, the paths it holds. Reading every
distinct tree of a store of 100 snapshots of a big tree costs seconds; the changes from one
snapshot to the next are small. So a delta (every path whose entry differs between two root
trees, folders included, with its new entry or None) is computed once, from the trees, and
kept in ``cache/deltas/``, named by the two root keys.

The cache is never needed for a right answer: a delta is derived from the trees alone, so a
missing, unreadable or damaged file (checked against the SHA-256 it carries) is computed
again. Files are immutable (two roots always give the same delta) and written whole to a
temp file then renamed, so concurrent writers and readers only ever see complete files.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os

from git_snapshot.store.core import Store

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (log, find, diff)
if TYPE_CHECKING:
    from typing import Any

    # (path, the fields of its Entry as a plain tuple (marshal takes no NamedTuple), or None
    # where the path vanished)
    Change = tuple[bytes, "tuple[Any, ...] | None"]

# the format, and marshal's (a Python that reads it otherwise computes its own)
MAGIC = b"GSDELTA2 %d\n" % marshal.version


class Delta:
    """A delta as read back: its paths at once, their entries only when asked for (a search
    for a rare name never needs the entries of most deltas)."""

    def __init__(self, paths: list[bytes], fields: bytes | list[Any]) -> None:
        self.paths = paths
        self._fields = fields

    def fields(self) -> list[tuple[Any, ...] | None] | None:
        """The entries, in the order of paths; None when they cannot be read back."""
        if isinstance(self._fields, bytes):
            try:
                self._fields = marshal.loads(self._fields)
            except (ValueError, EOFError, TypeError):
                self._fields = []
        got = self._fields
        return got if isinstance(got, list) and len(got) == len(self.paths) else None


def _path(store: Store, a: bytes, b: bytes) -> str:
    name = hashlib.sha256(a + b"-" + b).hexdigest()[:40]
    return os.path.join(store.cache_dir, "deltas", name[:2], name[2:])


def cached(store: Store, a: bytes, b: bytes) -> bool:
    """A delta from *a* to *b* is in the cache (not checked: load checks it)."""
    return os.path.exists(_path(store, a, b))


def load(store: Store, a: bytes, b: bytes) -> Delta | None:
    """The cached delta from *a* to *b*, or None (missing or damaged: compute it again)."""
    try:
        with open(_path(store, a, b), "rb") as f:
            data = f.read()
    except OSError:
        return None
    head = len(MAGIC) + 32
    if (
        not data.startswith(MAGIC)
        or hashlib.sha256(data[head:]).digest() != data[len(MAGIC) : head]
    ):
        return None
    import zstandard

    try:
        got = marshal.loads(zstandard.ZstdDecompressor().decompress(data[head:]))
    except (ValueError, EOFError, TypeError, zstandard.ZstdError):
        return None
    if not (isinstance(got, tuple) and len(got) == 4 and got[0] == a and got[1] == b):
        return None
    paths, fields = got[2], got[3]
    if not (isinstance(paths, list) and isinstance(fields, bytes)):
        return None
    return Delta(paths, fields)


def save(store: Store, a: bytes, b: bytes, changes: list[Change]) -> None:
    """Keep a delta for next time; silently not, when the store cannot take it (read-only,
    full): the cache only ever saves time."""
    import tempfile

    import zstandard

    paths = [p for p, _ in changes]
    fields = marshal.dumps([f for _, f in changes])
    payload = zstandard.ZstdCompressor(level=3).compress(marshal.dumps((a, b, paths, fields)))
    data = MAGIC + hashlib.sha256(payload).digest() + payload
    final = _path(store, a, b)
    with contextlib.suppress(OSError):
        folder = os.path.dirname(final)
        os.makedirs(os.path.dirname(folder), mode=0o700, exist_ok=True)  # makedirs gives the
        os.makedirs(folder, mode=0o700, exist_ok=True)  # folders it makes on the way 0777 - umask
        fd, tmp = tempfile.mkstemp(prefix="delta-", dir=store.tmp_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, final)  # whole or not at all: readers never see a part
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def sweep(store: Store) -> int:
    """Remove the cached deltas that no two consecutive snapshots of a source (what find goes
    through) use any more, after prune or forget; returns how many. A find running at the
    same time at worst computes one again."""
    top = os.path.join(store.cache_dir, "deltas")
    keep: set[str] = set()
    last: dict[str, bytes] = {}
    for s in store.snapshots():  # oldest first within each source
        keep.add(_path(store, last.get(s.source, b""), s.root))
        last[s.source] = s.root
    removed = 0
    for folder, _, names in os.walk(top):
        for name in names:
            path = os.path.join(folder, name)
            if path not in keep:
                with contextlib.suppress(OSError):
                    os.unlink(path)
                    removed += 1
    return removed
