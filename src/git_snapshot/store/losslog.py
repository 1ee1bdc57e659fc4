"""What every loss log in the store names, read without git: the snapshots loss reports
name (so that prune, forget and retention keep them) and the number each of them has now
(a snapshot `repair` renumbered keeps when it was taken: RED34 D8). The store's retention
reads it; losses.py (the reports, which talk to git) builds on it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from collections.abc import Mapping

from git_snapshot.store import Store

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any


def number(v: object) -> bool:
    """Whether *v* is a number a loss entry's time field can be (not a bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


RENUMBERED = "renumbered_from"  # an entry's number as written, when follow_renumbering moved it


def now_numbered(held: Mapping[int, float], snapshot: int, saved: object) -> int | None:
    """The number the snapshot a loss entry names has in *held* (a source's snapshots:
    number -> when taken): *snapshot*, when the one of that number was taken when the entry
    says (*saved*, its saved_time; an entry written without one: when that number is held);
    else the one snapshot taken then (repair renumbers the later of two snapshots a damaged
    index gave one number, and keeps when it was taken: RED34 D8); None when none is (it was
    forgotten: a number forgotten and reclaimed never stands for another snapshot)."""
    created = held.get(snapshot)
    if not isinstance(saved, (int, float)) or isinstance(saved, bool):
        return None if created is None else snapshot
    if created is not None and abs(created - saved) < 0.001:
        return snapshot
    taken = [n for n, when in held.items() if abs(when - saved) < 0.001]
    return taken[0] if len(taken) == 1 else None


def follow_renumbering(
    store: Store, entries: Iterable[dict[str, Any]], key: str | None = None
) -> None:
    """Give each of *entries* (loss reports) whose snapshot `repair` renumbered since it was
    written that snapshot's number now (the old one kept under RENUMBERED): what its number
    stands for now is another snapshot (the earlier of the two), and the one holding what
    was lost is there under the new number (now_numbered). Looked up among the snapshots of
    its repository (the entry's ``source``, else its log's *key* or the one it was written
    under, else those of its worktree: a log written before RED30)."""
    held: dict[tuple[str | None, str | None], dict[int, float]] = {}
    for e in entries:
        sid, saved = e.get("snapshot"), e.get("saved_time")
        if not number(saved) or not isinstance(sid, int) or isinstance(sid, bool):
            continue  # (written without when it was taken: its number is all it has)
        source = e.get("source") or e.get("key") or key
        where = None if isinstance(source, str) else e.get("worktree")
        if not isinstance(source, str) and not isinstance(where, str):
            continue
        ask = (source if isinstance(source, str) else None, where)
        if ask not in held:
            held[ask] = {s.id: s.created for s in store.snapshots(*ask)}
        now = now_numbered(held[ask], sid, saved)
        if now is not None and now != sid:
            e[RENUMBERED] = e.get(RENUMBERED, sid)
            e["snapshot"] = now


def naming(store: Store, since: float = 0.0) -> dict[tuple[str, int], dict[str, Any]]:
    """(worktree, snapshot id) -> the latest loss entry since *since*, in any worktree's
    log, whose restore command names that snapshot (a removed worktree's entry is kept in
    another worktree's log, under the removed one's path; so is the entry of a worktree that
    ``run`` removed, under its 'to')."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    entries = [e for e in every_entry(store) if _recent(e, since)]
    follow_renumbering(store, entries)  # the snapshot that holds what was lost: RED34 D8
    for entry in entries:
        try:
            where = str(entry.get("removed_worktree") or entry["worktree"])
            found[(where, int(entry["snapshot"]))] = entry
            if entry.get("to"):  # run's snapshot of a worktree it removed: that worktree's
                found[(str(entry["to"]), int(entry["snapshot"]))] = entry
        except (ValueError, TypeError, KeyError, OverflowError):  # (JSON's 1e999: inf)
            continue
    return found


def _recent(entry: Mapping[str, Any], since: float) -> bool:
    try:
        return float(entry.get("time") or 0) >= since
    except (ValueError, TypeError):
        return False


def every_entry(store: Store) -> list[dict[str, Any]]:
    """The entries of every worktree's loss log in the store (a log that cannot be read
    gives none)."""
    from git_snapshot.store.core import read_log

    out: list[dict[str, Any]] = []
    try:
        names = sorted(n for n in os.listdir(store.losses_dir) if n.endswith(".jsonl"))
    except OSError:
        return out
    for name in names:
        with contextlib.suppress(OSError):
            out += read_log(os.path.join(store.losses_dir, name))
    return out
