"""The walk of a tree into trees and blobs (archiver.create_snapshot drives it), reusing whatever
the files cache says is unchanged."""

from __future__ import annotations

import os
import stat
import struct
import time

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.store import filescache
from git_snapshot.store import reading as _reading
from git_snapshot.store.core import Store
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import TREE
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import decode_tree
from git_snapshot.store.objects import encode_tree
from git_snapshot.store.reading import SMALL_FILE
from git_snapshot.store.reading import ListedReads
from git_snapshot.store.reading import _read_listed
from git_snapshot.store.reading import _ReadAhead
from git_snapshot.store.safewrite import TEMP_MARK
from git_snapshot.store.walkfiles import LOOKS
from git_snapshot.store.walkfiles import READ_TRIES as READ_TRIES
from git_snapshot.store.walkfiles import _Files

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import hashlib
    from collections.abc import Callable
    from collections.abc import Iterable
else:
    from _collections_abc import Callable  # loaded at Python's start; collections.abc is not

    from git_snapshot import hashes as hashlib  # OpenSSL loaded on first use
if TYPE_CHECKING:
    from typing import Any

    from git_snapshot.store.archiver import Options
    from git_snapshot.store.packs import PackWriter


# A file changed this recently is not cached: a second change within the file system's
# timestamp granularity could leave size, mtime and ctime as they were.
RACY_NS = 2_000_000_000
# a walk names at most this many unsettled folders (_Walker._unsettled); past it, all
UNSETTLED_MAX = 1000
SPLIT_FOLDERS = 1000  # trees the files cache gives fewer folders are walked by one process
CACHEDIR_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"


class _Walker(_Files):
    def __init__(
        self,
        store: Store,
        writer: PackWriter,
        cache: filescache.FilesCache,
        opts: Options,
        start_ns: int,
    ) -> None:
        self.store = store
        self.writer = writer
        self.old_root = cache.root
        # objects found damaged or missing are stored afresh, never reused: no folder keeps
        # its tree whole and no file a damaged key, so their files are read again
        self.damaged = store.index.damaged()
        # the files cache: one record per folder (store/filescache.py)
        self.old_dirs = cache.dirs
        self.old_skips = cache.skipped
        self.dirs: dict[bytes, bytes] = {}
        self.skips: dict[bytes, tuple[tuple[str, str], ...]] = {}
        self.clean = opts.clean
        if self.clean is not None and cache.root == opts.clean_base and not self.damaged:
            # what is not walked keeps what the last snapshot had (stale records of deleted
            # folders stay until the next full walk: a record is only ever a hint)
            self.dirs = dict(cache.dirs)
            self.skips = dict(cache.skipped)
        else:
            self.clean = None
        # a first walk (no records): its records go to the cache file as they come (_keep)
        self.first = not cache.dirs
        self.old_count = len(cache.dirs)  # (old_dirs shrinks: drop_old)
        # the file the records were loaded from, and the folders whose record in dirs is not
        # the one loaded: only those are appended to it (filescache.update)
        self.tail = cache.tail
        self.renewed: list[bytes] = []
        # a folder's old record is let go once its new one is made (_keep): a walk that
        # reads every file again (L: 30,553 records, 22 MB) held both sets at its end; not
        # in the split walk's child, whose answers compare the records with the old ones,
        # nor with the watcher's clean folders, taken from old_dirs whenever met
        self.drop_old = self.clean is None
        # a folder keeps its tree whole only under the rules its record was made with
        known = opts.rules is not None or (opts.classify is None and opts.exclude is None)
        self.rules = (
            repr((opts.rules, sorted(opts.omit), opts.skip_cachedir_tag)) if known else None
        )
        self.general = bool(opts.overlay) or bool(opts.overlay_deleted)
        self.reuse = (
            self.rules is not None
            and self.rules == cache.rules
            and not self.damaged
            and not self.general
        )
        self.dirty = self.rules != cache.rules  # saved unless no folder is walked
        self.learned: tuple[bytes, bytes] | None = None  # by _file: (packed stat, key)
        # where the files cache goes, set by create_snapshot for a walk that saves one: then
        # a first walk writes its records there as they come (_spill)
        self.cache_path = ""
        self.spill: filescache.Writer | None = None
        self.spill_bytes = 0
        self.lost = False  # records lost by a failed spill: no cache is saved
        self.own: tuple[int, int, int] | None = None  # by _dir_entry: for tree()'s record
        self.own_dev = 0  # and the device it lies on (_trusted_names)
        # why tree() found no folder where _dir_entry saw one (_retaken takes what is there),
        # and the folders taken so (each once: one replaced again is left out)
        self.retake: str | None = None
        self.retaken: set[bytes] = set()
        # names found gone as they were read (walkfiles._gone, _statable), by folder: it is
        # listed again when its entries are done (_relisted); the folders listed so, counted
        self.gone: dict[bytes, set[bytes]] = {}
        self.relists = 0
        # times this walk saw entries come or go in a folder while it ran (_came_or_went): some
        # may have gone into a folder walked already (_walk looks at those again, then); a
        # count, so that the split walk's child can tell a folder's walk saw one
        self.moves = 0
        self.moved_after = start_ns - COARSE_NS  # a folder's mtime from then on: came or went
        # the heads of the records a first walk wrote to the cache file as it went (_spill):
        # each walked folder's own stat and totals, for _changed_since and _walk_again
        self.spilled: dict[bytes, bytes] = {}
        # the device of the walk's top folder (_walk): only a folder on it may have its names
        # taken from its record (a mount point's root has another: see _trusted_names)
        self.top_dev = -1
        # a folder's names may be taken from its record (_trusted_names) in a plain walk
        self.trust = not self.general
        self.fs_trusted: dict[int, bool] = {}  # device -> on a file system in TRUSTED_FS
        self.rebuild: Any = None  # store/rebuild.Rebuild, when it drives this walk
        self.split: Any = None  # store/splitwalk.Split, when a second process helps
        self.load_s = 0.0  # seconds the files cache took to load (create_snapshot)
        self.ahead: _ReadAhead | None = None  # a first walk's reading threads (_walk)
        # tree() reads a listed small file inline, not through _file (which the split walk's
        # child replaces: it answers for files, never stores them)
        self.read_listed = True
        self.misses = 0
        self.opts = opts
        self.racy_after = start_ns - RACY_NS
        self.pending: set[bytes] = set()
        self.files = 0
        self.bytes = 0
        self.skipped: list[tuple[str, str]] = []
        self.changed: list[str] = []
        # folders whose entries may have changed while this walk ran: their own mtime or
        # ctime at or after racy_after when listed, or an entry that went as it was looked at
        # (_vanished). A snapshot's meta "unsettled" (archiver._unsettled_meta): a burst
        # of the watcher matched to it may find there a writer's output, not what it destroyed
        self.unsettled: list[bytes] = []
        st = os.stat(store.path)
        self.store_id = (st.st_dev, st.st_ino)
        self.classify = opts.classify
        # a label a folder gives every entry below it without asking classify (None: none)
        self.inherit = opts.inherit
        self.exclude = opts.exclude
        # omitted: directory (relative, with trailing '/', or b'') -> names left out there
        self.hidden: dict[bytes, set[bytes]] = {}
        for rel in opts.omit:
            parent, _, name = rel.rpartition(b"/")
            self.hidden.setdefault(parent + b"/" if parent else b"", set()).add(name)
        # overlay: directory (relative, with trailing '/', or b'') -> names it adds
        self.overlay_names: dict[bytes, set[bytes]] = {}
        for rel in opts.overlay:
            parts = rel.split(b"/")
            for i in range(len(parts)):
                parent = b"".join(p + b"/" for p in parts[:i])
                self.overlay_names.setdefault(parent, set()).add(parts[i])

    def _names_stay(self, own: tuple[int, int, int] | None, here: bytes) -> bool:
        """Whether a record written now with the folder's own stat *own* may say its names
        are trusted (NAMES_TRUSTED): its mtime and ctime older than this walk by RACY_NS, so
        any later create, unlink or rename in it gives it another (a coarse clock's tick
        cannot hide one). A folder that changed later than that is unsettled (the folder
        *here*: what was deleted there may have gone while this walk ran)."""
        if own is None:
            return False
        if max(own[1], own[2]) < self.racy_after:
            return True
        self._unsettled(here)
        return False

    def _unsettled(self, here: bytes) -> None:
        """Folder *here* may have changed while this walk ran (at most UNSETTLED_MAX + 1
        kept: more says every folder may have)."""
        u = self.unsettled
        if len(u) <= UNSETTLED_MAX and (not u or u[-1] != here):
            u.append(here)

    def _vanished(self, folder: bytes, here: bytes, check: bool = False) -> None:
        """An entry of the folder *here* (at *folder*) was not there when this walk looked at
        it. Listed by this walk, it went while the walk ran; with *check* (named by the
        watcher's marks, store/rebuild.py), only if the folder changed late enough."""
        if here in self.unsettled[-4:]:
            return
        if check:
            try:
                st = os.lstat(folder)
            except OSError:
                pass  # gone too
            else:
                if max(st.st_mtime_ns, st.st_ctime_ns) < self.racy_after:
                    return
        self._unsettled(here)

    def _came_or_went(
        self, path: bytes, own: tuple[int, int, int] | None, now: os.stat_result | str | None
    ) -> None:
        """Count a move (self.moves) when entries came into or went from the folder at
        *path* while this walk ran: its mtime when its parent lstat'ed it (*own*) is the
        walk's (moved_after), or its mtime *now* (its lstat after its walk; None: taken here)
        is another. What went may have gone into a folder walked already (_walk)."""
        if own is None:
            return
        if own[1] >= self.moved_after:
            self.moves += 1
            return
        if now is None:
            now = _lstat_now(path)
        if now is not None and not isinstance(now, str) and now.st_mtime_ns != own[1]:
            self.moves += 1

    def _changed_since(self, root: bytes, top: tuple[int, int, int] | None) -> list[bytes]:
        """The folders walked (those with a record) whose own lstat now is not the one their
        parent's listing gave (their record's), and the top folder (*root*) if it is not
        *top*: entries may have come into them after they were listed. One lstat a folder,
        in batches (lstats: C when built; M's ~10,000 folders, ~15 ms); a folder gone is
        left out (its parent changed)."""
        out: list[bytes] = []
        try:
            st = os.stat(root)  # (as _walk took it: the top may be a symlink's target)
        except OSError:
            return out
        if top is not None and (st.st_ino, st.st_mtime_ns, st.st_ctime_ns) != top:
            out.append(b"")
        walked: dict[bytes, tuple[int, int, int]] = {}  # folder -> its own stat as recorded
        for recs in (self.spilled, self.dirs):  # (dirs last: a folder walked again since)
            for rel, rec in recs.items():
                if rel and type(rec) is bytes and len(rec) >= _H:
                    walked[rel] = _head(rec)[3:6]
        pre, rels = root + b"/", [rel for rel, own in walked.items() if own != (0, 0, 0)]
        lstats = _lstats or _lstatter()
        for at in range(0, len(rels), CHECK_BATCH):
            batch = rels[at : at + CHECK_BATCH]
            got = lstats(pre, batch)
            if got is None:  # one is gone: each by itself
                got = (filescache.pack_stats([_lstat_or_none(pre + rel) for rel in batch]), [])
            for rel, (_, mtime, ctime, ino, mode) in zip(batch, _STATS(got[0])):
                # (gone, NO_STAT, or no folder now: its parent changed, and a record of no
                # folder would be found changed by every look)
                if (ino, mtime, ctime) != walked[rel] and mode & 0o170000 == stat.S_IFDIR:
                    out.append(rel)
        return out

    def _gained(self, root: bytes, changed: list[bytes]) -> list[bytes]:
        """Of the folders *changed*, those that hold a name now that their record (this
        walk's listing) lacks: what came may be what left a folder walked after (one that
        only lost names is not named: what left it went to one of these, or was deleted).
        A folder without its record's names (a first walk's, spilled) is one of them."""
        out = []
        for rel in changed:
            rec = self.dirs.get(rel)
            head = filescache.parse(rec)
            if head is None or rec is None:
                out.append(rel)
                continue
            tail = rec[_H + (_S + _K) * head[8] :]
            had = set(tail.split(b"\0")) if tail else set()
            if not had.issuperset(_names(root + b"/" + rel if rel else root)):
                out.append(rel)
        return out

    def _walk_again(self, root: bytes, changed: list[bytes]) -> bytes | None:
        """The tree walked again (its key; None: left out) where it may have changed since
        this walk looked: the folders *changed* (_changed_since) and every folder above them.
        Every other folder keeps the tree and totals its record from this walk gives, if its
        own lstat is still the record's (kept: the watcher's clean folders' way), so that
        this costs about a listing of the folders walked again. The records this walk made
        (in dirs, and the spilled heads of a first walk's) are its files cache meanwhile; the
        files cache the walk loaded is back after, for filescache.update."""
        need = {b""}
        for rel in changed:
            parts = rel.split(b"/")
            need.update(b"/".join(parts[:i]) for i in range(1, len(parts) + 1))
        old = dict(self.dirs)
        for rel, head in self.spilled.items():  # a head alone: kept() reads no more
            old.setdefault(rel, filescache.pack_head(*_head(head)[:8], 0, 0))
        saved = (self.old_dirs, self.old_skips, self.clean, self.reuse, self.split)
        self.old_dirs, self.old_skips = old, dict(self.skips)
        self.clean = lambda rel: rel not in need
        # (records made by this walk, under its rules: reused, unless an object is damaged)
        self.reuse = self.rules is not None and not self.damaged and not self.general
        self.split = None  # (the child is gone: closed by _walk)
        self.files = self.bytes = 0
        self.skipped = []
        # a file that changed as it was read: said if its folder is not read again
        self.changed = [p for p in self.changed if _parent(os.fsencode(p)) not in need]
        self.gone, self.retaken, self.retake, self.own, self.learned = {}, set(), None, None, None
        self.moves, self.moved_after = 0, time.time_ns() - COARSE_NS
        try:
            return self.tree(root, b"", 0)
        finally:
            self.old_dirs, self.old_skips, self.clean, self.reuse, self.split = saved
            self.dirty = True

    def _trusted_names(
        self, pre: bytes, here: bytes, own: tuple[int, int, int]
    ) -> tuple[list[bytes], bytes, list[os.stat_result], bytes] | None:
        """The folder *here* (its path and a slash: *pre*) listed from its record: its
        names, their packed lstats, each lstat and the names joined by NUL. Only when the
        record says its names may be trusted (written by :meth:`_names_stay`'s rule), the
        folder's own stat (*own*: inode, mtime_ns, ctime_ns) is still the record's and it
        lies on a file system that changes a folder's mtime and ctime at every create,
        unlink and rename in it (TRUSTED_FS): then no open, getdents or close. None: list
        it (scandir)."""
        old = self.old_dirs.get(here)
        if type(old) is not bytes or len(old) < _H:
            return None
        head = _head(old)
        n = head[8]
        if (
            not head[9] & NAMES_TRUSTED
            or head[3:6] != own
            or self.own_dev != self.top_dev
            or len(old) < _H + (_S + _K) * n
            or not self._on_trusted_fs(self.own_dev)
        ):
            return None
        tail = old[_H + (_S + _K) * n :]
        names = tail.split(b"\0") if tail else []
        if len(names) != n or b"" in names or _SLASH in tail:  # not a listing: a damaged record
            return None
        # each name's lstat, packed (C: ~0.8 us of Python an entry less); None: one failed
        # (gone since, or no folder now: its stat would say so), then it is listed
        got = (_lstats or _lstatter())(pre, names)
        if got is None:
            return None
        return names, got[0], got[1], tail

    def _statable(self, des: list[os.DirEntry[bytes]], rel: bytes) -> list[os.DirEntry[bytes]]:
        """The entries listed at *rel* whose lstat can be had (each DirEntry keeps it): one
        gone since is left out, one that cannot be lstat'ed by its path (longer than the
        system's PATH_MAX: a tree nested past 4096 bytes; a folder that may be listed but
        not searched) is left out and said, not the snapshot failed (RED26)."""
        kept = []
        for de in des:
            try:
                de.stat(follow_symlinks=False)
            except FileNotFoundError:
                self.gone.setdefault(rel[:-1], set()).add(de.name)  # (renamed? _relisted)
                continue
            except OSError as exc:
                self._skip(rel + de.name, f"unreadable: {exc.strerror}")
                continue
            kept.append(de)
        return kept

    def _on_trusted_fs(self, dev: int) -> bool:
        ok = self.fs_trusted.get(dev)
        if ok is None:
            ok = self.fs_trusted[dev] = _fs_type(dev) in TRUSTED_FS
        return ok

    def _skip(self, rel: bytes, reason: str) -> None:
        self.skipped.append((os.fsdecode(rel), reason))

    def _known_tree(self, key: bytes, was: bytes | None) -> bool:
        """Written already: in this walk, or as *was* (the folder's tree in the files
        cache's snapshot, committed; None: none). The writer asks the index about any other
        (in batches: ``_indexed``), as it did about every tree not in that snapshot. No set
        of every recorded tree, for the rare tree that is another folder's: it took 3 ms to
        build, 6-8 ms in a process of a split walk, whose every record page it copied on
        write (M's 1 % step: the child's page faults 3,620 -> 2,958, 3.5-4 us each here)."""
        return key in self.pending or (key == was and not (self.damaged and key in self.damaged))

    def _indexed(self, keys: list[bytes]) -> set[bytes]:
        """Of *keys*, those the store holds (undamaged): the writer leaves them out."""
        have = self.store.index.known(keys)
        return have - self.damaged.keys() if self.damaged else have

    def tree(self, path: bytes, rel: bytes, label: int) -> bytes | None:
        """Store the directory at *path*; None when it is left out (a cache dir).

        This runs for every folder of the worktree on every snapshot. A folder whose listing
        (its names in the order the directory gives them, and the lstat of each, packed) is
        its files-cache record's byte for byte, and whose subfolders keep their trees, keeps
        its own tree: nothing sorted, encoded or hashed. In other folders the common case (a
        regular file whose lstat is its record's) is handled inline, without a call.
        (Comprehensions, not map() over operator helpers: faster on CPython 3.11.)
        """
        own, self.own = self.own, None
        des: list[Any] = []
        # the lstats of a listing whose names are the record's (_trusted_names): no DirEntry
        # then (des stays empty), each entry's path is pre + name
        sts: list[Any] | None = None
        pre = path + b"/"
        trusted = (
            self._trusted_names(pre, rel[:-1], own)
            if own is not None
            and self.trust
            and self.reuse
            and (self.split is None or rel[:-1] not in self.split.pieces)  # (lent lstats)
            else None
        )
        if trusted is not None:
            names, stats, sts, joined = trusted
        else:
            try:
                with os.scandir(path) as it:
                    des = list(it)
            except (FileNotFoundError, NotADirectoryError) as exc:
                # a folder its parent saw on disk, gone or another type now: _retaken
                if own is not None and rel and self.rebuild is None:
                    self.retake = f"unreadable: {exc.strerror}"
                    return None
                if isinstance(exc, NotADirectoryError):
                    self._skip(rel.rstrip(b"/"), f"unreadable: {exc.strerror}")
                    return None
                des = []
                self._vanished(path, rel[:-1])  # (the folder itself went)
            except OSError as exc:
                self._skip(rel.rstrip(b"/"), f"unreadable: {exc.strerror}")
                return None
            names = [de.name for de in des]
        if (
            self.opts.skip_cachedir_tag
            and rel
            and b"CACHEDIR.TAG" in names
            and is_cachedir_tag(path + b"/CACHEDIR.TAG")
        ):
            self._skip(rel.rstrip(b"/"), "cache directory (CACHEDIR.TAG)")
            return None
        lent = False  # some lstats in *stats* are the other process's (store/splitwalk.py)
        # names left out that could not be lstat'ed (_statable): a record that neither keeps
        # its tree nor trusts its names, so that every walk tries them again and says so
        partial = False
        skips0 = len(self.skipped)  # (what _statable leaves out is this folder's too)
        try:  # one pass: lstat and pack (each DirEntry keeps its lstat for later)
            if sts is not None:
                pass  # (the trusted names' lstats, packed)
            elif self.split is None:
                # the listed names' lstats as trusted names get theirs (lstats: C when
                # built, one call a folder, no DirEntry.stat: M's 9.9k folders 274 -> 224 ms
                # of the walking thread's CPU, 9/9 rounds); None (one failed): each
                # DirEntry's, as before, where the failure is sorted out (_statable,
                # _vanished). Not with an overlay's names: those are added below, without sts
                got = (
                    (_lstats or _lstatter())(pre, names) if des and not self.overlay_names else None
                )
                if got is None:
                    stats = _packed_stats(des)
                else:  # (no names added below: joined here, as trusted names come joined)
                    stats, sts = got
                    joined = b"\0".join(names)
            else:  # a big folder's entries: in pieces, some may be the other process's
                stats, lent = self.split.stats(self, rel[:-1], des)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):  # one vanished while we looked: nothing
                self._vanished(path, rel[:-1])  # to lose
            lent = False
            des = self._statable(des, rel)
            partial = len(self.skipped) > skips0
            names = [de.name for de in des]
            stats = _packed_stats(des)
        hidden = self.hidden.get(rel) if self.hidden else None
        if hidden:  # an omitted name (.git) is NO_STAT in the record: so in the listing too,
            for name in hidden.intersection(names):  # or the root never matched (git writes
                i = names.index(name)  # in .git at every command): its tree hashed again
                stats = b"".join((stats[: _S * i], NO_STAT, stats[_S * (i + 1) :]))
        extra = self.overlay_names.get(rel) if self.overlay_names else None
        if extra and not extra.issubset(names):  # names only the overlay has: not on disk
            more = sorted(extra.difference(names))
            names += more
            des += [None] * len(more)
            stats += NO_STAT * len(more)
        n = len(names)
        if sts is None:
            joined = b"\0".join(names)
        here = rel[:-1]
        old: bytes = self.old_dirs.get(here)  # type: ignore[assignment]
        head = _head(old) if type(old) is bytes and len(old) >= _H else None
        if head is not None and len(old) < _H + (_S + _K) * head[8]:
            head = None  # a damaged record
        files0, bytes0 = self.files, self.bytes
        omit = self.opts.omit
        done: dict[int, Entry | None] = {}
        sub_files = sub_bytes = 0  # in the subtrees of subfolders
        if (
            head is not None
            and self.reuse
            and head[8] == n
            and head[9] & REUSABLE
            and not partial
            and old[_H : _H + _S * n] == stats
            and old[_H + (_S + _K) * n :] == joined
        ):
            # the listing is the record's: the tree too, if every subfolder's still is
            same = True
            at = _H + _S * n
            # subfolders: from the modes in *stats* ("d" where the type is S_IFDIR)
            kinds = filescache.kinds(stats)
            i = kinds.find(b"d")
            while i >= 0:
                name = names[i]
                rel_name = rel + name
                if rel_name not in omit:
                    f, b = self.files, self.bytes
                    if sts is None:
                        de = des[i]
                        e = done[i] = self._dir_entry(
                            de.path,
                            rel_name,
                            name,
                            de.stat(follow_symlinks=False),
                            label,
                        )
                    else:
                        e = done[i] = self._dir_entry(pre + name, rel_name, name, sts[i], label)
                    sub_files += self.files - f
                    sub_bytes += self.bytes - b
                    if (NO_KEY if e is None else e.ref) != old[at + _K * i : at + _K * (i + 1)]:
                        same = False
                i = kinds.find(b"d", i + 1)
            if same:
                self.files += head[6]
                self.bytes += head[7]
                if self.opts.progress:
                    self.opts.progress(self.files, self.bytes)
                flags = head[9] & ~NAMES_TRUSTED
                if self._names_stay(own, here):
                    flags |= NAMES_TRUSTED
                as_recorded = own == head[3:6]
                if not as_recorded:  # (rare: entries came and went since the record, or a chmod)
                    self._came_or_went(path, own, None)
                if flags != head[9]:  # whether its names may be trusted, for its stat now
                    head = (*head[:9], flags)
                    old = filescache.HEAD.pack(*head) + old[_H:]
                    self._keep(here, old, head, own, files0, bytes0, skips0)
                elif (
                    as_recorded
                    and self.files - files0 == head[1]
                    and self.bytes - bytes0 == head[2]
                    and len(self.skipped) == skips0
                    and here not in self.old_skips
                ):
                    self.dirs[here] = old  # the record as it was
                else:
                    self._keep(here, old, head, own, files0, bytes0, skips0)
                kept: bytes = head[0]
                return kept
        return self._built(
            path, rel, label, names, stats, sts, des, joined, old, head, own, done,
            sub_files, sub_bytes, files0, bytes0, skips0, hidden, lent, partial,
        )  # fmt: skip

    def _built(
        self,
        path: bytes,
        rel: bytes,
        label: int,
        names: list[bytes],
        stats: bytes,
        sts: list[Any] | None,
        des: list[Any],
        joined: bytes,
        old: bytes,
        head: tuple[Any, ...] | None,
        own: tuple[int, int, int] | None,
        done: dict[int, Entry | None],
        sub_files: int,
        sub_bytes: int,
        files0: int,
        bytes0: int,
        skips0: int,
        hidden: set[bytes] | None,
        lent: bool,
        partial: bool,
    ) -> bytes | None:
        """tree()'s folder whose listing is not its record's (a file changed, or a folder
        below it), entry by entry: its tree stored, its record kept, its key returned (None:
        left out, the folder replaced while it was read). (A
        method of its own: the closure other() below would make tree()'s locals cells, which
        every folder of every walk would pay for.)"""
        pre, here, n, omit = path + b"/", rel[:-1], len(names), self.opts.omit
        # entry by entry, in name order (ctree.build: C, or its Python twin): a regular file
        # whose lstat is its record's keeps its key ("plain"); every other entry is other()'s
        # below; the record keeps the directory's order
        where: dict[bytes, int] = {}
        hn = head[8] if head is not None else 0
        classify, exclude, damaged = self.classify, self.exclude, self.damaged
        fixed = 0  # an entry's label without a call: below an inherited label, that label
        if classify is not None and label == self.inherit:
            classify, fixed = None, label
        # the names are the record's, in its order (entry i is its i): no name -> index dict
        # (a parent of a changed folder: all of its files are plain)
        plain_kept = (
            hn == n
            and n > 0
            and not self.general
            and exclude is None
            and not damaged
            and old[_H + (_S + _K) * n :] == joined
        )
        if hn and not plain_kept:
            onames = old[_H + (_S + _K) * hn :].split(b"\0")
            if len(onames) == hn:
                where = dict(zip(onames, range(hn)))
        keys_at = _H + _S * hn
        if lent:  # entry by entry, every lstat this process's own (None: gone since)
            sts, stats = self.split.restat(des)
        elif sts is None:
            sts = [None if de is None else de.stat(follow_symlinks=False) for de in des]
        flags = 0 if self.general or partial else REUSABLE
        overlay, gone = self.opts.overlay, self.opts.overlay_deleted
        regular, directory, temp_mark = stat.S_IFREG, stat.S_IFDIR, _TEMP_MARK
        files = size_sum = 0  # other()'s files (build counts the plain ones)
        # a key of this tree's that this walk gave the writer (a file read here, a folder's
        # new tree): the writer asks the index about the tree only if the store may hold
        # that one (PackWriter._have); None: asked as before
        witness: bytes | None = None
        if self.split is not None and not done:
            # The other process takes units in the order the files cache lists folders (the
            # directory's, as unchanged folders are walked): here too, so that the two meet
            # once. In name order a changed folder's units could be the very ones the other
            # process starts with: then both walk them, one after the other. (The entries
            # below take each walked folder from *done*, as after a listing that matched.)
            kinds = filescache.kinds(stats)
            i = kinds.find(b"d")
            while i >= 0:
                name = names[i]
                rel_name = rel + name
                st = sts[i]
                if (
                    st is not None
                    and rel_name not in omit
                    and not name.startswith(temp_mark)
                    and st.st_mode & 0o170000 == directory
                    and not (self.general and (rel_name in overlay or rel_name in gone))
                ):
                    f, b = self.files, self.bytes
                    e = done[i] = self._dir_entry(pre + name, rel_name, name, st, label)
                    if e is not None and e.kind == DIR:
                        sub_files += self.files - f
                        sub_bytes += self.bytes - b
                i = kinds.find(b"d", i + 1)
        ahead = self.ahead
        plain = ahead is None and exclude is None  # a file to read: read here (inline below)
        sha256, writer_add, pending = hashlib.sha256, self.writer.add, self.pending
        racy_after, misses, listed = self.racy_after, 0, self.read_listed
        # files read as listed: in C, a batch per call (readmany: None without the module)
        fast = None
        if plain and listed and not self.general:
            fast = _fast_read if _fast_read is not False else _fast_reader()
        # and without a label to ask for or a name left out here, all of them in one call
        # before the entries below, each given to the writer and answered with its entry
        # (readmany.store: ~2 us of the walking thread's CPU a file less than entry by entry
        # below; M's first snapshot, 62k files: 1.97 -> 1.84 s outside zstd)
        whole = (
            fast is not None
            and _fast_store is not None
            and classify is None
            and not hidden
            and type(pending) is set
        )
        if ahead is not None:  # a first walk: its small files read and hashed ahead
            ahead.push(
                [
                    (des[i].path, st.st_size)
                    for i in sorted(range(n), key=names.__getitem__)
                    if (st := sts[i]) is not None
                    and st.st_mode & 0o170000 == regular
                    and st.st_size < SMALL_FILE
                    and not names[i].startswith(temp_mark)
                    and rel + names[i] not in omit
                ]
            )

        def other(todo: list[int]) -> list[tuple[Any, bytes, bytes]]:
            """The entries *todo* (in name order; not plain files) as the tree has them (each
            None: left out), and the new record's packed lstat and key of each."""
            nonlocal flags, witness, misses, files, size_sum, sub_files, sub_bytes
            out: list[tuple[Any, bytes, bytes]] = []
            put = out.append
            reads = None  # ListedReads, made by the first file read (with *fast*)
            stored = None  # the files readmany.store read as listed: their answers by index
            if whole:
                stored, n_read, n_bytes, last = _fast_store(
                    pre, names, sts, stats, todo, done, pending, writer_add, racy_after,
                    fixed, temp_mark, _reading.BATCH_BYTES, BLOB, FILE, NO_STAT, NO_KEY,
                )  # fmt: skip
                files += n_read
                size_sum += n_bytes
                misses += n_read
                if last is not None:
                    witness = last
            for i in todo:
                if stored and (answer := stored.get(i)) is not None:
                    put(answer)
                    continue
                sb = stats[_S * i : _S * (i + 1)]
                if i in done:  # a folder walked above (never an omitted or overlay's name)
                    e = done[i]
                    if e is not None and e.kind == DIR:  # (else as below)
                        self.learned = None
                        if e.ref in pending:
                            witness = e.ref
                        put((e, sb, e.ref))
                        continue
                name = names[i]
                st = sts[i]
                rel_name = rel + name
                if rel_name in omit:  # (.git: git changes its lstat at every command; a record
                    put((None, NO_STAT, NO_KEY))  # that kept it would make every hook rewrite it)
                    continue
                rs, rk, tries = NO_STAT, NO_KEY, READ_TRIES
                special = self.general and (rel_name in overlay or rel_name in gone)
                mode = st.st_mode if st is not None else 0
                j = i if plain_kept else where.get(name)
                ref = None  # the key of a regular file whose entry is made below, as listed
                if (
                    j is not None
                    and mode & 0o170000 == regular
                    and old[_H + _S * j : _H + _S * (j + 1)] == sb
                    and not special
                    and (exclude is None or not exclude(rel_name, False))
                ):
                    ref = old[keys_at + _K * j : keys_at + _K * (j + 1)]
                    if ref == NO_KEY or (damaged and ref in damaged):
                        ref = None
                    else:  # a regular file the files cache knows (an overlay's walk)
                        rs, rk = sb, ref
                if (
                    ref is None
                    and plain
                    and mode & 0o170000 == regular
                    and st.st_size < SMALL_FILE
                    and not special
                    and not name.startswith(temp_mark)
                ):
                    # a regular file to read (every file of a first walk): _entry's work inline,
                    # without an Entry (62k files of M: ~0.4 s of the walking thread's CPU)
                    if fast is None:
                        data = _read_listed(pre + name, st) if listed else None
                        key = None
                    else:
                        if reads is None:
                            reads = ListedReads(fast, pre, names, sts, todo)
                        data, key = reads.take(i) or _NO_READ
                    if data is not None:  # as listed: read whole, nothing else to check
                        ref = witness = key or sha256(data).digest()
                        if ref not in pending:
                            writer_add(BLOB, ref, data, True)
                            pending.add(ref)
                        misses += 1
                        # its fstat after the read is the listed lstat: *sb* packs those fields
                        if max(st.st_mtime_ns, st.st_ctime_ns) < racy_after:
                            rs, rk = sb, ref
                    else:  # not as listed (or not tried): read the careful way, by _entry
                        tries = READ_TRIES - listed  # (_read_listed was its first try)
                if ref is not None:  # its lstat as listed is its entry's
                    files += 1
                    size_sum += st.st_size
                    lab = classify(rel_name, False, label) if classify is not None else fixed
                    fmode, fmtime, fsize = mode & 0o7777, st.st_mtime_ns, st.st_size
                    put(((name, FILE, fmode, fmtime, fsize, ref, lab, 0), rs, rk))
                    continue
                self.learned = None
                if i in done:
                    e = done[i]  # walked already (its subtree counted)
                else:
                    f, b = self.files, self.bytes
                    if st is None or special:  # (never with trusted names: sts holds each)
                        e = self._entry(pre + name, rel_name, name, des[i], label)
                    elif mode & 0o170000 == directory and not name.startswith(temp_mark):
                        e = self._dir_entry(pre + name, rel_name, name, st, label)
                    else:
                        e = self._entry(pre + name, rel_name, name, None, label, st, tries)
                    if e is not None and e.kind == DIR:
                        sub_files += self.files - f
                        sub_bytes += self.bytes - b
                if e is None:
                    if mode & 0o170000 != directory:
                        flags = 0  # skipped, vanished, a temp file or deleted by the overlay
                    if mode & 0o170000 != regular:
                        rs = sb
                    put((None, rs, rk))
                    continue
                if e.ref in pending:
                    witness = e.ref
                if e.kind == FILE:
                    learned = self.learned
                    if learned is not None:
                        rs, rk = learned
                    if e.flags:
                        flags = 0
                else:
                    rs = sb
                    if e.kind == DIR:
                        rk = e.ref
                put((e, rs, rk))
            return out

        data, rstats, rkeys, kept_files, kept_bytes = (_build or _builder())(
            names,
            stats,
            old if head is not None else None,
            hn,
            plain_kept,
            where,
            damaged,
            hidden,
            self.general,
            classify,
            exclude,
            rel,
            label,
            self.inherit,
            other,
            done or None,
        )
        files += kept_files
        size_sum += kept_bytes
        if witness is None and done:
            # the folders walked above were build's (not other()'s): one of their trees
            # given to the writer names this one's (the last in the walk's order)
            for e in done.values():
                if e is not None and e.kind == DIR and e.ref in pending:
                    witness = e.ref
        if ahead is not None:
            ahead.pop()
        self.learned = None
        if self.gone and here in self.gone:  # an entry went as it was read: renamed? (RED32)
            data, more, more_files, more_bytes = self._relisted(path, rel, label, names, data)
            sub_files += more_files
            sub_bytes += more_bytes
            flags, partial = 0, True  # (its listing is no one listing: looked at again)
            if more:
                names = names + more
                joined, n = b"\0".join(names), len(names)
                rstats += NO_STAT * len(more)
                rkeys += NO_KEY * len(more)
        # (own is None in a rebuild: it checks the folders it has built, Rebuild.checked)
        why = None if own is None else _moved(path, own)
        if why == GONE and not here:
            why = None  # (the worktree's root itself: kept)
        if why is not None:
            # not the folder its parent saw, or moved away and back (a symlink stood there
            # meanwhile?): what was listed and read by path may be another folder's, outside
            # the tree (RED25), so none of it is this folder's. What stands there now is
            # taken instead (_retaken; RED28); replaced or moved again meanwhile, the folder
            # is left out and said
            self.files, self.bytes = files0, bytes0
            del self.skipped[skips0:]  # (paths through it)
            self.gone.pop(here, None)
            if here and self.rebuild is None:
                self.retake = why
            else:
                self._skip(here, why)
            return None
        if own is not None:  # (the lstat _moved took, if it was this folder's)
            looked, now = _seen[0]
            self._came_or_went(path, own, now if looked is path else None)
        self.misses += misses
        self.files += files
        self.bytes += size_sum
        if self.opts.progress:
            self.opts.progress(self.files, self.bytes)
        key = hashlib.sha256(data).digest()
        if not self._known_tree(key, None if head is None else head[0]):
            self.writer.add(TREE, key, data, dedupe=witness or True)
            self.pending.add(key)
        total_files, total_bytes = self.files - files0, self.bytes - bytes0
        rec = filescache.record(
            key,
            total_files,
            total_bytes,
            own,
            total_files - sub_files,
            total_bytes - sub_bytes,
            flags | NAMES_TRUSTED if not partial and self._names_stay(own, here) else flags,
            rstats,
            rkeys,
            joined,
            n,
        )
        self._keep(here, rec, None, own, files0, bytes0, skips0)
        return key

    def _keep(
        self,
        here: bytes,
        rec: bytes,
        head: tuple[int, ...] | None,
        own: tuple[int, int, int] | None,
        files0: int,
        bytes0: int,
        skips0: int,
    ) -> None:
        """*rec* as the record of the folder *here*; when it is the old one (*head*: its
        fields), with the totals below it and the folder's own stat brought up to date."""
        old = self.old_dirs.get(here)
        if head is not None:
            now = (self.files - files0, self.bytes - bytes0, *(own or (0, 0, 0)))
            if now != head[1:6]:
                rec = filescache.pack_head(head[0], *now, *head[6:]) + rec[_H:]
        if rec is not old and rec != old:
            self.dirty = True
            self.renewed.append(here)
        if old is not None and self.drop_old:
            del self.old_dirs[here]  # walked: never looked up again
        self.dirs[here] = rec
        if self.cache_path and self.first:
            # a first walk (no records to compare with): they go to the cache file as they
            # come, in chunks, not all kept until the end (L: 24 MB)
            self.spill_bytes += len(rec)
            if self.spill_bytes >= filescache.Writer.CHUNK:
                self._spill()
        skips = tuple(self.skipped[skips0:]) if len(self.skipped) > skips0 else ()
        if skips:
            self.skips[here] = skips
        elif self.skips:
            self.skips.pop(here, None)
        if skips != self.old_skips.get(here, ()):
            self.dirty = True

    def _spill(self) -> None:
        """The records so far into the cache file being written (a failure loses the cache,
        never the snapshot)."""
        try:
            if self.spill is None:
                self.spill = filescache.Writer(self.cache_path, self.store.tmp_dir)
            self.spill.chunk(self.dirs)
            spilled = self.spilled
            for rel, rec in self.dirs.items():
                spilled[rel] = rec[:_H]
        except OSError:
            if self.spill is not None:
                self.spill.discard()
            self.cache_path = ""  # no more spilling, and no cache saved (records are lost)
            self.spill = None
            self.lost = True
            return
        self.dirs = {}
        self.spill_bytes = 0

    def _retaken(self, path: bytes, rel: bytes, name: bytes, label: int) -> Entry | None:
        """tree() found no folder at *path* any more (gone, or another type: a file or a
        symlink renamed over it while it was listed or read; *retake* says why): what stands
        there now, taken as it is (walkfiles._again: a file read, a symlink's target kept,
        nothing when gone (its parent then listed again: _relisted), a folder walked
        afresh). A folder that is replaced again while this takes it is left out and said
        (RED28: it was left out, or stored empty)."""
        why, self.retake = self.retake, None
        assert why is not None
        if not self.once(path, rel, why, self._gone):
            return None
        return self._again(path, rel, name, label, LOOKS)

    def _relisted(
        self, path: bytes, rel: bytes, label: int, names: list[bytes], data: bytes
    ) -> tuple[bytes, list[bytes], int, int]:
        """_built's folder at *path* (*rel*: its path below the top and a slash; *names*: its
        listing; *data*: its tree) had entries gone as they were read: renamed, perhaps, the
        new name after that listing (RED32 B1: a folder or a log renamed during a snapshot
        was in it under neither name, and nothing said so). It is listed again and each name
        new there, or gone and back, is taken as it is now (_again), while entries still go,
        RELISTS times at most; what it then still lacks is said (MOVED). A name gone with no
        new one is a deletion (or a move out of the folder): nothing to lose, as before.
        The tree with what was taken, the names new to the listing (for its record) and the
        files and bytes of the folders among them (in their subtrees)."""
        here, pre, omit = rel[:-1], path + b"/", self.opts.omit
        self.relists += 1
        self.moves += 1  # (gone into a folder walked already? _walk looks)
        listed = set(names)
        held: set[bytes] | None = None  # the names in the tree
        gone: set[bytes] = set()  # every name that went (one may come back: mv a z; mv z a)
        taken: list[Entry] = []
        more: list[bytes] = []
        sub_files = sub_bytes = 0
        for times in range(RELISTS + 1):
            went = self.gone.pop(here, None)
            if not went:
                break
            gone |= went
            if held is None:
                held = {e.name for e in decode_tree(data)}
            take = sorted(
                name
                for name in _names(path)
                if (name not in listed or name in gone)
                and name not in held
                and rel + name not in omit
            )
            if not take:
                break
            if times == RELISTS:  # still changing: not in this snapshot, and said
                for name in take:
                    self._skip(rel + name, MOVED)
                break
            for name in take:
                if name not in listed:
                    listed.add(name)
                    more.append(name)
                f, b = self.files, self.bytes
                e = self._again(pre + name, rel + name, name, label, LOOKS)
                self.learned = None
                if e is not None:
                    held.add(name)
                    taken.append(e)
                    if e.kind == DIR:
                        sub_files += self.files - f
                        sub_bytes += self.bytes - b
        if taken:
            data = encode_tree(sorted(decode_tree(data) + taken, key=_name_of))
        return data, more, sub_files, sub_bytes

    def once(self, path: bytes, rel: bytes, why: str, gone: Callable[[bytes, bytes], None]) -> bool:
        """Whether the folder *rel*, found not to be the folder it was (*why*: _moved's
        answer), is to be taken afresh: the first time. Replaced or moved again while it
        was taken afresh, it is left out and said (False), or *gone*(path, rel) when nothing
        stands there (the walk's: its parent is listed again, _relisted; renamed, it is taken
        under its new name). The walk's rule and the rebuild's (Rebuild.checked)."""
        if rel not in self.retaken:
            self.retaken.add(rel)
            return True
        if os.path.lexists(path):
            self._skip(rel, MOVED if why == GONE else why)  # (gone, then back: moved)
        else:
            gone(path, rel)
        return False

    def kept(self, rel: bytes, name: bytes, st: os.stat_result, lab: int) -> Entry | None:
        """The folder *rel* as its files-cache record has it (the totals and skipped paths
        below it counted), for a folder known unchanged whose own stat is the record's; None
        when it is not (then it is walked)."""
        d = filescache.summary(self.old_dirs.get(rel), self.old_skips.get(rel, ()))
        if d is None or d[4:] != (st.st_ino, st.st_mtime_ns, st.st_ctime_ns):
            return None
        self.files += d[1]
        self.bytes += d[2]
        self.skipped.extend(d[3])
        return _new_entry(Entry, (name, DIR, st.st_mode & 0o7777, st.st_mtime_ns, 0, d[0], lab, 0))

    def _dir_entry(
        self, path: bytes, rel: bytes, name: bytes, st: os.stat_result | None, label: int
    ) -> Entry | None:
        if st is not None and (st.st_dev, st.st_ino) == self.store_id:
            return None  # never snapshot the store into itself
        if self.exclude is not None and self.exclude(rel, True):
            self._skip(rel, "excluded")
            return None
        ask = self.classify  # (not below an inherited label: what lies there has it)
        lab = label if label == self.inherit else ask(rel, True, label) if ask else 0
        if self.rebuild is not None and st is not None:
            return self.rebuild.sub(path, rel, name, st, lab)  # type: ignore[no-any-return]
        if self.clean is not None and st is not None and self.clean(rel):
            e = self.kept(rel, name, st, lab)  # unchanged since the last snapshot: not listed
            if e is not None:
                return e
        if self.split is not None and st is not None:  # found unchanged by the other process
            e = self.split.take(self, rel, name, st, lab)
            if e is not None:
                return e  # type: ignore[no-any-return]
        # the folder's own stat goes into its files-cache record (tree() takes it)
        self.own = None if st is None else (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        self.own_dev = 0 if st is None else st.st_dev
        key = self.tree(path, rel + b"/", lab)
        if key is None:
            return None if self.retake is None else self._retaken(path, rel, name, label)
        if st is None:
            return Entry(name, DIR, 0o755, time.time_ns(), 0, key, lab)
        # Entry(name, DIR, S_IMODE(mode), mtime, 0, key, lab) without its Python-level
        # __new__ (ctx.record): once per folder of every walk
        return _new_entry(Entry, (name, DIR, st.st_mode & 0o7777, st.st_mtime_ns, 0, key, lab, 0))


# what a files-cache record keeps of each name's lstat: size, mtime, ctime, inode, mode
_STAT_PACK = filescache.STAT.pack
_STATS = filescache.STAT.iter_unpack
_H, _S, _K = filescache.HEAD.size, filescache.STAT.size, filescache.KEY
_head: Callable[[bytes], tuple[Any, ...]] = filescache.HEAD.unpack_from
NO_STAT, NO_KEY, REUSABLE = filescache.NO_STAT, filescache.NO_KEY, filescache.REUSABLE
# b"/" as the int bytes hold: `b"/" in data` first tries its argument as an int, and raises and
# clears a TypeError (~0.2 us: every trusted folder of every walk, M's 10k); an int does not
_SLASH = 0x2F


# A folder's record may say its names are trusted (NAMES_TRUSTED, a flag beside
# filescache.REUSABLE): written when the folder's own mtime and ctime were older than the walk
# by RACY_NS. A later walk then takes its names from the record, instead of listing it, while
# its own lstat (inode, mtime_ns, ctime_ns) is the record's and it lies on one of these file
# systems, which change a folder's mtime and ctime at every create, unlink and rename in it
# (POSIX; git's untracked cache rests on the same): no open, getdents and close per folder
# (M's unchanged hook: ~10,000 folders). Anything else (nfs, fuse, overlay, 9p, cifs, a
# device /proc/self/mountinfo does not name) is listed as before.
NAMES_TRUSTED = 2
TRUSTED_FS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "f2fs"})
MOUNTINFO = "/proc/self/mountinfo"  # each mount's device and file system type


def mount_table() -> list[tuple[int, str, str]]:
    """Each mount's device, point and file system type, from MOUNTINFO ([] unreadable)."""
    try:
        with open(MOUNTINFO, "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        # ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [TAGS...] - TYPE SOURCE SUPER-OPTIONS
        fields = line.split(b" ")
        try:
            major, minor = fields[2].split(b":")
            kind = fields[fields.index(b"-", 6) + 1].decode("ascii", "replace")
            # the kernel writes a space, tab, newline or backslash in a path as an octal escape
            point = os.fsdecode(fields[4].decode("unicode_escape").encode("latin-1"))
            out.append((os.makedev(int(major), int(minor)), point, kind))
        except (ValueError, IndexError):  # (UnicodeError is a ValueError)
            continue
    return out


def _fs_type(dev: int, table: list[tuple[int, str, str]] | None = None) -> str:
    """The type of the file system mounted on device *dev* ('' when unknown), from *table*
    (mount_table()'s, read now when not given)."""
    return next((kind for d, _, kind in table or mount_table() if d == dev), "")


# listings of a folder again when entries of it went as it was read (_Walker._relisted)
RELISTS = 3
# A folder's mtime this close before the walk's start (_walk's, after the lock and the files
# cache's load), or later, says entries came or went while the walk ran (_Walker._came_or_went):
# the kernel stamps it from its coarse clock, up to a tick (1-10 ms) behind time.time_ns().
# Earlier, no folder was walked yet: nothing can have moved into one. (A hook starts later
# than this after the git command that wrote the tree: those writes are older.)
COARSE_NS = 10_000_000
# walks again over the folders changed since they were walked (_walk): past them, those
# still changing are named (MOVED_IN)
AGAIN = 2
CHECK_BATCH = 512  # folders lstat'ed again per call (_Walker._changed_since)


def _names(path: bytes) -> list[bytes]:
    """The names in the folder at *path* now ([]: it cannot be listed, gone or other)."""
    try:
        with os.scandir(path) as it:
            return [de.name for de in it]
    except OSError:
        return []


def _parent(rel: bytes) -> bytes:
    return rel.rpartition(b"/")[0]


def _name_of(e: Entry) -> bytes:
    return e.name


def walk_began(snap: Any) -> float | None:
    """When the walk of the snapshot *snap* began (wall seconds), from its meta "unsettled"
    (archiver._unsettled_meta: its ``since`` is that start less RACY_NS); None when it does
    not say (an older snapshot, or a stand-in without meta)."""
    meta = getattr(snap, "meta", None)
    meta = meta.get("unsettled") if isinstance(meta, dict) else None
    since = meta.get("since") if isinstance(meta, dict) else None
    if not isinstance(since, (int, float)) or isinstance(since, bool):
        return None
    return float(since) + RACY_NS / 1e9


def touched_up(tops: Iterable[bytes], names: dict[bytes, set[bytes]]) -> set[bytes]:
    """Folders *tops* and every folder above them: changed below (rebuild.Marks.changed),
    each but the top one added to its parent's *names* (Marks.look_at). Here, not in
    rebuild.py, for watch/dirtyset.CleanSet too: a hook making one has loaded this module
    (the archiver's), not that one."""
    touched: set[bytes] = set()
    for d in tops:
        while d not in touched:
            touched.add(d)
            if not d:
                break
            parent, _, name = d.rpartition(b"/")
            names.setdefault(parent, set()).add(name)
            d = parent
    return touched


REPLACED = "replaced while it was read"  # a skipped path's words (output.snapshot_warnings)
MOVED = "moved while it was read"
GONE = "gone while it was read"  # (_moved's answer; said as MOVED if it comes back)
# a folder that kept changing after AGAIN walks again: in the snapshot, perhaps without
# files moved into it from a folder walked later (neither name holds them)
MOVED_IN = "files moved into it while it was read may be missing"


def _lstat_now(path: bytes) -> os.stat_result | str | None:
    """The lstat of *path*; GONE when nothing is there (or no folder on its way), None when
    it cannot be had (unknown)."""
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return GONE
    except OSError:
        return None


def _lstat_or_none(path: bytes) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _moved(path: bytes, own: tuple[int, int, int]) -> str | None:
    """Why what was read through *path*, the folder its parent lstat'ed as *own* (inode,
    mtime, ctime), may not be that folder's: REPLACED when something else than a folder is
    there now (a symlink: the paths through it led out of the tree), MOVED when another
    folder is (`rm -r d; mkdir d`, or one moved in after a symlink stood there) or the same
    one with a new ctime and its old mtime: renamed away and back while it was read (a
    symlink may have stood there meanwhile: RED28; a chmod looks the same), not an entry
    created or removed in it, which changes its mtime too. GONE when nothing is there now (or
    no folder on its way): a symlink may have stood there while it was read, and the folder
    not be back yet (RED29: session 28's race, 4 snapshots of 150), so what was read is not
    known to be its own. None: as it was (or it cannot be lstat'ed: unknown)."""
    st = _lstat_now(path)
    _seen[0] = (path, st)
    return _why(st, own)


# the path _moved lstat'ed last and what it found: _Walker._built reads it (the folder's
# mtime after its walk, _came_or_went) without a second lstat, and _moved stays the one
# check of a folder written (tests replace it to act at that moment)
_seen: list[tuple[bytes, os.stat_result | str | None]] = [(b"", None)]


def _why(st: os.stat_result | str | None, own: tuple[int, int, int]) -> str | None:
    """_moved's answer from the folder's lstat now, *st* (_lstat_now's)."""
    if st is None or isinstance(st, str):
        return st
    if not stat.S_ISDIR(st.st_mode):
        return REPLACED
    if st.st_ino != own[0] or (st.st_ctime_ns != own[2] and st.st_mtime_ns == own[1]):
        return MOVED
    return None


_TEMP_MARK = TEMP_MARK.encode()  # a name's cheap first test (is_temp_name has the full one)
_new_entry = tuple.__new__  # an Entry from all its fields (as treebytes.entry makes one)
_build: Any = None  # ctree.build, imported by the first folder built again (_builder)


def _builder() -> Any:
    global _build
    from git_snapshot.store import ctree

    _build = ctree.build
    return _build


_lstats: Any = None  # lstats.best, imported by the first folder whose names are trusted


def _lstatter() -> Any:
    global _lstats
    from git_snapshot.store import lstats

    _lstats = lstats.best
    return _lstats


_NO_READ = (None, None)
_fast_read: Any = False  # readmany.read (None: none), set by the first folder read (_fast_reader)
_fast_store: Any = None  # readmany.store (set with _fast_read)


def _fast_reader() -> Any:
    global _fast_read, _fast_store
    from git_snapshot.store import readmany

    _fast_read, _fast_store = readmany.read, readmany.store
    return _fast_read


def _packed_stats(des: list[os.DirEntry[bytes]]) -> bytes:
    """The lstat fields the files cache compares, packed, of each of *des* in order (each
    DirEntry keeps its lstat for later)."""
    pack_stat = _STAT_PACK
    try:
        return b"".join(
            [
                pack_stat(
                    (st := de.stat(follow_symlinks=False)).st_size,
                    st.st_mtime_ns,
                    st.st_ctime_ns,
                    st.st_ino,
                    st.st_mode,
                )
                for de in des
            ]
        )
    except struct.error:  # a time out of an int64's range: held (filescache.pack_stats)
        return filescache.pack_stats([de.stat(follow_symlinks=False) for de in des])


def is_cachedir_tag(path: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(CACHEDIR_SIGNATURE)) == CACHEDIR_SIGNATURE
    except OSError:
        return False


# A first walk reads ahead (_ReadAhead) with at least this many cores. It takes 1.2-1.9 s of
# CPU off the walking thread on M but adds 0.3-1 s in all (GIL hand-offs): with 2 cores a
# first snapshot is bound by its CPU in all (the compression threads), with more by the
# walking thread.
READ_AHEAD_CORES = 3


def _read_ahead_pays() -> bool:
    from git_snapshot.store import forked

    return forked.cores() >= READ_AHEAD_CORES


def _threads() -> int:
    """Threads that read ahead (_ReadAhead): one per core, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def _from_cwd(root: bytes) -> bytes:
    """``b"."`` when this process's working directory is the folder *root* (same device and
    inode), else *root*: the walk's paths are then relative, and each lstat and opendir the
    kernel resolves from the working directory, without looking up the components above the
    tree again (a hook runs in the worktree's root). M, the hook process alone, 12 interleaved
    rounds, load 7-9: 621 -> 582 ms of CPU (system 310 -> 274); S 47.4 -> 46.1 ms. Only the
    daemon changes its working directory (once, to /, before any walk), and a relative path
    stays in the folder checked here even if the worktree is renamed meanwhile."""
    try:
        here, there = os.stat(b"."), os.stat(root)
    except OSError:
        return root
    return b"." if (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino) else root


def _walk(walker: _Walker, root: bytes) -> bytes | None:
    """The walk of the whole tree; of a big one mostly unchanged, by two processes
    (store/splitwalk.py).

    Entries moved while it ran from a folder not walked yet into one walked already (a
    Maildir's `mv new/m* cur/`, `mv zz early/zz` with early/ done) would be in the snapshot
    under neither name, and nothing said so (RED32 V1). A walk that saw entries come or go in
    a folder while it ran (walker.moves: an entry gone as it was read, or a folder whose
    mtime is the walk's or changed as it was walked) lstat's each folder it walked again:
    one whose own stat is no longer the one its parent's listing gave took entries since,
    and it is walked again with the folders above it, the rest kept from this walk's
    records (_walk_again); AGAIN times at most, then the folders still changing are named
    (MOVED_IN). The common walk sees no such folder: nothing more than a comparison per
    folder (no system call), and a walk that saw one but finds no folder changed (a
    deletion) pays an lstat per folder. The split walk's child answers for no folder whose
    walk saw one (splitwalk._answering): the parent walks it, and its folders' records are
    looked at like every other's."""
    root = _from_cwd(root)
    walker.moved_after = time.time_ns() - COARSE_NS
    top = None
    with contextlib.suppress(OSError):  # (else no names are taken from records)
        st = os.stat(root)
        top = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        walker.top_dev = st.st_dev  # (before the split walk's child is forked)
        if max(st.st_mtime_ns, st.st_ctime_ns) >= walker.racy_after:
            walker._unsettled(b"")  # (the top folder's own stat: no parent lstat'ed it)
        if st.st_mtime_ns >= walker.moved_after:
            walker.moves += 1
    key = _walk_once(walker, root)
    again = 0
    while key is not None and walker.moves and not walker.general:
        changed = walker._changed_since(root, top)
        if not changed:
            break
        if again == AGAIN:  # still changing: said, not silently short
            for rel in walker._gained(root, changed):
                walker._skip(rel or b".", MOVED_IN)
            break
        with contextlib.suppress(OSError):
            st = os.stat(root)
            top = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        key = walker._walk_again(root, changed)
        again += 1
    return key


def _walk_once(walker: _Walker, root: bytes) -> bytes | None:
    """_walk's first walk of the tree at *root*."""
    if walker.old_dirs or walker.general or walker.rebuild is not None or not _read_ahead_pays():
        if len(walker.old_dirs) < SPLIT_FOLDERS:  # (not even the import, on a small tree)
            return walker.tree(root, b"", 0)
    else:  # a first walk (no files cache): every file is read, by threads ahead of it
        walker.ahead = _ReadAhead(_threads())
        try:
            return walker.tree(root, b"", 0)
        finally:
            walker.ahead.close()
            walker.ahead = None
    from git_snapshot.store import splitwalk

    walker.split = splitwalk.start(walker, root)
    try:
        return walker.tree(root, b"", 0)
    finally:
        if walker.split is not None:
            walker.split.close()
