"""A second process for the walk of a big tree that mostly did not change.

Most snapshots find most of the tree as the files cache remembers it, and then the walk is
one ``lstat`` per entry and a comparison with the record: work that fills one core while the
other idles. So, when the cache describes a big tree, the walk forks once at its start. The
tree is cut into *units* (disjoint folders of at most 1/UNITS of its files, in the order a
walk meets them). The child takes the units from the last one backwards, walks each with the
archiver's own walker, and tells the parent which folders of the unit kept their records as
they were (nothing read, nothing stored): the unit itself when nothing in it changed, else
the biggest unchanged folders inside it. The parent walks from the front as always; at a
folder the child has found unchanged it takes the records instead of walking, and anything
else (not reached yet, changed, or anything unusual) it walks itself. The parent never waits
for the child and the child never writes anything but its answers: the two meet about
halfway, and the snapshot is the one a single walk makes (tests/test_splitwalk.py).

A folder that changed is answered too when all it needs stored is new trees and small files
read unchanged: the child reads and hashes those files (the files cache learns them as a
walk would) and sends, with the folder's new records, the trees and each file's path and
key. The parent stores the trees and reads each file again; a file whose bytes no longer
give the child's key, or a tree whose bytes do not give its key, and the parent walks the
folder itself. Every answer names everything it needs stored: the child never counts on
an earlier answer, which the parent may not have taken.

The child cannot store: its store is gone and its writer takes only trees, so a folder
that would need anything else (a big file, a file that changed while read, a skipped path)
is not answered, nor is any folder above it. It ends with ``os._exit`` (no finalizer, no
lock release, no SQLite handle touched) and is killed when the walk ends. Forking is only
done with no other thread running (none is, at the start of a walk), on a machine with at
least two cores.
"""

from __future__ import annotations

import marshal
import os
import stat

from git_snapshot.ctx import suppress
from git_snapshot.store import archiver
from git_snapshot.store import filescache
from git_snapshot.store import forked
from git_snapshot.store import lstats
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import TREE
from git_snapshot.store.objects import Entry
from git_snapshot.store.reading import _read_listed
from git_snapshot.store.reading import open_file
from git_snapshot.store.walker import NAMES_TRUSTED

# a record the child wrote with both flags: its folder's own stat older than the walk by
# RACY_NS (NAMES_TRUSTED) and nothing gone or changed as it was read (REUSABLE)
_SETTLED = NAMES_TRUSTED | filescache.REUSABLE

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import hashlib
    from typing import Any

    # an answer: (folder, its folders, their changed records, the trees and files they need)
    Answer = tuple[
        bytes, list[bytes], list[tuple[bytes, bytes]], list[tuple[bytes, bytes]], list[Any]
    ]
else:
    from git_snapshot import hashes as hashlib  # OpenSSL loaded on first use

MIN_FILES = 20_000  # below this the fork and the answers cost about what they save
# A file that each split walk appends to what both processes did and when (_Trace): where
# they met, each unit's time, how long each ran and waited for a core, its page faults
TRACE_ENV = "GIT_SNAPSHOT_SPLIT_TRACE"
UNITS = 64  # the tree is cut into about this many pieces
WAIT = False  # tests: the parent waits for the child's answer at each unit (never otherwise)
READ_LIMIT = 1 << 20  # the child reads files smaller than this (the parent reads them again)
_NO_KEY = bytes(32)  # the key the child gives a file it does not read
_LEN = 4
_K = filescache.KEY
_H, _S = filescache.HEAD.size, filescache.STAT.size
_packed = archiver._packed_stats


class _Refused(Exception):
    """The child met something a snapshot would have to store: not its job."""


class _Stop(Exception):
    """The parent took the unit the child is walking: the child leaves it."""


class _TreeWriter:
    """The child's writer: the trees it is given are noted for the answers; anything else
    means the folder is not answered."""

    def __init__(self) -> None:
        self.trees: list[tuple[bytes, bytes]] = []

    def add(self, kind: int, key: bytes, data: bytes, dedupe: bool | bytes = False) -> None:
        if kind != TREE or type(data) is not bytes:
            raise _Refused("add")
        self.trees.append((key, data))

    def __getattr__(self, name: str) -> Any:
        raise _Refused(name)


class _NothingPending(set[bytes]):
    """The child's ``walker.pending``: nothing is, so every answer names all it needs."""

    def add(self, key: bytes) -> None:
        pass


class _Trace:
    """A split walk's trace (TRACE_ENV): lines ``WHO EVENT MS FIELDS...``, WHO P (parent)
    or C (child), MS since the walk started (a monotonic clock both processes share); each
    line one ``write`` to a file opened for appending. Off unless TRACE_ENV names a file:
    then nothing is timed."""

    def __init__(self, path: str) -> None:
        import time

        self.clock = time.perf_counter
        self.t0 = self.clock()
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def put(self, who: str, event: str, *fields: object) -> None:
        line = f"{who} {event} {(self.clock() - self.t0) * 1000:.3f}"
        with suppress(OSError):  # only a trace
            os.write(self.fd, " ".join([line, *map(str, fields)]).encode() + b"\n")

    @staticmethod
    def usage() -> str:
        """This process's CPU time and its wait for a core (ms, from /proc/self/schedstat),
        and its minor page faults."""
        import resource

        try:
            with open("/proc/self/schedstat", "rb") as f:
                run, wait = (int(x) / 1e6 for x in f.read().split()[:2])
        except (OSError, ValueError):
            run = wait = -1.0
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        return f"run={run:.1f} wait={wait:.1f} minflt={faults}"


def _valid(answer: Any) -> Answer | None:
    """*answer* if it has the shape the child gives, else None."""
    if type(answer) is not tuple or len(answer) != 5:
        return None
    rel, heres, new, trees, blobs = answer
    if not (
        type(rel) is bytes
        and type(heres) is list
        and all(type(h) is bytes for h in heres)
        and all(type(x) is list for x in (new, trees, blobs))
    ):
        return None
    below = rel + b"/"
    if not all(h == rel or h.startswith(below) for h in heres):
        return None  # folders outside the one answered for
    for pairs in (new, trees, blobs):
        for p in pairs:
            if not (type(p) is tuple and len(p) == 2 and type(p[0]) is type(p[1]) is bytes):
                return None
    return answer


WITNESSES = 16  # keys of an answer _stored looks for in a tree's bytes, the last given first


def _stored(walker: Any, trees: list[tuple[bytes, bytes]], blobs: list[Any]) -> bool:
    """The files and trees a changed folder's answer needs, stored; False (some may be)
    when a file's bytes or a tree's no longer give the key the child found."""
    pending, writer = walker.pending, walker.writer
    for path, key in blobs:
        if key in pending:
            continue
        data = _read_small(path)
        if data is None or hashlib.sha256(data).digest() != key:
            return False
        writer.add(BLOB, key, data, dedupe=True)
        pending.add(key)
        walker.misses += 1
    # a tree holding a key of this answer's (its file's, a folder's in it) names it to the
    # writer, which then asks the index about the tree only if the store may hold that key
    # (PackWriter._have); the trees come folders first, so the last ones are tried first
    given = [key for _, key in blobs]
    for key, data in trees:
        if key in pending:
            continue
        if hashlib.sha256(data).digest() != key:
            return False
        last = given[-1] if given else None
        if last is not None and last in data:  # (mostly: a folder's tree after its last file's)
            seen: bytes | None = last
        else:
            seen = next((k for k in reversed(given[-WITNESSES:-1]) if k in data), None)
        writer.add(TREE, key, data, dedupe=seen or True)
        pending.add(key)
        given.append(key)
    return True


def _read_small(path: bytes) -> bytes | None:
    """The bytes of the regular file at *path* (a file the child listed as one, under
    READ_LIMIT), or None: open, fstat, one read, close. Nothing else is checked: only bytes
    that give the child's key are stored, under that key (read_whole's lstat before the open
    and fstat after the read: two system calls more per file, for a stability the hash
    check gives here)."""
    try:
        fd = open_file(path)
    except (OSError, ValueError):  # (ValueError: a NUL in the path, not the child's)
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size >= READ_LIMIT:
            return None
        return os.read(fd, st.st_size + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


class _Dirs(dict):  # type: ignore[type-arg]
    """The child's ``walker.dirs``: the folders in the order the walk added their records,
    and how many records were set that are not the files cache's own (*old*) object: while
    that count stays, no folder walked since has a new record (the check costs nothing)."""

    def __init__(self, old: dict[bytes, bytes]) -> None:
        super().__init__()
        self.order: list[bytes] = []
        self.old = old
        self.new = 0

    def __setitem__(self, rel: bytes, rec: bytes) -> None:
        if rel not in self:
            self.order.append(rel)
        if rec is not self.old.get(rel):
            self.new += 1
        dict.__setitem__(self, rel, rec)


def _subfolders(rec: bytes, n: int) -> list[bytes]:
    """The names of the folders a record lists, in its (the directory's) order."""
    names = rec[_H + (_S + _K) * n :].split(b"\0")
    if len(names) != n:
        return []
    kinds = filescache.kinds(rec[_H : _H + _S * n])
    return [names[i] for i in range(n) if kinds[i] == ord("d")]


def units(dirs: dict[bytes, bytes]) -> list[bytes]:
    """Disjoint folders (relative, no trailing '/') in the order a walk meets them, each of at
    most 1/UNITS of the files the root's record counts; [] if that is under MIN_FILES. A
    folder (not the root) with more entries of its own than that is met first as its
    *pieces* (``piece``: runs of its record's entries, in its order), whose lstats either
    process may take, then as its folders' units (npm's @mui/icons-material: 43,000 of a
    77,000-file tree's files in one folder, which no unit could cut)."""
    root = filescache.parse(dirs.get(b""))
    if root is None or root[1] < MIN_FILES:
        return []
    limit = max(root[1] // UNITS, 1)
    out: list[bytes] = []
    # depth first, in each record's order (the walk's): a folder too big to be a unit is
    # cut where the walk meets it, before the folders that follow it (n -1: a unit)
    todo: list[tuple[bytes, int]] = [(b"", root[8])]
    while todo:
        rel, n = todo.pop()
        if n < 0:
            out.append(rel)
            continue
        if rel and n > limit:  # its own entries, first (the walk lstats them, then recurses)
            count = -(-n // limit)
            out += [piece(rel, n * k // count, n * (k + 1) // count) for k in range(count)]
        rec = dirs[rel]
        here = []
        for name in _subfolders(rec, n):
            sub = rel + b"/" + name if rel else name
            head = filescache.parse(dirs.get(sub))
            if head is not None:
                here.append((sub, head[8] if head[1] > limit else -1))
        todo += reversed(here)
    return out


def piece(rel: bytes, start: int, end: int) -> bytes:
    """The unit that is the entries start..end (in its record's order) of the folder *rel*:
    a NUL, never in a path, sets it apart from a folder's."""
    return b"%s\0%d:%d" % (rel, start, end)


def _piece_of(unit: bytes) -> tuple[bytes, int, int] | None:
    """(folder, start, end) of a piece's unit; None for a folder's."""
    rel, nul, span = unit.rpartition(b"\0")
    if not nul:
        return None
    start, _, end = span.partition(b":")
    return rel, int(start), int(end)


def _labels(walker: Any, rel: bytes) -> int:
    """The label of the folder holding *rel*, as the walk passes it down."""
    label = 0
    if walker.classify is None:
        return label
    parts = rel.split(b"/")[:-1]
    for i in range(len(parts)):
        if label == walker.inherit:
            break  # every folder below has it (no call)
        label = walker.classify(b"/".join(parts[: i + 1]), True, label)
    return label


class Split:
    """The parent's side: the child's answers, read as they come, never waited for."""

    def __init__(
        self,
        child: forked.Child,
        order: list[bytes],
        passed: Any,
        trace: _Trace | None = None,
        walker: Any = None,
    ) -> None:
        self.child = child
        self.trace = trace
        # the parent's walker: what a changed folder's answer needs is stored soon after the
        # answer comes (_early: the next take), not when the walk reaches the folder
        self.walker = walker
        self.early: list[tuple[bytes, Answer]] = []  # (unit, answer) drained, not stored yet
        # the units (paths relative to the root, no trailing '/') and their places in *passed*
        self.order = {rel: i for i, rel in enumerate(order)}
        self.passed = passed  # shared with the child: a byte per unit, 1 once the parent took it
        # the folders cut into pieces: folder -> (unit, start, end, the unit's name) of each
        self.pieces: dict[bytes, list[tuple[int, int, int, bytes]]] = {}
        for i, unit in enumerate(order):
            cut = _piece_of(unit) if b"\0" in unit else None
            if cut is not None:
                self.pieces.setdefault(cut[0], []).append((i, cut[1], cut[2], unit))
        self.lent: set[bytes] = set()  # pieces the child found as recorded
        self.done: dict[bytes, Answer] = {}  # folder -> the child's answer for it
        self.ended: set[bytes] = set()  # units the child has answered for (WAIT reads it)
        self.buf = b""
        self.used = 0  # folders taken from the child (tests and benchmarks read it)
        self.used_changed = 0  # of which changed

    def _drain(self) -> None:
        child = self.child
        while child.fd >= 0:
            try:
                got = os.read(child.fd, 1 << 20)
            except BlockingIOError:
                break  # all there is for now: parse it
            except OSError:
                got = b""
            if not got:  # the child is done (or gone)
                os.close(child.fd)
                child.fd = -1
                break
            self.buf += got
        buf, at = self.buf, 0
        while len(buf) - at >= _LEN:
            size = int.from_bytes(buf[at : at + _LEN], "little")
            if len(buf) - at - _LEN < size:
                break
            try:
                unit, answers = marshal.loads(buf[at + _LEN : at + _LEN + size])
                self.ended.add(unit)
                if answers is True:  # a piece (the child sends no other True)
                    self.lent.add(unit)
                    answers = ()
                for answer in answers:
                    if (ok := _valid(answer)) is not None:
                        self.done[ok[0]] = ok
                        if ok[2] and self.walker is not None:
                            self.early.append((unit, ok))
            except (ValueError, EOFError, TypeError):
                pass  # not an answer: those folders are walked here
            at += _LEN + size
        self.buf = buf[at:]

    def _early(self) -> None:
        """The files and trees the changed folders' answers drained so far need, stored now
        (by ``take``, never inside a listing's FileNotFoundError handling, as ``stats``
        drains), when their unit is not the parent's yet (they will be taken). Then the take
        finds them stored and only checks the folder, so that after the two processes meet
        the parent has little left to do but take the answers: it stored them, for its part,
        while the other process still walked. Stored only as ``_stored`` stores them (every
        file read again, checked against the child's key), and the answer is dropped if that
        fails: the folder is then walked here. What an answer not taken stored is only
        unnamed."""
        todo, self.early = self.early, []
        for unit, answer in todo:
            i = self.order.get(unit)
            if i is None or self.passed[i] or self.done.get(answer[0]) is not answer:
                continue  # the parent's own already (the take stores it), or replaced
            if not _stored(self.walker, answer[3], answer[4]):
                del self.done[answer[0]]

    def _claim(self, i: int, unit: bytes, done: Any) -> bool:
        """The unit *i* is the parent's from now on; whether *done* (the child's answers)
        has *unit* by then (WAIT: once the child has answered or left it)."""
        self.passed[i] = 1
        if unit not in done:
            self._drain()
            while WAIT and unit not in self.ended and self.child.fd >= 0:
                import select

                select.select([self.child.fd], [], [], 5)
                self._drain()
        if self.trace is not None:
            self.trace.put("P", "unit", i, "answered" if unit in done else "walks")
        return unit in done

    def stats(self, walker: Any, here: bytes, des: list[Any]) -> tuple[bytes, bool]:
        """The packed lstats of *des*, the listing of the folder *here*, as
        ``archiver._packed_stats`` gives them, and whether they are lent. For a folder cut
        into pieces whose names are its record's, and whose every piece has its recorded
        lstats (by the child's lstats or by this process's), they are the record's own:
        lent, True. Then not every DirEntry holds its lstat, and a walk that goes on entry
        by entry (a folder below changed) takes them all here (``restat``). Anything else:
        every lstat here. Raises FileNotFoundError as _packed_stats does."""
        cut = self.pieces.get(here)
        if cut is None:
            return _packed(des), False
        passed = self.passed
        old = walker.old_dirs.get(here)
        head = filescache.parse(old)
        n = len(des)
        if (
            head is None
            or head[8] != n
            or cut[-1][2] != n
            or old[_H + (_S + _K) * n :] != b"\0".join([de.name for de in des])
        ):
            for i, *_ in cut:
                passed[i] = 1  # not for the child either
            return _packed(des), False
        parts = []
        lent = False
        for i, start, end, unit in cut:
            if not passed[i] and self._claim(i, unit, self.lent):
                parts.append(old[_H + _S * start : _H + _S * end])
                lent = True
            else:
                parts.append(_packed(des[start:end]))
        stats = b"".join(parts)
        if lent and stats != old[_H : _H + _S * n]:
            return _packed(des), False  # a change: every lstat here (those made are kept)
        return stats, lent

    @staticmethod
    def restat(des: list[Any]) -> tuple[list[Any], bytes]:
        """Each of *des*' lstat, taken here (None: gone since it was listed), and their
        packed stats (NO_STAT for one gone): what a walk entry by entry compares with the
        record, when ``stats`` lent the record's."""
        sts: list[Any] = []
        for de in des:
            try:
                sts.append(de.stat(follow_symlinks=False))
            except FileNotFoundError:
                sts.append(None)
        return sts, filescache.pack_stats(sts)

    def take(
        self, walker: Any, rel: bytes, name: bytes, st: os.stat_result, label: int
    ) -> Entry | None:
        """The entry of the folder *rel* as the child found it unchanged, with the walker's
        state as a walk of it would leave it; None: walk it (the usual case)."""
        i = self.order.get(rel)
        if i is not None:  # a unit: the child no longer starts it; its answers so far
            if self.passed[i]:
                return None
            self._claim(i, rel, self.done)
        elif not self.done:
            return None
        if self.early:
            self._early()
        answer = self.done.pop(rel, None)
        if answer is None:
            return None
        heres, new = answer[1], answer[2]
        old_dirs, old_skips = walker.old_dirs, walker.old_skips
        if new:
            e = self._changed(walker, rel, name, st, label, answer)
        elif any(h not in old_dirs for h in heres):
            return None
        else:
            e = walker.kept(rel, name, st, label)  # None: changed since the child looked
            if e is not None:
                dirs, skips = walker.dirs, walker.skips
                # let go of the old records as the walk's own do (_Walker._keep): what is
                # left of them after the walk names the folders gone (filescache.update
                # looks at each: L, ~25,000 taken from the child, in the thread that writes
                # the cache while the snapshot is committed)
                take = old_dirs.pop if walker.drop_old else old_dirs.get
                for h in heres:
                    rec = take(h, None)  # (None: named twice, taken already)
                    if rec is not None:
                        dirs[h] = rec
                    if h in old_skips:
                        skips[h] = old_skips[h]
        if e is None:
            return None
        if walker.opts.progress:
            walker.opts.progress(walker.files, walker.bytes)
        self.used += 1
        return e

    def _changed(
        self, walker: Any, rel: bytes, name: bytes, st: os.stat_result, label: int, answer: Answer
    ) -> Entry | None:
        """A changed folder's answer taken (what it needs stored first), as ``walker.kept``
        takes an unchanged one's; None: walk it."""
        _, heres, new, trees, blobs = answer
        recs = dict(new)
        old_dirs = walker.old_dirs
        d = filescache.summary(recs.get(rel))
        if (
            d is None
            or d[4:] != (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)  # changed since
            or any(h not in recs and (h not in old_dirs or h in walker.old_skips) for h in heres)
            or not _stored(walker, trees, blobs)
        ):
            return None
        for h in heres:
            rec = recs.get(h)
            if rec is None:
                walker.dirs[h] = old_dirs[h]
            else:
                walker.dirs[h] = rec
                walker.renewed.append(h)
                if filescache.HEAD.unpack_from(rec)[9] & _SETTLED != _SETTLED:
                    # the child's walk found it changed late, or an entry gone as it looked
                    walker._unsettled(h)  # (walker._names_stay, _vanished)
                if walker.drop_old:  # as the walk's own records do (_Walker._keep)
                    old_dirs.pop(h, None)
            walker.skips.pop(h, None)  # (the child answers no folder with skipped paths)
        walker.files += d[1]
        walker.bytes += d[2]
        walker.dirty = True
        self.used_changed += 1
        return Entry(name, DIR, stat.S_IMODE(st.st_mode), st.st_mtime_ns, 0, d[0], label)

    def close(self) -> None:
        """The walk is over: the child goes, whatever it was doing."""
        trace = self.trace
        if trace is not None:
            open_ = self.child.fd >= 0  # no end of its answers read yet
            trace.put("P", "end", f"used={self.used}", f"changed={self.used_changed}")
            trace.put("P", "usage", f"pipe_open={int(open_)}", trace.usage())
        self.child.stop()


def start(walker: Any, root: bytes) -> Split | None:
    """Fork the child for the walk of *root* that *walker* is about to start, when it pays
    and is safe; None: one process walks it all."""
    if not walker.reuse or walker.clean is not None or not forked.possible():
        return None
    todo = units(walker.old_dirs)
    if not todo:
        return None
    trace = None
    if os.environ.get(TRACE_ENV):
        try:
            trace = _Trace(os.environ[TRACE_ENV])
        except OSError:
            pass
        else:
            try:
                size = os.path.getsize(walker.cache_path)
            except OSError:
                size = -1
            trace.put(
                "P",
                "start",
                f"units={len(todo)}",
                f"records={len(walker.old_dirs)}",
                f"cache_bytes={size}",
                f"cache_load_ms={walker.load_s * 1000:.1f}",
            )
    import mmap

    try:  # (out of memory: one process walks it all)
        passed = mmap.mmap(-1, len(todo))  # shared: which units the parent took
    except OSError:
        return None
    # room for every answer in the pipe: the child never waits for the parent to read
    child = forked.start(lambda w: _child(walker, root, todo, w, passed, trace), pipe_size=1 << 20)
    if child is None:
        return None
    os.set_blocking(child.fd, False)
    if trace is not None:
        trace.put("P", "forked", f"pid={child.pid}", trace.usage())
    return Split(child, todo, passed, trace, walker)


def _child(
    walker: Any, root: bytes, todo: list[bytes], fd: int, passed: Any, trace: _Trace | None = None
) -> None:
    # signal's own alarm, without the module around it: importing signal brings enum,
    # functools and collections (20 M instructions, ~5 ms) at the start of the child's walk
    import _signal  # type: ignore[import-not-found]  # C, no stub

    if trace is not None:
        trace.put("C", "begin", trace.usage())
    _signal.alarm(600)  # never outlive a stuck parent for long
    walker.writer = writer = _TreeWriter()
    walker.pending = _NothingPending()
    walker.store = None  # no index, no SQLite handle shared with the parent
    walker.opts.progress = None  # (the child's copy)
    walker.dirs = dirs = _Dirs(walker.old_dirs)  # (the child's records are only sent)
    walker.drop_old = False  # its answers compare the records with the old ones
    blobs: list[tuple[bytes, bytes]] = []  # the files read: (path, key)
    refused = [False]  # a folder being walked holds something the child cannot answer

    def changed_file(
        path: bytes, rel: bytes, st: os.stat_result, cacheable: bool, tries: int = 0
    ) -> Any:
        walker.dirty = True
        # as listed (_read_listed: the listing's lstat is the stat before the read, its
        # fstat after it must match), else read_whole; None: changed while read, or big
        data = _read_listed(path, st) if st.st_size < READ_LIMIT else None
        if data is not None:
            fst = st
        else:
            got = archiver.read_whole(path, READ_LIMIT)
            if got is None:  # for the parent: its folder's walk goes on for the folders in it
                refused[0] = True
                return _NO_KEY, st, st.st_size, 0
            fst, data = got
        key = hashlib.sha256(data).digest()
        blobs.append((path, key))
        if cacheable:
            walker.learn(fst, key)
        return key, fst, len(data), 0

    walker._file = changed_file
    walker.read_listed = False  # every file through changed_file
    answers: list[Any] = []  # Answer, or (folder, where its folders start and end in dirs.order)
    listed: dict[bytes, list[bytes]] = {}  # the names of the folders cut into pieces
    unit = [0]
    walker._dir_entry = _answering(walker, answers, passed, unit, writer.trees, blobs, refused)
    for i in range(len(todo) - 1, -1, -1):
        if passed[i]:
            continue  # the parent got there first
        rel = todo[i]
        unit[0] = i
        cut = _piece_of(rel) if b"\0" in rel else None
        if cut is not None:  # entries of a folder: whether they are as recorded
            try:
                same = _as_recorded(walker, root, cut, passed, i, listed)
            except OSError:
                same = False
            if same:
                data = marshal.dumps((rel, True))
                os.write(fd, len(data).to_bytes(_LEN, "little") + data)
            if trace is not None:
                trace.put("C", "unit", i, f"piece={int(same)}")
            continue
        answers.clear()
        try:
            path = root + b"/" + rel
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                walker._dir_entry(path, rel, rel.rpartition(b"/")[2], st, _labels(walker, rel))
        except _Stop:
            if trace is not None:
                trace.put("C", "stopped", i)
            continue
        except OSError:
            pass
        # an unchanged folder's answer names its folders (heres) by where they are in
        # dirs.order: listed here, once per unit, not at every level of the walk
        order = dirs.order
        data = marshal.dumps(
            (rel, [a if len(a) == 5 else (a[0], order[a[1] : a[2]], [], [], []) for a in answers])
        )
        os.write(fd, len(data).to_bytes(_LEN, "little") + data)
        if trace is not None:
            trace.put("C", "unit", i, f"answers={len(answers)}")
    if trace is not None:
        trace.put("C", "end", trace.usage())


def _as_recorded(
    walker: Any,
    root: bytes,
    cut: tuple[bytes, int, int],
    passed: Any,
    i: int,
    listed: dict[bytes, list[bytes]],
) -> bool:
    """Whether the entries of a piece (folder, start, end) have the lstats its record has
    (False at the first batch that has not, or once the parent has taken the piece).
    *listed*: each folder's names, split once for all its pieces."""
    folder, start, end = cut
    rec = walker.old_dirs.get(folder)
    head = filescache.parse(rec)
    if head is None or not 0 <= start < end <= head[8]:
        return False
    n = head[8]
    names = listed.get(folder)
    if names is None:
        names = listed[folder] = rec[_H + (_S + _K) * n :].split(b"\0")
    if len(names) != n:
        return False
    base = root + b"/" + folder + b"/"
    for at in range(start, end, 64):
        if passed[i]:
            return False  # the parent's now
        to = min(at + 64, end)
        got = lstats.best(base, names[at:to])
        if got is None or got[0] != rec[_H + _S * at : _H + _S * to]:
            return False
    return True


def _answering(
    walker: Any,
    answers: list[Any],
    passed: Any,
    unit: list[int],
    trees: list[tuple[bytes, bytes]],
    blobs: list[tuple[bytes, bytes]],
    refused: list[bool],
) -> Any:
    """The child's ``walker._dir_entry``: the archiver's, noting in *answers* each folder
    it could walk without storing anything but trees and small files, with its folders and,
    if it changed, their new records and what they need stored; an answered folder's answer
    replaces the ones below it. A folder it cannot answer stands as left out, so nothing
    above it is ever answered (its answered subfolders still are)."""
    walk = type(walker)._dir_entry.__get__(walker)
    dirs: _Dirs = walker.dirs
    old, old_skips, skips = walker.old_dirs, walker.old_skips, walker.skips

    def dir_entry(path: bytes, rel: bytes, name: bytes, st: Any, label: int) -> Entry | None:
        if passed[unit[0]]:
            raise _Stop
        mark, first, dirty, was = len(dirs.order), len(answers), walker.dirty, refused[0]
        tmark, bmark, news, retaken = len(trees), len(blobs), dirs.new, len(walker.retaken)
        relists, moves = walker.relists, walker.moves
        walker.dirty = refused[0] = False
        try:
            e: Entry | None = walk(path, rel, name, st, label)
        except (_Refused, OSError, AttributeError):
            e = None
            refused[0] = True
        # a folder in it replaced or moved as it was walked (walker._retaken), listed again
        # (_relisted: its answers mix two walks), or with entries come or gone meanwhile
        # (moves: the parent's walk must count it, walker._walk): the parent walks it
        if len(walker.retaken) != retaken or walker.relists != relists or walker.moves != moves:
            e = None
            refused[0] = True
        if not (refused[0] or walker.dirty or dirs.new != news):  # the usual case, at once
            walker.dirty, refused[0] = dirty, was
            if e is not None:  # its folders: dirs.order[mark:end] (listed by _child)
                answers[first:] = [(rel, mark, len(dirs.order))]
            return e
        heres = dirs.order[mark:]
        new = [(h, dirs[h]) for h in heres if dirs[h] is not old.get(h)]
        if refused[0] or walker.dirty or new:  # changed
            walker.dirty = True
            if refused[0] or e is None or rel in skips or any(h in old_skips for h in heres):
                refused[0] = True  # nothing above it is answered
                return None
            refused[0] = was
            answers[first:] = [(rel, heres, new, trees[tmark:], blobs[bmark:])]
            return e
        walker.dirty, refused[0] = dirty, was
        if e is not None:
            answers[first:] = [(rel, heres, [], [], [])]
        return e

    return dir_entry
