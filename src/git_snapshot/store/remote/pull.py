"""``git snapshot pull``: bring a remote's snapshots into the local store.

Each remote snapshot the local store lacks (by its record) comes with the packs it names that
hold anything the local store lacks; packs are downloaded, authenticated, decrypted, fsynced
and renamed into ``packs/`` (as ``<remote id>.pack``) before one index transaction enters
them, then the snapshot rows go in: the store's usual write order, so a kill leaves at most
packs that the next pull or ``repair`` picks up. A snapshot keeps the number it had where it
was taken unless that number is taken in this store by another snapshot of the same
repository; then it gets the next free number (``pull`` prints each such mapping). A remote
pack that fails its authentication (altered, cut short) is not put in place: the snapshots
that need it are left out and named, every other one is pulled.
"""

from __future__ import annotations

import concurrent.futures
import os
from dataclasses import dataclass
from dataclasses import field

from git_snapshot.store.core import Store
from git_snapshot.store.packs import FinishedPack
from git_snapshot.store.records import decode_record
from git_snapshot.store.remote.cache import PARALLEL
from git_snapshot.store.remote.cache import RemoteStore
from git_snapshot.store.remote.cache import copy_or_download
from git_snapshot.store.remote.cache import enter_snapshots
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


def pull(store: Store, remote: Remote, cache: RemoteStore) -> PullReport:
    report = PullReport()
    with store.lock():  # gc waits: the packs put in place below are not orphans
        cache.sync()
        have = {s.record for s in store.snapshots() if s.record is not None}
        docs = [
            d for d in cache.kept("snapshots").values() if bytes.fromhex(d["record"]) not in have
        ]
        if not docs:
            return report
        local_keys = set(store.index.object_keys())
        local_packs = set(store.index.packs())
        wanted: list[FinishedPack] = []
        for ident in sorted({p for d in docs for p in d["packs"]}):
            pack = pack_from_doc(cache.doc("index", ident))
            if pack.name in local_packs or all(o.key in local_keys for o in pack.objects):
                continue
            wanted.append(pack)

        # a first pull's packs are noted before they are in place: killed before entering
        # them, the store is not taken for one whose index was lost (core._pulled_only)
        store.index.note_incoming(p.name for p in wanted)

        def one(pack: FinishedPack) -> str | None:
            """None, or why the remote's copy of *pack* does not open (it is not put in place).
            A copy not downloaded now (put there by a pull killed before its rows, or the
            cache's) is checked against the remote's index document first (pack_intact)."""
            dest = store.pack_path(pack.name)
            if os.path.exists(dest) and not pack_intact(dest, pack):
                os.unlink(dest)  # rotted since: downloaded again below
            if not os.path.exists(dest):
                ident = pack.name[: -len(".pack")]
                try:
                    copy_or_download(remote, cache, ident, dest, store.tmp_dir, pack)
                except Damaged as exc:
                    return str(exc)
            return None

        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            failed = {
                p.name[: -len(".pack")]: why
                for p, why in zip(wanted, pool.map(one, wanted))
                if why is not None
            }
        if failed:
            report.damaged = sorted(failed.items())
            wanted = [p for p in wanted if p.name[: -len(".pack")] not in failed]
            for d in docs:
                if any(p in failed for p in d["packs"]):
                    snap, _ = decode_record(d["data"].encode())
                    report.not_pulled.append((snap.source, snap.id))
            docs = [d for d in docs if not any(p in failed for p in d["packs"])]
        store.index.enter_incoming(wanted)
        report.packs = len(wanted)
        report.bytes = sum(p.size for p in wanted)
        for snap, was in enter_snapshots(store.index, docs, handed_out=True):
            report.snapshots += 1
            if snap.id != was:
                report.renumbered.append((snap.source, was, snap.id))
    return report
