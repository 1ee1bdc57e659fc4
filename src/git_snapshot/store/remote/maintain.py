"""``verify --remote NAME [--read-data]`` and ``remote prune NAME``.

verify re-reads every snapshot and pack index document (each authenticated), checks that
every pack a snapshot names is on the remote, complete (its index document is there) and of
the size its index records; with ``--read-data`` it downloads every pack a snapshot needs,
authenticates every chunk, and then checks every snapshot in the cache store with the local
verifier (every tree and file re-hashed), naming each damaged remote object, snapshot and path.

prune holds the exclusive remote lock (pushes hold shared ones; a lock this machine has seen
unchanged for 30 min, by its own clock, is stale: repo.Remote.scan_locks): it drops the
snapshot documents it is told to (``--keep-last N`` per repository: the newest kept; their
ids first recorded in a ``pruned/<id>`` document, so that no push sends them again), then
deletes every pack and pack index no remaining snapshot names (the leftovers of interrupted
pushes too; only names of the shape of remote ids) and stale locks. Snapshot documents go
first, so no remaining snapshot ever names a deleted pack.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from dataclasses import field

from git_snapshot.errors import UserError
from git_snapshot.store.backend import NotFound
from git_snapshot.store.index import Snapshot
from git_snapshot.store.remote import crypto
from git_snapshot.store.remote.cache import RemoteStore
from git_snapshot.store.remote.cache import download_pack
from git_snapshot.store.remote.repo import Remote


@dataclass
class RemoteProblem:
    what: str  # the remote object, e.g. packs/<id>
    message: str
    snapshots: list[str] = field(default_factory=list)  # label:id of those that need it
    # a pack index document whose pack the cache read by its own headers: nothing is lost,
    # and a pull then a push from this machine writes the document again (RED39 F5)
    by_headers: bool = False


@dataclass
class RemoteVerifyReport:
    snapshots: int = 0
    packs: int = 0
    problems: list[RemoteProblem] = field(default_factory=list)
    paths: list[tuple[str, int, str, str]] = field(default_factory=list)  # source, id, path, why

    @property
    def ok(self) -> bool:
        return not self.problems and not self.paths


def verify_remote(
    remote: Remote, cache: RemoteStore, read_data: bool, snaps: list[Snapshot] | None = None
) -> RemoteVerifyReport:
    """Check the remote's copy, or only what the cache's snapshots *snaps* need."""
    report = RemoteVerifyReport()
    remote.check()
    listing = cache.sync()
    idents = sorted(listing["snapshots"])
    if snaps is not None:
        named = {remote.key.name("snap", s.record) for s in snaps if s.record is not None}
        idents = [i for i in idents if i in named]
    needers: dict[str, list[str]] = {}
    for ident in idents:
        try:
            doc = remote.get_doc(f"snapshots/{ident}")
        except NotFound:
            continue
        except crypto.Damaged as exc:
            report.problems.append(RemoteProblem(f"snapshots/{ident}", _why(exc)))
            continue
        report.snapshots += 1
        label = _label(doc)
        for p in doc["packs"]:
            needers.setdefault(p, []).append(label)
    for ident, who in sorted(needers.items()):
        report.packs += 1
        if ident not in listing["packs"]:
            report.problems.append(RemoteProblem(f"packs/{ident}", "is missing", who))
            continue
        try:
            idx = remote.get_doc(f"index/{ident}")
        except (NotFound, crypto.Damaged) as exc:
            why = "is missing" if isinstance(exc, NotFound) else _why(exc)
            read = cache.rebuilt_doc(ident) is not None
            if read:
                why += "; its pack reads whole by its own headers (nothing in it is lost)"
            report.problems.append(RemoteProblem(f"index/{ident}", why, who, read))
            continue
        if int(idx.get("sealed", -1)) != listing["packs"][ident]:
            report.problems.append(
                RemoteProblem(
                    f"packs/{ident}",
                    f"has {listing['packs'][ident]} bytes, its index records {idx.get('sealed')}",
                    who,
                )
            )
            continue
        if read_data:
            cached = cache.pack_path(f"{ident}.pack")
            try:
                download_pack(remote, ident, cached, cache.tmp_dir)
            except crypto.Damaged as exc:
                report.problems.append(RemoteProblem(f"packs/{ident}", _why(exc), who))
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(cached)  # an earlier good copy is not what the remote holds
    if read_data:
        from git_snapshot.store.verify import verify

        local = verify(cache, snaps, read_data=True)
        report.paths = [
            (p.source, p.snapshot, p.path, _remote_why(p.message)) for p in local.problems
        ]
    checked = None
    if snaps is not None:
        checked = {f"snapshots/{i}" for i in idents}
        checked |= {f"{kind}/{p}" for p in needers for kind in ("index", "packs")}
    _record(cache, listing, report, read_data, checked)
    return report


def _remote_why(message: str) -> str:
    """A path's problem in the cache store, said of the remote: a pack the cache lacks after
    --read-data is one that did not download whole (named above), not a local pack that
    ``git snapshot repair`` would write again; content the cache's index lacks is placed by
    no remote pack index document that opens (named above), not something a local repair
    writes again: repair never touches a remote (RED34), a push from a machine holding the
    snapshot does (the summary line says so)."""
    import re

    m = re.search(r"pack ([0-9a-f]+)\.pack is missing", message)
    if m is not None:
        return f"its remote pack {m.group(1)} does not read whole (named above)"
    message = re.sub(r"; git snapshot repair\b.*$", "", message)
    return message.replace(
        "content missing from the index",
        "content missing from the remote's pack index documents",
    )


def _record(
    cache: RemoteStore,
    listing: dict[str, dict[str, int]],
    report: RemoteVerifyReport,
    read: bool,
    checked: set[str] | None = None,
) -> None:
    """Keep in the cache what this run found damaged on the remote (a missing object is not
    kept: a push sends again every pack a remote snapshot names that the remote lacks,
    push._resend_lost), for push to replace. A run without
    --read-data keeps the packs an earlier --read-data found damaged (it cannot see that damage
    itself) while they are still listed. A run over some snapshots (*checked*: the remote
    objects it looked at) keeps what earlier runs found in the others."""
    found = {p.what: p.message for p in report.problems if not p.message.startswith("is missing")}
    earlier = cache.damaged()
    if not read:
        kept = {
            what: why
            for what, why in earlier.items()
            if what.startswith("packs/") and what[len("packs/") :] in listing["packs"]
        }
        found = kept | found
    if checked is not None:
        found = {what: why for what, why in earlier.items() if what not in checked} | found
    cache.save_damaged(found)


def _why(exc: Exception) -> str:
    """A Damaged message without the object name it starts with (the report names it)."""
    return str(exc).split(": ", 1)[-1]


def _label(doc: dict[str, object]) -> str:
    import json

    try:
        rec = json.loads(str(doc["data"]))
        return f"{rec['source_path']}:{rec['seq']}"
    except (ValueError, KeyError, TypeError):
        return "?"


def _note_pruned(remote: Remote, earlier: dict[str, list[str]], dropped: set[str]) -> None:
    """Record on the remote, before any is deleted, the ids of every snapshot document its
    prunes dropped (*dropped*: these and the earlier ones), in one ``pruned/<random id>``
    document that replaces the *earlier* ones: a push does not send those snapshots again
    (RED34 B6). Under the exclusive lock: no push reads it meanwhile; a kill between the
    write and the deletions leaves two documents that say the same, merged next time."""
    import secrets

    if not dropped or (len(earlier) == 1 and set(*earlier.values()) == dropped):
        return
    remote.put_doc(f"pruned/{secrets.token_hex(16)}", {"snapshots": sorted(dropped)})
    for ident in earlier:
        remote.backend.delete(f"pruned/{ident}")


PARTS_STALE_S = 24 * 3600  # a part of an upload not written for a day: a killed push's


@dataclass
class RemotePruneReport:
    snapshots: int = 0  # documents dropped
    packs: int = 0  # packs deleted
    bytes: int = 0
    locks: int = 0


def prune_remote(
    remote: Remote, cache: RemoteStore, keep_last: int | None, dry_run: bool, wait_s: float = 30.0
) -> RemotePruneReport:
    report = RemotePruneReport()
    with remote.lock(exclusive=True, wait_s=wait_s):
        listing = cache.sync()
        docs = cache.kept("snapshots")
        unread = set(listing["snapshots"]) - set(docs)
        if unread:  # what it needs is unknown: none of the packs can be called dead
            raise UserError(
                f"remote {remote.name}: {len(unread)} snapshot document(s) do not open or "
                "went meanwhile; nothing pruned (the packs they need are unknown): see git "
                f"snapshot verify --remote {remote.name}"
            )
        drop: set[str] = set()
        if keep_last is not None:
            # the newest in the order they were taken (RemoteStore.snapshots: one store's by
            # number, RED39 F3; different machines' by time): the cache's numbers say nothing
            # of it across machines (a snapshot pushed late gets a number above newer ones: by
            # number, the newest was dropped; RED31)
            by_source: dict[str, list[str]] = {}
            for s in cache.snapshots():  # oldest first
                assert s.record is not None
                by_source.setdefault(s.source, []).append(remote.key.name("snap", s.record))
            for idents in by_source.values():
                drop |= set(idents[: max(0, len(idents) - keep_last)])
        earlier = cache.pruned_docs()
        dropped = {s for got in earlier.values() for s in got}
        drop |= dropped & set(listing["snapshots"])  # an earlier prune killed before deleting
        live = {p for ident, d in docs.items() if ident not in drop for p in d["packs"]}
        dead = sorted((set(listing["packs"]) | set(listing["index"])) - live)
        report.snapshots = len(drop)
        report.packs = len([p for p in dead if p in listing["packs"]])
        report.bytes = sum(listing["packs"].get(p, 0) for p in dead)
        stale = [name for name, (_, _, dead) in remote.scan_locks().items() if dead]
        report.locks = len(stale)
        if dry_run:
            return report
        _note_pruned(remote, earlier, drop | dropped)
        for ident in sorted(drop):
            remote.backend.delete(f"snapshots/{ident}")
        for ident in dead:
            remote.backend.delete(f"index/{ident}")
            remote.backend.delete(f"packs/{ident}")
        for name in stale:
            remote.backend.delete(name)
        remote.backend.sweep_parts(PARTS_STALE_S)  # killed uploads' (file:// remotes)
        cache.sync()
    return report
