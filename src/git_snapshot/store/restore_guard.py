"""What an in-place restore may replace or remove: only what its pre-restore snapshot holds
as it is on disk now (RED40 E1, E2).

The pre-restore snapshot is taken, then the restore writes, seconds later on a big tree. An
editor that saves a file in between, a build that creates one, would have its work
overwritten (or deleted by --delete) and be in no snapshot, while the restore said "what was
there before is in snapshot N". So before a path is replaced or removed, its lstat is
compared with the entry the pre-restore snapshot holds there; a path that changed since (or
is not in it) is left as it is and named (CHANGED): a second run takes a new pre-restore
snapshot holding it.
"""

from __future__ import annotations

import os
import stat
from collections import OrderedDict
from collections.abc import Callable

from git_snapshot.store import validate
from git_snapshot.store.core import Store
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import digest_fd

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from git_snapshot.store.index import Snapshot

CHANGED = "changed while the restore ran: run it again"
CREATED = "created while the restore ran: run it again"

# A file whose ctime is older than the pre-restore snapshot's start by this much was as it is
# now when that snapshot read it (content, rename and chmod all move the ctime), so matching
# size and mtime settle it, as the files cache trusts them. One changed around that start
# is read and compared whole: the ctime's coarse clock lags the one the start is read from
# by up to a tick, and a save in the same tick may keep the size and the mtime. The same
# margin as the files cache's (walker.RACY_NS), not imported: that module is heavy.
RECENT_NS = 2_000_000_000

_KIND = {DIR: stat.S_IFDIR, FILE: stat.S_IFREG, SYMLINK: stat.S_IFLNK}

# entries of the snapshot's folders kept listed at once (about 420 bytes each with their
# dict: 21 MB), the last used kept: a restore goes folder by folder, so those are the ones
# it is in and above; one let go is read again if it comes back (unbounded, a whole-tree
# restore replacing files in every folder of L kept its 230,000 entries: about 97 MB, on
# top of the plan's TREE_BYTES)
LISTED_MAX = 50_000


class Guard:
    """The pre-restore snapshot's tree *root* (at the restore's target; None: it holds
    nothing there), taken from *since_ns* on: whether what lstat finds at a path is what it
    holds; *skipped*: the paths it left out (its skipped_paths)."""

    def __init__(
        self,
        store: Store,
        root: bytes | None,
        since_ns: int,
        skipped: frozenset[bytes] = frozenset(),
    ) -> None:
        self.store = store
        self.root = root
        self.since_ns = since_ns
        # what it left out (snapshot.exclude, a cache dir, unreadable): a restore keeps those
        # unless named, and named, overwrites them with a warning that no copy is kept
        self.skipped = skipped
        # folder -> its listing, the last used last; their entries counted (LISTED_MAX)
        self.folders: OrderedDict[bytes, dict[bytes, Entry] | None] = OrderedDict()
        self.listed = 0

    @classmethod
    def of(cls, store: Store, safety: Snapshot, root: bytes | None, since_ns: int) -> Guard:
        """The guard of pre-restore snapshot *safety*, its tree *root* at the target, with
        what it left out (its skipped_paths)."""
        left = safety.meta.get("skipped_paths", [])
        return cls(store, root, since_ns, frozenset(os.fsencode(p) for p, _ in left))

    def why(
        self, rel: bytes, st: os.stat_result, name: bytes, parent: int, mode: int | None = None
    ) -> str | None:
        """None when the pre-restore snapshot holds what *st* (lstat of *name* in the folder
        open on *parent*) found at *rel*, else why it may not be replaced or removed. A
        folder only needs to be there as one: what it holds is looked at path by path; but
        one removed whole (mode None) takes its mode with it. A file's mode is its own too:
        one chmodded since (same bytes, same size and mtime) holds a mode no snapshot holds,
        unless it is *mode*, the one the restore gives what it writes there (None: none)."""
        if self._left_out(rel):
            return None
        e = self.entry(rel)
        if e is None:
            return CREATED
        if _KIND.get(e.kind) != stat.S_IFMT(st.st_mode):
            return CHANGED
        if e.kind != SYMLINK and stat.S_IMODE(st.st_mode) not in (e.mode, mode):
            return CHANGED
        if e.kind == DIR or self._settled(e, st) or _held(e, st, name, parent):
            return None
        return CHANGED

    def _left_out(self, rel: bytes) -> bool:
        """Whether *rel* is, or lies below, a path the snapshot left out."""
        if not self.skipped:
            return False
        parts = rel.split(b"/")
        return any(b"/".join(parts[:i]) in self.skipped for i in range(1, len(parts) + 1))

    def entry(self, rel: bytes) -> Entry | None:
        """The pre-restore snapshot's entry at *rel* (None: it holds none)."""
        folder, _, name = rel.rpartition(b"/")
        listing = self._listing(folder)
        return None if listing is None else listing.get(name)

    def _listing(self, folder: bytes) -> dict[bytes, Entry] | None:
        folders = self.folders
        if folder in folders:
            folders.move_to_end(folder)
            return folders[folder]
        listing = folders[folder] = self._read(folder)
        self.listed += len(listing or ())
        while self.listed > LISTED_MAX and len(folders) > 1:
            self.listed -= len(folders.popitem(last=False)[1] or ())
        return listing

    def _read(self, folder: bytes) -> dict[bytes, Entry] | None:
        key = self.root
        if folder:
            e = self.entry(folder)
            if e is None or e.kind != DIR:
                return None
            key = e.ref
        if key is None:
            return None
        try:
            entries = validate.read_tree(self.store, key, folder + b"/" if folder else b"")
        except CorruptObject:  # (just written): nothing in it can be known held
            return None
        return {e.name: e for e in entries}

    def _settled(self, e: Entry, st: os.stat_result) -> bool:
        """Whether *st* is, by its times alone, what the snapshot read (RECENT_NS)."""
        if st.st_ctime_ns >= self.since_ns - RECENT_NS or st.st_mtime_ns != e.mtime_ns:
            return False
        return e.kind == SYMLINK or st.st_size == e.size


def _held(e: Entry, st: os.stat_result, name: bytes, parent: int) -> bool:
    """holds, False when *name* cannot be read (gone, or turned into something else since)."""
    try:
        return holds(e, st, name, parent, read_at)
    except OSError:
        return False


# what holds reads at a path: (name, its lstat, the folder's descriptor or None) -> the
# link's target or the file's digest, None when it cannot be read
ReadAt = Callable[[bytes, os.stat_result, int | None], bytes | None]


def holds(e: Entry, st: os.stat_result, name: bytes, dir_fd: int | None, read: ReadAt) -> bool:
    """Whether what lstat found (*st*) at *name* holds the content of the file or symlink
    *e*: a symlink to its target, or a regular file of its size, then of its digest. *read*
    (read_at, or one that keeps its answers) gives what is there (the link's target, the
    file's digest; None: unreadable), called only once the kind and the size match: a file
    of another size is never read."""
    if e.kind == SYMLINK:
        return stat.S_ISLNK(st.st_mode) and read(name, st, dir_fd) == e.ref
    return (
        e.kind == FILE
        and stat.S_ISREG(st.st_mode)
        and st.st_size == e.size
        and read(name, st, dir_fd) == e.ref
    )


def read_at(name: bytes, st: os.stat_result, dir_fd: int | None = None) -> bytes:
    """What *holds* compares at *name* (lstat: *st*): a symlink's target, a file's digest
    (opened O_NOFOLLOW: a file turned into a link since the lstat is an OSError)."""
    if stat.S_ISLNK(st.st_mode):
        return os.readlink(name, dir_fd=dir_fd)
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        return digest_fd(fd)
    finally:
        os.close(fd)


def moved(parent: int, name: bytes, st: os.stat_result | None) -> bool:
    """Whether what is at *name* now is no longer what lstat found (*st*; None: nothing):
    looked at again just before the rename or unlink that replaces or removes it."""
    try:
        now = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return st is not None
    return st is None or not unmoved(now, st)


def unmoved(now: os.stat_result, st: os.stat_result) -> bool:
    """Whether *now* (a stat of a path, or of the file open there) is still what lstat found
    (*st*): the same inode, of the same mode, size and times (a write, a chmod, a rename,
    a link added: each moves the ctime)."""
    return (now.st_ino, now.st_mode, now.st_size, now.st_mtime_ns, now.st_ctime_ns) == (
        st.st_ino,
        st.st_mode,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
    )
