"""A restore's plan (store/restorer.py): every tree of the selection read and checked
(store.validate) before anything is written, so that a hostile one writes nothing; the
checked trees kept for writing as their stored bytes (within TREE_BYTES); where every
object lies (one pass over the index: _scan, store/restore_locs.py); for a big snapshot,
the trees below every other folder of a wide level checked by a forked child (_Planner).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sqlite3
from collections.abc import Callable

from git_snapshot.errors import UserError
from git_snapshot.store import forked
from git_snapshot.store import restore_locs
from git_snapshot.store import validate
from git_snapshot.store.core import Store
from git_snapshot.store.index import Location
from git_snapshot.store.index import Snapshot
from git_snapshot.store.index import uri_path
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.restore_write import _Loc
from git_snapshot.store.restore_write import _native
from git_snapshot.store.validate import show

PARALLEL_MIN = 512  # files: a smaller restore is written by the calling thread alone
WHOLE = 4 << 20  # a file up to this size is read whole and checked before it is created

# bytes of the trees the plan read and checked, kept for writing as they are stored (about
# 75 bytes an entry: L's 230,000 take 17 MB) and made entries again there, one folder at a
# time: kept as entries (~300 bytes each), they were most of a big restore's peak memory
TREE_BYTES = 32 << 20
SCAN_RATIO = 3  # locate by one pass over the index when it holds at most this many objects
#                 per file to restore (else by key: a big store, a small restore)
LOCATED_MAX = 100_000  # locations kept at once (about 30 MB); beyond, each job looks its up
SHARED = 64 << 10  # contents up to this size that several files hold are kept once read
SPLIT: bool | None = None  # tests: the plan always (True) or never (False) shared; None: auto
SPLIT_MIN = 8192  # files of a snapshot below which one process checks its trees alone
FRONTIER = 64  # folders of a level checked first: a share of them goes to the child
# the share of them the child checks (spread evenly over the level): this process scans the
# index besides; measured on M, half each left it ~65 ms of a 0.2 s plan alone at the end
CHILD_SHARE = 0.6


GIT = b".git"


def refuse_git_dir_on_way(target: str) -> None:
    """Restore never writes into a git directory (a hook planted there is run by git): a
    *target* with one on the way, as written or with its symlinks resolved, is refused in one
    line (UserError). No git is run: the command line's restore and the API's both check."""
    for path in (os.path.abspath(target), os.path.realpath(target)):
        found = _git_dir_on_way(path)
        if found is not None:
            raise UserError(refused_into(target, found))


def refused_into(target: str, git_dir: str) -> str:
    return (
        f"refusing to restore into {show(os.fsencode(target))}: that is inside the git "
        f"directory {show(os.fsencode(git_dir))}; name a directory outside it"
    )


def _git_dir_on_way(path: str) -> str | None:
    """The first folder on the way to *path* (itself included) that is a git directory: one
    named .git (there or not), or one holding what git looks for in one (HEAD, objects/,
    refs/: a bare repository, a --separate-git-dir); None when there is none."""
    parts = path.rstrip("/").split("/")
    for i in range(2, len(parts) + 1):
        folder = "/".join(parts[:i])
        if parts[i - 1] == ".git" or _looks_like_git_dir(folder):
            return folder
    return None


def _looks_like_git_dir(folder: str) -> bool:
    """git's own test (setup.c is_git_directory): HEAD, objects/ and refs/ are there; not
    in a worktree's top (a .git there: files of those names are the project's)."""
    return (
        not os.path.lexists(os.path.join(folder, ".git"))
        and os.path.lexists(os.path.join(folder, "HEAD"))
        and os.path.isdir(os.path.join(folder, "objects"))
        and os.path.isdir(os.path.join(folder, "refs"))
    )


def git_dir_there(target: str, parts: list[bytes]) -> bytes | None:
    """The first ``.git`` below the top on the way *parts* (a path in a snapshot) that is
    there in *target*, reached through folders (not a symlink: a restore replaces one, and
    writes nothing behind it); None when there is none."""
    if GIT not in parts[1:]:
        return None
    try:
        fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None  # made by the restore (or a dry run's that is not there): nothing in it
    try:
        for i, part in enumerate(parts):
            if part == GIT and i > 0:
                try:
                    os.stat(part, dir_fd=fd, follow_symlinks=False)
                except OSError:
                    return None
                return b"/".join(parts[: i + 1])
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:
                return None
            os.close(fd)
            fd = inner
        return None
    finally:
        os.close(fd)


def _outermost(
    found: list[tuple[list[bytes], list[Entry], Entry | None]],
) -> list[tuple[list[bytes], list[Entry], Entry | None]]:
    """*found* without the paths a named folder of it holds (or named twice): restored with
    that folder, once. Restored apart, the one below a read-only folder opened it up (u+rwx)
    to write into it: the folder, restored first, was left so; restored after, it was looked
    at with the mode the restore had given it, a change the guard named NOT WRITTEN."""
    folders = {b"/".join(parts) for parts, _, entry in found if entry is None or entry.kind == DIR}
    out, seen = [], set()
    for item in found:
        parts = item[0]
        rel = b"/".join(parts)
        if rel not in seen and not any(b"/".join(parts[:i]) in folders for i in range(len(parts))):
            seen.add(rel)
            out.append(item)
    return out


class Planning:
    """The plan's half of restorer.Restorer (the attributes are its own, set there)."""

    store: Store
    never: frozenset[bytes]
    target: str | None  # the directory written into, once restore() runs
    dry_run: bool
    total: int  # files (not folders) of the selection, counted while planning
    total_hint: int  # files of the snapshot (whether sharing the plan pays)
    # whether a core was idle before the writer processes were forked (None: not asked yet)
    idle: bool | None
    # the plan's folders left to this process, small contents met, the child checking
    # the others, and the root, once _share has forked it
    early: tuple[list[tuple[bytes, bytes]], set[bytes], _Planner | None, bytes] | None
    collect: bool  # the contents to locate are gathered (not in a planning child)
    trees: dict[bytes, bytes]  # checked while planning, for writing (TREE_BYTES)
    _cached: int
    want: set[bytes]  # contents of the files read whole (located at once)
    # where they lie (looked up before writing), or where every object lies (_scan)
    locs: dict[bytes, _Loc] | restore_locs.Located
    shared: set[bytes]

    def find(self, snap: Snapshot, parts: list[bytes]) -> tuple[list[Entry], Entry | None]:
        """The entries on the way to a path, and its own entry (None for the root)."""
        chain: list[Entry] = []
        tree = snap.root
        entry: Entry | None = None
        for i, part in enumerate(parts):
            rel = b"".join(p + b"/" for p in parts[:i])
            try:
                listing = validate.read_tree(self.store, tree, rel)
            except CorruptObject as exc:  # a folder on the way: name what cannot be restored
                where = f"the folder {show(rel.rstrip(b'/'))}" if rel else "its top folder"
                raise UserError(
                    f"cannot restore {show(b'/'.join(parts))}: {where} is damaged in snapshot "
                    f"{snap.id} ({exc}); see which snapshots and paths with: "
                    "git snapshot verify --read-data"
                ) from exc
            found = [e for e in listing if e.name == part]
            if not found or (i < len(parts) - 1 and found[0].kind != DIR):
                raise UserError(
                    f"{show(b'/'.join(parts))} is not in snapshot {snap.id}; "
                    f"see: git snapshot show {snap.id}"
                )
            entry = found[0]
            if i < len(parts) - 1:
                chain.append(entry)
                tree = entry.ref
        return chain, entry

    def refuse(
        self, snap: Snapshot, selections: list[list[bytes]], target: str | None = None
    ) -> list[tuple[list[bytes], list[Entry], Entry | None]]:
        """Each selection with its way and entry (``find``); a UserError for one under the
        names never written, one in (or being) a repository's git directory below the top
        that is there in *target* (as the top one, it is never written: a nested repository's
        refs, reflog and index rewound would leave its newer commits in no ref), or one the
        snapshot lacks, before anything is written."""
        target = target if target is not None else self.target
        for parts in selections:
            if parts and parts[0] in self.never:
                raise UserError(
                    f"refusing to restore {show(b'/'.join(parts))}: restore never writes "
                    f"into {show(parts[0])}"
                )
            held = git_dir_there(target, parts) if target is not None else None
            if held is not None:
                raise UserError(
                    f"refusing to restore {show(b'/'.join(parts))}: {show(held)} is a "
                    "repository's git directory, and restore never writes into one that is "
                    "there; restore it elsewhere with --to DIR"
                )
        return [(parts, *self.find(snap, parts)) for parts in selections]

    def _prepare(
        self, snap: Snapshot, selections: list[list[bytes]]
    ) -> list[tuple[list[bytes], list[Entry], Entry | None]]:
        """Locate (a whole snapshot: _scan) and plan. For a big one, the first levels of its
        trees are checked first and CHILD_SHARE of the folders of the next level go to a
        forked child (_Planner), which checks the trees below them while this process scans
        the index and checks the rest (_share)."""
        self.total_hint = snap.files
        whole = selections == [[]] and not self.dry_run and snap.files >= PARALLEL_MIN
        count = self._scannable(snap.files) if whole else 0
        if count:
            if self._splitting():
                self._share(snap.root)
            try:
                self._scan(count)  # the trees are read with the locations it finds too
            except BaseException:
                if self.early is not None and self.early[2] is not None:
                    self.early[2].kill()
                raise
        return self._plan(snap, selections)

    def _plan(
        self, snap: Snapshot, selections: list[list[bytes]]
    ) -> list[tuple[list[bytes], list[Entry], Entry | None]]:
        found = _outermost(self.refuse(snap, selections))
        for parts, _chain, entry in found:
            # damaged listings are skipped here and named while writing
            if entry is None:
                self._check(snap.root, b"")
            elif entry.kind == DIR:
                self._check(entry.ref, b"/".join(parts) + b"/")
            else:
                self.total += 1
        return found

    def _check(self, tree: bytes, rel: bytes) -> None:
        """Read and check every tree below *tree* (validate.read_tree: an unsafe one raises),
        depth first as validate.walk does; a damaged listing is skipped here and named while
        writing. Counted per tree in C loops rather than per entry: planning runs before any
        writer starts. For a big whole snapshot, _share has checked the first levels already
        and left part of the next one to a forked child, whose answer is taken at the end."""
        seen: set[bytes] = set()  # small contents met once (a second time: shared)
        stack = [(tree, rel)]
        other = None
        if self.early is not None and rel == b"" and tree == self.early[3]:
            stack, seen, other, _ = self.early
            self.early = None
        try:
            self._visit_all(stack, seen)
        except BaseException:
            if other is not None:
                other.kill()
            raise
        if other is not None:
            self._merge(other, seen)

    def _share(self, root: bytes) -> None:
        """Check the first levels of the trees below *root* (breadth first, until a level
        holds FRONTIER folders) and fork a child to check the trees below CHILD_SHARE of
        that level's folders (the rest, and the index scan, are left to this process: the
        child ends about when this process does)."""
        seen: set[bytes] = set()
        stack = [(root, b"")]
        while stack and len(stack) < FRONTIER:
            stack = [sub for key, path in stack for sub in self._visit(key, path, seen)]
        theirs = _share_of(len(stack), CHILD_SHARE)
        other = _Planner.start(self, [sub for sub, t in zip(stack, theirs) if t])
        if other is not None:
            stack = [sub for sub, t in zip(stack, theirs) if not t]
        stack.reverse()  # popped from the end: in walk order
        self.early = (stack, seen, other, root)

    def _splitting(self) -> bool:
        """Whether the plan may share its work with a forked child: the snapshot is big, a
        second core is likely idle (the child and its answer cost about 0.25 s more CPU on
        M: on a busy machine that only slows the plan down, as diff's second process does;
        looked at before the writer processes were forked: starting, they took the idle core's
        place in the kernel's count, and the plan of M went unshared in most runs),
        and no other thread runs here (a fork copies one thread: never beside one holding a
        lock)."""
        if SPLIT is not None:
            return SPLIT and hasattr(os, "fork")
        idle = forked.idle_core() if self.idle is None else self.idle
        return self.total_hint >= SPLIT_MIN and idle and forked.possible()

    def _visit(
        self, key: bytes, path: bytes, seen: set[bytes], loc: Location | None = None
    ) -> list[tuple[bytes, bytes]]:
        """Read and check one tree, keep it for writing, count it; its folders (key, path).
        *loc*: where it lies (None: in self.locs, or the index is asked)."""
        if loc is None and self.locs:
            loc = self._located(key)
        whole = WHOLE if self.collect and not self.locs else -1  # (else none to collect)
        try:
            data = self.store.read_object(key, loc)
            got = _plan_tree(data, path, SHARED, whole)
            if got is None:  # not as validate.checked accepts: the slow way names why
                got = _plan_tree_py(data, path, SHARED, whole)
        except CorruptObject:  # not UnsafeTree (a UserError): a crafted tree stops all
            return []
        self._keep(key, data)
        subs, files, small, want = got
        self.total += files  # progress's total: files and links
        if small:
            shared = self.shared
            shared.update(seen.intersection(small))
            seen.update(small)
            if len(set(small)) != len(small):  # the same content twice in one folder
                once: set[bytes] = set()
                for r in small:
                    if r in once:
                        shared.add(r)
                    once.add(r)
        if want:
            self.want.update(want)
        return subs

    def _plan_part(self, part: list[tuple[bytes, bytes]], budget: int) -> bytes:
        """In the forked child: check the trees below *part* as _check does and answer
        (marshal) the files and links counted, the checked trees' keys and bytes (at most
        *budget* bytes: what the parent may still keep), the small contents met and those
        met twice. The
        parent's SQLite connection is never used here (not across a fork): the trees are
        located through a read-only connection of the child's own, which records nothing (a
        damaged tree is skipped, and recorded by the parent, which reads it again)."""
        index = self.store.index
        # (as Index opens it: urllib.parse, which the parent never imports, was ~6 ms of
        # this child's CPU in the middle of the plan)
        uri = f"file:{uri_path(index.path)}?mode=ro"
        index.db = sqlite3.connect(uri, uri=True, isolation_level=None)
        self.collect = False
        self.total, self.trees, self._cached = 0, {}, TREE_BYTES - budget
        self.shared = set()
        seen: set[bytes] = set()
        level = part
        while level:  # level by level: each located in a few queries
            where = index.locate_many([key for key, _ in level])
            level = [
                sub for key, path in level for sub in self._visit(key, path, seen, where.get(key))
            ]
        keys, trees = list(self.trees), list(self.trees.values())
        return marshal.dumps((self.total, keys, trees, list(seen), list(self.shared)))

    def _visit_all(self, stack: list[tuple[bytes, bytes]], seen: set[bytes]) -> None:
        """Check the trees of *stack* (key, path; popped from the end) and all below them,
        depth first in walk order."""
        while stack:
            key, path = stack.pop()
            subs = self._visit(key, path, seen)
            if subs:
                subs.reverse()
                stack.extend(subs)

    def _merge(self, other: _Planner, seen: set[bytes]) -> None:
        """Take the child's answer, or check its part here when there is none (it died,
        could not fork its answer, met a damaged or unsafe tree, or sent anything but a
        well-formed answer for the trees it was given)."""
        got = other.take()
        if got is None:
            self._visit_all(list(reversed(other.part)), seen)
            return
        total, keys, trees, theirs, shared = got
        self.total += total
        for key, data in zip(keys, trees):
            self._keep(key, data)
        self.shared.update(shared)
        self.shared.update(seen.intersection(theirs))
        seen.update(theirs)

    def _located(self, key: bytes) -> Location | None:
        loc = self.locs.get(key)
        return None if loc is None else Location(*loc[:4], type=0, inner=loc[4])

    def _keep(self, key: bytes, data: bytes) -> None:
        """Keep a checked tree's bytes for writing, while they fit in TREE_BYTES."""
        if self._cached + len(data) <= TREE_BYTES:
            self.trees[key] = data
            self._cached += len(data)

    def _tree(self, key: bytes, rel: bytes) -> list[Entry]:
        """The entries of a tree to write: made from its bytes kept by the plan (checked by
        ``validate.checked`` here, or by the planning child and their SHA-256 its key: the
        same bytes, so not checked again), else read and checked again."""
        data = self.trees.pop(key, None)
        if data is None:
            return validate.read_tree(self.store, key, rel)
        return validate.unchecked(data)

    def _scannable(self, files: int) -> int:
        """The objects of the index when _scan pays (else 0): the index holds at most
        SCAN_RATIO objects per file of the snapshot (a store of this tree's snapshots; else
        the files' contents are looked up by key after planning)."""
        count = self.store.index.object_count()
        return count if count <= SCAN_RATIO * files and count <= restore_locs.LIMIT else 0

    def _scan(self, count: int) -> None:
        """Where every object lies, by one pass over the index in storage order: a dict for
        at most LOCATED_MAX objects, else compact (store/restore_locs.py: a third of the
        memory, each lookup ~3x slower)."""
        index = self.store.index
        if count > LOCATED_MAX:
            self.locs = restore_locs.Located(index)
            return
        # one query, one comprehension (it runs before any writer starts): 0.36 -> 0.20 s of
        # CPU on M where a query per pack built a list per pack first
        names = {pack_id: name for pack_id, (name, _) in index.gc_packs().items()}
        rows = index.db.execute(  # (recent: store/index.py; objects' row wins, read last)
            " UNION ALL ".join(
                f"SELECT key, pack, offset, length, size, member FROM {table}"
                for table in index.tables()
            )
        )
        # (a BLOB is bytes: bytes(k) cost 8-25 ms of CPU on M's 70k rows; the rows' fetch is
        # the rest but ~15 ms of it, which a C loop building the dict did not shorten)
        self.locs = {k: (names[p], o, n, s, i) for k, p, o, n, s, i in rows}

    def _locate_all(self) -> None:
        """Where the contents of the files to be read whole lie, looked up by key in a few
        queries before writing (when _scan did not)."""
        locs: dict[bytes, _Loc] = {}
        self.locs = locs
        for key, loc in self.store.index.locate_many(self.want).items():
            locs[key] = (loc.pack, loc.offset, loc.length, loc.size, loc.inner)


# _plan_tree's answer: a tree's folders (key, path), its files and links counted, the keys of
# its files of at most *shared* bytes, and of those of at most *whole* bytes
_Planned = tuple[list[tuple[bytes, bytes]], int, list[bytes], list[bytes]]


def _plan_tree_py(data: bytes, path: bytes, shared: int, whole: int) -> _Planned:
    """What the plan takes of one tree's bytes (its key checked by the caller), checked as
    validate.check_tree checks them (UnsafeTree, CorruptObject): its folders as (key, *path*
    + name + "/"), the count of its files and links, the keys of its files of at most
    *shared* bytes, and of those of at most *whole* bytes (none for a *whole* below 0). The
    specification of _ctree.plan_tree, which answers the same without making an entry (None
    for bytes validate.checked does not accept as they are: then this one runs)."""
    entries = validate.check_tree(data, path)
    subs = [(e.ref, path + e.name + b"/") for e in entries if e.kind == DIR]
    files = [e for e in entries if e.kind == FILE]
    small = [e.ref for e in files if e.size <= shared] if shared >= 0 else []
    want = [e.ref for e in files if e.size <= whole] if whole >= 0 else []
    return subs, len(entries) - len(subs), small, want


# (restore_write._native: None without the C module, or a build from before plan_tree)
_plan_tree: Callable[[bytes, bytes, int, int], _Planned | None] = (
    _native("plan_tree") or _plan_tree_py
)


def _share_of(n: int, share: float) -> list[bool]:
    """Which of *n* folders go to the child: about *share* of them, spread evenly (folders
    of one level side by side are often alike: a package's, its neighbour's)."""
    return [int((i + 1) * share) > int(i * share) for i in range(n)]


# A planning child's answer: files and links counted, the checked trees' keys and bytes, the
# small contents met and those met twice.
_Answer = tuple[int, list[bytes], list[bytes], list[bytes], list[bytes]]


class _Planner:
    """The forked child checking *part* (folders: key, path) of a plan (store/forked.py),
    killed and reaped once its answer is read, or at once when the plan fails here."""

    def __init__(self, child: forked.Child, part: list[tuple[bytes, bytes]]) -> None:
        self.child, self.part = child, part

    @staticmethod
    def start(restorer: Planning, part: list[tuple[bytes, bytes]]) -> _Planner | None:
        """The child, forked; None when there is nothing to share or no fork or pipe."""
        if not part:
            return None
        budget = max(TREE_BYTES - restorer._cached, 0)

        def work(w: int) -> None:
            try:
                data = restorer._plan_part(part, budget)
            except BaseException:
                data = marshal.dumps(None)
            forked.write_all(w, data)

        # room for 1 MB of its answer (M's: 4-5 MB): read in a few reads, not 64 KB each
        child = forked.start(work, pipe_size=1 << 20)
        return None if child is None else _Planner(child, part)

    def take(self) -> _Answer | None:
        """The child's answer, once it has ended; None unless whole and well formed."""
        return _answer(self.child.read_all())

    def kill(self) -> None:
        self.child.stop()


def _answer(data: bytes) -> _Answer | None:
    """A planning child's answer when it has the form _plan_part gives, each tree's bytes
    those of its key (so the tree the child checked); None otherwise."""
    try:
        got = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if type(got) is not tuple or len(got) != 5:
        return None
    total, keys, trees, seen, shared = got
    if type(total) is not int or total < 0:
        return None
    lists = (keys, trees, seen, shared)
    if any(type(x) is not list for x in lists) or len(keys) != len(trees):
        return None
    if set(map(type, keys + trees + seen + shared)) - {bytes}:
        return None
    sha256 = hashlib.sha256
    if any(sha256(tree).digest() != key for key, tree in zip(keys, trees)):
        return None
    return total, keys, trees, seen, shared
