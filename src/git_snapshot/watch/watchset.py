"""One worktree's watch set: which folders get a watch, which are scanned, what an event means.

Folders get a watch of their own in this order, as long as the budget lasts: the root, the
folders of the project (breadth first: the top ones matter most), the roots of big ignored
trees, the other ignored folders. What does not fit is *polled*: a stat scan of its entries
every ``watchPoll`` seconds. A big ignored tree (``node_modules``, ``.venv``, ``build/``... or
any ignored folder with more than ``watchBigDirs`` folders below it) is then watched *whole*,
a watch on every folder, as long as the budget allows (up to WHOLE_SHARE of it, the smallest
trees first): events cover it as they cover the project, so snapshots trust it. A big tree that
does not fit, or that outgrows the budget later (its watches give way to the project folders of
any worktree, and to its own growth), gets one watch at its root (what is added or removed
right there is seen at once) and a slow scan of its inside: the folders' own stat every
``watchSlowScan`` seconds (adds, deletes and renames change a folder's mtime), every file's
stat every ``watchDeepScan`` seconds; such a *scanned* tree is published in the dirty set
(:func:`dirtyset.scanned`: a file rewritten in place there has no event, so hook snapshots
walk it). A folder with a CACHEDIR.TAG is never snapshotted (snapshot.skipCacheDirs), so it
gets its root watch and nothing more.

The repository's ``.git`` and the store are never watched nor scanned.
"""

from __future__ import annotations

import errno
import itertools
import math
import os
import stat
import stat as stat_mod
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from git_snapshot.watch import source as ev
from git_snapshot.watch.config import BIG_NAMES
from git_snapshot.watch.config import WatchConfig
from git_snapshot.watch.dirtyset import OTHERS_UNKNOWN

CACHEDIR_TAG = "CACHEDIR.TAG"
TOUCHED_SCAN_S = 2.0  # a big tree's inside is scanned this long after the last event at its root
# a look at every folder for the other names of a file found linked (WatchSet.look_all) runs at
# most this often, but always before a hook's sync is answered (a copy of a folder of them
# makes one per batch of events otherwise)
LOOK_ALL_S = 1.0
# Every watched folder's entries are lstat'ed again within CHECK_S seconds (or watchDeepScan,
# when shorter), in slices every CHECK_S / CHECK_STEPS (0.2 to 5 s): a folder whose entries
# changed with no event (a file written through a name outside the worktree, or through a
# shared memory map: only their ctime says so) is marked then (WatchSet.check; RED38 A1b).
CHECK_S = 300.0
CHECK_STEPS = 60
# A look marks only what events did not explain (pl48): the changes events named are marked
# already, and a folder mark of the look read as another change (post-checkout set aside the
# prepared tree holding a new .env that `git checkout` then overwrote, and named nothing). As
# each batch of marks is written, the lstat of every entry it names is kept (new_links: the
# look's *records* of the folder, kept until its next look). An entry whose ctime is after the
# folder's last look (less TOLD_MARGIN_NS: the kernel stamps ctime from a clock up to a tick
# behind time.time_ns()) changed since; it is explained when its stat is one recorded, else
# the look marks it (a write through a shared map, or a hard link from outside, after its
# last event). What the look cannot tell marks the whole folder, as before: a folder never
# looked at, an entry it cannot lstat, the folder's own inode or mode changed, its mtime
# changed with no event in it, a change it cannot place, or more records than the bounds
# keep. A folder holding a file with other names (linked) is no exception (s51): a write
# through another name moves that file's ctime as any write does, and its whole-folder mark
# set aside the prepared tree holding a new .env beside it.
TOLD_MARGIN_NS = 20_000_000
# The ctime rule needs a clock of nanoseconds: a file system of coarser timestamps stamps them
# truncated (FAT 2 s or 10 ms, HFS+ and reiserfs 1 s, ext2/3/4 with 128-byte inodes 1 s), so a
# change just after a look reads as before it, and a change just after an event's record (in
# the same second) leaves the recorded stat. An entry stamped after the last look or up to
# COARSE_NS (FAT's 2 s) before it, on a whole millisecond, marks the whole folder (review RP48).
COARSE_NS = 2_000_000_000
TOLD_PER_FOLDER = 10_000
TOLD_ALL = 50_000  # records of all the worktree's folders together (some 60 bytes each)
WHOLE_SHARE = 0.9  # big trees are watched whole while all watches stay within this share
# a linked folder's files with other names are published by name (dirtyset.linked_names) up to
# this many; past it, or when every regular file there (two or more) has other names (a pnpm
# package's folder), the folder counts whole (None), as before names were kept (s51)
LINKED_NAMED = 32


# a file's write sessions since the last snapshot began (WatchSet.overwritten)
_WRITING = 1  # its first one, under way: fed as an overwrite
_WRITTEN = 2  # one ended (closed, or renamed over it): the next write overwrites an edit
_REWRITTEN = 3  # fed as an overwrite of an edit (once: the report names the file once)
_NEW = 4  # created since: no snapshot holds it, writing it again is fed as nothing
MOVING_KEPT = 64  # renames whose MOVED_TO is awaited (WatchSet.moving): it comes right after


def is_temp(name: str) -> bool:
    """Whether *name* looks like an editor's (or an atomic save's) temp file: a name alone
    proves nothing (`.env.tmpl`, `book.part`, `notes~` may be the user's own files: RED31
    D2); :func:`temp_file` says whether the file is one."""
    return (
        _swap_name(name)
        or name.startswith((".#", ".goutputstream-"))
        or name.endswith("~")
        or name == "4913"  # vim's test write
        or name.endswith(".tmp")
        or (name.startswith(".") and ".tmp." in name)  # .file.txt.tmp.1234 style saves
    )


def _swap_name(name: str) -> bool:
    """vim's swap file names: .NAME.swp, then .swo, .swn ... .swa (and .swx, .swy...)."""
    return name.startswith(".") and len(name) > 4 and name[-4:-1] == ".sw" and name[-1].isalpha()


SWAP_MAGIC = b"b0VIM"  # the first bytes of a vim swap file


def temp_file(path: str, name: str) -> bool:
    """Whether the file *path* (named *name*) is an editor's temp file, whose events alone
    never start a snapshot (README "Continuous protection"): a vim swap file (a swap name
    whose content begins with ``b0VIM``), an Emacs lock (``.#NAME``, a symbolic link), or
    any name :func:`is_temp` allows that is gone already (renamed over its target, or
    deleted: vim's ``4913`` and ``NAME~`` backup, an atomic save's ``.NAME.tmp.123``). A
    file with such a name that stays, and does not prove itself one, is the user's: its
    events count (when in doubt, snapshot it)."""
    if not is_temp(name):
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return True  # gone: a temp file's life (a user's file deleted loses nothing here)
    if _swap_name(name) and stat.S_ISREG(st.st_mode):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return not os.path.lexists(path)
        try:
            head = os.read(fd, len(SWAP_MAGIC))
        except OSError:
            head = b""
        finally:
            os.close(fd)
        return head == SWAP_MAGIC
    return name.startswith(".#") and stat.S_ISLNK(st.st_mode)


def _deep_sig(path: str) -> tuple[int | None, list[str]]:
    """A signature of the folder and every entry's stat, and its subfolders."""
    sig, subdirs, _ = _deep_look(path)
    return sig, subdirs


def _deep_look(path: str) -> tuple[int | None, list[str], bool]:
    """A signature of the folder and every entry's stat (but .git's, which every git command
    changes), its subfolders, and whether it holds a regular file with other names
    (st_nlink > 1: a write through one of them raises no event here)."""
    got = _listing(path)
    if got is None:
        return None, [], False
    return got.sig(), got.subdirs, got.linked


def _named(got: Listing) -> frozenset[str] | None:
    """A linked folder's names of its files with other names, as published (LINKED_NAMED);
    None: the whole folder counts (too many, or all of its files but one alone)."""
    n = len(got.links)
    if not n or n > LINKED_NAMED or 1 < n == got.files:
        return None
    return frozenset(got.links)


# an entry's stat as a look and an event's record give it: (name, st_ino, st_size, st_mtime_ns,
# st_ctime_ns, st_mode); a folder's own: (st_mtime_ns, st_ino, st_mode)
Item = tuple[str, int, int, int, int, int]
Own = tuple[int, int, int]


@dataclass
class Listing:
    """A folder's entries as :func:`_listing` found them."""

    own: Own
    items: list[Item]
    subdirs: list[str]
    linked: bool  # a regular file with other names (st_nlink > 1)
    failed: bool  # an entry listed whose lstat failed (gone meanwhile, or other)
    links: tuple[str, ...] = ()  # the names of those files
    files: int = 0  # regular files
    link_ids: frozenset[int] = frozenset()  # those files' _link_id's

    def sig(self) -> int:
        return hash((self.own, *self.items))


def _item(name: str, s: os.stat_result) -> Item:
    return (name, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_mode)


def _listing(path: str) -> Listing | None:
    """Folder *path*'s own stat and every entry's (but .git's, which every git command
    changes); None when it cannot be read."""
    items: list[Item] = []
    subdirs: list[str] = []
    links: list[str] = []
    ids: list[int] = []
    files = 0
    failed = False
    try:
        st = os.stat(path, follow_symlinks=False)
        own = (st.st_mtime_ns, st.st_ino, st.st_mode)
        with os.scandir(path) as it:
            for e in it:
                if e.name == ".git":
                    continue
                try:
                    s = e.stat(follow_symlinks=False)
                except OSError:
                    failed = True
                    continue
                items.append(_item(e.name, s))
                if stat_mod.S_ISDIR(s.st_mode):
                    subdirs.append(e.path)
                elif stat_mod.S_ISREG(s.st_mode):
                    files += 1
                    if s.st_nlink > 1:
                        links.append(e.name)
                        ids.append(_link_id(e.name, s.st_ino))
    except OSError:
        return None
    return Listing(own, items, subdirs, bool(links), failed, tuple(links), files, frozenset(ids))


def _link_id(name: str, ino: int) -> int:
    """A file with other names as a folder's look or an event last found it (its name and
    inode): one not known is a link just made (or such a file moved in, or another written
    over one), its other names unknown (WatchSet.link_ids)."""
    return hash((name, ino))


def _subdirs(path: str) -> list[str]:
    try:
        with os.scandir(path) as it:
            return [e.path for e in it if e.is_dir(follow_symlinks=False) and e.name != ".git"]
    except OSError:
        return []


def _ctime_ns(e: os.DirEntry[str]) -> int:
    """The entry's ctime, 0 when it is gone."""
    try:
        return e.stat(follow_symlinks=False).st_ctime_ns
    except OSError:
        return 0


def _lctime_ns(path: str) -> int:
    """*path*'s ctime, that of now when it is gone (no snapshot can hold it then)."""
    try:
        return os.lstat(path).st_ctime_ns
    except OSError:
        return time.time_ns()


def _count_dirs(root: str, limit: int) -> int:
    """Folders below *root*, counting at most to limit + 1."""
    n, queue = 0, deque([root])
    while queue and n <= limit:
        for sub in _subdirs(queue.popleft()):
            n += 1
            queue.append(sub)
    return n


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top + "/")


def _store_in(store_path: str, root: str) -> str:
    """The store's path as the worktree's folders under *root* name it, found by device and
    inode (a home reached through a bind mount names it by another path: RED40 C1), else
    its realpath (outside the worktree: no folder watched is under it)."""
    from git_snapshot.store import location

    rel = location.in_worktree(store_path, root)
    return os.path.join(root, rel) if rel else os.path.realpath(store_path)


def _fs_at(path: str, table: list[tuple[int, str, str]]) -> str:
    """The type of the file system *path* lies on, from *table* (walker.mount_table()'s): its
    device's, else (a btrfs subvolume's own device number is in no mountinfo line) the type
    of the longest mount point above it; '' unknown."""
    from git_snapshot.store import walker

    try:
        kind = walker._fs_type(os.stat(path).st_dev, table)
    except OSError:
        return ""
    if kind:
        return kind
    real = os.path.realpath(path)
    above = [(len(p), k) for _, p, k in table if p == "/" or _under(real, p)]
    return max(above)[1] if above else ""


# Local disk file systems outside walker.TRUSTED_FS (whose folders' names the walk trusts): only
# this kernel writes them, so inotify sees every change made to them, as on ext4. Not overlay:
# its lower and upper layers are folders of another file system, written by others.
LOCAL_FS = frozenset(
    {"zfs", "bcachefs", "vfat", "msdos", "exfat", "ntfs3", "hfsplus", "jfs", "nilfs2", "reiserfs"}
)


def blind_roots(root: str) -> list[tuple[str, str]]:
    """The worktree's top (*root*) and the mount points below it that lie on a file system
    outside walker.TRUSTED_FS and LOCAL_FS, with its type ('unknown' when none is found). Such a
    file system (FUSE, NFS, 9p, cifs, overlay...) raises no event for a change made elsewhere:
    the host's editor, another machine, the lower layer (RED38 A1c)."""
    from git_snapshot.store import walker

    table = walker.mount_table()
    real = os.path.realpath(root)
    points = [root] + [p for _, p, _ in table if p != real and _under(p, real)]
    out = []
    for p in points:
        kind = _fs_at(p, table)
        if kind not in walker.TRUSTED_FS and kind not in LOCAL_FS:
            out.append((root if p == real else p, kind or "unknown"))
    return out


M32 = 0xFFFFFFFF
# a folder is opened without following a symlink at its own name (one that replaced a folder
# is a change, not a folder to go into)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# a big tree's root, for lookups below it: a root one may not list is still searched, as a
# path would be (O_PATH, where there is one)
_ROOT_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
SLOWEST = 8  # a big tree where nothing changes is scanned every SLOWEST x watchSlowScan
_GOLDEN = 0.6180339887498949
_phases = itertools.count()


def _sig(st: os.stat_result) -> int:
    return hash((st.st_mtime_ns, st.st_ino, st.st_mode))


def _subs(top: int, rel: str) -> list[str]:
    """The subfolders of folder *rel* below the open folder *top* (relative to *top*)."""
    try:
        fd = os.open(rel or ".", _DIR_FLAGS, dir_fd=top)
    except OSError:
        return []
    try:
        with os.scandir(fd) as it:
            return [
                f"{rel}/{e.name}" if rel else e.name
                for e in it
                if e.is_dir(follow_symlinks=False) and e.name != ".git"
            ]
    except OSError:
        return []
    finally:
        os.close(fd)


def _below(rel: str, tops: set[str]) -> bool:
    """Whether a folder above *rel* (relative paths; not *rel* itself) is in *tops*."""
    while rel:
        rel = rel.rpartition("/")[0]
        if rel in tops:
            return True
    return False


def _look(top: int, rel: str) -> tuple[int, list[str]]:
    """Folder *rel* below the open folder *top*: its packed signatures (its own stat in the
    low 32 bits, its entries' stats in the high 32; 0 for what cannot be read) and its
    subfolders (relative to *top*). One open, one fstat, the listing and a stat of each entry
    by name in it: no path is walked twice."""
    try:
        fd = os.open(rel or ".", _DIR_FLAGS, dir_fd=top)
    except OSError:
        try:
            return _sig(os.stat(rel or ".", dir_fd=top, follow_symlinks=False)) & M32, []
        except OSError:
            return 0, []
    try:
        st = os.fstat(fd)
        own = _sig(st) & M32
        items: list[tuple[object, ...]] = [(st.st_mtime_ns, st.st_ino, st.st_mode)]
        subs: list[str] = []
        with os.scandir(fd) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    # a subfolder's own stat is its own low signature, looked at by every
                    # scan: here its name and inode (no stat) say it was renamed or replaced
                    items.append((e.name, e.inode()))
                    if e.name != ".git":
                        subs.append(f"{rel}/{e.name}" if rel else e.name)
                    continue
                try:
                    s = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                items.append((e.name, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns))
    except OSError:
        return own, []
    finally:
        os.close(fd)
    return own | ((hash(tuple(items)) & M32) << 32), subs


@dataclass
class BigTree:
    """A big ignored tree: one watch at its root, stat scans of its inside.

    Its folders are kept relative to the root, each with one int: the folder's own stat
    signature in the low 32 bits, its entries' in the high 32 (about 170 bytes a folder:
    ten trees of 9,000 folders cost some 15 MB). Each scan stats every folder (shallow) and
    looks at the entries of the next slice of them (deep): a slice sized so that every
    folder's entries are looked at within watchDeepScan seconds, spread over the scans
    instead of all the trees' files at once. Paths are looked up from the root opened once
    per scan."""

    root: str
    scan: bool = True  # False: a CACHEDIR.TAG folder, never snapshotted
    sigs: dict[str, int] = field(default_factory=dict)  # relative folder -> packed signatures
    interval: float = 0.0  # seconds between folder scans: doubles while nothing changes
    next_at: float = 0.0  # the next folder scan
    touched: bool = False  # an event at its root since the last scan (npm install...)
    deep_todo: list[str] = field(default_factory=list)  # folders whose entries to look at
    deep_from: float = 0.0  # the deep slices have covered the time up to here
    next_slice: float = 0.0  # the next slice of it alone, between two folder scans

    def _abs(self, rel: str) -> str:
        return os.path.join(self.root, rel) if rel else self.root

    def _rel(self, path: str) -> str:
        return path[len(self.root) + 1 :] if path != self.root else ""

    @property
    def count(self) -> int:
        return len(self.sigs)

    def dirs(self) -> list[str]:
        return [self._abs(r) for r in self.sigs]

    def _open(self) -> int | None:
        try:
            return os.open(self.root, _ROOT_FLAGS)
        except OSError:
            return None

    def _gone(self) -> set[str]:
        """The root is no folder (deleted, replaced): every folder went (said once)."""
        if not self.sigs:
            return set()
        changed = {self._abs(r) for r in self.sigs} | {self.root, os.path.dirname(self.root)}
        self.sigs.clear()
        self.deep_todo = []
        return changed

    def full(self) -> None:
        """Learn every folder and every file's stat (when the tree is first covered)."""
        self.sigs.clear()
        self.deep_todo = []
        if not self.scan:
            return
        top = self._open()
        if top is None:
            return
        try:
            queue = deque([""])
            while queue:
                rel = queue.popleft()
                self.sigs[rel], subs = _look(top, rel)
                queue.extend(subs)
        finally:
            os.close(top)

    def shallow(self, deep_period: float | None = None, now: float = 0.0) -> set[str]:
        """Folders whose entries were added, removed or renamed since the last look; with a
        *deep_period*, also those whose files changed in place among the next slice of folders
        (a build rewriting its outputs): the slice covers the time since the last one (0: all
        of them). A
        folder that went, or is no folder any more (a symlink, a file), goes with all below
        it: the scan never follows a symlink out of the tree."""
        changed: set[str] = set()
        if not self.scan:
            return changed
        top = self._open()
        if top is None:
            return self._gone()
        try:
            new: list[str] = []
            gone: set[str] = set()
            stat = os.stat
            for rel, packed in list(self.sigs.items()):
                try:
                    st: os.stat_result | None = stat(rel or ".", dir_fd=top, follow_symlinks=False)
                except OSError:
                    st = None
                if st is not None and _sig(st) & M32 == packed & M32:
                    continue
                if gone and _below(rel, gone):
                    continue  # its folder went: it goes with it
                d = self._abs(rel)
                changed.add(d)
                if st is None or not stat_mod.S_ISDIR(st.st_mode):
                    gone.add(rel)
                    changed.add(os.path.dirname(d))
                    continue
                self.sigs[rel] = (_sig(st) & M32) | (packed & ~M32)
                new.extend(_subs(top, rel))
            if gone:
                if "" in gone:
                    return changed | self._gone()
                for r in [r for r in self.sigs if _below(r, gone) or r in gone]:
                    del self.sigs[r]
            if deep_period is not None:
                new.extend(self._deep_slice(top, deep_period, now, changed))
            self._learn(top, new, gone, changed)
        finally:
            os.close(top)
        return changed

    def deep(self, period: float, now: float) -> set[str]:
        """Only the next slice of the look at the files (between two folder scans, so that
        the look comes in small steps): the folders whose entries changed."""
        changed: set[str] = set()
        if not self.scan:
            return changed
        top = self._open()
        if top is None:
            return changed  # (the next folder scan says it)
        try:
            self._learn(top, self._deep_slice(top, period, now, changed), set(), changed)
        finally:
            os.close(top)
        return changed

    def _learn(self, top: int, new: list[str], gone: set[str], changed: set[str]) -> None:
        """Folders that appeared (*new*, relative), and all they hold: learned and changed."""
        stat = os.stat
        queue = deque(new)
        while queue:
            rel = queue.popleft()
            if rel in self.sigs or (gone and _below(rel, gone)):
                continue
            try:
                st = stat(rel, dir_fd=top, follow_symlinks=False)
            except OSError:
                continue
            if not stat_mod.S_ISDIR(st.st_mode):
                continue
            self.sigs[rel] = _sig(st) & M32
            changed.add(self._abs(rel))
            queue.extend(_subs(top, rel))

    def _deep_slice(self, top: int, period: float, now: float, changed: set[str]) -> list[str]:
        """Look at the entries of the next folders (enough that all are looked at within
        *period*); add those whose entries changed to *changed*; the subfolders not known."""
        if not self.deep_todo:  # a new round: every folder known now
            self.deep_todo = list(self.sigs)
            self.deep_todo.reverse()  # (popped from the end)
        if period > 0:
            n = math.ceil(len(self.sigs) * max(0.0, now - self.deep_from) / period)
        else:
            n = len(self.deep_todo)
        self.deep_from = now
        new: list[str] = []
        for _ in range(min(n, len(self.deep_todo))):
            rel = self.deep_todo.pop()
            packed = self.sigs.get(rel)
            if packed is None:
                continue  # gone since the round began
            looked, subs = _look(top, rel)
            if looked >> 32 != packed >> 32:
                changed.add(self._abs(rel))
                self.sigs[rel] = (packed & M32) | (looked & ~M32)
            new.extend(s for s in subs if s not in self.sigs)
        return new

    def drop(self, path: str) -> None:
        if not _under(path, self.root):
            return
        rel = self._rel(path)
        for r in [r for r in self.sigs if not rel or r == rel or r.startswith(rel + "/")]:
            del self.sigs[r]


class Budget:
    """The watches of every worktree, within one budget; the event source behind them."""

    def __init__(self, src: ev.Source, budget: int) -> None:
        self.src = src
        self.budget = budget
        self.owner: dict[int, tuple[WatchSet, str]] = {}  # wd -> (watch set, folder)
        # wd -> the other worktrees' (watch set, folder) of the same folder: a worktree inside
        # another (a linked one under .worktrees/, a submodule) shares the kernel's one watch
        # of each folder both hold, and each must get its events (RED39 E2)
        self.also: dict[int, list[tuple[WatchSet, str]]] = {}
        self.reserved = 0  # the daemon's own folders (the registry, sync tokens)

    @property
    def used(self) -> int:
        return len(self.owner) + self.reserved

    def add(
        self, ws: WatchSet, path: str, essential: bool = True, again: bool = False
    ) -> int | None:
        """A watch for *path*, None when the budget is spent. OSError when the kernel
        refuses (its own limit, shared with every other program of the user). An *essential*
        watch (not one inside a big tree watched whole) gets room from such a tree: the
        biggest one, of any worktree, becomes a scanned tree. *again*: *ws* has a watch of
        *path*, with its place in the budget (a rescan): the kernel's watch of the folder
        there now, the same one unless the folder was deleted and made again while events
        were lost (an overflow; the old watch ended with it, its IN_IGNORED lost too)."""
        while not again and self.used >= self.budget:
            if not (essential and self.evict()):
                return None
        wd = self.src.add(path)
        prev = self.owner.get(wd)
        if prev is not None and prev[0] is not ws:
            # the same folder in two worktrees (a worktree inside another): one watch, whose
            # events go to both
            others = [o for o in self.also.get(wd, []) if o[0] is not ws]
            self.also[wd] = [*others, (ws, path)]
            return wd
        self.owner[wd] = (ws, path)
        return wd

    def owners(self, wd: int) -> list[tuple[WatchSet, str]]:
        """Every (watch set, folder) the events of *wd* go to."""
        first = self.owner.get(wd)
        return [] if first is None else [first, *self.also.get(wd, ())]

    def remove(self, wd: int, ws: WatchSet) -> None:
        """*ws* no longer watches *wd*: the kernel's watch goes with its last holder (another
        worktree holding the folder keeps it)."""
        held = [o for o in self.owners(wd) if o[0] is not ws]
        self.also.pop(wd, None)
        if held:
            self.owner[wd] = held[0]
            if held[1:]:
                self.also[wd] = held[1:]
        elif self.owner.pop(wd, None) is not None:
            self.src.remove(wd)

    def evict(self) -> bool:
        """Free the watches of the biggest tree watched whole; False when there is none."""
        held = [*self.owner.values(), *(o for more in self.also.values() for o in more)]
        sets = {id(ws): ws for ws, _ in held if ws.whole}
        trees = [(n, root, ws) for ws in sets.values() for root, n in ws.whole.items()]
        if not trees:
            return False
        _, root, ws = max(trees, key=lambda t: t[0])
        ws.demote(root)
        return True

    def forget(self, wd: int) -> None:
        """The kernel dropped *wd* itself (IN_IGNORED)."""
        self.owner.pop(wd, None)
        self.also.pop(wd, None)


@dataclass
class Counters:
    events: int = 0
    ignored: int = 0
    failed_watches: int = 0
    overflows: int = 0
    demoted: int = 0  # big trees watched whole that became scanned (the budget ran out)


class WatchSet:
    def __init__(
        self,
        root: str,
        store_path: str,
        budget: Budget,
        cfg: WatchConfig,
        feed: Callable[[float, str, str], None] | None = None,
    ) -> None:
        self.root = root
        self.store = _store_in(store_path, root)
        self.budget = budget
        self.cfg = cfg
        self.feed = feed  # the burst detector's: (now, absolute path, kind)
        # and its renames inside the worktree: (now, old path, new path); paired by inotify's
        # cookie: the MOVED_FROMs not paired yet (cookie -> old path), the last few
        self.move: Callable[[float, str, str], None] | None = None
        self.moving: dict[int, str] = {}
        self.watched: dict[str, int] = {}  # folder -> wd
        self.polled: dict[str, int | None] = {}  # folder -> deep signature
        self.big: dict[str, BigTree] = {}  # big trees covered by a root watch and scans
        self.whole: dict[str, int] = {}  # big trees watched whole: root -> folders watched
        self.dirty: set[str] = set()  # folders to mark in the dirty set (to be listed)
        self.dirty_entries: set[str] = set()  # entries to mark (named by their events)
        self.new_big: list[BigTree] = []  # big trees to publish in the dirty set (before marks)
        self.failed = False  # a watch failed since the last setup: the dirty set is not whole
        self.set_up = False  # setup() ran once: big trees it finds later are new ones
        # the top or mount points on a file system whose changes made elsewhere raise no
        # event (blind_roots: found at each setup): (folder, file system type)
        self.blind: list[tuple[str, str]] = []
        # the mounts at or below the top at the last setup (dirtyset.mounts): one made or
        # gone since covers or uncovers folders the watches miss (the daemon sets up again)
        self.mounts: frozenset[bytes] = frozenset()
        # each watched folder's signature (_deep_look) when last looked at, and those that held
        # a regular file with other names then: a write through another name (in another
        # folder, outside the worktree) raises no event here, so every snapshot lists them
        # (published in the dirty set when changed: linked_said; RED38 A1a); each with the
        # names of those files (None: the whole folder counts, see LINKED_NAMED), which
        # post-checkout asks about the files git wrote (prep.changed_since, s51)
        self.sigs: dict[str, int] = {}
        self.linked: dict[str, frozenset[str] | None] = {}
        # each linked folder's files with other names as last found (_link_id, every one,
        # however many its published names): an event's entry not among them is a link just
        # made, whose other name (`ln a b`: a, in this folder or another) had no event and
        # may be named by no linked folder yet; a look at every folder is due (s51 review)
        self.link_ids: dict[str, set[int]] = {}
        self.linked_said: dict[str, frozenset[str] | None] | None = None
        # a file with other names was found in a folder not known to hold one: where the
        # other names are, only a look at every folder says (look_all, before a hook's sync is
        # answered, at most every LOOK_ALL_S otherwise)
        self.look_pending = False
        self.looked_at = 0.0
        # a link was made (a file with other names not known: new_links) whose other names
        # may be in any folder, linked or not (`ln sub/.env copy` raises an event for copy
        # alone, and git may write over sub/.env before a look there, which then finds it one
        # name): until every folder was looked at since (look_all, or a whole round of
        # check()'s), every prepared tree is set aside (published as dirtyset.OTHERS_UNKNOWN;
        # s52). The newest such link's time (monotonic), None: none.
        self.unknown_at: float | None = None
        self.round_at = 0.0  # when check()'s round began (monotonic)
        # the check's rotation (check()): folders still to look at this round, the time the
        # slices have covered up to, the next slice's time
        self.check_todo: list[str] = []
        self.check_from = self.next_check = 0.0
        # what the look explains by events (TOLD_MARGIN_NS): each watched folder's last look
        # (time.time_ns(), time.monotonic_ns(), its own stat); the records since (hashes of
        # Item), and how many in all; the folders with an event since; those whose records
        # went past the bounds
        self.looked_ns: dict[str, tuple[int, int, Own]] = {}
        self.told: dict[str, set[int]] = {}
        self.told_n = 0
        self.told_any: set[str] = set()
        self.told_over: set[str] = set()
        self.counters = Counters()
        # files written since the last snapshot began -> their write sessions (_WRITING...):
        # fed to the burst detector as overwritten, or created (the daemon clears it as a
        # snapshot begins)
        self.overwritten: dict[str, int] = {}
        # when the daemon last cleared it (time.time_ns()): a file whose ctime is older may be
        # in that snapshot (see _listed)
        self.cleared_ns = time.time_ns()
        # the daemon's snapshot begun then runs (its walk may read a file made since); when
        # not, a file whose ctime is after new_after_ns (its end) is in none of its snapshots
        self.running = False
        self.new_after_ns = self.cleared_ns

    def snapshot_begins(self, done: bool = False) -> None:
        """A snapshot begins (or, *done*, a hook's holds every change seen): the write
        sessions are counted from here."""
        self.overwritten.clear()
        self.cleared_ns = self.new_after_ns = time.time_ns()
        self.running = not done

    def snapshot_ended(self) -> None:
        """The daemon's snapshot begun at :meth:`snapshot_begins` is committed (or failed): a
        file made after now is in none of its snapshots."""
        self.running = False
        self.new_after_ns = time.time_ns()

    def hook_saved(self) -> None:
        """A hook's snapshot is committed, holding every change seen or not: a file taken as
        new since the daemon's last snapshot may be in it, so its next write session is fed
        (as overwriting what may be an earlier version), not taken as nothing."""
        for path, state in self.overwritten.items():
            if state == _NEW:
                self.overwritten[path] = _WRITTEN

    def _made(self, ctime_ns: int) -> int | None:
        """The write-session state of a file made (or last written) at *ctime_ns*, found as
        it was created or listed in a folder just made: None when it is older than the last
        snapshot's start (it may be in it as it is: its next write is an overwrite);
        _WRITTEN when that snapshot's walk may have read it (made while it ran: that
        snapshot holds it, or an earlier version of it, or nothing); _NEW after its end."""
        if ctime_ns <= self.cleared_ns:
            return None
        return _WRITTEN if self.running or ctime_ns <= self.new_after_ns else _NEW

    # -- setting up -------------------------------------------------------------------------

    def _skip(self, path: str) -> bool:
        return _under(path, self.store)

    def plan(self, ignored_dirs: frozenset[bytes]) -> tuple[list[str], list[str], list[BigTree]]:
        """The project's folders (breadth first), the other ignored folders, the big trees."""
        source: list[str] = []
        ignored: list[str] = []
        big: list[BigTree] = []
        queue: deque[tuple[str, bool]] = deque([(self.root, False)])
        top = len(self.root) + 1
        while queue:
            d, under_ignored = queue.popleft()
            for sub in _subdirs(d):
                if self._skip(sub):
                    continue
                rel = os.fsencode(sub[top:])
                ign = under_ignored or rel in ignored_dirs
                name = os.path.basename(sub)
                tagged = os.path.exists(os.path.join(sub, CACHEDIR_TAG))
                if tagged:
                    big.append(BigTree(sub, scan=False))
                    continue
                candidate = ign and (name in BIG_NAMES or (rel in ignored_dirs))
                if candidate and _count_dirs(sub, self.cfg.big_dirs) > self.cfg.big_dirs:
                    big.append(BigTree(sub))
                    continue
                (ignored if ign else source).append(sub)
                queue.append((sub, ign))
        return [self.root, *source], ignored, big

    def setup(self, ignored_dirs: frozenset[bytes], may_watch: bool = True) -> None:
        """Watch (again) every folder: idempotent, so also the rescan after an overflow."""
        from git_snapshot.watch import dirtyset

        mounts = dirtyset.mounts(self.root)  # (before the watches: one made meanwhile differs)
        self._unwatch(mounts ^ self.mounts)
        self.mounts = mounts
        self.blind = blind_roots(self.root)
        order, ignored_tail, bigs = self.plan(ignored_dirs)
        wanted = [*order, *(b.root for b in bigs), *ignored_tail]
        self.failed = False
        new_watched: dict[str, int] = {}
        new_polled: dict[str, int | None] = {}
        for d in wanted:
            # a folder watched already is asked for again outside the budget (at a full
            # budget, re-adding it would fail): the same folder keeps its watch, one made
            # again while events were lost gets its own; the others get one while the budget
            # lasts (taken from a tree watched whole if need be)
            held = d in self.watched
            wd = self._try_watch(d, again=held) if may_watch or held else None
            if wd is not None:
                new_watched[d] = wd
            elif os.path.isdir(d):
                new_polled[d] = self.polled.get(d) if d in self.polled else _deep_sig(d)[0]
        # then the big trees: watched whole while the budget allows (the smallest first, so
        # that most fit), else covered by a root watch and scans
        old_big = self.big
        self.big, self.whole = {}, {}
        sized = sorted(
            (self._count_new(b.root, new_watched) if b.scan and b.root in new_watched else -1, i)
            for i, b in enumerate(bigs)
        )
        for need, i in sized:
            b = bigs[i]
            if may_watch and need >= 0:
                n = self._watch_whole(b.root, new_watched)
                if n is not None:
                    self.whole[b.root] = n
                    continue
            prev = old_big.get(b.root)
            if prev is not None and prev.scan == b.scan:
                self.big[b.root] = prev
            else:
                b.full()
                # found at the first setup: there before the daemon, nothing says it changes
                self.schedule(b, time.monotonic(), settled=not self.set_up)
                self.big[b.root] = b
        self.set_up = True
        # the watches it no longer has: a folder renamed while its events were lost (an
        # overflow) is found at its new name with the watch of its old one (the kernel gives
        # one wd per inode), which stays; one made again there has a new one (Budget.add)
        kept = set(new_watched.values())
        for wd in self.watched.values():
            if wd not in kept:
                self.budget.remove(wd, self)
        self.watched = new_watched
        self.polled = new_polled
        self.look_all()  # (the new epoch counts every folder as dirty: what it marks goes)
        self.check_todo = []
        self.check_from = time.monotonic()
        self.next_check = self.check_from + self._check_step()

    def _unwatch(self, changed: frozenset[bytes]) -> None:
        """Drop the watches at and below the points of the *changed* mounts (made or gone
        since the last setup, as dirtyset.mounts gives them): each is on the folder a new
        mount covers, or on one of a mount gone, where no event comes from what is there now;
        setup() watches what is there now."""
        for m in changed:
            rel = os.fsdecode(m.split(b" ", 2)[2].decode("unicode_escape").encode("latin-1"))
            point = os.path.join(self.root, rel) if rel else self.root
            for d in [d for d in self.watched if _under(d, point)]:
                self.budget.remove(self.watched.pop(d), self)

    # -- files with other names, changes no event names -------------------------------------

    def look_all(self) -> set[str]:
        """Look at every watched folder's entries again: their signatures, the folders holding
        a file with other names; those whose signature changed since they were last looked
        at (or never were) are marked, and returned."""
        self.sigs = {d: sig for d, sig in self.sigs.items() if d in self.watched}
        self._forget_unwatched()
        self.linked = {}
        self.link_ids = {}
        changed = {d for d in self.watched if self._look_again(d)}
        self.look_pending = False  # (this was the look at every folder)
        self.unknown_at = None
        self.looked_at = time.monotonic()
        return changed

    def _look_again(self, d: str) -> bool:
        """Look at watched folder *d*'s entries again: whether its signature changed since it
        was last looked at (or never was) in a way no event explains (TOLD_MARGIN_NS), then
        it is marked (the entries that changed, or the whole folder). Holding a file with
        other names makes it linked; one not known linked before asks for :meth:`look_all`
        (the folders of its other names). A folder gone is left to its event."""
        wall, mono = time.time_ns(), time.monotonic_ns()
        got = _listing(d)
        if got is None:
            return False
        sig = got.sig()
        changed = self.sigs.get(d) != sig
        marks = self._unexplained(d, got, wall, mono) if changed else set()
        self._looked(d, got, sig, wall, mono)
        if not got.linked:
            self.linked.pop(d, None)
            self.link_ids.pop(d, None)
        else:
            if d not in self.linked:
                self.look_pending = True
            self.linked[d] = _named(got)
            self.link_ids[d] = set(got.link_ids)
        if marks is None:
            self.dirty.add(d)
            return True
        self.dirty_entries |= marks
        return bool(marks)

    def _unexplained(self, d: str, got: Listing, wall: int, mono: int) -> set[str] | None:
        """The entries of folder *d* (its signature changed since its last look) that
        changed with no event to explain it; None: the whole folder is marked (what it
        cannot tell: TOLD_MARGIN_NS)."""
        last = self.looked_ns.get(d)
        if last is None or got.failed or d in self.told_over:
            return None
        was_wall, was_mono, was_own = last
        # the last look's time on the wall clock now (set back since: an entry's ctime may
        # be earlier than that look's wall time), at the earliest
        since = min(was_wall, wall - (mono - was_mono)) - TOLD_MARGIN_NS
        own = got.own
        placed = own != was_own
        if placed and (own[1:] != was_own[1:] or d not in self.told_any):
            return None  # replaced, chmodded, or names came or went with no event
        told = self.told.get(d, set())
        marks: set[str] = set()
        for item in got.items:
            name, _, _, _, ctime, mode = item
            if ctime < since - COARSE_NS:
                continue  # (as at the last look)
            if ctime % 1_000_000 == 0:
                return None  # a coarse clock: changed after the look, or after its record?
            if ctime < since:
                continue  # (as at the last look)
            placed = True
            if stat_mod.S_ISDIR(mode):
                continue  # its changes are its entries' (their events, its own look)
            if hash(item) not in told:
                marks.add(d + "/" + name if d[-1:] != "/" else d + name)
        return marks if placed else None

    def _looked(self, d: str, got: Listing, sig: int, wall: int, mono: int) -> None:
        """*d* was looked at (at *wall*, *mono*) and found as *got*: its baseline for the next
        look; of its records, those of entries that changed within TOLD_MARGIN_NS of now
        stay (the next look takes them as changed since this one)."""
        self.sigs[d] = sig
        self.looked_ns[d] = (wall, mono, got.own)
        self.told_any.discard(d)
        self.told_over.discard(d)
        told = self.told.pop(d, None)
        if told is None:
            return
        self.told_n -= len(told)
        recent = wall - TOLD_MARGIN_NS
        kept = {h for item in got.items if item[4] >= recent and (h := hash(item)) in told}
        if kept:
            self.told[d] = kept
            self.told_n += len(kept)

    def _tell(self, d: str, name: str, st: os.stat_result) -> None:
        """Record entry *name* of watched folder *d* as a batch of marks naming it is written
        (its lstat *st*, taken then): what the next look of *d* finds it as, if nothing but
        events changed it."""
        told = self.told.get(d)
        if told is None:
            told = self.told[d] = set()
        h = hash(_item(name, st))
        if h in told:
            return
        if len(told) >= TOLD_PER_FOLDER or self.told_n >= TOLD_ALL:
            self.told_over.add(d)  # (its next look marks it whole, if it changed)
            return
        told.add(h)
        self.told_n += 1

    def _forget_unwatched(self) -> None:
        for d in [d for d in self.looked_ns if d not in self.watched]:
            del self.looked_ns[d]
        for d in [d for d in self.told if d not in self.watched]:
            self.told_n -= len(self.told.pop(d))
        self.told_any &= self.watched.keys()
        self.told_over &= self.watched.keys()

    def _scanned(self, path: str) -> bool:
        """Inside a big tree covered by scans (never taken as clean anyway)."""
        return any(_under(path, r) and path != r for r in self.big)

    def new_links(self, dirs: set[str], entries: set[str]) -> bool:
        """Whether a regular file with other names is among the marked *entries*, or in a new
        marked folder of *dirs*, in a folder not known to hold one (a link made, such a file
        moved in, a folder of them copied): its folder is linked now, and the folders of its
        other names are found by :meth:`look_all` (look_pending). In a linked folder too,
        every marked entry's lstat is kept as the look's record (_tell), and the name of one
        with other names among its folder's (post-checkout asks about it, s51). A name is
        never dropped here (git's file written over a linked one has one name: post-checkout
        still asks whether the one it replaced had others); a look sets them anew."""
        found = unknown = False
        for p in entries:
            d, _, name = p.rpartition("/")
            if d not in self.watched:
                continue
            try:
                st = os.lstat(p)
            except OSError:
                continue
            self._tell(d, name, st)  # (before the mark is written: a snapshot reads after)
            if st.st_nlink > 1 and stat_mod.S_ISREG(st.st_mode):
                new_folder, new_link = self._linked_name(d, name, st.st_ino)
                found |= new_folder
                unknown |= new_link
        for d in dirs:  # (a folder made, moved in: each folder mark is one of few)
            if d in self.linked or d not in self.watched or self._scanned(d):
                continue
            wall, mono = time.time_ns(), time.monotonic_ns()
            got = _listing(d)
            if got is None:
                continue
            self._looked(d, got, got.sig(), wall, mono)  # (what check() uses)
            if got.linked:
                self.linked[d] = _named(got)
                self.link_ids[d] = set(got.link_ids)
                found = True
        if found or unknown:
            # a link just made (a file with other names not known before): its other name
            # may be in any folder, linked or not (its ctime moved, with no event there),
            # and git may write over it before a look there (which then finds it one name):
            # every prepared tree is set aside until every folder was looked at since (the
            # look at every folder for a new linked folder, within LOOK_ALL_S; else a round
            # of check()'s, within CHECK_S; a tree begun before is judged by its end:
            # linked_names.gone). (Not a look at every folder for each: 100 links a second
            # into linked folders took the daemon from 2.5 to 9-13 % of a core.)
            self.unknown_at = time.monotonic()
        self.look_pending |= found
        return found

    def _linked_name(self, d: str, name: str, ino: int) -> tuple[bool, bool]:
        """File *name* (inode *ino*) of watched folder *d* has other names: among its
        folder's names now. Whether the folder was not known linked (a look at every folder
        is due, as before names were kept), and whether the file was not known to have other
        names (a link just made: `ln a b` raises an event for b alone, and a, here or in
        another linked folder, is among no names until a look there; a write through a name
        known is neither)."""
        key = _link_id(name, ino)
        known = self.link_ids.setdefault(d, set())
        new = key not in known
        known.add(key)
        if d not in self.linked:
            self.linked[d] = frozenset((name,))
            return True, True
        names = self.linked[d]
        if names is not None and name not in names:
            self.linked[d] = names | {name} if len(names) < LINKED_NAMED else None
        return False, new

    def check_period(self) -> float:
        deep = self.cfg.deep_scan
        return min(deep, CHECK_S) if deep > 0 else CHECK_S

    def _check_step(self) -> float:
        return min(max(self.check_period() / CHECK_STEPS, 0.2), 5.0)

    def check(self, now: float) -> set[str]:
        """Look at the next slice of the watched folders' entries (each folder once within
        check_period()): a folder whose signature changed since it was last looked at is
        marked (no event may have named that change), and returned. What it still cannot
        see: writes through a shared memory map to pages already dirty, which change no
        time at all (the kernel's rule; git's index has the same blind spot)."""
        if not self.check_todo:  # a new round: every folder watched now
            self.check_todo = list(self.watched)
            self.sigs = {d: sig for d, sig in self.sigs.items() if d in self.watched}
            self._forget_unwatched()
            self.linked = {d: n for d, n in self.linked.items() if d in self.watched}
            self.link_ids = {d: k for d, k in self.link_ids.items() if d in self.linked}
            self.round_at = time.monotonic()
        n = math.ceil(len(self.watched) * max(0.0, now - self.check_from) / self.check_period())
        self.check_from = now
        self.next_check = now + self._check_step()
        changed: set[str] = set()
        for _ in range(min(n, len(self.check_todo))):
            d = self.check_todo.pop()
            if d in self.watched and self._look_again(d):  # (a link from outside: look_all)
                changed.add(d)
        if not self.check_todo and self.unknown_at is not None and self.unknown_at < self.round_at:
            self.unknown_at = None  # (every folder was looked at after the link: named now)
        return changed

    def linked_news(self) -> dict[str, frozenset[str] | None] | None:
        """The linked folders and their names, when they differ from those last published
        (None: same)."""
        now = {d: n for d, n in self.linked.items() if d in self.watched}
        if self.unknown_at is not None:
            now[OTHERS_UNKNOWN] = None
        if now == self.linked_said:
            return None
        return now

    def _room(self) -> int:
        """Watches big trees watched whole may still take."""
        return int(self.budget.budget * WHOLE_SHARE) - self.budget.used

    def _count_new(self, root: str, also: dict[str, int]) -> int:
        """Folders of the tree at *root* without a watch yet (counting to _room() + 1)."""
        limit = self._room()
        n, queue = 0, deque([root])
        while queue and n <= limit:
            d = queue.popleft()
            if d not in self.watched and d not in also:
                n += 1
            queue.extend(s for s in _subdirs(d) if not self._skip(s))
        return n

    def _watch_whole(self, root: str, into: dict[str, int]) -> int | None:
        """Watch every folder of the tree at *root* (into *into*), or none of the new ones:
        the number of folders, or None when the tree does not fit or a watch failed. Each
        folder is watched before it is listed, so a folder made meanwhile has an event."""
        if self._count_new(root, into) > self._room():
            return None
        got: dict[str, int] = {}
        queue = deque([root])
        while queue:
            d = queue.popleft()
            wd = into.get(d)
            if wd is None:
                # (one it has already is asked for again, as in setup)
                wd = self._try_watch(d, essential=False, again=d in self.watched)
                if wd is None and os.path.isdir(d):
                    for f, w in got.items():  # not whole: the new watches go again
                        if f not in into and w != self.watched.get(f):
                            self.budget.remove(w, self)
                    return None
            if wd is not None:
                got[d] = wd
                queue.extend(s for s in _subdirs(d) if not self._skip(s))
        into.update(got)
        return len(got)

    def _whole_of(self, path: str) -> str | None:
        """The root of the tree watched whole that holds *path*."""
        for root in self.whole:
            if _under(path, root):
                return root
        return None

    def demote(self, root: str) -> None:
        """The big tree at *root*, watched whole, gets a root watch and scans instead (its
        watches are wanted elsewhere). It is published as scanned (hooks walk it) before any
        mark, and all of it is marked: an event lost as its watches go is not missed."""
        if self.whole.pop(root, None) is None:
            return
        b = BigTree(root)
        b.full()
        self.schedule(b, time.monotonic())
        self.big[root] = b
        self.new_big.append(b)
        for d in [d for d in self.watched if d != root and _under(d, root)]:
            self.budget.remove(self.watched.pop(d), self)
        self.dirty.update(b.dirs() or [root])
        self.counters.demoted += 1

    def _try_watch(self, d: str, essential: bool = True, again: bool = False) -> int | None:
        try:
            return self.budget.add(self, d, essential, again)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
                return None
            self.counters.failed_watches += 1
            self.failed = True  # ENOSPC and the like: the kernel's limit is reached
            return None

    def close(self) -> None:
        for wd in self.watched.values():
            self.budget.remove(wd, self)
        self.watched.clear()
        self.polled.clear()
        self.big.clear()
        self.whole.clear()

    # -- events -----------------------------------------------------------------------------

    def handle(self, folder: str, e: ev.Event, now: float) -> bool:
        """Take in one event on *folder*; whether it asks for a snapshot."""
        self.counters.events += 1
        if e.kind == ev.UNWATCHED:
            if self.watched.get(folder) == e.wd:
                del self.watched[folder]
            self.budget.forget(e.wd)
            return False
        if e.kind == ev.SELF_GONE:
            return False  # the root: the daemon checks whether the worktree still exists
        # os.path.join's answer (the folder absolute, the name one component), cheaper: the
        # daemon's time in a burst is per event
        path = folder + "/" + e.name if folder[-1:] != "/" else folder + e.name
        if (folder == self.root and e.name == ".git") or self._skip(path):
            self.counters.ignored += 1
            return False
        self.told_any.add(folder)  # (its own mtime may have changed: _unexplained)
        # the entry the event names is looked at again; an event of the folder itself (its
        # chmod or utime, which its parent's watch also names) the folder as an entry: the
        # worktree's root, which has no parent, is listed again (dirtyset.mark)
        if e.kind == ev.CLOSE_WRITE:
            if self.overwritten:  # nothing changed that its MODIFY events did not say
                self._closed(path)
            return False
        temp = bool(e.name) and temp_file(path, e.name)
        self.dirty_entries.add(path if e.name else folder)
        big = self.big.get(folder)
        if big is not None and big.scan:
            # something is installing or removing here: look inside soon, once it pauses
            big.touched = True
            big.next_at = now + min(TOUCHED_SCAN_S, self.cfg.slow_scan)
        if e.is_dir and e.kind in (ev.CREATE, ev.MOVED_TO) and folder not in self.big:
            self.add_tree(path, made=e.kind == ev.CREATE)
        elif e.is_dir and e.kind in (ev.DELETE, ev.MOVED_FROM):
            self.drop_tree(path, moved=e.kind == ev.MOVED_FROM)
        if self.feed is not None and e.kind in (ev.DELETE, ev.MOVED_FROM):
            # a deletion counts whatever the name (a user's `.env.tmpl` taken by git clean:
            # RED31 D2), but a temp-named file made since the last snapshot began, which no
            # snapshot holds (an atomic save's temp renamed, vim's 4913)
            if not (temp and self.overwritten.get(path) == _NEW):
                # a file written since the last snapshot began: that snapshot holds an
                # earlier version at most, and the loss entry must say so (bursts.EDITED)
                gone = "delete_edited" if path in self.overwritten else "delete"
                if e.kind == ev.DELETE:
                    self.feed(now, path, "delete_dir" if e.is_dir else gone)
                elif not e.is_dir:
                    self.feed(now, path, gone)  # moved away (a folder renamed is no loss)
            if e.kind == ev.MOVED_FROM:
                self._moved_from(e.cookie, path)
        elif self.feed is not None:
            if e.kind == ev.CREATE and not e.is_dir:
                # new since the last snapshot began: no snapshot holds it, unless that
                # snapshot's walk ran as it was made (its event may be read after the end):
                # then its writing session is under way, and the next one is fed
                made_after = not self.running and _lctime_ns(path) > self.new_after_ns
                self.overwritten[path] = _NEW if made_after else _WRITING
            elif e.kind == ev.MOVED_TO and not e.is_dir:
                # an editor's save (a temp file renamed over it): a written version that may
                # replace one the snapshot holds; writing over it loses that edit
                self.overwritten[path] = _WRITTEN
            elif e.kind == ev.MODIFY and not e.is_dir and not temp:
                self._modified(now, path)
            if e.kind == ev.MOVED_TO:
                self._moved_to(now, e.cookie, path)
        if temp:
            self.counters.ignored += 1
            return False  # the folder is marked (the dirty set stays exact), no snapshot
        return True

    def _moved_from(self, cookie: int, path: str) -> None:
        """A rename from *path*: its MOVED_TO, if it comes here, says where (fed as deleted
        until then: a rename out of the worktree has none here, and is a deletion)."""
        if cookie and self.move is not None:
            self.moving[cookie] = path
            if len(self.moving) > MOVING_KEPT:  # (unpaired: renamed out of the worktree)
                del self.moving[next(iter(self.moving))]

    def _moved_to(self, now: float, cookie: int, path: str) -> None:
        """A rename to *path*: the burst detector learns what it held went there
        (bursts.settle_moves), when its MOVED_FROM came here."""
        old = self.moving.pop(cookie, None) if cookie else None
        if old is not None and self.move is not None:
            self.move(now, old, path)

    def _modified(self, now: float, path: str) -> None:
        """A file written in place: its first write since the snapshot began is an overwrite
        of what the snapshot holds; the first write of a later session (after a close, or a
        rename over it) overwrites an edit no snapshot holds (bursts.OVERWRITE_EDITED). The
        other writes of a session are the same overwrite."""
        assert self.feed is not None
        state = self.overwritten.get(path)
        if state is None:
            self.overwritten[path] = _WRITING
            self.feed(now, path, "overwrite")
        elif state == _WRITTEN:
            self.overwritten[path] = _REWRITTEN
            self.feed(now, path, "overwrite_edited")

    def _closed(self, path: str) -> None:
        if self.overwritten.get(path) == _WRITING:
            self.overwritten[path] = _WRITTEN

    def add_tree(self, path: str, made: bool = False) -> None:
        """A folder appeared (created, or moved in): watch it and everything below it; all of
        it is new, so all of it is dirty. *made* (created here, not moved in): the files the
        folders hold as they are listed are new too (see :meth:`_listed`)."""
        if self._skip(path) or os.path.islink(path):
            return
        name = os.path.basename(path)
        whole = self._whole_of(path)
        tagged = os.path.exists(os.path.join(path, CACHEDIR_TAG))
        if whole is None and (name in BIG_NAMES or tagged):
            if not tagged:  # watched whole if it fits (npm install makes it, then fills it)
                before = set(self.watched)
                n = self._watch_whole(path, self.watched)
                if n is not None:
                    self.whole[path] = n
                    self.dirty.update(d for d in self.watched if d not in before)
                    self.dirty.add(path)
                    return
            b = BigTree(path, scan=not tagged)
            b.full()
            self.schedule(b, time.monotonic())
            self.big[path] = b
            self.new_big.append(b)
            self.dirty.update(b.dirs() or [path])
            wd = self._try_watch(path)
            if wd is not None:
                self.watched[path] = wd
            return
        queue = deque([path])
        while queue:
            d = queue.popleft()
            if d in self.watched:
                continue
            wd = self._try_watch(d, essential=whole is None)
            if wd is not None:
                self.watched[d] = wd
                if whole is not None:
                    self.whole[whole] += 1
            elif whole is not None:
                if os.path.isdir(d):
                    self.demote(whole)  # it outgrew the budget: scanned from now on
                    return
                continue  # gone already: its parent had the event
            else:
                self.polled[d] = _deep_sig(d)[0]
            self.dirty.add(d)
            subs = self._listed(d) if made and self.feed is not None else _subdirs(d)
            queue.extend(s for s in subs if not self._skip(s))

    def _listed(self, d: str) -> list[str]:
        """The subfolders of *d*, a folder just made; the files in it made since the last
        snapshot began (their ctime after :attr:`cleared_ns`) are new (no snapshot holds
        them). Those written before its watch came had no CREATE event: their next write
        would be fed as an overwrite of what the snapshot holds (npm install writes each
        package's files at once: 403 of a 20,000-file burst, a recording of "nothing
        lost" that the watch snapshot waited for). A file older than that (a folder's
        event read only after a snapshot began, under continuous change) keeps being fed.
        Listed after the watch is added, so a file made meanwhile is in one or both."""
        subdirs: list[str] = []
        try:
            with os.scandir(d) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        if e.name != ".git":
                            subdirs.append(e.path)
                    elif (state := self._made(_ctime_ns(e))) is not None:
                        self.overwritten.setdefault(e.path, state)
        except OSError:
            pass
        return subdirs

    def drop_tree(self, path: str, moved: bool) -> None:
        """A folder went away. Deleted: its own watches end by themselves (IN_IGNORED).
        Moved: they would follow it to its new name, so they end here."""
        self.polled.pop(path, None)
        for b in [b for r, b in self.big.items() if _under(r, path)]:
            self.big.pop(b.root, None)
        for r in [r for r in self.whole if _under(r, path)]:
            del self.whole[r]
        for b in self.big.values():
            b.drop(path)
        if moved:
            for d in [d for d in self.watched if _under(d, path)]:
                self.budget.remove(self.watched.pop(d), self)
            for d in [d for d in self.polled if _under(d, path)]:
                del self.polled[d]

    # -- scans ------------------------------------------------------------------------------

    def poll(self) -> set[str]:
        """Stat scan of the folders without a watch; the ones that changed."""
        changed: set[str] = set()
        for d, old in list(self.polled.items()):
            sig, subs = _deep_sig(d)
            if sig == old:
                continue
            changed.add(d)
            if sig is None:
                del self.polled[d]
                changed.add(os.path.dirname(d))
                continue
            self.polled[d] = sig
            for s in subs:
                if s not in self.polled and s not in self.watched and not self._skip(s):
                    self.polled[s] = None  # new: seen as changed at the next poll
        self.dirty |= changed
        return changed

    def scan_big(self, now: float, only_touched: bool = False) -> set[str]:
        """Scan the big trees that are due (or, *only_touched*, those with an event at their
        root since their last scan, and then no deep slice: a hook waits); the folders that
        changed. A tree where nothing changes is scanned less and less often (up to SLOWEST x
        watchSlowScan), one that changed or had an event at its root again every
        watchSlowScan; never less often than watchDeepScan."""
        changed: set[str] = set()
        slow = self.cfg.slow_scan
        for b in list(self.big.values()):
            if not b.scan:
                continue
            if only_touched:
                if not b.touched:
                    continue
                found = b.shallow()
            elif now >= b.next_at:
                found = b.shallow(self.cfg.deep_scan, now)
            elif now >= b.next_slice and self.cfg.deep_scan > 0:
                # the files' look in steps of watchSlowScan: its cost spread, not in rounds
                found = b.deep(self.cfg.deep_scan, now)
                b.next_slice = now + max(slow, 1.0)
                if found:  # something rewrites files here: folder scans at the fast pace
                    b.interval = slow
                    b.next_at = min(b.next_at, now + slow)
                changed |= found
                continue
            else:
                continue
            b.interval = slow if found or b.touched else min(b.interval * 2 or slow, slow * SLOWEST)
            b.touched = False
            b.next_at = now + self._every(b.interval)
            b.next_slice = now + max(slow, 1.0)
            changed |= found
        self.dirty |= changed
        return changed

    def _every(self, interval: float) -> float:
        deep = self.cfg.deep_scan
        return min(interval, deep) if deep > 0 else interval

    def next_scan(self) -> float | None:
        slices = self.cfg.deep_scan > 0
        times = [
            min(b.next_at, b.next_slice) if slices else b.next_at
            for b in self.big.values()
            if b.scan
        ]
        return min(times) if times else None

    def schedule(self, b: BigTree, now: float, settled: bool = False) -> None:
        """The first scan of a big tree just learned whole: soon when it is new (being
        filled), at the steady pace when it was there when the worktree was set up (nothing
        says it changes), at a phase of its own so that trees set up together are not
        scanned together."""
        b.deep_from = now
        b.next_slice = now + max(self.cfg.slow_scan, 1.0)
        if not settled:
            b.interval = self.cfg.slow_scan
            b.next_at = now + self._every(b.interval)
            return
        b.interval = self.cfg.slow_scan * SLOWEST
        phase = 0.25 + 0.75 * ((next(_phases) * _GOLDEN) % 1.0)
        b.next_at = now + self._every(b.interval) * phase

    def take_dirty(self) -> set[str]:
        """The folders to mark (listed again by the next snapshot)."""
        out, self.dirty = self.dirty, set()
        return out

    def take_entries(self) -> set[str]:
        """The entries to mark (looked at again by the next snapshot)."""
        out, self.dirty_entries = self.dirty_entries, set()
        return out

    @property
    def polling(self) -> int:
        return len(self.polled)

    def dirs_in_whole(self) -> int:
        return sum(self.whole.values())

    def dirs_in_big(self) -> int:
        return sum(b.count for b in self.big.values())

    def summary(self) -> dict[str, object]:
        return {
            "watches": len(self.watched),
            "polling_dirs": len(self.polled),
            "big_trees": [
                {"path": b.root, "dirs": b.count, "scanned": b.scan} for b in self.big.values()
            ],
            "whole_trees": [{"path": r, "dirs": n} for r, n in self.whole.items()],
            "blind": [{"path": p, "fs": kind} for p, kind in self.blind],
        }
