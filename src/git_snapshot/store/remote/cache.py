"""What a remote holds, mirrored locally: a cache store in the user cache dir.

The cache is a real store (same index, same read path) whose index lists the remote's packs
(named ``<remote id>.pack``) and snapshots, but whose pack files are fetched only when a read
needs them (whole packs, decrypted, kept for the next read). So ``--remote NAME`` on list,
log, show, cat, restore and export works from the remote alone: ``list`` fetches no pack,
``restore`` only the packs its snapshot names.

The sealed documents already fetched are kept as JSON under ``docs/`` next to the store, so
a sync lists the remote (one request per kind) and fetches only what is new. When something
vanished from the remote (a remote prune), the cache index is rebuilt from the kept documents.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import fcntl
import hashlib
import heapq
import json
import os
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import BinaryIO

from git_snapshot.errors import UserError
from git_snapshot.store.backend import NotFound
from git_snapshot.store.core import Store
from git_snapshot.store.index import Index
from git_snapshot.store.index import Location
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.packs import FinishedPack
from git_snapshot.store.packs import PackedObject
from git_snapshot.store.packs import PackReader
from git_snapshot.store.records import decode_record
from git_snapshot.store.remote import crypto
from git_snapshot.store.remote.config import private_dirs
from git_snapshot.store.remote.config import remote_cache
from git_snapshot.store.remote.repo import Remote
from git_snapshot.store.safewrite import atomic_write
from git_snapshot.store.safewrite import fsync_dir

PARALLEL = 8  # concurrent pack downloads
# in a cache's snapshot rows' meta: the store that took the snapshot (its document's
# "origin") and its number there (in_taken_order)
ORIGIN = "remote_origin"
SEQ = "remote_seq"


# -- pack index documents: a FinishedPack, whatever fields its objects have ------------------


def pack_doc(pack_id: str, sealed_size: int, plain_size: int, objects: list[PackedObject]) -> Any:
    rows = [[v.hex() if isinstance(v, bytes) else v for v in o.astuple()] for o in objects]
    names = list(PackedObject.FIELDS)
    return {"id": pack_id, "sealed": sealed_size, "size": plain_size, "fields": names, "rows": rows}


def pack_from_doc(doc: Any) -> FinishedPack:
    names = list(PackedObject.FIELDS)
    fields = doc.get("fields")
    # a document written before groups has no "inner": every object a frame of its own
    if fields != names and fields != names[:-1]:
        raise CorruptObject(
            f"remote pack index {doc.get('id')} was written by another version of git-snapshot"
        )
    objects = []
    for row in doc["rows"]:
        if len(row) != len(fields):
            raise CorruptObject(f"remote pack index {doc.get('id')} has a row of the wrong size")
        key, *rest = row
        objects.append(PackedObject(bytes.fromhex(key), *rest))
    return FinishedPack(f"{doc['id']}.pack", int(doc["size"]), objects)


# -- entering snapshot documents into an index ----------------------------------------------


def enter_snapshots(
    index: Index, docs: list[Any], *, handed_out: bool = False
) -> list[tuple[Snapshot, int]]:
    """Enter the snapshots of *docs* (remote snapshot documents) into *index*, each with the
    number it had where it was taken, or the next free one of its repository when that number
    is taken there (Index.enter_snapshot; *handed_out*: a store where snapshots are taken, whose
    reserved numbers count as taken); skips those already present (same record). In a cache
    (not *handed_out*) each row keeps the store that took it and its number there (ORIGIN,
    SEQ: RemoteStore.snapshots orders by them). Returns (snapshot, number it had) for those
    entered."""
    have = {s.record for s in index.snapshots() if s.record is not None}
    entered = []
    items, paths = [], {}
    for doc in docs:
        snap, source_path = decode_record(doc["data"].encode())
        snap.record = bytes.fromhex(doc["record"])
        origin = doc.get("origin")
        origin = origin if isinstance(origin, str) else None
        if origin is not None and not handed_out:
            snap.meta = {**snap.meta, ORIGIN: origin, SEQ: snap.id}
        items.append((snap, origin, snap.id))
        paths[id(snap)] = source_path
    # in the order they were taken: one whose number is taken here gets the next free one,
    # above every snapshot taken before it (two machines that pushed the same repository:
    # by number, the old machine's 2 and 3 came after the new machine's 1; RED26)
    for snap in in_taken_order(items):
        assert snap.record is not None
        if snap.record in have:
            continue
        original = index.enter_snapshot(snap, paths[id(snap)], handed_out=handed_out)
        have.add(snap.record)
        entered.append((snap, original))
    return entered


def in_taken_order(items: list[tuple[Snapshot, str | None, int]]) -> list[Snapshot]:
    """The snapshots of *items* (snapshot, the store that took it or None, its number there),
    grouped by repository, in the order they were taken: one store's in their number order
    (a clock set back reorders none: DESIGN's "order is always the snapshot id"; by time, a
    snapshot taken while the clock was a day behind passed for the oldest, and a remote
    prune --keep-last deleted it: RED39 F3), different stores' merged by when each was taken
    (their numbers say nothing of it across machines: RED26). One whose store is unknown (a
    document pushed by an older version) goes by its time alone, and so does each of a store
    whose numbers repeat: a store copied to a second machine, or put back from a backup,
    went on from the same numbers twice (by number, one machine's newest passed for older
    than the other's: review39 RF2)."""
    runs: dict[str, dict[object, list[tuple[int, Snapshot]]]] = {}
    for snap, origin, seq in sorted(items, key=lambda t: (t[0].created, t[2])):
        group: object = origin if origin is not None else object()  # (a run of its own)
        runs.setdefault(snap.source, {}).setdefault(group, []).append((seq, snap))
    out: list[Snapshot] = []
    for source in sorted(runs):
        ordered: list[list[Snapshot]] = []
        for run in runs[source].values():
            if len({seq for seq, _ in run}) < len(run):  # (each a run of its own, by time)
                ordered += [[s] for _, s in run]
            else:
                ordered.append([s for _, s in sorted(run, key=lambda p: p[0])])
        out += heapq.merge(*ordered, key=lambda s: s.created)
    return out


def origin_field(remote: Remote, store: Store, snap: Snapshot) -> dict[str, str]:
    """The ``origin`` of a snapshot document: which store took *snap* (Index.origin, under
    the remote's key), so that a remote keeps one store's snapshots in their number order
    (in_taken_order); none for a pulled one (its number is another store's). An index made
    again (repair) is another origin: ordered by time against it."""
    if snap.pulled:
        return {}
    return {"origin": remote.key.name("origin", store.index.origin())}


def _origin(snap: Snapshot) -> tuple[str | None, int]:
    """The store that took a cache's row *snap* and its number there (enter_snapshots), or
    None and its number here (a row entered by an older version)."""
    origin, seq = snap.meta.get(ORIGIN), snap.meta.get(SEQ)
    if isinstance(origin, str) and type(seq) is int:
        return origin, seq
    return None, snap.id


def sweep_cache(cache_root: str) -> None:
    """Remove the temp files killed runs left in a remote's cache folders (*cache_root*, its
    kept documents, and ``remotes/`` above it: the locks-seen files): atomic_write's, which
    no other sweep reaches (RED31 A3: a push killed at a write left them there for good). A
    writer holds its temp file until the rename (safewrite), so a live one is left alone."""
    from git_snapshot.store import leftovers

    docs = os.path.join(cache_root, "docs")
    for folder in (os.path.dirname(cache_root), cache_root, *_doc_dirs(docs)):
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            leftovers.sweep(fd)
        except OSError:
            pass  # swept another time
        finally:
            os.close(fd)


def _doc_dirs(docs: str) -> list[str]:
    return [os.path.join(docs, sub) for sub in ("index", "snapshots", "rebuilt")]


def pack_by_headers(path: str, ident: str) -> FinishedPack | str:
    """What the pack at *path* (remote pack *ident*, downloaded and authenticated: sealed
    with the remote's key) holds, read from its own headers as ``repair`` reads a local
    pack: its index document is missing or does not open on the remote. Only the objects
    that read back matching their keys; why not, if the pack does not scan (it is removed)."""
    from git_snapshot.store.packread import PackReader
    from git_snapshot.store.packread import scan_pack

    reader = PackReader(os.path.dirname(os.path.dirname(path)))
    try:
        name = os.path.basename(path)
        objects = [o for o in scan_pack(path) if reader.intact(name, o)]
    except (OSError, ValueError) as exc:
        objects, why = [], str(exc)
    else:
        why = "holds no object that reads back intact"
    finally:
        reader.close()
    if not objects:
        os.unlink(path)
        return f"packs/{ident}: its index document is missing or damaged and the pack {why}"
    return FinishedPack(os.path.basename(path), os.path.getsize(path), objects)


class RemoteStore(Store):
    """The cache store of one remote (see the module doc); reads fetch missing packs."""

    disposable = True  # (a tmpfs ~/.cache is common: Store.disposable)

    def __init__(self, remote: Remote, local_store: str) -> None:
        self.remote = remote
        self.cache_root = remote_cache(remote.conf, local_store)
        self.docs_dir = os.path.join(self.cache_root, "docs")
        for folder in _doc_dirs(self.docs_dir):
            private_dirs(folder)
        sweep_cache(self.cache_root)
        super().__init__(os.path.join(self.cache_root, "store"))
        self.listing: dict[str, dict[str, int]] = {}
        # remote documents that do not open (kind/ident -> why): left out of the cache, named
        # by verify --remote; the rest of the remote stays readable (unreadable_note)
        self.unreadable: dict[str, str] = {}
        # remote packs (file names) this process could not fetch, and why (fetch_for_read)
        self.unfetchable: dict[str, str] = {}

    def __enter__(self) -> RemoteStore:
        return self

    # -- one cache, several processes of this machine ----------------------------------------
    #
    # Two pushes through one cache (two terminals, two worktrees, autoPush beside a manual
    # push) entered the same pack in its index: "UNIQUE constraint failed", reported as the
    # local store's index to be repaired (RED34 B3). Pushes take turns (pushing), and every
    # write to the cache's index (a sync's, a push's) is made under a short lock (writing)
    # that a --remote read's sync takes too: it never waits for a whole push.

    @contextlib.contextmanager
    def pushing(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """One push through this cache at a time (the next one then finds what it sent);
        *on_wait* is called once if this one has to wait."""
        with self._flock("push.lock", on_wait):
            yield

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """The cache's index written by this process alone (an index made again meanwhile by
        another process's sync is opened first: Store._same_index)."""
        with self._flock("write.lock"):
            self._same_index()
            yield

    @contextlib.contextmanager
    def _flock(self, name: str, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        fd = os.open(os.path.join(self.cache_root, name), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait()
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # (releases it)

    def enter_pack(self, ident: str, doc: Any) -> None:
        """Keep the index document *doc* of remote pack *ident* and enter it in the cache's
        index, unless there already (a --remote read's sync may have fetched it since the
        push that wrote it put it on the remote)."""
        with self.writing():
            self.keep("index", ident, doc)
            if f"{ident}.pack" not in self.index.packs():
                self.index.add_packs([pack_from_doc(doc)])

    def enter_snapshot_doc(self, ident: str, doc: Any) -> None:
        """Keep the snapshot document *doc* (``snapshots/<ident>``) and enter it in the
        cache's index, unless there already (enter_snapshots skips its record)."""
        with self.writing():
            self.keep("snapshots", ident, doc)
            enter_snapshots(self.index, [doc])

    def snapshots(
        self, source: str | None = None, worktree: str | None = None, last: int | None = None
    ) -> list[Snapshot]:
        """Oldest first, in the order they were taken (in_taken_order): the cache holds every
        machine's snapshots of a repository, entered as they reach it, and its numbers (their
        own, or the next free one here) say nothing of the order across machines (a snapshot
        pushed late gets a number above newer ones: by number it passed for the newest;
        RED26), while one machine's keep their own numbers' order (RED39 F3)."""
        rows = super().snapshots(source, worktree)
        snaps = in_taken_order([(s, *_origin(s)) for s in rows])
        return snaps[-last:] if last else snaps

    # -- keeping up with the remote ----------------------------------------------------------

    def kept(self, kind: str) -> dict[str, Any]:
        """Every kept document of *kind*; one whose copy does not read (cut short by a crash
        after its non-durable write) is fetched again, or dropped if gone from the remote:
        never skipped (a prune would take its packs for dead ones)."""
        out, bad = {}, []
        for ident in self._names(kind):
            doc = self.read_kept(kind, ident)
            if doc is None:
                bad.append(ident)
            else:
                out[ident] = doc
        if bad:
            out.update(self._refetch(kind, bad))
        return out

    def read_kept(self, kind: str, ident: str) -> Any:
        """A kept document, or None when its copy does not read."""
        try:
            with open(os.path.join(self.docs_dir, kind, ident + ".json"), encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def _refetch(self, kind: str, idents: list[str]) -> dict[str, Any]:
        """Fetch again documents whose kept copies do not read; those gone from the remote
        are no longer kept."""
        fetched = self._fetch_docs(kind, idents)
        for ident in idents:
            if ident in fetched:
                self.keep(kind, ident, fetched[ident])
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.docs_dir, kind, ident + ".json"))
        return fetched

    def keep(self, kind: str, ident: str, doc: Any) -> None:
        path = os.path.join(self.docs_dir, kind, ident + ".json")
        # dumps: C's one-shot encoder (dump is pure Python)
        atomic_write(path, json.dumps(doc).encode(), durable=False)

    # -- which remote packs each tree needs (push), kept between pushes ---------------------

    @property
    def _memo_path(self) -> str:
        return os.path.join(self.cache_root, "tree-packs.marshal")

    def load_tree_packs(self) -> dict[bytes, frozenset[str]]:
        """tree key -> the remote packs holding it and everything below it, as the last push
        found them (an entry naming a pack no longer on the remote is not used)."""
        import marshal

        try:
            with open(self._memo_path, "rb") as f:
                raw = marshal.load(f)
            return {k: frozenset(v) for k, v in raw.items()}
        except (OSError, EOFError, ValueError, TypeError, AttributeError):
            return {}

    def save_tree_packs(self, memo: dict[bytes, frozenset[str]], live: set[str]) -> None:
        import marshal

        keep = {k: tuple(v) for k, v in memo.items() if v <= live}
        atomic_write(self._memo_path, marshal.dumps(keep), durable=False)

    def _names(self, kind: str) -> set[str]:
        d = os.path.join(self.docs_dir, kind)
        return {n[:-5] for n in os.listdir(d) if n.endswith(".json")}

    def doc(self, kind: str, ident: str) -> Any:
        """A kept document (fetched by an earlier sync; again if its copy does not read)."""
        doc = self.read_kept(kind, ident)
        if doc is None:
            doc = self._refetch(kind, [ident]).get(ident)
            if doc is None:
                raise FileNotFoundError(f"remote {self.remote.name}: {kind}/{ident} is gone")
        return doc

    # -- what remote prunes dropped: not sent again by a push ---------------------------------

    @property
    def _pruned_path(self) -> str:
        return os.path.join(self.cache_root, "pruned.json")

    def pruned_docs(self) -> dict[str, list[str]]:
        """The remote's ``pruned/<id>`` documents (id -> the ids of the snapshot documents
        its prunes dropped), each fetched once and kept (pruned.json). A prune is a decision
        that sticks: a push from a machine still holding those snapshots sent them again
        (RED34 B6). One that does not open is left out (those it names are sent again)."""
        from git_snapshot.store.remote.repo import is_ident

        before = self._load_pruned()
        kept = dict(before)
        out: dict[str, list[str]] = {}
        for name in self.remote.backend.list("pruned/"):
            ident = name.split("/", 1)[1]
            if not is_ident(ident):
                continue
            if ident not in kept:
                try:
                    kept[ident] = [str(s) for s in self.remote.get_doc(name)["snapshots"]]
                except (NotFound, crypto.Damaged, KeyError, TypeError):
                    continue
            out[ident] = kept[ident]
        if out != before:
            atomic_write(self._pruned_path, json.dumps(out).encode(), durable=False)
        return out

    def pruned(self) -> set[str]:
        """The ids of every snapshot document a remote prune dropped (pruned_docs)."""
        return {s for got in self.pruned_docs().values() for s in got}

    def _load_pruned(self) -> dict[str, list[str]]:
        try:
            with open(self._pruned_path, encoding="utf-8") as f:
                got = json.load(f)
            return {str(k): [str(s) for s in v] for k, v in got.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    @property
    def _confirmed_path(self) -> str:
        return os.path.join(self.cache_root, "pushed-packs.json")

    def confirmed(self) -> set[str]:
        """Local pack names whose every object a push found on the remote (a prune on the
        remote forgets them all: its deletions may have taken those objects away)."""
        try:
            with open(self._confirmed_path, encoding="utf-8") as f:
                return set(json.load(f))
        except (OSError, ValueError, TypeError):
            return set()

    def save_confirmed(self, names: set[str]) -> None:
        atomic_write(self._confirmed_path, json.dumps(sorted(names)).encode(), durable=False)

    @property
    def _damaged_path(self) -> str:
        return os.path.join(self.cache_root, "remote-damaged.json")

    def damaged(self) -> dict[str, str]:
        """Remote objects (``packs/<id>``, ``index/<id>``, ``snapshots/<id>``) that the last
        ``verify --remote`` found damaged, and why: what a push replaces when it can."""
        try:
            with open(self._damaged_path, encoding="utf-8") as f:
                got = json.load(f)
            return {str(k): str(v) for k, v in got.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def save_damaged(self, found: dict[str, str]) -> None:
        if found:
            atomic_write(self._damaged_path, json.dumps(found, sort_keys=True).encode())
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._damaged_path)

    def sync(self) -> dict[str, dict[str, int]]:
        """Bring the cache up to date with the remote (three listings, then only the new
        documents); returns the remote's listing."""
        with self.writing():
            return self._sync()

    def _sync(self) -> dict[str, dict[str, int]]:
        listing = self.remote.listing()
        kept_idx, kept_snaps = self._names("index"), self._names("snapshots")
        complete = {i for i in listing["index"] if i in listing["packs"]}
        on_remote = set(listing["snapshots"])
        fetched = {
            "index": self._fetch_docs("index", sorted(complete - kept_idx)),
            "snapshots": self._fetch_docs("snapshots", sorted(on_remote - kept_snaps)),
        }
        for kind, docs in fetched.items():
            for ident, doc in docs.items():
                self.keep(kind, ident, doc)
        kept_idx |= set(fetched["index"])
        kept_snaps |= set(fetched["snapshots"])
        gone = {("index", i) for i in kept_idx - complete}
        gone |= {("snapshots", i) for i in kept_snaps - on_remote}
        # a pack read by its own headers (_read_unindexed) whose index document is back, or
        # that is gone: what was read goes
        rebuilt = self._names("rebuilt")
        gone |= {("rebuilt", i) for i in rebuilt if i in kept_idx or i not in listing["packs"]}
        rebuilt -= {i for kind, i in gone if kind == "rebuilt"}
        in_index = {n[: -len(".pack")] for n in self.index.packs()}
        entered = {
            self.remote.key.name("snap", s.record) for s in self.snapshots() if s.record is not None
        }
        # what the remote lost is forgotten in three steps (the confirmed packs, the kept
        # documents, the index rebuilt from those left); a sync killed between them left an
        # index placing objects in packs the remote no longer had, and no kept document to
        # show it: the index itself is checked against the listing too
        if gone or in_index - complete - rebuilt or entered - on_remote:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._confirmed_path)
            for kind, ident in gone:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.docs_dir, kind, ident + ".json"))
            self._rebuild({k: self.kept(k) for k in ("index", "snapshots")}, rebuilt)
        else:  # enter what the index lacks (new, or kept by a run killed before entering it)
            self.index.add_packs(pack_from_doc(self.doc("index", i)) for i in kept_idx - in_index)
            enter_snapshots(self.index, [self.doc("snapshots", i) for i in kept_snaps - entered])
        self._read_unindexed(listing, (kept_idx & complete) | rebuilt)
        self.listing = listing
        return listing

    def _read_unindexed(self, listing: dict[str, dict[str, int]], indexed: set[str]) -> None:
        """Enter the remote packs a snapshot names whose index document is missing or does
        not open (not *indexed*) by what each holds, read from its own headers (downloaded
        once, authenticated, and kept in ``docs/rebuilt``) as a pull does: a lost ``index/``
        document made restore --remote and verify --remote call every file of an intact pack
        lost, which a pull then brought back byte for byte (RED39 F5). One that does not
        download or scan stays out: reads and verify --remote name it."""
        lacking = set(listing["packs"]) - indexed
        if not lacking:  # (a push's pack before its index document: no snapshot names it)
            return
        named = {p for d in self.kept("snapshots").values() for p in d.get("packs", ())}
        for ident in sorted(lacking & named):
            try:
                path = self.fetch_pack(ident)
            except (crypto.Damaged, NotFound, UserError):
                continue
            pack = pack_by_headers(path, ident)
            if isinstance(pack, str):
                continue
            sealed = listing["packs"][ident]
            self.keep("rebuilt", ident, pack_doc(ident, sealed, pack.size, pack.objects))
            if pack.name not in self.index.packs():
                self.index.add_packs([pack])

    def rebuilt_doc(self, ident: str) -> Any:
        """What remote pack *ident* holds as read from its own headers (_read_unindexed), or
        None when it was not so read."""
        return self.read_kept("rebuilt", ident)

    def _fetch_docs(self, kind: str, idents: list[str]) -> dict[str, Any]:
        """The documents of *idents* that open; one that does not is left out and kept in
        unreadable (a damaged object hides only what it holds), one gone is left out."""

        def one(ident: str) -> tuple[str, Any, str | None]:
            try:
                return ident, self.remote.get_doc(f"{kind}/{ident}"), None
            except NotFound:
                return ident, None, None  # pruned since the listing
            except crypto.Damaged as exc:
                return ident, None, str(exc)

        out = {}
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            for ident, doc, why in pool.map(one, idents):
                if why is not None:
                    self.unreadable[f"{kind}/{ident}"] = why
                elif doc is not None:
                    out[ident] = doc
        return out

    def unreadable_note(self) -> str | None:
        """One line on the remote documents that did not open, if any."""
        if not self.unreadable:
            return None
        kinds = sorted({name.split("/", 1)[0] for name in self.unreadable})
        what = " and ".join(
            f"{sum(n.startswith(k + '/') for n in self.unreadable)} "
            f"{'snapshot' if k == 'snapshots' else 'pack index'} document(s)"
            for k in kinds
        )
        return (
            f"remote {self.remote.name}: {what} do not open (damaged, or not sealed with this "
            f"key): what they hold is left out; see git snapshot verify --remote "
            f"{self.remote.name}"
        )

    def _rebuild(self, kept: dict[str, dict[str, Any]], rebuilt: set[str]) -> None:
        """A new cache index from the kept documents (something vanished from the remote),
        and the packs read by their own headers (*rebuilt*) that are still there."""
        self.index.close()
        self._drop_index()
        read = [d for d in map(self.rebuilt_doc, sorted(rebuilt)) if d is not None]
        docs = [*kept["index"].values(), *read]
        live = {f"{d['id']}.pack" for d in docs}
        for name in self.pack_names():
            if name not in live:
                self.drop_pack(name[: -len(".pack")])
        self.index = self._open_index()  # (empty: it enters what is kept)
        self.index.add_packs(pack_from_doc(d) for d in docs)
        enter_snapshots(self.index, list(kept["snapshots"].values()))

    def _drop_index(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.index_path + suffix)

    def _lost_index(self, what: str) -> Index:
        """The cache's index, missing, empty or unreadable over fetched packs (a sync killed in
        _rebuild between removing the old one and entering the kept documents; a bad disk),
        is made again: the next sync enters every kept document. Refused as a local store's
        lost index, it stopped every --remote command and push with a 'git snapshot repair'
        that repairs the local store, not this one."""
        self._drop_index()
        return Index(self.index_path)

    # -- fetching packs when a read needs them -----------------------------------------------

    def _locate(self, key: bytes) -> Location:
        loc = super()._locate(key)
        if not os.path.exists(self.pack_path(loc.pack)):
            try:
                self.fetch_for_read(loc.pack)
            except Unfetchable as exc:
                raise self._damaged(key, loc, str(exc)) from None
        return loc

    @property
    def reader(self) -> PackReader:
        """The pack reader, fetching a pack the cache lacks when a read needs it: a batch
        read (restore's, export's) opens the pack files itself, not through _locate; an
        object of a pack whose download failed was "unreadable: [Errno 2] No such file or
        directory: <the cache's path>" (RED34 B4)."""
        if self._reader is None:
            self._reader = _FetchingReader(self.path, self.fetch_for_read)
        return self._reader

    def fetch_for_read(self, pack: str) -> None:
        """Bring remote pack *pack* (its file name here) into the cache for a read; when it
        cannot be, Unfetchable (an OSError, as reads expect) saying why. A pack that failed
        once is not downloaded again by this process for each of its objects."""
        why = self.unfetchable.get(pack)
        if why is None:
            try:
                self.fetch_pack(pack[: -len(".pack")])
                return
            except crypto.Damaged as exc:
                why = f"cannot be read from the remote: {exc}"
            except NotFound:
                why = "is gone from the remote"
            self.unfetchable[pack] = why
        raise Unfetchable(errno.EIO, why)

    def _damaged(
        self,
        key: bytes,
        loc: Location | None,
        what: str,
        group: bool = False,
        gone: bool = False,
    ) -> CorruptObject:
        """The store's error, with the remote's advice: verify --remote, not the local
        store's verify (cli._user_message shows it)."""
        exc = super()._damaged(key, loc, what, group, gone)
        exc.advice = (  # type: ignore[attr-defined]
            "see every damaged remote object with: git snapshot verify --remote "
            f"{self.remote.name} --read-data"
        )
        return exc

    def fetch_pack(self, ident: str) -> str:
        """Download, check and decrypt one remote pack into the cache; returns its path. The
        SHA-256 of what was authenticated is kept first (sum_path): a copy made from the cache
        later is checked against it (copy_or_download)."""
        dest = self.pack_path(f"{ident}.pack")
        self.check_listed(ident)
        return download_pack(self.remote, ident, dest, self.tmp_dir, self.sum_path(ident))

    def check_listed(self, ident: str) -> None:
        """crypto.Damaged when the last listing gives remote pack *ident* a size other than
        the one its index document records, before anything is downloaded: an object of a
        lying size (a pack replaced by a 3 GB file) was read whole into memory first
        (MemoryError, or the OOM killer; RED31), where verify --remote names it."""
        listed = self.listing.get("packs", {}).get(ident)
        if listed is None:
            return  # (not listed: the download says it is gone)
        try:
            want = int(self.doc("index", ident)["sealed"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        if listed != want:
            raise crypto.Damaged(f"packs/{ident}: has {listed} bytes, its index records {want}")

    def sum_path(self, ident: str) -> str:
        """Where the SHA-256 (hex) of remote pack *ident*'s plaintext is kept once fetched."""
        return os.path.join(self.cache_root, "sums", ident)

    def drop_pack(self, ident: str) -> None:
        """Remove the cache's copy of remote pack *ident* and its sum (a read fetches it
        again)."""
        for path in (self.pack_path(f"{ident}.pack"), self.sum_path(ident)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def prefetch(self, snaps: list[Snapshot]) -> None:
        """Fetch, several at once, the packs these snapshots need that the cache lacks."""
        wanted = set()
        for s in snaps:
            if s.record is None:
                continue
            with contextlib.suppress(OSError, ValueError):
                doc = self.doc("snapshots", self.remote.key.name("snap", s.record))
                wanted |= {
                    p for p in doc["packs"] if not os.path.exists(self.pack_path(f"{p}.pack"))
                }
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            for f in [pool.submit(self.fetch_for_read, f"{p}.pack") for p in sorted(wanted)]:
                with contextlib.suppress(Unfetchable):  # named when read
                    f.result()


class Unfetchable(OSError):
    """A remote pack that cannot be brought into the cache; str() is why (a read's error
    names it after the object: "... is unreadable: cannot be read from the remote: ...")."""

    def __str__(self) -> str:
        return str(self.strerror)


class _FetchingReader(PackReader):
    """A PackReader over the cache's packs that fetches a missing one first (*fetch*:
    RemoteStore.fetch_for_read, which raises Unfetchable when it cannot)."""

    def __init__(self, root: str, fetch: Callable[[str], None]) -> None:
        super().__init__(root)
        self._fetch = fetch

    def _file(self, pack: str) -> BinaryIO:
        try:
            return super()._file(pack)
        except FileNotFoundError:
            self._fetch(pack)
            return super()._file(pack)


def download_pack(
    remote: Remote, ident: str, dest: str, tmp_dir: str, sum_path: str | None = None
) -> str:
    """packs/<ident> from *remote*, opened (every chunk authenticated) and written to *dest*
    through a temp file in *tmp_dir* (fsync, rename); with *sum_path*, the SHA-256 (hex) of
    the plaintext is written there before the rename. It is fetched, opened, written and
    hashed a few chunks at a time (crypto.open_to): read whole, sealed and then plain, a pack
    of one large file took 3-4x its size in memory, past what a smaller machine has (RED39
    F1). A temp file of a pack that fails its check partway is removed."""
    name = f"packs/{ident}"
    size = remote.backend.size(name)
    digest = hashlib.sha256()
    tmp = os.path.join(tmp_dir, f"{ident}.pack.fetch{os.getpid()}-{id(digest)}")
    with _local_write(ident, tmp, crypto.plain_size(size)):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:

            def write(plain: bytes) -> None:
                digest.update(plain)
                f.write(plain)

            remote.key.open_to(name, lambda a, b: remote.backend.get_range(name, a, b), size, write)
            f.flush()
            os.fsync(f.fileno())
        if sum_path is not None:
            private_dirs(os.path.dirname(sum_path))
            atomic_write(sum_path, digest.hexdigest().encode(), tmp_dir=tmp_dir, durable=False)
        os.replace(tmp, dest)
        fsync_dir(os.path.dirname(dest))
    return dest


@contextlib.contextmanager
def _local_write(ident: str, tmp: str, size: int) -> Iterator[None]:
    """Writing remote pack *ident* here through *tmp*: on any failure *tmp* goes, and an
    OSError (a full disk) is one line for the user, not an internal error."""
    try:
        yield
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if not isinstance(exc, OSError):
            raise
        from git_snapshot.store.reserve import no_room

        where = os.path.dirname(os.path.dirname(tmp))
        hint = "free space there and run it again" if no_room(exc) else "run it again"
        raise UserError(
            f"cannot write remote pack {ident} ({size:,} bytes) in {where}: "
            f"{exc.strerror or exc}; nothing half-written is kept: {hint}"
        ) from None


def copy_or_download(
    remote: Remote,
    cache: RemoteStore | None,
    ident: str,
    dest: str,
    tmp_dir: str,
    pack: FinishedPack | None = None,
) -> None:
    """A remote pack into *dest*: copied from the cache when a read fetched it already. The
    copy is hashed as it is made and checked against the sum the cache kept when it fetched
    the pack; a cached pack without one (fetched by an older version) is checked against
    *pack* (its remote index document: pack_intact), if given. A copy that fails (the cache's
    rotted on disk) is dropped, from the cache too, and the pack downloaded (authenticated)."""
    if cache is not None:
        cached = cache.pack_path(f"{ident}.pack")
        if os.path.exists(cached):
            want = _kept_sum(cache.sum_path(ident))
            tmp = os.path.join(tmp_dir, f"{ident}.pack.copy{os.getpid()}")
            with _local_write(ident, tmp, os.path.getsize(cached)):
                got = _hashed_copy(cached, tmp)
                os.replace(tmp, dest)
                fsync_dir(os.path.dirname(dest))
            if (got == want) if want is not None else (pack is None or pack_intact(dest, pack)):
                return
            with contextlib.suppress(FileNotFoundError):
                os.unlink(dest)
            cache.drop_pack(ident)
        cache.check_listed(ident)
    download_pack(remote, ident, dest, tmp_dir)


def _kept_sum(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read(100).decode("ascii", "replace").strip()
    except FileNotFoundError:
        return None


def _hashed_copy(src: str, dst: str) -> str:
    """Copy *src* to a new file *dst* (fsynced); the SHA-256 (hex) of what was written."""
    h = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(1 << 20):
            h.update(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return h.hexdigest()


def pack_intact(path: str, pack: FinishedPack) -> bool:
    """Whether the pack file *path* is the one *pack* (a remote index document) describes:
    its size, and every object the document places in it reads back matching its key (the
    pack has no checksum of its own; each object's key is the SHA-256 of its content). A
    fresh reader: nothing cached from an earlier copy of that name."""
    from git_snapshot.store.packread import PackReader

    try:
        if os.path.getsize(path) != pack.size:
            return False
    except OSError:
        return False
    root = os.path.dirname(os.path.dirname(path))
    reader = PackReader(root)
    try:
        name = os.path.basename(path)
        return all(reader.intact(name, o) for o in pack.objects)
    finally:
        reader.close()
