"""``git snapshot push``: copy every pack and snapshot the remote lacks.

Order, so that a kill or a dropped connection at any point leaves a remote that every reader
understands and the next push completes without re-sending what arrived:

1. take a shared remote lock (a remote prune waits for it; it is refreshed while pushing);
2. list the remote once (via the cache: only new documents are fetched);
3. upload each local pack holding an object the remote lacks (sealed, put-if-absent: its
   name is fixed by the local pack's name, so a resumed push finds it there), then its index
   document; a pack whose objects are all on the remote already (pulled from it, or a repack of
   pushed packs) is not sent. Every object is read back and checked against its key first: a
   damaged one stays out of the document (and is marked damaged here, so the next snapshot
   stores it afresh), so the remote never lists damage as good;
4. publish each snapshot the remote lacks and no remote prune dropped (``pruned/``) as its
   own object (put-if-absent, named by its record): two machines pushing at once write
   different objects, so nothing is lost. A snapshot document names the remote packs it
   needs, so prune and pull need no tree walk.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from git_snapshot.store.backend import BackendError
from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.packs import PackedObject
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.records import lineage
from git_snapshot.store.records import tombstones
from git_snapshot.store.remote.cache import RemoteStore
from git_snapshot.store.remote.cache import origin_field
from git_snapshot.store.remote.cache import pack_doc
from git_snapshot.store.remote.cache import pack_from_doc
from git_snapshot.store.remote.crypto import sealed_size
from git_snapshot.store.remote.repo import Remote
from git_snapshot.store.remote.repo import is_ident


class _NotThere(Exception):
    """A snapshot needs an object the remote's index does not list."""


PARALLEL = 3  # concurrent pack uploads (each a few chunks in memory: send_pack)


@dataclass
class PushReport:
    damaged: set[bytes] = field(default_factory=set)  # objects that did not read back here
    # the objects of local packs that could not be sent (unsent): key -> why
    unsent_keys: dict[bytes, str] = field(default_factory=dict)
    snapshots: int = 0  # published now
    already: int = 0  # on the remote before
    packs: int = 0  # uploaded now
    bytes: int = 0  # sealed bytes uploaded now
    # snapshots that could not be pushed: (source, number, why)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    replaced: int = 0  # damaged remote objects replaced by good copies now
    replaced_bytes: int = 0
    # damaged remote objects left as they are: (remote name, why)
    unmended: list[tuple[str, str]] = field(default_factory=list)
    pruned: int = 0  # snapshots a remote prune dropped: not sent again
    resent: int = 0  # packs remote snapshots name that were missing there, sent again now
    resent_bytes: int = 0
    # packs remote snapshots name, missing there and not sent again: (remote name, why)
    lost: list[tuple[str, str]] = field(default_factory=list)
    # local packs that could not be sent: name -> why
    unsent: dict[str, str] = field(default_factory=dict)


def push(
    store: Store, remote: Remote, cache: RemoteStore, on_wait: Callable[[], None] | None = None
) -> PushReport:
    """*on_wait* is called if another push through the same cache runs (it waits for it:
    RemoteStore.pushing), before the remote is locked."""
    report = PushReport()
    with store.lock(), cache.pushing(on_wait), remote.lock(exclusive=False) as lk:
        listing = cache.sync()
        _mend(store, remote, cache, listing, report, lk.refresh)
        _resend_lost(store, remote, cache, listing, report, lk.refresh)
        remote_records = {s.record for s in cache.snapshots() if s.record is not None}
        local = [s for s in store.snapshots() if s.record is not None]
        todo = [s for s in local if s.record not in remote_records]
        # a snapshot whose record was given anew since it was pushed (records.restate: a
        # restore's note of what it wrote) is there under the record it had (sent again, the
        # remote listed it twice); a remote prune of that record holds for it too
        earlier = {new: old for old, new in tombstones(store)[1].items()} if todo else {}
        was = {s.record: lineage(s.record or b"", earlier) for s in todo}
        todo = [s for s in todo if remote_records.isdisjoint(was[s.record])]
        report.already = len(local) - len(todo)
        if todo:  # a prune on the remote is a decision that sticks (RED34 B6)
            pruned = cache.pruned()
            left = [
                s
                for s in todo
                if not any(remote.key.name("snap", r) in pruned for r in was[s.record])
            ]
            report.pruned, todo = len(todo) - len(left), left
        report.skipped += [
            (s.source, s.id, "no record: run git snapshot repair")
            for s in store.snapshots()
            if s.record is None
        ]
        if not todo:
            return report
        _push_packs(store, remote, cache, listing["packs"], report, lk.refresh)
        _push_snapshots(store, remote, cache, todo, listing["packs"], report, lk.refresh)
    return report


def _mend(
    store: Store,
    remote: Remote,
    cache: RemoteStore,
    listing: dict[str, dict[str, int]],
    report: PushReport,
    refresh: object,
) -> None:
    """Replace what is damaged on the remote with good copies, as far as this machine has
    them: what the last ``verify --remote`` found damaged (kept in the cache), and each pack
    whose listed size is not the one its index document gives (seen without a download). A
    pack is sealed again from this store's copy of it (the pack it pushed, or pulled from this
    remote) once every object the remote's index places there reads back intact here; a
    document from the copy the cache kept when it still opened. The rest is named
    (report.unmended) and stays recorded: a push from a machine that holds it replaces it."""
    found = cache.damaged()
    # a document this sync found not to open (verify --remote need not have run first)
    found |= {w: why for w, why in cache.unreadable.items() if w.startswith("index/")}
    for name, plain in cache.index.packs().items():
        ident = name.removesuffix(".pack")
        listed = listing["packs"].get(ident)
        if listed is not None and listed != sealed_size(plain):
            found.setdefault(f"packs/{ident}", f"has {listed} bytes, not {sealed_size(plain)}")
    found = {w: why for w, why in found.items() if _listed(listing, w)}  # else pruned, or
    if not found:  # missing: a push sends what the remote lacks anyway
        cache.save_damaged({})
        return
    copies = local_copies(store, remote, {w.split("/", 1)[1] for w in found})
    left = {}
    for what in sorted(found):
        kind, ident = what.split("/", 1)
        if kind == "packs":
            why = _replace_pack(store, remote, cache, ident, copies.get(ident), report)
        else:
            kept = cache.read_kept(kind, ident)
            why = None if kept is not None else "no intact copy of it here"
            if kept is not None and remote.put_doc(what, kept):
                report.replaced += 1
            elif kept is None and kind == "index":
                listed = listing["packs"].get(ident)
                why = _rewrite_index(store, remote, cache, ident, copies.get(ident), listed)
                report.replaced += why is None
        if why is not None:
            report.unmended.append((what, why))
            left[what] = found[what]
        if callable(refresh):
            refresh()
    cache.save_damaged(left)


def _resend_lost(
    store: Store,
    remote: Remote,
    cache: RemoteStore,
    listing: dict[str, dict[str, int]],
    report: PushReport,
    refresh: object,
) -> None:
    """Send again each pack a remote snapshot names that the remote lacks (the pack, or its
    index document: an unfinished upload to a reader) and this store holds, pushed or pulled
    (local_copies). A pack gone from the remote (a lifecycle rule, a bad disk, a prune that
    took a live push's lock for a dead one) was never sent again: the snapshot naming it
    stayed on the remote, so no push found anything new to send, while verify --remote said
    push replaces it (RED31). One this store lacks is named (report.lost)."""
    named = {p for d in cache.kept("snapshots").values() for p in d.get("packs", ())}
    lost = {p for p in named if p not in listing["packs"] or p not in listing["index"]}
    if not lost:
        return
    copies = local_copies(store, remote, lost)
    for ident in sorted(lost):
        name = copies.get(ident)
        why = "not in this store" if name is None else _resend(store, remote, cache, ident, name)
        if why is not None:
            report.lost.append((f"packs/{ident}", why))
            continue
        sealed = sealed_size(cache.index.packs()[f"{ident}.pack"])
        listing["packs"][ident] = sealed
        listing["index"].setdefault(ident, 0)
        report.resent += 1
        report.resent_bytes += sealed
        if callable(refresh):
            refresh()


def _resend(store: Store, remote: Remote, cache: RemoteStore, ident: str, name: str) -> str | None:
    """Put this store's copy *name* of remote pack *ident* on the remote again (and its index
    document, when that is missing too); None when done, else why not. As _replace_pack:
    every object it places there must read back intact here first."""
    size = os.path.getsize(store.pack_path(name))
    try:  # the remote's own index document, when it is still there
        doc = cache.doc("index", ident)
        objects = pack_from_doc(doc).objects
        if int(doc["size"]) != size:
            return f"this store's copy has {size} bytes, the remote's {doc['size']}"
    except FileNotFoundError:  # gone too: this store's index places the pack's objects
        doc = None
        placed = _placed(store, name)
        if isinstance(placed, str):
            return placed
        objects = placed
    except (OSError, ValueError, KeyError, TypeError, CorruptObject):
        return "its index document does not read"
    if _damaged_copy(store, name, objects):
        return "this store's copy is damaged too"
    send_pack(store, remote, name, ident, if_absent=True)
    if doc is None:
        doc = pack_doc(ident, sealed_size(size), size, objects)
        remote.put_doc(f"index/{ident}", doc)
    cache.enter_pack(ident, doc)
    return None


def _damaged_copy(store: Store, name: str, objects: list[PackedObject]) -> bool:
    """Whether some of *objects* do not read back intact from this store's pack *name*
    (each such one marked damaged in the index)."""
    bad = [o.key for o in objects if not store.reader.intact(name, o)]
    for key in bad:
        store.index.mark_damaged(key, "damaged: read back wrong while pushing")
    return bool(bad)


def _placed(store: Store, name: str) -> list[PackedObject] | str:
    """The objects this store's index places in its pack *name*, read from the pack; why
    none, when it places none or the pack does not scan (damaged here too: scan_pack's
    ValueError was an internal error of the push)."""
    pid = next((i for i, (n, _) in store.index.gc_packs().items() if n == name), None)
    rows = store.index.objects_in_pack(pid) if pid is not None else []
    placed = {(k, o, i) for k, o, _n, _s, _t, i in rows}
    try:
        objects = [
            o for o in scan_pack(store.pack_path(name)) if (o.key, o.offset, o.inner) in placed
        ]
    except (OSError, ValueError) as exc:
        return f"this store's copy does not read ({exc})"
    return objects or "this store's index places nothing in its copy"


def _rewrite_index(
    store: Store,
    remote: Remote,
    cache: RemoteStore,
    ident: str,
    name: str | None,
    listed: int | None,
) -> str | None:
    """Write again the damaged index document of remote pack *ident* (listed at *listed*
    sealed bytes) from this store's copy *name* of that pack, when the cache kept none: what
    this store's index places there, each object read back intact first. None when done,
    else why not. (A pull takes such a pack by what it holds, and says a push from that
    machine writes the document again: RED34 B2.)"""
    if name is None or listed is None:
        return "no intact copy of it here"
    size = os.path.getsize(store.pack_path(name))
    if sealed_size(size) != listed:
        return f"this store's copy has {sealed_size(size)} sealed bytes, the remote's {listed}"
    objects = _placed(store, name)
    if isinstance(objects, str):
        return objects
    if _damaged_copy(store, name, objects):
        return "this store's copy is damaged too"
    doc = pack_doc(ident, listed, size, objects)
    remote.put_doc(f"index/{ident}", doc)
    cache.enter_pack(ident, doc)
    cache.unreadable.pop(f"index/{ident}", None)
    return None


def _listed(listing: dict[str, dict[str, int]], what: str) -> bool:
    kind, _, ident = what.partition("/")
    return ident in listing.get(kind, {})


def local_copies(store: Store, remote: Remote, idents: set[str]) -> dict[str, str]:
    """Remote pack id -> the name of this store's copy of that pack, for those of *idents* it
    holds: a pack it pushed (the id is its name's HMAC) or pulled (named by the id)."""
    out = {}
    for name in store.index.packs():
        for ident in (remote.key.name("pack", name), name.removesuffix(".pack")):
            if ident in idents and os.path.exists(store.pack_path(name)):
                out[ident] = name
    return out


def mendable(store: Store | None, remote: Remote, cache: RemoteStore, whats: list[str]) -> int:
    """How many of the damaged remote objects *whats* a push from *store* replaces: a pack or
    pack index it holds a copy of, a snapshot it holds, a document the cache kept."""
    idents = {w.split("/", 1)[1] for w in whats}
    copies = local_copies(store, remote, idents) if store is not None else {}
    mine = set()
    if store is not None:
        mine = {remote.key.name("snap", s.record) for s in store.snapshots() if s.record}

    def held(what: str) -> bool:
        kind, ident = what.split("/", 1)
        if kind in ("index", "snapshots") and cache.read_kept(kind, ident) is not None:
            return True
        return ident in (mine if kind == "snapshots" else copies)

    return sum(map(held, whats))


def _replace_pack(
    store: Store,
    remote: Remote,
    cache: RemoteStore,
    ident: str,
    name: str | None,
    report: PushReport,
) -> str | None:
    """Seal this store's copy *name* of remote pack *ident* again over the damaged one; None
    when done, else why not. Damage is never replaced by damage: every object the remote's
    index document places in the pack must read back intact here (one that does not is
    marked damaged, so the next snapshot stores it afresh)."""
    if name is None:
        return "not in this store"
    try:
        pack = pack_from_doc(cache.doc("index", ident))
    except (OSError, ValueError, KeyError, TypeError, CorruptObject):
        return "its index document does not read"
    size = os.path.getsize(store.pack_path(name))
    if size != pack.size:
        return f"this store's copy has {size} bytes, the remote's {pack.size}"
    if _damaged_copy(store, name, pack.objects):
        return "this store's copy is damaged too"
    send_pack(store, remote, name, ident, if_absent=False)
    report.replaced += 1
    report.replaced_bytes += sealed_size(size)
    return None


def send_pack(store: Store, remote: Remote, name: str, ident: str, if_absent: bool) -> bool:
    """Seal this store's pack *name* as remote pack *ident* and send it, a chunk at a time
    from the file (read whole and sealed whole, with PARALLEL packs at once, a pack of one
    large file took 3-4x its size in memory: RED39 F1); True when this call wrote it (with
    *if_absent*: it was not there)."""
    path = store.pack_path(name)
    size = os.path.getsize(path)
    sealed = f"packs/{ident}"

    def parts() -> Iterator[bytes]:
        with open(path, "rb") as f:
            yield from remote.key.seal_parts(sealed, f, size)

    return remote.backend.put_parts(sealed, parts, sealed_size(size), if_absent)


def _push_packs(
    store: Store,
    remote: Remote,
    cache: RemoteStore,
    on_remote: dict[str, int],
    report: PushReport,
    refresh: object,
) -> None:
    confirmed = cache.confirmed()  # local packs an earlier push found wholly on the remote
    store.index.merge_recent()  # objects_in_pack reads the objects table alone
    packs = store.index.gc_packs()  # id -> (name, size)
    wanted = []
    # the objects the index places in each wanted pack: a copy found damaged (stored afresh
    # since, in another pack) stays out of the remote's index, so damage does not spread
    placed: dict[str, set[tuple[bytes, int, int]]] = {}
    for pid, (name, _size) in sorted(packs.items()):
        if name in confirmed:
            continue
        rows = store.index.objects_in_pack(pid)
        keys = [row[0] for row in rows]
        if keys and all(cache.index.has(k) for k in keys):
            confirmed.add(name)  # pulled from the remote, or a repack of pushed packs
        elif keys:
            wanted.append(name)
            placed[name] = {(k, o, i) for k, o, _n, _s, _t, i in rows}
    lock = threading.Lock()

    def one(name: str) -> tuple[str, Any]:
        ident = remote.key.name("pack", name)
        path = store.pack_path(name)
        size = os.path.getsize(path)
        objects = [o for o in scan_pack(path) if (o.key, o.offset, o.inner) in placed[name]]
        bad = {o.key for o in objects if not store.reader.intact(name, o)}
        if bad:
            objects = [o for o in objects if o.key not in bad]
            with lock:
                report.damaged |= bad
        if ident in on_remote:
            sealed = on_remote[ident]  # a resumed push: the pack arrived last time
        else:
            sealed = sealed_size(size)
            if send_pack(store, remote, name, ident, if_absent=True):
                with lock:
                    report.packs += 1
                    report.bytes += sealed
        doc = pack_doc(ident, sealed, size, objects)
        if remote.put_doc(f"index/{ident}", doc):
            cache.unreadable.pop(f"index/{ident}", None)  # (a damaged copy replaced)
        return ident, doc

    failed: list[Exception] = []
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        for name, f in [(n, pool.submit(one, n)) for n in wanted]:
            try:
                ident, doc = f.result()
            except (BackendError, OSError, ValueError) as exc:
                failed.append(exc)
                _unsent(report, name, placed[name], exc)
                continue
            cache.enter_pack(ident, doc)  # the cache index lives in this thread
            on_remote.setdefault(ident, int(doc["sealed"]))
            if callable(refresh):
                refresh()
    refused = [exc for exc in failed if isinstance(exc, BackendError)]
    if refused and len(failed) == len(wanted):
        raise refused[0]  # none went (the remote is unreachable, full): its one line
    for key in report.damaged:  # the next snapshot stores it afresh; this push leaves it out
        store.index.mark_damaged(key, "damaged: read back wrong while pushing")
    sent = set(wanted) - set(report.unsent)  # one not sent is sent by the next push
    cache.save_confirmed((confirmed | sent) & {name for name, _ in packs.values()})


def _unsent(
    report: PushReport, name: str, placed: set[tuple[bytes, int, int]], exc: Exception
) -> None:
    """Note that local pack *name* could not be sent (*exc*): the snapshots that need one of
    its objects are left out, each named with why (_push_snapshots), and every other one is
    published. One pack the remote refused (too large for it, a file that did not read here)
    ended the whole push, and one big data set kept every repository off the remote
    (RED39 F1)."""
    why = f"its pack {name} could not be sent: {exc}"
    if isinstance(exc, ValueError):  # the pack here does not read: damaged
        why += "; run git snapshot verify"
    report.unsent[name] = why
    for key, _offset, _inner in placed:
        report.unsent_keys.setdefault(key, why)


def _ids(listed: dict[str, int]) -> set[str]:
    """The remote ids of a listing of one kind (``packs/<id>`` ...)."""
    return {i for n in listed if is_ident(i := n.split("/", 1)[1])}


def _push_snapshots(
    store: Store,
    remote: Remote,
    cache: RemoteStore,
    todo: list[Snapshot],
    on_remote: dict[str, int],
    report: PushReport,
    refresh: object,
) -> None:
    live = set(on_remote)

    def where(key: bytes) -> str:
        loc = cache.index.locate(key)
        if loc is None:
            if key in report.unsent_keys:
                raise _NotThere(report.unsent_keys[key])
            why = "is damaged in this store" if key in report.damaged else "is not on the remote"
            raise _NotThere(f"object {key.hex()[:16]} {why}")
        return loc.pack[: -len(".pack")]

    memo = cache.load_tree_packs()  # an unchanged folder is not read again

    def packs_of_tree(tree: bytes) -> frozenset[str]:
        got = memo.get(tree)
        if got is not None and got <= live:
            return got
        out = {where(tree)}
        for e in store.read_tree(tree):
            if e.kind == DIR:
                out |= packs_of_tree(e.ref)
            elif e.kind != SYMLINK:
                out.add(where(e.ref))
        memo[tree] = frozenset(out)
        return memo[tree]

    # what is on the remote now, just before publishing: a snapshot document naming a pack
    # gone since this push listed or sent it (deleted by hand, a lifecycle rule, a prune that
    # took this push's lock for a dead one) would be a snapshot no machine can restore (RED31)
    there = _ids(remote.backend.list("packs/")) & _ids(remote.backend.list("index/"))
    for snap in todo:
        assert snap.record is not None
        try:
            needed = set(packs_of_tree(snap.root)) | {where(snap.record)}
            data = store.read_object(snap.record)
        except _NotThere as exc:
            report.skipped.append((snap.source, snap.id, str(exc)))
            continue
        except CorruptObject as exc:
            report.skipped.append((snap.source, snap.id, str(exc)))
            continue
        gone = sorted(needed - there)
        if gone:
            why = f"its pack {gone[0]} is gone from the remote since this push began; push again"
            report.skipped.append((snap.source, snap.id, why))
            continue
        doc = {"record": snap.record.hex(), "data": data.decode(), "packs": sorted(needed)}
        doc.update(origin_field(remote, store, snap))  # (its order on the remote: RED39 F3)
        ident = remote.key.name("snap", snap.record)
        if remote.put_doc(f"snapshots/{ident}", doc):
            report.snapshots += 1
            cache.unreadable.pop(f"snapshots/{ident}", None)  # (a damaged copy replaced)
        else:
            report.already += 1
        cache.enter_snapshot_doc(ident, doc)
        if callable(refresh):
            refresh()
    cache.save_tree_packs(memo, live)
