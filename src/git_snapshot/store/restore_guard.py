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

    def why(self, rel: bytes, st: os.stat_result, name: bytes, parent: int) -> str | None:
        """None when the pre-restore snapshot holds what *st* (lstat of *name* in the folder
        open on *parent*) found at *rel*, else why it may not be replaced or removed. A
        folder only needs to be there as one: what it holds is looked at path by path."""
        if self._left_out(rel):
            return None
        e = self.entry(rel)
        if e is None:
            return CREATED
        if _KIND.get(e.kind) != stat.S_IFMT(st.st_mode):
            return CHANGED
        if e.kind == DIR or self._settled(e, st) or _same(e, st, name, parent):
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


def _same(e: Entry, st: os.stat_result, name: bytes, parent: int) -> bool:
    """Whether the file or symlink *name* (lstat: *st*) holds *e*'s content, read whole."""
    try:
        if e.kind == SYMLINK:
            return os.readlink(name, dir_fd=parent) == e.ref
        if st.st_size != e.size:
            return False
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=parent)
        try:
            return digest_fd(fd) == e.ref
        finally:
            os.close(fd)
    except OSError:  # gone or turned into something else meanwhile
        return False


def moved(parent: int, name: bytes, st: os.stat_result | None) -> bool:
    """Whether what is at *name* now is no longer what lstat found (*st*; None: nothing):
    looked at again just before the rename or unlink that replaces or removes it."""
    try:
        now = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return st is not None
    if st is None:
        return True
    return (now.st_ino, now.st_mode, now.st_size, now.st_mtime_ns, now.st_ctime_ns) != (
        st.st_ino,
        st.st_mode,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
    )
