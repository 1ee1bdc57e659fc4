"""Writing packs (their format: store/packfmt.py; reading them: store/packread.py).

A writer fills a temp file in ``tmp/``, then fsyncs it and renames it into ``packs/``: a pack
under ``packs/`` is always complete. Only after that are its objects entered in the index.
"""

from __future__ import annotations

import _thread
import os
import struct
import sys

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.store.packfmt import CHUNK as CHUNK
from git_snapshot.store.packfmt import COUNT as COUNT
from git_snapshot.store.packfmt import PACK_MAGIC as PACK_MAGIC
from git_snapshot.store.packfmt import PACK_MAGIC_V1 as PACK_MAGIC_V1
from git_snapshot.store.packfmt import REC as REC
from git_snapshot.store.packfmt import FinishedPack as FinishedPack
from git_snapshot.store.packfmt import PackedObject as PackedObject
from git_snapshot.store.packfmt import _zstd as _zstd
from git_snapshot.store.packfmt import group_table as group_table
from git_snapshot.store.packfmt import parse_table as parse_table
from git_snapshot.store.packread import PackReader as PackReader
from git_snapshot.store.packread import scan_pack as scan_pack
from git_snapshot.store.safewrite import fsync_dir as fsync_dir  # kill-point tests patch it here

TYPE_CHECKING = False  # typing's own, without importing typing (the hook path imports this)
if TYPE_CHECKING:
    import collections
    import hashlib
    from collections.abc import Callable
    from collections.abc import Iterable
    from typing import Any
    from typing import BinaryIO
    from typing import Union

    import zstandard

    # What the writer keeps of a unit (an object or a group of them) while it is compressed:
    # types, keys, sizes (and an object's marker).
    _Shape = Union[tuple[int, bytes, int, bytes], list[tuple[int, bytes, int]]]
else:  # off the hook's imports: OpenSSL on first use, the C deque and OrderedDict alone
    import _collections as collections

    from git_snapshot import hashes as hashlib

# Blobs of at most GROUP_OBJECT bytes are grouped; a group is closed once it holds
# GROUP_BYTES. Measured on the M tree (62k files, 555 MB; every frame with the pack's
# dictionary): see docs/FORMAT.md "Packs". Groups of ~4 MiB (session 48: 4 MiB less a member
# and a page, within SMALL_BLOCKS) took 4-8 % off M's packs and some of the pool's CPU, but the
# walking thread compresses a whole group itself when the pool is behind: a first snapshot of M
# 2.57 -> 2.76 s of wall, 1.17x -> 1.32x tar+zstd (bench/ab_first.py --tar, 9 interleaved
# rounds, nothing else running; session 44 measured the same at 4 MiB): not taken.
GROUP_OBJECT = 256 << 10
GROUP_BYTES = 2 << 20
GROUP_MEMBERS = 4096  # members of one group, at most
GROUP_TYPES = (1,)  # blobs: trees are read one by one (diff, log), and hold random keys
MAX_PACK = 64 << 20
# Level 4 (zstd's match tables of 2^18 where level 3 has 2^17 and 2^16): on M, 3 snapshots
# 135.5 -> 128.5 MB for the same CPU (17.5-19.3 s against 17.9-18.3 s, shared machine).
LEVEL = 4
# Trees, records and tombstones (a frame each, no dictionary): mostly random keys and names,
# little to find. M's 9,633 trees of a first snapshot (5.25 MB): level 4 0.115-0.120 s CPU ->
# 4.12 MB, level -1 0.031 s -> 4.17 MB (one thread, interleaved)
TREE_LEVEL = -1
# The dictionary: DICT_PIECES pieces of DICT_PIECE bytes, taken evenly from the first small
# objects (at most DICT_SAMPLE raw bytes of them) a writer is given; objects up to DICT_OBJECT
# bytes are compressed with it. Below DICT_MIN bytes of small objects a pack has none.
DICT_OBJECT = 64 << 10
DICT_PIECE = 2048
DICT_PIECES = 512
DICT_SAMPLE = 4 << 20
DICT_HOLD = 12 << 20  # raw bytes held in memory while the dictionary is being chosen
DICT_MIN = 256 << 10
DICT_TEST_LEVEL = 1  # a piece is left out of the dictionary unless it compresses at this level
# raw bytes of small objects after which a new pack gets a new dictionary. On M (333 MB of
# small objects) packs took 100.9 MB with a new one every 48 MiB, 100.5 every 100 MiB and
# 100.0 MB with one for the whole snapshot, for 10 % less compression CPU: one dictionary costs
# a hold (nothing compressed while it is chosen) and its record in every pack after it.
DICT_EPOCH = 1 << 30
# zstd copies a dictionary's match tables into its context for each input: with one frame per
# small file (format 2) that made tables above level 3's (hash 2^17, chain 2^16) too dear;
# with groups a dictionary serves a few frames per MiB. The hash table of level 4 (2^18) is
# what makes its frames smaller than level 3's; its chain table (2^18) is not: on M's blobs
# (528 MiB, one thread, interleaved) chain 2^16 took 4.3-5.6 s CPU against 7.0-7.7 s for
# 2^18, for 100.03 MB of packs against 99.98 (both tables then fit a 1 MiB L2 cache better).
DICT_HASH_LOG, DICT_CHAIN_LOG = 18, 16
# and matches of at least 6 bytes, not level 4's 5: fewer candidates to check for the same
# text; on a quarter of M's groups (25.7 MB) 536.6 -> 521.4 M instructions (callgrind) and
# 4.810 -> 4.777 MB (CPU time within the noise of a loaded machine: chain 2^12-2^16, hash
# 2^17-2^19, match 5-7 and level 3 all measured 0.97-1.06x of this, medians of 8 rounds)
DICT_MIN_MATCH = 6
# A pool is handed objects in batches (one task per BATCH_BYTES or BATCH_OBJECTS, not one
# per object: with 62k small files the futures, locks and GIL hand-offs of one task each cost
# more than compressing them)
BATCH_BYTES = 1 << 20
BATCH_OBJECTS = 256
QUEUE = 8  # batches in flight when a pool compresses, at most 2 * QUEUE
QUEUE_BYTES = 8 << 20  # raw bytes the pool has not compressed yet
# Beyond QUEUE_BYTES, the pool is behind: the writer's own thread compresses the next batch
# itself instead of waiting (its frames wait in the queue, in order), up to 2 * QUEUE batches.
# Not by the count of batches: most of a first walk's carry only its folders' trees (a few
# kB), and counted as groups (2 MiB) they sent the walk to compress a group while the pool
# had little left and then idled (M, load 9: 38 of the walk's 110 batches, 48 of its 108 MB)
POOL_AFTER = 8 << 20  # a writer given less than this compresses in its own thread
# glibc gives the free top of a heap back to the kernel past M_TRIM_THRESHOLD, 128 KiB unless
# set (fixing the mmap threshold, below, stops glibc raising it): every 2 MiB group joined and
# freed was then given back and faulted in again, page by page. Kept up to KEEP_FREE instead:
# a first snapshot of M took 71k page faults, 21k with this
KEEP_FREE = 64 << 20
TRIM_DEFAULT = 128 << 10  # glibc's
SMALL_BLOCKS = 4 << 20  # blocks below this come from malloc's arenas (give_back_big_blocks)
# given this many bytes, a writer fixes malloc's threshold (give_back_big_blocks; ctypes, ~4 ms
# to import: not for a hook's or a 1 % snapshot's few MB, whose blocks glibc keeps little of)
BIG_AFTER = 32 << 20


class _Compressors(_thread._local):  # threading.local
    """zstd contexts are not thread-safe: one set per thread, made when first needed."""

    def __init__(self) -> None:
        self.plain: zstandard.ZstdCompressor | None = None
        self.dicts: dict[int, zstandard.ZstdCompressor] = {}
        self.levels: dict[int, zstandard.ZstdCompressor] = {}  # without one, not at LEVEL
        self.joined = bytearray()  # where a group's members are joined (_group_frame)
        self.prefixed: _Prefixed | None = None  # the same after the dictionary (_prefixed_frame)


_COMPRESSORS = _Compressors()


class _Future:
    """What _Pool.submit returns, used as concurrent.futures' Future (done, result, cancel).
    Its job runs once, in the first thread that claims it: a pool thread, or one that would
    otherwise wait for it (``run_here``)."""

    __slots__ = ("_claim", "_error", "_job", "_lock", "_value", "cancelled")

    def __init__(self, job: tuple[Callable[..., Any], tuple[Any, ...]] | None = None) -> None:
        self._lock = _thread.allocate_lock()
        self._lock.acquire()  # released once the job ran
        self._claim = _thread.allocate_lock()  # held by the thread that runs the job
        self._job = job
        self._value: Any = None
        self._error: BaseException | None = None
        self.cancelled = False

    def done(self) -> bool:
        if self._lock.acquire(blocking=False):
            self._lock.release()
            return True
        return False

    def result(self) -> Any:
        with self._lock:
            pass
        if self._error is not None:
            raise self._error
        return self._value

    def cancel(self) -> None:
        self.cancelled = True

    def run_here(self) -> bool:
        """Run the job in this thread unless another thread took it (or it was cancelled):
        whether this thread ran it."""
        if self._job is None or self.cancelled or not self._claim.acquire(blocking=False):
            return False
        self._run()
        return True

    def _run(self) -> None:
        """The job (claimed by this thread), or nothing if it was cancelled."""
        job, self._job = self._job, None
        if job is not None and not self.cancelled:
            try:
                self._value = job[0](*job[1])
            except BaseException as exc:  # raised again by result()
                self._error = exc
        self._lock.release()

    @classmethod
    def finished(cls, value: Any) -> _Future:
        """A job done already (a batch the writer compressed itself: the pool was behind)."""
        fut = cls()
        fut._claim.acquire()
        fut._value = value
        fut._lock.release()
        return fut


class _Pool:
    """*n* threads running the jobs submitted, oldest first: concurrent.futures' pool without
    its import (it imports logging: 15-90 ms, more than a hook's whole small snapshot)."""

    def __init__(self, n: int) -> None:
        import queue
        import threading

        self._jobs: queue.SimpleQueue[_Future | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._run, name="git-snapshot-zstd", daemon=True)
            for _ in range(n)
        ]
        for t in self._threads:
            t.start()

    def _run(self) -> None:
        while (fut := self._jobs.get()) is not None:
            if fut._claim.acquire(blocking=False):  # else a waiting thread runs it
                fut._run()

    def submit(self, fn: Callable[..., Any], *args: Any) -> _Future:
        fut = _Future((fn, args))
        self._jobs.put(fut)
        return fut

    def shutdown(self, cancel_futures: bool = False) -> None:
        """Stop the threads once the jobs before are done (cancelled ones are skipped)."""
        for _ in self._threads:
            self._jobs.put(None)
        for t in self._threads:
            t.join()


def _plain() -> zstandard.ZstdCompressor:
    """This thread's compressor without a dictionary."""
    c = _COMPRESSORS
    if c.plain is None:
        zstandard = _zstd()
        c.plain = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
    return c.plain


def _compress(
    data: bytes | memoryview, zdict: zstandard.ZstdCompressionDict | None, level: int = LEVEL
) -> bytes:
    c = _COMPRESSORS
    if zdict is None and level != LEVEL:
        comp = c.levels.get(level)
        if comp is None:
            zstandard = _zstd()
            comp = c.levels[level] = zstandard.ZstdCompressor(level=level, write_checksum=True)
        return comp.compress(data)
    if zdict is None:
        return (c.plain or _plain()).compress(data)
    if len(data) <= PREFIXED_ROOM:  # a blob of its own
        frame = _prefixed_frame([data], len(data), zdict)
        if frame is not None:
            return frame
    comp = c.dicts.get(id(zdict))
    if comp is None:
        zstandard = _zstd()
        c.dicts.clear()  # one dictionary at a time per thread
        comp = zstandard.ZstdCompressor(dict_data=zdict, compression_params=_dict_params())
        c.dicts[id(zdict)] = comp
    return comp.compress(data)


def _compress_all(
    items: list[tuple[bytes | list[bytes], bool, int]],
    zdict: zstandard.ZstdCompressionDict | None,
) -> list[bytes]:
    """A frame per item (data, with the dictionary?, level without it); a list (a group's
    members) is compressed as one. The objects without the dictionary at one level (trees:
    one frame each) go through one zstd call per MANY_MIN or more (_compress_many): the same
    frames, but a pool thread takes the GIL back once for them, not once per object, and each
    take-back stalls the walking thread, bound by the GIL (a rebuilt hook snapshot on L, 1 %
    changed: 3,600 trees; its rebuild 260-320 -> 190-230 ms of wall, in-process)."""
    out: list[bytes | None] = [None] * len(items)
    runs: dict[int, tuple[list[int], list[bytes]]] = {}
    for i, (d, use, level) in enumerate(items):
        if not use and isinstance(d, bytes):
            run = runs.setdefault(level, ([], []))
            run[0].append(i)
            run[1].append(d)
    for level, (idx, datas) in runs.items():
        if len(idx) >= MANY_MIN:
            frames = _compress_many(datas, level)
            if frames is not None:
                for i, frame in zip(idx, frames, strict=True):
                    out[i] = frame
    return [
        f
        if f is not None
        else _compress(d, zdict if use else None, level)
        if isinstance(d, bytes)
        else _group_frame(d, zdict if use else None, level)
        for f, (d, use, level) in zip(out, items, strict=True)
    ]


def _group_frame(
    members: list[bytes], zdict: zstandard.ZstdCompressionDict | None, level: int
) -> bytes:
    """*members* compressed as one frame (the frame of their bytes joined), joined in this
    thread's buffer, kept from group to group, not in a fresh ``b"".join``: a group's 2 MiB
    joined lay past glibc's mmap threshold (or in a heap top given back once freed), so each
    was faulted in again page by page (512 faults a group, 3.5-4 us each on the team's VM)."""
    c = _COMPRESSORS
    n = sum(map(len, members))
    if zdict is not None:
        frame = _prefixed_frame(members, n, zdict)
        if frame is not None:
            return frame
    if len(c.joined) < n:
        c.joined = bytearray()  # (the old one let go first)
        c.joined = bytearray(n)
    buf, at = c.joined, 0
    for m in members:
        end = at + len(m)
        buf[at:end] = m
        at = end
    with memoryview(buf) as whole, whole[:n] as data:
        return _compress(data, zdict, level)


# zstd finds matches in a dictionary's bytes by its slower "extDict" search (M's first snapshot:
# ZSTD_compressBlock_doubleFast_extDict_generic, 41 % of all its CPU) unless they lie in memory
# right before the input: then they are the input's own past (ZSTD_compressBlock_doubleFast:
# on 12 of M's groups 20 % fewer instructions than extDict's (callgrind), on 60 of them 28 %
# fewer CPU samples (perf); frames of the same format, within 0.4 % in size). python-zstandard
# keeps a dictionary in memory of its own, so _prefixed_frame goes through the raw zstd API of
# its cffi twin (zstandard._cffi: the same bundled zstd; wheels ship it, it needs the cffi
# package): the dictionary loaded by reference from the front of a buffer, each group joined
# right after it.
# Without cffi (or with GIT_SNAPSHOT_PURE_PYTHON=1), python-zstandard's dictionary as before;
# either frame is read with the pack's dictionary alike (docs/FORMAT.md: a raw-content one).
# A blob of its own (above GROUP_OBJECT) takes this path up to this size, a group whatever its
# size (at most GROUP_BYTES + GROUP_OBJECT); a bigger blob only searches the dictionary in its
# first window (2 MiB) anyway, and its own buffer that big in every thread is not worth it.
PREFIXED_ROOM = GROUP_BYTES + GROUP_OBJECT
PREFIXED_WINDOW = 24  # at most a 16 MiB window (zstd's readers accept 128 MiB by default)
# (ffi, lib); None where there is none; False: not tried yet
_CFFI: tuple[Any, Any] | bool | None = False


_CFFI_LOCK = _thread.allocate_lock()


def _cffi() -> tuple[Any, Any] | None:
    """zstandard's cffi module (ffi, lib), loaded alone as store/zstd.py loads its C backend,
    or None. Once per process, under a lock: a pool thread asking while another loads it
    waits for the answer (a None meanwhile gave that thread python-zstandard's frame, and a
    snapshot's packs differed from run to run)."""
    global _CFFI
    if _CFFI is not False:
        return _CFFI  # type: ignore[return-value]
    with _CFFI_LOCK:
        if _CFFI is False:
            _CFFI = _load_cffi()
    return _CFFI


def _load_cffi() -> tuple[Any, Any] | None:
    from git_snapshot.store.ctree import PURE_ENV

    if os.environ.get(PURE_ENV) == "1":
        return None
    with contextlib.suppress(Exception):
        from _frozen_importlib import _load  # type: ignore[attr-defined]
        from _frozen_importlib_external import PathFinder

        package = PathFinder.find_spec("zstandard")
        where = package.submodule_search_locations if package is not None else None
        spec = PathFinder.find_spec("zstandard._cffi", where) if where else None
        if spec is not None:
            module = sys.modules.get(spec.name) or _load(spec)
            lib = module.lib
            if lib.ZSTD_versionNumber() >= 10400:  # ZSTD_compress2's parameters
                return module.ffi, lib
    return None


class _Prefixed:
    """A thread's zstd context with *zdict*'s bytes at the front of its buffer, loaded by
    reference (raw content, the pack's dictionary), and room after them for *room* bytes."""

    def __init__(self, ffi: Any, lib: Any, zdict: zstandard.ZstdCompressionDict, room: int) -> None:
        self.zdict = zdict
        content = zdict.as_bytes()
        self.at = len(content)
        self.buf = bytearray(self.at + room)
        self.buf[: self.at] = content
        self.room = room
        self.ptr = ffi.from_buffer("char[]", self.buf)  # the buffer is never resized while held
        self.cctx = ffi.gc(lib.ZSTD_createCCtx(), lib.ZSTD_freeCCtx)
        self.cap = lib.ZSTD_compressBound(room)
        self.dst = ffi.new("char[]", self.cap)
        p = _dict_params()
        # a window over the dictionary and the biggest input (22: 4 MiB): at level 4's 21 the
        # dictionary's first bytes fell out of it after 1 MiB of a group (M's first snapshot's
        # packs 104.6 -> 105.5 MB; at 22 0.5 % smaller than python-zstandard's frames). The
        # frame's header says its content size, under the window: a reader holds no more.
        window = min(max(p.window_log, (self.at + room - 1).bit_length()), PREFIXED_WINDOW)
        for param, value in (
            (lib.ZSTD_c_compressionLevel, LEVEL),
            (lib.ZSTD_c_windowLog, window),
            (lib.ZSTD_c_hashLog, p.hash_log),
            (lib.ZSTD_c_chainLog, p.chain_log),
            (lib.ZSTD_c_searchLog, p.search_log),
            (lib.ZSTD_c_minMatch, p.min_match),
            (lib.ZSTD_c_targetLength, p.target_length),
            (lib.ZSTD_c_strategy, p.strategy),
            (lib.ZSTD_c_checksumFlag, 1),
        ):
            if lib.ZSTD_isError(lib.ZSTD_CCtx_setParameter(self.cctx, param, value)):
                raise ValueError("zstd parameter")
        if lib.ZSTD_isError(
            lib.ZSTD_CCtx_loadDictionary_advanced(
                self.cctx, self.ptr, self.at, lib.ZSTD_dlm_byRef, lib.ZSTD_dct_rawContent
            )
        ):
            raise ValueError("zstd dictionary")


def _prefixed_frame(
    members: Iterable[bytes | memoryview], n: int, zdict: zstandard.ZstdCompressionDict
) -> bytes | None:
    """*members* (*n* bytes) as one frame with *zdict*, their bytes right after the
    dictionary's (see _CFFI); None where that cannot be done here."""
    global _CFFI
    api = _cffi()
    if api is None:
        return None
    ffi, lib = api
    c = _COMPRESSORS
    state = c.prefixed
    if state is None or state.zdict is not zdict or state.room < n:
        c.prefixed = state = None  # (the old one let go first)
        try:
            state = _Prefixed(ffi, lib, zdict, max(n, PREFIXED_ROOM))
        except Exception:
            _CFFI = None  # not tried again: python-zstandard's frames from here
            return None
        c.prefixed = state
    buf, at = state.buf, state.at
    for m in members:
        end = at + len(m)
        buf[at:end] = m
        at = end
    size = lib.ZSTD_compress2(state.cctx, state.dst, state.cap, state.ptr + state.at, n)
    if lib.ZSTD_isError(size):
        return None
    frame: bytes = ffi.buffer(state.dst, size)[:]
    return frame


# A group closed by a flush (the last of a walk), compressed while the walk's thread waits for
# it, is cut in two when it holds at least twice this: a job for a pool thread and one for the
# waiting thread (PackWriter._help). M, 1 % step: the flush's wait 9.0 -> 5.3 ms (medians of 7)
CLOSE_HALF = 128 << 10


def _halves(
    members: list[tuple[int, bytes, int]], contents: list[bytes], n: int
) -> list[tuple[list[tuple[int, bytes, int]], list[bytes], int]]:
    """A closing group of *n* bytes as two groups of about half each (see CLOSE_HALF), or as
    it is: (members, their bytes, raw size) of each. Without a pool the same two (a pack's
    bytes never depend on the threads that wrote it)."""
    if n < 2 * CLOSE_HALF or len(members) < 2:
        return [(members, contents, n)]
    at = cut = 0
    while cut < len(members) - 1 and at < n // 2:
        at += members[cut][2]
        cut += 1
    return [(members[:cut], contents[:cut], at), (members[cut:], contents[cut:], n - at)]


MANY_MIN = 8  # objects without the dictionary at one level, in one batch, for one zstd call


def _compress_many(datas: list[bytes], level: int) -> list[bytes] | None:
    """_compress(d, None, level) of each of *datas*, in one call that lets go of the GIL once
    (zstandard's multi_compress_to_buffer, one thread: the same frames); None where this
    zstandard lacks it (the cffi backend), then they are compressed one by one."""
    if level != LEVEL:
        _compress(b"", None, level)  # this thread's compressor at that level, made if need be
        comp = _COMPRESSORS.levels[level]
    else:
        comp = _plain()
    try:
        got = comp.multi_compress_to_buffer(datas, threads=1)  # type: ignore[arg-type]
    except (AttributeError, NotImplementedError):
        return None
    return [got[k].tobytes() for k in range(len(got))]


def _marker(type_: int, zdict: zstandard.ZstdCompressionDict | None) -> bytes:
    """The record marker of an object of *type_* in a pack whose dictionary is *zdict*: blobs
    use the dictionary; trees, records and tombstones do not (mostly random keys: it took
    nothing off them, and a reader of many trees across packs, diff or a rebuilt hook
    snapshot, would build a 1 MiB dictionary decompressor per pack)."""
    return b"R" if type_ == 1 and zdict is not None else b"P"


def give_back_big_blocks() -> None:
    """glibc raises its mmap threshold (up to 32 MiB) each time a big block is freed, and then
    keeps the big frames the compressing threads made in their arenas: peak RSS of a first
    snapshot of M was 209 MB, 99 MB with a fixed threshold. Fixed here when the pool starts;
    elsewhere than glibc nothing happens. At 256 KiB every group (2 MiB joined, then its frame)
    and every file read whole was a fresh mapping, faulted in page by page and unmapped: a first
    snapshot of M took 160k page faults; at SMALL_BLOCKS (4 MiB: what is read whole, a group, a
    frame of either) 25k, 0.4-0.7 s less system CPU, peak RSS 68 -> 74 MB (L: 111 -> 121 MB
    with 8 MiB)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-3, SMALL_BLOCKS)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, KEEP_FREE)  # M_TRIM_THRESHOLD


def _keep_less() -> None:
    """glibc's default M_TRIM_THRESHOLD again once a writer stops (give_back_big_blocks
    raised it): a long-lived process (the watcher's worker) then gives its free heap top back
    as before, not up to KEEP_FREE of it for its lifetime."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).mallopt(-1, TRIM_DEFAULT)  # M_TRIM_THRESHOLD


def _dict_params() -> zstandard.ZstdCompressionParameters:
    if not TYPE_CHECKING:  # type checkers see the module imported above
        zstandard = _zstd()
    return zstandard.ZstdCompressionParameters.from_level(
        LEVEL,
        hash_log=DICT_HASH_LOG,
        chain_log=DICT_CHAIN_LOG,
        min_match=DICT_MIN_MATCH,
        write_checksum=1,
    )


class PackWriter:
    """Appends objects to temp packs; ``finish()`` makes them durable and visible.

    Only the calling thread writes the file. With *threads*, once it was given *pool_after*
    bytes, frames are compressed by that many threads (zstd releases the GIL) and written in
    the order they were added (a hook's small snapshot: from the first byte, at *level*,
    without a dictionary). With *dictionary*, the first small objects are held until the
    dictionary is chosen from them (see the module doc).
    """

    def __init__(
        self,
        root: str,
        max_size: int = MAX_PACK,
        *,
        dictionary: bool = False,
        threads: int = 0,
        pool_after: int = POOL_AFTER,
        level: int = LEVEL,
        tree_level: int | None = None,
        group_bytes: int | None = None,
    ) -> None:
        self._pool_after = pool_after
        # a group is closed once it holds this many raw bytes, at most GROUP_BYTES (None: that)
        self._group_limit = group_bytes
        self._level = level  # of frames without a dictionary
        # of the frames of trees, records and tombstones (without a dictionary); TREE_LEVEL if
        # None. A rebuilt snapshot's few thousand small trees: -1 gives level 3's size at a
        # third of its CPU (random keys and names: little to find)
        self._tree_level = TREE_LEVEL if tree_level is None else tree_level
        self._tmpdir = os.path.join(root, "tmp")
        self._packdir = os.path.join(root, "packs")
        self._max = max_size
        self._file: BinaryIO | None = None
        self._tmpname = ""
        self._pos = 0  # where the next record starts in the open pack (not a tell() each)
        self._synced = True  # False while a StreamRecord may have moved the file's end
        self._current: FinishedPack | None = None
        self._threads = threads
        self._pool: _Pool | None = None
        self._big = False  # give_back_big_blocks called
        self._given = 0  # raw bytes given so far
        self._choosing = dictionary
        self._held: list[tuple[int, bytes, bytes, bool | bytes]] = []
        self._held_small = self._held_bytes = 0
        self._zdict: zstandard.ZstdCompressionDict | None = None
        self._dict_record = b""
        self._dict_frame: tuple[bytes, _Future] | None = None  # its head, its frame coming
        self._epochs = dictionary
        self._small_since = 0  # raw bytes of small objects since the dictionary was chosen
        self._batch: list[tuple[int, bytes, bytes, bool | bytes]] = []  # (type, key, data, dedupe)
        self._batch_bytes = 0
        # small blobs waiting for their group to fill: (type, key, size) each, and their bytes
        self._group: list[tuple[int, bytes, int]] = []
        self._group_datas: list[bytes] = []
        self._group_bytes = 0
        # submitted batches, oldest first: per unit (object or group) the (type, key, raw
        # size) of its objects, a list for a group; raw bytes; the frames
        self._queue: collections.deque[tuple[list[_Shape], int, _Future]] = collections.deque()
        self._queued = 0  # raw bytes in the queue
        # keys among those given that the store holds already (set by the archiver)
        self.known: Callable[[list[bytes]], set[bytes]] | None = None
        self._fresh: set[bytes] = set()  # keys known() said the store lacks (_have)
        self.done: list[FinishedPack] = []
        # set by a first snapshot: called with each pack sealed before the last, once it is
        # durable (index.add_packs: its rows enter the index then, beside the walk and the
        # pool, instead of all at the end while the pool idles; finish() returns the others)
        self.on_sealed: Callable[[list[FinishedPack]], None] | None = None
        self.written = 0  # bytes added to packs, headers included

    # -- the dictionary --------------------------------------------------------------------

    def _settle(self) -> None:
        """Choose the dictionary from what is held, and write what is held."""
        if not self._choosing:
            return
        self._choosing = False
        self._zdict = None
        self._dict_record = b""
        self._small_since = 0
        content = b""
        if self._threads and self._held_bytes >= DICT_SAMPLE:
            # a big snapshot: the pool from here, so that what was held (and the dictionary's
            # own frame) is compressed beside the walk, not before it goes on
            self._grow()
        if self._held_small >= DICT_MIN:
            # at most a quarter of what it is chosen from: a small snapshot gets a small one
            pieces = max(1, min(DICT_PIECES, self._held_small // (4 * DICT_PIECE)))
            small = [d[:DICT_PIECE] for _, _, d, _ in self._held if 0 < len(d) <= DICT_OBJECT]
            step = max(1, len(small) // (2 * pieces))
            # pieces of what compresses (not of an archive or an image among the sources),
            # tried at level 1 (at level 4, 37 ms of M's walking thread; the same pieces)
            good = [
                p for p in small[::step] if len(_compress(p, None, DICT_TEST_LEVEL)) < 0.8 * len(p)
            ]
            content = b"".join(good[:: max(1, len(good) // pieces)][:pieces])
        if len(content) >= DICT_MIN // 32:
            zstandard = _zstd()
            self._zdict = zstandard.ZstdCompressionDict(
                content, dict_type=zstandard.DICT_TYPE_RAWCONTENT
            )
            self._zdict.precompute_compress(compression_params=_dict_params())
            key = hashlib.sha256(content).digest()
            head = REC.pack(b"D", 0, key, len(content), 0)[: REC.size - 8]
            # its frame: by the pool if there is one; wanted when the first pack opens
            if self._pool is not None:
                job = self._pool.submit(_compress_all, [(content, False, LEVEL)], None)
                self._dict_frame = (head, job)
            else:
                frame = _compress(content, None)
                self._dict_record = head + struct.pack("<Q", len(frame)) + frame
        held, self._held = self._held, []
        self._held_small = self._held_bytes = 0
        held.reverse()
        while held:  # each object's memory goes as soon as it is compressed
            self._put(*held.pop())

    def _next_epoch(self) -> None:
        """Content far along a walk differs from where the dictionary was chosen: once
        DICT_EPOCH bytes of small objects went by, the next pack gets a dictionary of its
        own, chosen from the small objects that follow."""
        self._drain(0)
        if self._file is not None:
            self._seal()
        self._choosing = True

    # -- writing ---------------------------------------------------------------------------

    def _open(self) -> tuple[BinaryIO, FinishedPack]:
        if self._file is not None and self._current is not None:
            if not self._synced:  # a stream record neither committed nor discarded
                self._pos = self._file.tell()
                self._synced = True
            if self._pos < self._max:
                return self._file, self._current
            self._seal()
        name = os.urandom(16).hex() + ".pack"
        self._tmpname = os.path.join(self._tmpdir, name + ".tmp")
        fd = os.open(self._tmpname, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        if self._dict_frame is not None:
            head, fut = self._dict_frame
            self._dict_frame = None
            fut.run_here()  # (if no pool thread took it yet)
            (frame,) = fut.result()
            self._dict_record = head + struct.pack("<Q", len(frame)) + frame
        self._file.write(PACK_MAGIC + self._dict_record)
        self._pos = len(PACK_MAGIC) + len(self._dict_record)
        self._current = FinishedPack(name, 0)
        return self._file, self._current

    def add(self, type_: int, key: bytes, data: bytes, dedupe: bool | bytes = False) -> None:
        """Store *data* under *key* (held, batched or queued objects are in the pack, and
        counted in ``written``, after ``flush``). With *dedupe*, left out if ``known`` says
        the store holds it already."""
        if self._choosing:
            self._held.append((type_, key, data, dedupe))
            self._held_bytes += len(data)
            if len(data) <= DICT_OBJECT:
                self._held_small += len(data)
            if self._held_small >= DICT_SAMPLE or self._held_bytes >= DICT_HOLD:
                self._settle()
            return
        # _put's work inline: once per object of a first snapshot (62k on M), a call fewer
        n = len(data)
        if n <= DICT_OBJECT and self._epochs:
            self._small_since += n
        batch = self._batch
        batch.append((type_, key, data, dedupe))
        self._batch_bytes += n
        if self._batch_bytes >= BATCH_BYTES or len(batch) >= BATCH_OBJECTS:
            self._submit()
            if self._pool is not None:  # the queue grows only here
                self._drain(2 * QUEUE)
        if self._small_since >= DICT_EPOCH:
            self._next_epoch()

    def _put(self, type_: int, key: bytes, data: bytes, dedupe: bool | bytes) -> None:
        # once per object of a first snapshot (62k on M): what was given is counted per
        # batch (_submit), small objects here (where a dictionary's epoch ends)
        n = len(data)
        if n <= DICT_OBJECT and self._epochs:
            self._small_since += n
        batch = self._batch
        batch.append((type_, key, data, dedupe))
        self._batch_bytes += n
        if self._batch_bytes >= BATCH_BYTES or len(batch) >= BATCH_OBJECTS:
            self._submit()
            if self._pool is not None:  # the queue grows only here
                self._drain(2 * QUEUE)

    def _grow(self) -> None:
        """The pool once *pool_after* bytes were given; big frames' blocks given back (see
        give_back_big_blocks) once BIG_AFTER were, with a pool."""
        if self._pool is None and self._threads:
            self._pool = _Pool(self._threads)
        if self._given >= BIG_AFTER and self._pool is not None:
            self._big = True  # big frames from here on (ctypes: not for a hook's few)
            give_back_big_blocks()

    def _submit(self, close: bool = False) -> None:
        """Compress the batch with the dictionary of the moment: in the pool if there is one,
        else now. Objects added with *dedupe* that ``self.known`` says the store holds
        already are left out (one lookup per batch, not one per object). Small blobs go to
        the group being filled, which goes along once full (or with *close*)."""
        batch = self._batch
        self._given += self._batch_bytes  # counted per batch rather than per object
        if not self._big and self._given >= self._pool_after and (self._pool or not close):
            # (a flush's batch with no pool yet is all there is: compressed here, not by a
            # thread started for it, with queue and threading imported: an unchanged
            # snapshot's record)
            self._grow()
        self._batch, self._batch_bytes = [], 0
        have: set[bytes] | tuple[()] = ()  # (a first snapshot asks nothing: known is None)
        if self.known is not None:
            have = self._have(batch)
        # in one pass (a first snapshot's 62k objects on M): per unit, what _compress_all
        # compresses (data, with the dictionary?, level without it) and what the writer keeps
        # of it while it is compressed (its shape: types, keys, sizes, an object's marker)
        datas: list[tuple[bytes | list[bytes], bool, int]] = []
        shapes: list[_Shape] = []
        size = 0
        zdict = self._zdict
        blob_marker = _marker(1, zdict)
        level, tree_level = self._level, self._tree_level
        members, contents = self._group, self._group_datas
        group_bytes, limit = self._group_bytes, GROUP_BYTES
        if self._group_limit is not None and self._group_limit < limit:
            limit = self._group_limit
        for type_, key, data, dedupe in batch:
            if dedupe and have and key in have:
                continue
            n = len(data)
            if type_ in GROUP_TYPES and n <= GROUP_OBJECT:
                members.append((type_, key, n))
                contents.append(data)
                group_bytes += n
                if group_bytes >= limit or len(members) >= GROUP_MEMBERS:
                    shapes.append(members)
                    datas.append((contents, True, level))
                    size += group_bytes
                    members = self._group = []
                    contents = self._group_datas = []
                    group_bytes = 0
            elif type_ == 1:  # a blob of its own
                shapes.append((type_, key, n, blob_marker))
                datas.append((data, zdict is not None, level))
                size += n
            else:  # trees, records, tombstones: without the dictionary (_marker)
                shapes.append((type_, key, n, b"P"))
                datas.append((data, False, tree_level))
                size += n
        self._group_bytes = group_bytes
        q = self._queue
        # the pool is behind: compressed here rather than waited for. With one thread fewer
        # than cores in the pool, the walk keeps a core to itself and takes a share of the
        # compression when it runs ahead (2 cores, 2 threads in the pool: the walk had 2/3 of
        # a core, the critical path of a first snapshot)
        behind = self._queued >= QUEUE_BYTES and len(q) < 2 * QUEUE
        last = None  # a closing group's second half: a job of its own (_halves)
        if close and members:
            halves = _halves(members, contents, group_bytes)
            if self._pool is not None and not behind and len(halves) == 2:
                last = halves.pop()  # (else one job for both: the same two groups)
            for part in halves:
                shapes.append(part[0])
                datas.append((part[1], True, level))
                size += part[2]
            self._group, self._group_datas = [], []
            self._group_bytes = 0
        if not shapes:
            return
        if self._pool is None:
            for shape, frame in zip(shapes, _compress_all(datas, zdict)):
                self._write_unit(shape, frame)
            return
        if behind:
            q.append((shapes, 0, _Future.finished(_compress_all(datas, zdict))))
            return
        q.append((shapes, size, self._pool.submit(_compress_all, datas, zdict)))
        self._queued += size
        if last is not None:
            job = self._pool.submit(_compress_all, [(last[1], True, level)], zdict)
            q.append(([last[0]], last[2], job))
            self._queued += last[2]

    def _have(self, batch: list[tuple[int, bytes, bytes, bool | bytes]]) -> set[bytes]:
        """Of *batch*'s objects added with *dedupe*, those ``known`` says the store holds.
        An object whose *dedupe* is a key (its witness: a key its bytes hold, a tree's
        file or folder) is not asked when that key is fresh, one the store lacks (asked
        and not held, or itself not asked for that reason): the store never holds an
        object without those its bytes name (data first, gc keeps what is named), so
        neither can it hold this one. At worst (a witness that is only damaged in the
        store) an object is written again, as a damaged one is: never one left out."""
        fresh = self._fresh
        ask: list[bytes] = []
        later: list[tuple[bytes, bytes]] = []  # (key, witness asked in this batch)
        waiting: set[bytes] = set()  # this batch's keys not decided yet
        for _, k, _, dedupe in batch:
            if dedupe is True:
                ask.append(k)
                waiting.add(k)
            elif not dedupe:
                continue
            elif dedupe in fresh:  # (a witness, bytes)
                fresh.add(k)
            elif dedupe in waiting:
                later.append((k, dedupe))
                waiting.add(k)
            else:
                ask.append(k)
                waiting.add(k)
        have = self.known(ask) if ask else set()  # type: ignore[misc]
        fresh.update(k for k in ask if k not in have)
        again: list[bytes] = []
        for k, w in later:  # (in the order given: a folder after the folders in it)
            if w in fresh:
                fresh.add(k)
            else:
                again.append(k)
        if again:  # a witness the store had: asked after all (rare)
            more = self.known(again)  # type: ignore[misc]
            fresh.update(k for k in again if k not in more)
            have = have | more
        return have

    def _drain(self, keep: int) -> None:
        """Write queued frames, oldest first, until at most *keep* batches wait (and any
        finished); with *keep* 0, the batch being filled goes first."""
        if keep == 0 and (self._batch or self._group):
            self._submit(close=True)
        q = self._queue
        while q and (len(q) > keep or self._queued > 2 * QUEUE_BYTES or q[0][2].done()):
            items, size, fut = q.popleft()
            self._queued -= size
            if not fut.done():
                self._help(fut)
            for unit, frame in zip(items, fut.result(), strict=True):
                self._write_unit(unit, frame)

    def _help(self, fut: _Future) -> None:
        """Instead of waiting for *fut*: run it here if no pool thread took it yet, else the
        queued batches no pool thread took, newest first (the pool takes the oldest), until
        *fut* is done. At a flush the pool's backlog is then compressed by this thread too:
        the end of a snapshot (the last group and batches) took one thread's time on 2 cores."""
        if fut.run_here():
            return
        for *_, later in reversed(self._queue):
            if fut.done():
                return
            later.run_here()

    def _write_unit(self, unit: _Shape, frame: bytes) -> None:
        if isinstance(unit, list):
            self._write_group(group_table(unit), frame, unit)
        else:
            self._write(*unit, frame)

    def _write_group(
        self, table: bytes, frame: bytes, members: list[tuple[int, bytes, int]] | None = None
    ) -> None:
        """A group record: *table* lists *members* (parsed from it when not given)."""
        if members is None:
            members, _ = parse_table(table, "group")
        f, pack = self._open()
        start = self._pos + REC.size
        length = len(table) + len(frame)
        inner = 0  # (one pass: the members' places, and their sum, the group's size)
        append, packed = pack.objects.append, PackedObject
        for type_, key, size in members:
            append(packed(key, type_, start, length, size, inner))
            inner += size
        f.write(REC.pack(b"G", 0, hashlib.sha256(table).digest(), inner, length) + table)
        f.write(frame)
        self._pos = start + length
        self.written += REC.size + length

    def _write(self, type_: int, key: bytes, size: int, marker: bytes, frame: bytes) -> None:
        f, pack = self._open()
        start = self._pos
        f.write(REC.pack(marker, type_, key, size, len(frame)))
        f.write(frame)
        self._pos = start + REC.size + len(frame)
        pack.objects.append(PackedObject(key, type_, start + REC.size, len(frame), size, -1))
        self.written += REC.size + len(frame)

    def flush(self) -> None:
        """Write everything held or queued (before a record that names it)."""
        self._settle()
        self._drain(0)

    def hand_over(self) -> None:
        """Give the pool what is batched and grouped now, without waiting for it (a walk
        that ended: its last group is compressed while the files cache is written)."""
        if self._pool is not None and not self._choosing and (self._batch or self._group):
            self._submit(close=True)

    def cut(self, min_size: int) -> None:
        """Seal the open pack now, given to ``on_sealed`` like a full one, if it holds at
        least *min_size* bytes: a walk that ended, whose objects still queued (and the
        record) go to a pack of their own, so that the rows of what is written already are
        entered meanwhile, not in the snapshot's transaction at the end."""
        if (
            self.on_sealed is not None
            and self._file is not None
            and self._current is not None
            and self._synced
            and self._pos >= min_size
        ):
            self._seal()

    def add_frame(self, type_: int, key: bytes, size: int, frame: bytes) -> None:
        """Copy an object compressed without a dictionary (repacking)."""
        self.flush()
        self._write(type_, key, size, b"P", frame)

    def add_group(self, body: bytes) -> None:
        """Copy a group record whole: its table and a frame compressed without a dictionary
        (repacking a group whose members all live)."""
        self.flush()
        _, end = parse_table(body, "group")
        self._write_group(body[:end], body[end:])

    def begin_stream(self) -> StreamRecord:
        self.flush()
        f, pack = self._open()
        self._synced = False
        return StreamRecord(self, f, pack)

    def _seal(self, last: bool = False) -> None:
        """Make the open pack durable and visible; one sealed before the *last* goes to
        ``on_sealed`` at once, if set (its directory entry made durable first)."""
        assert self._file is not None and self._current is not None
        f = self._file
        f.flush()
        os.fsync(f.fileno())
        self._current.size = f.tell()
        f.close()
        self._file = None
        if self._current.objects:
            os.rename(self._tmpname, os.path.join(self._packdir, self._current.name))
            if self.on_sealed is not None and not last:
                fsync_dir(self._packdir)
                self.on_sealed([self._current])
            else:
                self.done.append(self._current)
        else:
            os.unlink(self._tmpname)
        self._current = None

    def finish(self) -> list[FinishedPack]:
        """fsync and rename every pack into place; returns them for the index (those not
        given to ``on_sealed`` already)."""
        self.flush()
        if self._file is not None:
            self._seal(last=True)
        if self.done:
            fsync_dir(self._packdir)
        self._stop()
        return self.done

    def _stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        if self._big:
            self._big = False
            _keep_less()
        _COMPRESSORS.joined = bytearray()  # (the pool's threads are gone, with theirs)

    def abort(self) -> None:
        for *_, fut in self._queue:
            fut.cancel()
        self._stop()
        self._queue.clear()
        self._queued = 0
        self._batch.clear()
        self._group.clear()
        self._group_datas.clear()
        self._held.clear()
        if self._file is not None:
            with contextlib.suppress(OSError):  # e.g. the flush of a full disk
                self._file.close()
            self._file = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmpname)


class StreamRecord:
    """One object written as it is read: hashed and compressed in a single pass."""

    def __init__(self, writer: PackWriter, f: BinaryIO, pack: FinishedPack) -> None:
        self._writer = writer
        self._f = f
        self._pack = pack
        self._start = f.tell()
        f.write(b"\0" * REC.size)
        self._comp = _plain().compressobj(size=-1)
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)
        out = self._comp.compress(chunk)
        if out:
            self._f.write(out)

    def digest(self) -> bytes:
        return self._hash.digest()

    def commit(self, type_: int) -> int:
        """Keep the record; returns the bytes added."""
        self._f.write(self._comp.flush())
        end = self._f.tell()
        length = end - self._start - REC.size
        self._f.seek(self._start)
        key = self._hash.digest()
        self._f.write(REC.pack(b"P", type_, key, self.size, length))  # no dictionary
        self._f.seek(end)
        self._pack.objects.append(
            PackedObject(key, type_, self._start + REC.size, length, self.size, -1)
        )
        added = end - self._start
        self._writer.written += added
        self._writer._pos = end
        self._writer._synced = True
        return added

    def discard(self) -> None:
        """Drop the record (a duplicate, or a torn read)."""
        self._f.seek(self._start)
        self._f.truncate()
        self._writer._pos = self._start
        self._writer._synced = True
