"""``git snapshot pull``: bring a remote's snapshots into the local store.

Each remote snapshot the local store lacks (by its record) comes with the packs it names that
hold anything the local store lacks; packs are downloaded, authenticated, decrypted, fsynced
and renamed into ``packs/`` (as ``<remote id>.pack``) before one index transaction enters
them, then the snapshot rows go in: the store's usual write order, so a kill leaves at most
packs that the next pull or ``repair`` picks up. A snapshot keeps the number it had where it
was taken unless that number is taken in this store by another snapshot of the same
repository; then it gets the next free number (``pull`` prints each such mapping). A remote
pack that fails its authentication (altered, cut short) or is gone is not put in place: the
snapshots that need it are left out and named, every other one is pulled (and no pack only
they need is kept). A pack whose index document is missing or does not open is taken by
what it holds (its own headers, each object read back against its key, as ``repair`` reads
a local pack): it is authenticated, so sealed by a holder of the key. A snapshot this store
forgot (its tombstones name it) is not pulled back.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from git_snapshot.store.backend import NotFound
from git_snapshot.store.core import Store
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.packs import FinishedPack
from git_snapshot.store.records import decode_record
from git_snapshot.store.records import lineage
from git_snapshot.store.records import tombstones
from git_snapshot.store.remote.cache import PARALLEL
from git_snapshot.store.remote.cache import RemoteStore
from git_snapshot.store.remote.cache import copy_or_download
from git_snapshot.store.remote.cache import enter_snapshots
from git_snapshot.store.remote.cache import pack_by_headers
from git_snapshot.store.remote.cache import pack_from_doc
from git_snapshot.store.remote.cache import pack_intact
from git_snapshot.store.remote.crypto import Damaged
from git_snapshot.store.remote.repo import Remote


@dataclass
class PullReport:
    snapshots: int = 0
    packs: int = 0
    bytes: int = 0
    renumbered: list[tuple[str, int, int]] = field(default_factory=list)  # source, was, now
    # remote packs that failed their authentication (name, why), and the snapshots (source,
    # number) not pulled for want of one: every other snapshot is pulled
    damaged: list[tuple[str, str]] = field(default_factory=list)
    not_pulled: list[tuple[str, int]] = field(default_factory=list)
    # remote packs whose index document is missing or does not open, pulled by what the pack
    # itself holds (a push from this store writes the document again)
    rebuilt: list[str] = field(default_factory=list)
    forgotten: int = 0  # remote snapshots this store forgot: left out


def pull(store: Store, remote: Remote, cache: RemoteStore) -> PullReport:
    report = PullReport()
    with store.lock():  # gc waits: the packs put in place below are not orphans
        cache.sync()
        have = {s.record for s in store.snapshots() if s.record is not None}
        docs = [
            d for d in cache.kept("snapshots").values() if bytes.fromhex(d["record"]) not in have
        ]
        # left out: what this store forgot (RED34 B6: a pull brought it back under a new
        # number, a secret among them), and a record it gave anew (records.restate: pushed
        # before a restore's note), which it holds under the new one
        forgotten, anew = tombstones(store) if docs else (set(), {})
        report.forgotten = sum(
            any(k in forgotten for k in lineage(bytes.fromhex(d["record"]), anew)) for d in docs
        )
        out = forgotten | anew.keys()
        docs = [d for d in docs if bytes.fromhex(d["record"]) not in out]
        if not docs:
            return report
        wanted = _wanted(store, cache, sorted({p for d in docs for p in d["packs"]}))
        # a first pull's packs are noted before they are in place: killed before entering
        # them, the store is not taken for one whose index was lost (core._pulled_only)
        store.index.note_incoming(f"{ident}.pack" for ident in wanted)
        got, failed = _fetch(store, remote, cache, wanted)
        if failed:
            report.damaged = sorted(failed.items())
            for d in docs:
                if any(p in failed for p in d["packs"]):
                    snap, _ = decode_record(d["data"].encode())
                    report.not_pulled.append((snap.source, snap.id))
            docs = [d for d in docs if not any(p in failed for p in d["packs"])]
        report.rebuilt = sorted(i for i in got if wanted[i] is None)
        for ident in report.rebuilt:  # (said by the pull's own line)
            cache.unreadable.pop(f"index/{ident}", None)
        packs = _used(store, got, docs)
        store.index.enter_incoming(packs)
        report.packs = len(packs)
        report.bytes = sum(p.size for p in packs)
        for snap, was in enter_snapshots(store.index, docs, handed_out=True):
            report.snapshots += 1
            if snap.id != was:
                report.renumbered.append((snap.source, was, snap.id))
    return report


def _wanted(store: Store, cache: RemoteStore, idents: list[str]) -> dict[str, FinishedPack | None]:
    """The remote packs of *idents* holding something this store lacks: id -> what its index
    document places there, or None when that document is missing or does not open (the pack
    itself says what it holds: pack_by_headers). One whose index document fails made the whole pull
    an internal error (FileNotFoundError), the snapshots that did not need it too (RED34 B2)."""
    local_keys = set(store.index.object_keys())
    local_packs = set(store.index.packs())
    out: dict[str, FinishedPack | None] = {}
    for ident in idents:
        if f"{ident}.pack" in local_packs:
            continue
        try:
            pack: FinishedPack | None = pack_from_doc(cache.doc("index", ident))
        except (OSError, ValueError, KeyError, TypeError, CorruptObject):
            pack = None
        if pack is not None and all(o.key in local_keys for o in pack.objects):
            continue
        out[ident] = pack
    return out


def _fetch(
    store: Store, remote: Remote, cache: RemoteStore, wanted: dict[str, FinishedPack | None]
) -> tuple[dict[str, FinishedPack], dict[str, str]]:
    """Put the *wanted* remote packs in place, several at once: (id -> the pack, for those
    in place; id -> why, for those that are not: damaged, or gone from the remote)."""

    def one(ident: str) -> FinishedPack | str:
        """The pack in place, or why the remote's copy does not open (it is not put in
        place). A copy not downloaded now (put there by a pull killed before its rows, or the
        cache's) is checked against the remote's index document first (pack_intact)."""
        pack = wanted[ident]
        dest = store.pack_path(f"{ident}.pack")
        if os.path.exists(dest) and (pack is None or not pack_intact(dest, pack)):
            os.unlink(dest)  # rotted since (or nothing to check it by): downloaded again
        if not os.path.exists(dest):
            try:
                copy_or_download(remote, cache, ident, dest, store.tmp_dir, pack)
            except Damaged as exc:
                return str(exc)
            except NotFound:
                return f"packs/{ident}: is gone from the remote"
        return pack if pack is not None else pack_by_headers(dest, ident)

    got: dict[str, FinishedPack] = {}
    failed: dict[str, str] = {}
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        for ident, out in zip(wanted, pool.map(one, wanted)):
            if isinstance(out, str):
                failed[ident] = out
            else:
                got[ident] = out
    return got, failed


def _used(store: Store, got: dict[str, FinishedPack], docs: list[Any]) -> list[FinishedPack]:
    """The packs of *got* that a snapshot to be pulled (*docs*) names; the others (needed
    only by a snapshot left out for a damaged pack) are removed again, not kept unused."""
    named = {p for d in docs for p in d["packs"]}
    for ident in set(got) - named:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(store.pack_path(f"{ident}.pack"))
    return [got[i] for i in sorted(got) if i in named]
