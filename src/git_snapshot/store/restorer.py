"""Restore a snapshot, or some of its paths, into a directory.

Stored paths are untrusted: every name is checked before anything is written, every file is
opened relative to a directory file descriptor with O_NOFOLLOW, so a restore never leaves its
target, never writes through a symlink, and never creates device files or set-id bits.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from git_snapshot.errors import UserError
from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import digest_fd

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_SAFE_MODE = 0o777  # set-id and sticky bits are never restored


@dataclass
class Report:
    created: list[bytes] = field(default_factory=list)
    updated: list[bytes] = field(default_factory=list)
    deleted: list[bytes] = field(default_factory=list)
    unchanged: int = 0
    kept: list[bytes] = field(default_factory=list)  # in the way, but not ours to remove
    files: int = 0  # files and symlinks written (created or updated)


def check_name(name: bytes, where: bytes) -> None:
    if not name or name in (b".", b"..") or b"/" in name or b"\0" in name:
        raise UserError(
            f"refusing to restore: the snapshot holds an unsafe name {name!r} in "
            f"{os.fsdecode(where) or '.'!r} (the store may be damaged; run git snapshot verify)"
        )


def split_path(path: str | bytes) -> list[bytes]:
    """A user-given path inside the snapshot as checked components."""
    raw = os.fsencode(path).strip(b"/")
    parts = [p for p in raw.split(b"/") if p not in (b"", b".")]
    if not parts:
        return []
    if b".." in parts:
        raise UserError(f"bad path {os.fsdecode(raw)!r}: paths inside a snapshot cannot use '..'")
    return parts


def check_tree(store: Store, key: bytes, rel: bytes, seen: set[bytes]) -> None:
    """Refuse a tree (and everything below) that no honest snapshot holds: unsafe names,
    names out of order or repeated, unknown entry types."""
    if key in seen:
        return
    seen.add(key)
    previous = None
    for e in store.read_tree(key):
        check_name(e.name, rel)
        if previous is not None and e.name <= previous:
            raise UserError(
                f"refusing a damaged tree in {os.fsdecode(rel)!r} "
                "(names out of order or repeated); run git snapshot verify"
            )
        previous = e.name
        if e.kind not in (FILE, DIR, SYMLINK):
            raise UserError(f"refusing {os.fsdecode(rel + e.name)!r}: unknown entry type {e.kind}")
        if e.kind == DIR:
            check_tree(store, e.ref, rel + e.name + b"/", seen)


class Restorer:
    def __init__(
        self,
        store: Store,
        *,
        delete: bool = False,
        dry_run: bool = False,
        protect: frozenset[bytes] = frozenset(),
        replace_dirs: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """*protect*: relative paths never deleted or overwritten (a repo's .git; what the
        pre-restore snapshot could not save); the directories that hold them are never
        removed either. *replace_dirs*: whether a non-empty directory in the way of a file may
        be removed (in place, the pre-restore snapshot holds it; elsewhere nothing does)."""
        self.store = store
        self.delete = delete
        self.dry_run = dry_run
        self.protect = protect
        self.guarded = protect | {
            p[:i] for p in protect for i in range(len(p)) if p[i : i + 1] == b"/"
        }
        self.replace_dirs = replace_dirs
        self.progress = progress
        self.report = Report()

    # -- planning: read and check every tree first, so a hostile one writes nothing ----------

    def find(self, snap: Snapshot, parts: list[bytes]) -> tuple[list[Entry], Entry | None]:
        """The entries on the way to a path, and its own entry (None for the root)."""
        chain: list[Entry] = []
        tree = snap.root
        entry: Entry | None = None
        for i, part in enumerate(parts):
            found = [e for e in self.store.read_tree(tree) if e.name == part]
            if not found or (i < len(parts) - 1 and found[0].kind != DIR):
                raise UserError(
                    f"{os.fsdecode(b'/'.join(parts))} is not in snapshot {snap.id}; "
                    f"see: git snapshot show {snap.id}"
                )
            entry = found[0]
            if i < len(parts) - 1:
                chain.append(entry)
                tree = entry.ref
        return chain, entry

    # -- execution --------------------------------------------------------------------------

    def restore(self, snap: Snapshot, target: str, paths: list[str | bytes] | None) -> Report:
        selections = [split_path(p) for p in paths] if paths else [[]]
        found = [(parts, *self.find(snap, parts)) for parts in selections]
        seen: set[bytes] = set()
        for parts, _chain, entry in found:
            if entry is None:
                check_tree(self.store, snap.root, b"", seen)
            elif entry.kind == DIR:
                check_tree(self.store, entry.ref, b"/".join(parts) + b"/", seen)
        if not self.dry_run:
            os.makedirs(target, exist_ok=True)
        try:
            # the target is the user's own choice: it may be reached through a symlink
            top = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:  # dry run into a new directory
            top = -1
        try:
            for parts, chain, entry in found:
                if entry is None:
                    self._fill(top, snap.root, b"")
                    continue
                fd, own = self._parents(top, parts[:-1], chain)
                try:
                    self._put(fd, entry, b"/".join(parts))
                finally:
                    if own:
                        os.close(fd)
        finally:
            if top >= 0:
                os.close(top)
        return self.report

    def _parents(self, top: int, parts: list[bytes], chain: list[Entry]) -> tuple[int, bool]:
        fd, own = top, False
        for i, (part, entry) in enumerate(zip(parts, chain)):
            rel = b"/".join(parts[: i + 1])
            nfd = self._open_dir(fd, part, entry, rel)
            if nfd is None:
                raise UserError(
                    f"cannot restore below {os.fsdecode(rel)}: something no snapshot holds is "
                    "in the way there; move it aside and restore again"
                )
            if own:
                os.close(fd)
            fd, own = nfd, True
        return fd, own

    def _open_dir(self, parent: int, name: bytes, entry: Entry, rel: bytes) -> int | None:
        """Open (creating or replacing what is in the way) the directory *name*; None when
        what is in the way must stay."""
        st = _lstat(parent, name)
        if st is None or not stat.S_ISDIR(st.st_mode):
            if st is not None and not self._remove(parent, name, rel, st):
                return None
            self.report.created.append(rel)
            if self.dry_run:
                return -1
            os.mkdir(name, (entry.mode & _SAFE_MODE) | stat.S_IRWXU, dir_fd=parent)
        elif not self.dry_run and not st.st_mode & stat.S_IWUSR:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
            os.fchmod(fd, stat.S_IMODE(st.st_mode) | stat.S_IRWXU)
            return fd
        return os.open(name, _DIR_FLAGS, dir_fd=parent) if parent >= 0 else -1

    def _put(self, parent: int, e: Entry, rel: bytes) -> None:
        if rel in self.protect or (e.kind != DIR and rel in self.guarded):
            self.report.kept.append(rel)
            return
        if e.kind == DIR:
            fd = self._open_dir(parent, e.name, e, rel)
            if fd is None:
                return
            try:
                self._fill(fd, e.ref, rel + b"/")
                if fd >= 0 and not self.dry_run:
                    os.fchmod(fd, e.mode & _SAFE_MODE)
                    os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
            finally:
                if fd >= 0:
                    os.close(fd)
            return
        st = _lstat(parent, e.name)
        if st is not None and self._same(parent, e, st):
            self.report.unchanged += 1
            if not self.dry_run and e.kind == FILE:
                self._set_meta(parent, e, st)
            return
        if (
            st is not None
            and stat.S_ISDIR(st.st_mode)
            and not self._remove(parent, e.name, rel, st)
        ):
            return
        (self.report.updated if st is not None else self.report.created).append(rel)
        self.report.files += 1
        if self.progress:
            self.progress(len(self.report.created) + len(self.report.updated))
        if self.dry_run:
            return
        tmp = b".gsnap-" + secrets.token_hex(6).encode()
        if e.kind == SYMLINK:
            os.symlink(e.ref, tmp, dir_fd=parent)
            os.utime(tmp, ns=(e.mtime_ns, e.mtime_ns), dir_fd=parent, follow_symlinks=False)
        else:
            self._write_file(parent, tmp, e)
        os.rename(tmp, e.name, src_dir_fd=parent, dst_dir_fd=parent)

    def _write_file(self, parent: int, tmp: bytes, e: Entry) -> None:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=parent
        )
        try:
            try:
                for chunk in self.store.stream_blob(e.ref):
                    _write_all(fd, chunk)
                os.fchmod(fd, e.mode & _SAFE_MODE)
                os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
            finally:
                os.close(fd)
        except BaseException:
            os.unlink(tmp, dir_fd=parent)
            raise

    def _fill(self, fd: int, tree: bytes, rel: bytes) -> None:
        entries = self.store.read_tree(tree)
        for e in entries:
            self._put(fd, e, rel + e.name)
        if not self.delete:
            return
        keep = {e.name for e in entries}
        for name in sorted(map(os.fsencode, os.listdir(fd))) if fd >= 0 else []:
            if name in keep:
                continue
            if rel + name in self.protect:
                self.report.kept.append(rel + name)
            else:
                st = _lstat(fd, name)
                if st is not None and self._remove(fd, name, rel + name, st, in_way=False):
                    self.report.deleted.append(rel + name)

    def _same(self, parent: int, e: Entry, st: os.stat_result) -> bool:
        if e.kind == SYMLINK:
            return stat.S_ISLNK(st.st_mode) and os.readlink(e.name, dir_fd=parent) == e.ref
        if not stat.S_ISREG(st.st_mode) or st.st_size != e.size:
            return False
        fd = os.open(e.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=parent)
        try:
            return digest_fd(fd) == e.ref
        finally:
            os.close(fd)

    def _set_meta(self, parent: int, e: Entry, st: os.stat_result) -> None:
        if stat.S_IMODE(st.st_mode) != e.mode & _SAFE_MODE or st.st_mtime_ns != e.mtime_ns:
            fd = os.open(e.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=parent)
            try:
                os.fchmod(fd, e.mode & _SAFE_MODE)
                os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
            finally:
                os.close(fd)

    def _remove(
        self, parent: int, name: bytes, rel: bytes, st: os.stat_result, in_way: bool = True
    ) -> bool:
        """Remove what is at *rel* (in the way of the snapshot's entry, or extra under
        --delete); False, and reported as kept, when it must stay."""
        if rel in self.guarded or (
            in_way
            and not self.replace_dirs
            and stat.S_ISDIR(st.st_mode)
            and not _empty_dir(parent, name)
        ):
            self.report.kept.append(rel)
            return False
        if self.dry_run:
            return True
        if stat.S_ISDIR(st.st_mode):
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
            try:
                os.fchmod(fd, stat.S_IMODE(st.st_mode) | stat.S_IRWXU)
                for child in map(os.fsencode, os.listdir(fd)):
                    cst = _lstat(fd, child)
                    if cst is not None:
                        self._remove(fd, child, rel + b"/" + child, cst, in_way=False)
            finally:
                os.close(fd)
            os.rmdir(name, dir_fd=parent)
        else:
            os.unlink(name, dir_fd=parent)
        return True


def _empty_dir(parent: int, name: bytes) -> bool:
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    try:
        return not os.listdir(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _lstat(parent: int, name: bytes) -> os.stat_result | None:
    if parent < 0:
        return None
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None
