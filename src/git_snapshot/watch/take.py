"""Watch snapshots and burst records, in a child process of the daemon.

``python -m git_snapshot.watch.take --serve`` is the daemon's worker: started when a worktree
first changes (its imports overlap the quiet period), it takes one snapshot per
``{"take": WORKTREE}`` line it reads, records the bursts of a JSON line
(``{"worktree": W, "bursts": [...]}``: the diff of
a big deleted folder against its snapshot takes a second or more, which the daemon's loop
must spend answering hooks), and the daemon ends it after a minute without work, and
replaces it after 50 snapshots (preparations do not count).
A child keeps the daemon small and unharmed: the archiver, zstd and SQLite live there. ``python -m
git_snapshot.watch.take WORKTREE`` takes one snapshot and prints ``{"id": N, "new": bool,
"created": T}``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any


def take(worktree: str) -> dict[str, object]:
    from git_snapshot import gitrepo
    from git_snapshot import worktree as wt
    from git_snapshot.store import Store

    repo = gitrepo.find_repo(worktree)
    with Store() as store:
        cfg = wt.settings(repo)
        res = wt.take(store, repo, trigger="watch", cfg=cfg, skip_if_unchanged=True)
        if res.new:
            wt.apply_retention(store, repo, cfg)
    # the files cache brought to it and the recent rows merged: after the answer, by a
    # process of their own (Deltas: on L 2-3 s of wall that held every job behind them)
    s = res.snapshot
    return {"id": s.id, "new": res.new, "created": s.created, "files": s.files}


def prepare(worktree: str, upto: int | None = None) -> dict[str, object]:
    """Prepare the next snapshot of *worktree* (``snapshot.watchPrepare``): rebuild its base
    with the marks so far (those up to seq *upto*: what a waiting hook wants, see
    prep.want), store the objects, and record the tree in the dirty set
    (watch/prep.set_prepared) without a snapshot record; a hook or watch snapshot that
    finds it current commits it, rebuilding only what was marked after it. Built on the
    previous prepared tree when that one is usable, else on the base. Says what it did:
    ``{"prepared": SEQ}`` (None when it did not, with ``why``)."""
    from git_snapshot import gitrepo
    from git_snapshot.store import Store
    from git_snapshot.watch import dirtyset
    from git_snapshot.watch import prep

    repo = gitrepo.find_repo(worktree)
    with Store() as store:
        cfg = _settings(repo)
        extra = repr((cfg.excludes, cfg.skip_cache_dirs))  # as worktree._dirty_plan's
        # marks, then the stamp, then the labels: labels found equal to the prepared tree's
        # by a hook whose stamp is the one recorded here are then the labels it was built with
        plan = dirtyset.plan(store.path, repo, "watch", extra, cfg.skip_cache_dirs, upto)
        if plan is None:
            return {"prepared": None, "why": "not watched"}
        b = plan.begun
        if not (b.has_base and b.marked and plan.rebuildable()):
            return {"prepared": None, "why": "no base, nothing marked, or scanned trees"}
        if not plan.same_rules():
            return {"prepared": None, "why": "snapshot.exclude or skipCacheDirs changed"}
        old = prep.prepared(store.path, repo.toplevel, b)
        if old is not None and not old.marked and old.stamp == plan.stamp:
            return {"prepared": old.seq, "why": "current"}
        prep.preparing(store.path, repo.toplevel, b.seq)  # a hook may wait for it
        try:
            return _prepare(store, repo, cfg, plan, waited=upto is not None)
        finally:
            with contextlib.suppress(Exception):
                prep.preparing(store.path, repo.toplevel, None)


def _prepare(store: Any, repo: Any, cfg: Any, plan: Any, waited: bool = False) -> dict[str, object]:
    from git_snapshot import identity
    from git_snapshot import worktree as wt
    from git_snapshot.store import rebuild
    from git_snapshot.store.archiver import Options
    from git_snapshot.watch import dirtyset
    from git_snapshot.watch import prep

    b = plan.begun
    digest: list[str] = []
    raw: list[bytes] = []
    classify = wt.classifier(repo, digest, raw=raw)
    opts = Options(
        classify=classify,
        inherit=wt.IGNORED,
        exclude=wt.excluder(cfg.excludes),
        omit=frozenset({b".git"}),
        skip_cachedir_tag=cfg.skip_cache_dirs,
    )
    labels = digest[0]
    opts.rules = repr((labels, cfg.excludes))
    relabel = None  # the paths whose ignored status changed since the base (_relabel)
    if labels != b.base_labels:
        # (none for a hook that waits for it, *waited* (prep.want): it would wait for the
        # rebuild, then walk everything itself, as it commits no tree of other labels than
        # the base's (worktree.take); refused at once, it stops waiting)
        if not waited:
            relabel = _relabel(store.path, repo.toplevel, b, labels, raw[0] if raw else None)
            if relabel is None:  # (git's tracked answer changed too: a `git add`, red53 F2)
                relabel = _retrack(store, repo, b, labels, raw[0] if raw else None)
        if relabel is None:
            return {"prepared": None, "why": "git's labels changed since the base"}
    source = identity.source(store, repo)
    with store.lock():  # gc waits until the tree is recorded in the dirty set
        mine = store.snapshots(source, repo.toplevel)
        if not mine or mine[-1].root != b.base_root or store.index.damaged():
            return {"prepared": None, "why": "the base is not the last snapshot"}
        generation = store.index.meta_get("generation", "0")
        snap = mine[-1]
        base = rebuild.Base(snap.root, snap.files, snap.bytes, snap.meta.get("skipped_paths", []))
        # (the prepared tree or the base, its rebuild.Base, its root, the marks after it, and
        # the paths whose ignored status changed since the tree *against* (_relabelled) that
        # the tree built on it is checked for: None, none)
        starts: list[tuple[Any, Any, bytes, Any, list[bytes] | None, bytes]] = []
        old = prep.prepared(store.path, repo.toplevel, b)
        since: list[bytes] | None = relabel
        against = snap.root
        if old is not None and old.labels != labels:  # its answer, if this process built it
            since = _relabel_since(repo.toplevel, old, labels, raw[0] if raw else None)
            against = old.root
        if (
            old is not None
            and (old.labels == labels or since is not None)
            and old.generation == generation
            and store.index.has(old.root)
        ):
            on_old = rebuild.Base(snap.root, old.files, old.bytes, old.skipped)
            marks = dirtyset.CleanSet(old.dirs, (), old.entries)
            starts.append((old, on_old, old.root, marks, since, against))
        marks = dirtyset.CleanSet(b.dirs, (), b.entries)
        starts.append((None, base, snap.root, marks, relabel, snap.root))
        built = prior = None
        ahead = None  # the files the warmer read ahead are checked against their last marks
        if rebuild._AHEAD:
            ahead = ((b.epoch, b.base_root), prep.entry_seqs(store.path, repo.toplevel, b.seq))
        refused = False
        for got, start, key, marks, check, against in starts:
            refused = False
            with contextlib.suppress(rebuild.Unusable):  # damaged: from the base
                built = rebuild.build(store, repo.toplevel, opts, start, key, marks, ahead)
                if built.unstable:
                    return {"prepared": None, "why": "files changed while read"}
                # (a label kept from the start where its answer and today's differ: refused;
                # built on the prepared tree, tried again from the base)
                if check is not None and not _relabelled(
                    store, against, built.root, check, classify
                ):
                    built, refused = None, True
                    continue
                prior = got
                break
        if refused:
            why = "git's labels changed where the rebuild kept the base's"
            return {"prepared": None, "why": why}
        if built is None:
            return {"prepared": None, "why": "the base's trees are damaged"}
        changed, ids = built.changed, built.ids
        if prior is not None:  # what differs from the base: both steps' (a superset)
            both = None if changed is None or prior.changed is None else prior.changed
            changed = None if both is None else sorted(set(both).union(changed or ()))
            ids = {**prior.ids, **ids}
        written = built.written + (prior.written if prior is not None else 0)
        made = prep.Prep(
            built.root,
            plan.stamp,
            labels,
            generation,
            built.files,
            built.bytes,
            built.skipped,
            changed,
            ids,
            written,
        )
        ok = prep.set_prepared(store.path, repo.toplevel, b, made)
    if not ok:
        return {"prepared": None, "why": "the base moved meanwhile"}
    if raw and len(raw[0]) <= dirtyset.RAW_MOST:  # the next one may build on it (_relabel_since)
        _BUILT_UNDER[repo.toplevel] = (made.root, raw[0])
    return {"prepared": b.seq, "from": "prepared" if prior is not None else "base"}


RELABEL_MOST = 1000  # paths whose ignored status changed since the base a preparation checks


def _relabel(
    store_path: str, worktree: str, b: Any, labels: str, now: bytes | None
) -> list[bytes] | None:
    """The paths git's ignored answer *now* (of the digest *labels*) and the base's differ
    by (a file, or a folder as ``d/``: git lists a folder whose files are all ignored as
    one), when only that answer changed since the base (git's tracked answer is the base's)
    and the base's was kept (dirtyset.base_ignored, checked against its labels); None
    otherwise, and for more than RELABEL_MOST of them: the preparation is refused. A new
    ignored file (.env made just before `git switch`) changes that answer: it has to be
    prepared, or nothing holds it when git overwrites it (README, "What a report cannot
    name"). Every other entry has the same label under both answers: the rebuild's tree is
    true if these are (:func:`_relabelled`)."""
    from git_snapshot.watch import dirtyset

    base = b.base_labels.split(";")
    if now is None or len(base) != 3 or base[:2] != labels.split(";")[:2]:
        return None  # (git's tracked answer changed: the kept ignored one is not read)
    was = dirtyset.unpack(dirtyset.base_ignored(store_path, worktree, b), base[2])
    return _ignored_changes(b.base_labels, was, labels, now)


def _retrack(store: Any, repo: Any, b: Any, labels: str, now: bytes | None) -> list[bytes] | None:
    """The paths git's labels now (the digest *labels*, *now* its ignored answer) and the
    base's differ by when git's tracked answer changed since the base (red53 F2: a new file
    staged, `git add new.txt`, then `git checkout -f B`, which deletes it: unprepared, the
    file was in no snapshot and named by nothing): the files the base's tree labels tracked
    and those git tracks now differ by (the base's tracked answer is not kept: its tree is
    read), with the ignored answers' differences (:func:`_ignored_changes`; none when that
    answer is the base's). None when git's tracked answer is not the one *labels* names (the
    index changed since), the base's ignored one was not kept where it changed, or for more
    than RELABEL_MOST paths: the preparation is refused, as before."""
    from git_snapshot import gitrepo
    from git_snapshot import worktree as wt
    from git_snapshot.store.objects import DIR
    from git_snapshot.watch import dirtyset

    base, parts = b.base_labels.split(";"), labels.split(";")
    if now is None or len(base) != 3 or len(parts) != 3 or base[0] != "2" or parts[0] != "2":
        return None
    ignored: list[bytes] = []
    if base[2] != parts[2]:
        was = dirtyset.unpack(dirtyset.base_ignored(store.path, repo.toplevel, b), base[2])
        if (
            was is None
            or gitrepo.labels_part(was) != base[2]
            or gitrepo.labels_part(now) != parts[2]
        ):
            return None
        ignored = sorted(set(gitrepo.split_z(was)).symmetric_difference(gitrepo.split_z(now)))
    out = gitrepo.run_git(repo.toplevel, *gitrepo._TRACKED_ARGS)
    if gitrepo.labels_part(out) != parts[1]:
        return None  # (not the answer the classifier was made of)
    tracked = set(gitrepo.split_z(out))
    try:
        was_tracked = {
            path for path, e in store.walk(b.base_root) if e.kind != DIR and e.label == wt.TRACKED
        }
    except Exception:  # a tree unreadable: refused
        return None
    differ = tracked.symmetric_difference(was_tracked).union(ignored)
    return sorted(differ) if len(differ) <= RELABEL_MOST else None


def _ignored_changes(
    was_labels: str, was: bytes | None, labels: str, now: bytes | None
) -> list[bytes] | None:
    """The paths git's ignored answers *was* (under the digest *was_labels*) and *now* (under
    *labels*) differ by, sorted, when the tracked answers are the same (the digests' first
    parts) and each ignored answer is the one its digest names; None otherwise, and for more
    than RELABEL_MOST of them."""
    from git_snapshot import gitrepo

    a, b = was_labels.split(";"), labels.split(";")
    if was is None or now is None or len(a) != 3 or len(b) != 3 or a[:2] != b[:2] or a[0] != "2":
        return None
    if gitrepo.labels_part(was) != a[2] or gitrepo.labels_part(now) != b[2]:
        return None
    differ = set(gitrepo.split_z(was)).symmetric_difference(gitrepo.split_z(now))
    return sorted(differ) if len(differ) <= RELABEL_MOST else None


# worktree -> the root of the last tree this process prepared of it, and git's ignored answer
# it was built under (the worker serves many preparations: a build that makes ignored files
# changes that answer at each step, and each preparation rebuilt all of them from the base)
_BUILT_UNDER: dict[str, tuple[bytes, bytes]] = {}


def _relabel_since(worktree: str, old: Any, labels: str, now: bytes | None) -> list[bytes] | None:
    """:func:`_relabel` against the prepared tree *old* (labels other than *labels*, the
    digest of git's answers now, *now* the ignored one) instead of the base, when this
    process built it and kept the answer it was built under: a tree with every label right
    under that answer (checked, or of the base's labels), so a rebuild on it is right where
    its answer and today's agree. None otherwise."""
    kept = _BUILT_UNDER.get(worktree)
    if kept is None or kept[0] != old.root:
        return None
    return _ignored_changes(old.labels, kept[1], labels, now)


def _relabelled(
    store: Any, base_root: bytes, root: bytes, paths: list[bytes], classify: Any
) -> bool:
    """Whether the tree *root* the rebuild made from the base *base_root* labels each of
    *paths* (_relabel's) as a full walk does now (*classify*: git's labels now). A path the
    tree lacks has no label. A file's entry must have the label *classify* gives it under
    its folder's; a folder's (``d/``: ignored in one answer, not in the other) changes every
    label below it (inherited), so the tree must hold no folder of the base's there: one
    walked whole by the rebuild (new since the base, or a file then), or none. The rebuild
    keeps the base's entries, and their labels, where nothing was marked; an entry of the
    base at one of *paths* in the tree may be such one: refused, never a wrong label."""
    from git_snapshot.store.objects import DIR

    trees: dict[bytes, dict[bytes, Any]] = {}

    def at(top: bytes, rel: bytes) -> tuple[Any, int] | None:
        """The entry at *rel* below tree *top* and its folder's label, or None."""
        key, label = top, 0
        parts = rel.split(b"/")
        for i, name in enumerate(parts):
            got = trees.get(key)
            if got is None:
                got = trees[key] = {e.name: e for e in store.read_tree(key)}
            e = got.get(name)
            if e is None:
                return None
            if i == len(parts) - 1:
                return e, label
            if e.kind != DIR:
                return None
            key, label = e.ref, e.label
        return None

    try:
        for p in paths:
            folder = p.endswith(b"/")
            rel = p.rstrip(b"/")
            if not rel:
                return False
            got = at(root, rel)
            if got is None:
                continue  # not in the tree: no label (what is on disk there: the marks')
            e, parent = got
            if folder or e.kind == DIR:
                old = at(base_root, rel)
                if old is not None and old[0].kind == DIR:
                    return False  # a folder of the base: its labels below may be kept
            if e.label != classify(rel, e.kind == DIR, parent):
                return False
    except Exception:  # a tree unreadable: refused (the hook's own walk settles it)
        return False
    return True


# The snapshot.* settings a preparation read (git config), by worktree, with the stamp of git's
# config files (dirtyset.stamp) as it was *before* git was asked: while it reads the same and
# no config file includes another (whose changes it would not see), no file git reads them
# from changed since before its answer, so the answer still holds. Only the settings: git's
# labels also depend on the worktree's files (.gitignore, and which ignored files exist), so
# they are asked every time. Under load a git process costs a preparation 0.1-0.4 s of wall.
_SETTINGS: dict[str, tuple[str, Any]] = {}
_SETTINGS_MAX = 32


def _settings(repo: Any) -> Any:
    """worktree.settings(repo), or the answer kept from an earlier job if it still holds."""
    from git_snapshot import worktree as wt
    from git_snapshot.watch import dirtyset

    paths = dirtyset.stamp_paths(repo)
    before = dirtyset.stamp(repo, "")
    got = _SETTINGS.get(repo.toplevel)
    if got is not None and got[0] == before:
        return got[1]
    cfg = wt.settings(repo)
    if not _includes(paths[1:]):
        while len(_SETTINGS) >= _SETTINGS_MAX:
            _SETTINGS.pop(next(iter(_SETTINGS)))
        _SETTINGS[repo.toplevel] = (before, cfg)
    return cfg


def _includes(configs: list[str]) -> bool:
    """Whether one of the git config files *configs* may include another (include.path,
    includeIf), or could not be read whole."""
    for p in configs:
        if not p:
            continue
        try:
            with open(p, "rb") as f:
                text = f.read(1 << 20)
        except FileNotFoundError:
            continue
        except OSError:
            return True
        if len(text) >= 1 << 20 or b"include" in text.lower():
            return True
    return False


def housekeep(worktree: str, what: str) -> None:
    """What follows a job, off the jobs' time (run by :class:`Deltas`'s process, killed when
    the next job comes): the index's recent rows merged into objects (with *what*
    ``merge``, only that), the files cache brought to the worktree's last snapshot and,
    after a new watch snapshot (``new``), find's deltas computed (``snapshot``: not them). Each
    step is one transaction or a file renamed whole: a kill loses only the step under way
    (the next snapshot's process does it again). Only caches and housekeeping: a failure
    is left for later."""
    from git_snapshot import gitrepo
    from git_snapshot import identity
    from git_snapshot.store import Store

    with contextlib.suppress(Exception), Store() as store:
        _merge(store)
        if what != "merge":  # to the worktree's last snapshot (the one just taken, or later)
            repo = gitrepo.find_repo(worktree)
            _retarget(store, repo, store.snapshots(identity.source(store, repo), repo.toplevel)[-1])
    if what == "new":
        warm_deltas(worktree)


def _merge(store: Any) -> None:
    """Move the objects rebuilt snapshots listed in the index's recent table (this one's,
    the hooks' since the last) into its objects table: off the hooks' time (store/index.py).
    Skipped when the store is busy or the disk full: the next one does it."""
    import contextlib
    import sqlite3

    with contextlib.suppress(sqlite3.Error), store.lock():
        store.index.merge_recent()


def _retarget(store: Any, repo: Any, snap: Any) -> None:
    """Snapshots rebuilt from the dirty set (hooks' and ours) leave the files cache with an
    older snapshot: bring it to *snap* (store/rebuild.retarget_cache). Only a cache: a
    failure is left for the next full walk to meet."""
    import contextlib

    from git_snapshot import identity
    from git_snapshot.store.rebuild import retarget_cache

    with contextlib.suppress(Exception):
        retarget_cache(store, identity.source(store, repo), repo.toplevel, snap.root)


def before_burst(store: Any, worktree: str, started: float) -> Any:
    """The last snapshot of *worktree* whose walk ended before a burst that started at
    *started* (a hook's, a manual one or the watcher's; one read during the burst may lack
    what the burst deleted), or None."""
    from git_snapshot import gitrepo
    from git_snapshot.errors import UserError

    try:
        where = gitrepo.find_repo(worktree).toplevel
    except UserError:  # the worktree itself went (git worktree remove --force, rm -rf)
        where = worktree
    # of whichever repository: one deleted whole and made again there (rm -rf, then git
    # clone) has none of its own yet, and the old one's holds what went (bursts.record
    # reports it with the old repository's qualified ID)
    snaps = store.snapshots(None, where)
    older = [s for s in snaps if s.created < started]
    return max(older, key=lambda s: s.created) if older else None


def after_snapshot(store: Any, worktree: str, created: float) -> list[Any]:
    """The snapshots of *worktree* created after *created*, oldest first (see before_burst)."""
    from git_snapshot import gitrepo
    from git_snapshot.errors import UserError

    try:
        where = gitrepo.find_repo(worktree).toplevel
    except UserError:
        where = worktree
    return sorted((s for s in store.snapshots(None, where) if s.created > created), key=_created)


def _created(s: Any) -> float:
    return float(s.created)


def record_bursts(worktree: str, items: list[dict[str, Any]]) -> dict[str, object]:
    """Record each burst (watch/bursts.py) against the store's last snapshot of *worktree*
    whose walk ended before it began (files it overwrote before a snapshot taken in the
    middle of it: against the one before their overwrite, in an entry of their own); what
    happened, as lines for the daemon's log. A burst whose recording failed for a reason a
    retry may cure (transient: the store's disk full) is given back under ``retry``, with
    the parts it recorded (``done``: each [snapshot id, *paths], skipped when the same part
    comes again: the parts are worked out again at each try, from the disk), for the
    daemon to try again later, and ``why`` and ``cause`` (failure_cause). One that failed
    otherwise (a damaged snapshot, a bug) is recorded as well as it can be (watch/salvage.py)
    and said under ``trouble``: [cause, why] (RED35 W1: it was retried without end, said as
    a full disk, and never reached git snapshot losses)."""
    from git_snapshot.store import Store

    lines: list[str] = []
    retry: list[dict[str, Any]] = []
    trouble: list[list[str]] = []
    why = cause = None
    try:
        store = Store()
    except Exception as exc:  # (a damaged index: kept, and said as what it is)
        return {"log": [], "retry": items, "why": described(exc), "cause": failure_cause(exc)}
    with store:
        for item in items:
            done = [x for x in item.get("done") or () if type(x) is list]
            try:
                for line, part in _record(store, worktree, item, done, trouble):
                    lines.append(line)
                    if part:
                        done.append(part)
            except Exception as exc:
                why, cause = described(exc), failure_cause(exc)
                retry.append({**item, "done": done})
    out: dict[str, object] = {"log": lines}
    if retry:
        out.update(retry=retry, why=why, cause=cause)
    if trouble:
        out.update(trouble=trouble)
    return out


def failure_cause(exc: BaseException) -> str:
    """What kind of failure *exc* is: ``write`` (a retry may cure it: the store's disk or
    quota full, an I/O error, a file in the way, its database full or locked: sqlite's
    "database or disk is full" is no OSError), ``damaged`` (the store's data: an object or
    folder listing unreadable, a tree no snapshot holds, its index's database malformed),
    ``error`` (another expected failure: its message says what) or ``bug``."""
    import sqlite3

    from git_snapshot.errors import UserError
    from git_snapshot.store.objects import CorruptObject
    from git_snapshot.store.validate import UnsafeTree

    if isinstance(exc, OSError):
        return "write"
    if isinstance(exc, sqlite3.OperationalError) and any(
        w in str(exc).lower() for w in _SQLITE_TRANSIENT
    ):
        return "write"
    if isinstance(exc, (CorruptObject, UnsafeTree, sqlite3.DatabaseError)):
        return "damaged"
    return "error" if isinstance(exc, UserError) else "bug"


# sqlite's words for what a retry may cure (its OperationalError also says "no such table")
_SQLITE_TRANSIENT = ("full", "locked", "busy", "disk i/o error", "unable to open", "readonly")


def transient(exc: BaseException) -> bool:
    """Whether a retry may cure *exc* (failure_cause's ``write``)."""
    return failure_cause(exc) == "write"


def described(exc: BaseException) -> str:
    """*exc* in words: its message when it is one we expect, else its repr (a bug's)."""
    return str(exc) if failure_cause(exc) != "bug" else f"internal error {exc!r}"


def _record(
    store: Any, worktree: str, item: dict[str, Any], done: list[list[Any]], trouble: list[list[str]]
) -> Any:
    """Record the burst *item* (_burst_json's), the parts *done* left out (recorded before,
    each [snapshot id, *paths]: not by position, as its parts may differ from one try to the
    next); yields a line for the log and, for each part recorded, that part ([] for a line
    alone).
    A part whose recording fails for good is recorded by watch/salvage.py, and said in
    *trouble*; a failure a retry may cure escapes."""
    from git_snapshot.watch import bursts

    if item.get("gap"):  # after a watcher that did not stop cleanly (watch/gap.py)
        from git_snapshot.watch import gap

        snap, found = gap.as_burst(store, worktree, item)
        said = "the watcher before did not stop cleanly: compared with"
        if found is None:
            where = f"snapshot {snap.id}" if snap is not None else "no snapshot (none before)"
            yield f"{said} {where}: no burst's worth gone", []
            return
        n = len(found["paths"])
        yield f"{said} snapshot {snap.id}: {n} path{'s' if n != 1 else ''} gone", []
        item = found
    whole = bursts.Burst(
        tuple(item["paths"]),
        item["started"],
        item["ended"],
        item.get("kinds", {}),
        item.get("times", {}),
        lost_events=bool(item.get("lost_events")),
        moves=tuple((m[0], m[1], float(m[2])) for m in item.get("moves") or ()),
    )
    # the last snapshot before a time: asked of the same times by settle_moves and parts
    before = functools.cache(lambda t: before_burst(store, worktree, t))
    whole = _renames_settled(store, worktree, whole, before)
    if not whole.paths:
        yield f"a burst of {len(item['paths'])} changes: renames in the worktree, nothing lost", []
        return
    try:
        parts = _parts(store, worktree, whole, before)
    except Exception as exc:
        if transient(exc):
            raise
        yield f"a burst's parts not told apart ({described(exc)}): recorded whole", []
        snap = before(whole.started)
        parts = [(snap, whole)] if snap is not None else []
    if not parts:
        yield f"a burst of {len(whole.paths)} changes, no snapshot before it", []
    for snap, b in parts:
        part = [snap.id, *b.paths]
        if part in done:
            continue
        try:
            entry = bursts.record(store, worktree, b, snap)
        except Exception as exc:
            if transient(exc):
                raise
            yield _salvaged(store, worktree, b, snap, exc, trouble), part
            continue
        what = f"recorded against snapshot {snap.id}" if entry else "nothing lost"
        yield f"a burst of {len(b.paths)} changes: {what}", part


def _parts(
    store: Any, worktree: str, whole: Any, before: Callable[[float], Any]
) -> list[tuple[Any, Any]]:
    """*whole* split by the snapshots it straddles, each part with the snapshot it is
    recorded against (bursts.Burst.parts, newer, unsettled; *before*: before_burst's)."""
    from git_snapshot.watch import bursts

    parts = whole.parts(before)
    # what a snapshot whose walk began during the burst read before its writes: from
    # that one (bursts.newer); what a snapshot whose walk met the burst's writes may
    # not hold: from the one before it (the daemon reads events late under load:
    # bursts.unsettled)
    parts = bursts.newer(store, parts, lambda t: after_snapshot(store, worktree, t))
    return bursts.unsettled(store, parts, before)


def _salvaged(
    store: Any, worktree: str, b: Any, snap: Any, exc: Exception, trouble: list[list[str]]
) -> str:
    """Record the part *b* whose bursts.record failed with *exc* (not transient) as well as
    it can be (watch/salvage.py); its line for the log. A failure a retry may cure escapes."""
    from git_snapshot.watch import salvage

    why, cause = described(exc), failure_cause(exc)
    entry = salvage.record(store, worktree, b, snap, exc)
    trouble.append([cause, why])  # (after: a retry would say it again)
    failed = (
        f"snapshot {snap.id} is damaged ({why}; check the store with: git snapshot verify)"
        if cause == "damaged"
        else f"recording it failed ({why})"
    )
    if entry is None:
        return f"a burst of {len(b.paths)} changes: {failed}; nothing found lost"
    named, unsaved = len(entry.get("lost") or ()), len(entry.get("unsaved") or ())
    return (
        f"a burst of {len(b.paths)} changes: {failed}; recorded against snapshot {snap.id} as "
        f"well as it could be: {named} path(s) lost, {unsaved} not compared"
    )


def _renames_settled(store: Any, worktree: str, whole: Any, before: Callable[[float], Any]) -> Any:
    """*whole* with its renames inside the worktree taken in (bursts.settle_moves: an old
    name is no deletion, unless its new name went too); *whole* as it is when that fails
    (its old names are then named as deleted: more than went, never less)."""
    from git_snapshot.watch import bursts

    try:
        return bursts.settle_moves(store, worktree, whole, before)
    except Exception:
        return whole


def serve() -> int:
    """The daemon's worker: one JSON job per line on stdin (``{"take": WORKTREE}``, a
    worktree to snapshot; ``{"prepare": ...}``; bursts to record; a raw line is a worktree's
    path, which must hold no newline), one JSON line per job on stdout (``{"error": ...}`` when it
    fails); ends at the end of its input. Its imports (the
    archiver, zstd, SQLite) are paid once, while the daemon waits out the quiet period."""
    import git_snapshot.worktree  # noqa: F401  (warm: what take() needs)
    from git_snapshot.errors import UserError
    from git_snapshot.store import rebuild
    from git_snapshot.watch.warm import Warmer

    # the trees of one job's changed folders serve the next (rebuild.py); past its limit the
    # least recently used go between jobs (the warmer's rebuild.evict_due), not in a job
    rebuild.keep_trees(later=True)
    warmer = Warmer()  # and the base's trees are read while no job runs (watch/warm.py)
    deltas: Any = None  # the process doing what follows a job, if one runs (Deltas)

    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        if path.startswith('{"ahead"'):  # not a job (no answer): files were marked there
            with contextlib.suppress(ValueError, KeyError, TypeError):
                warmer.ahead(json.loads(path)["ahead"])
            continue
        if deltas is not None:  # a job first: what it did is done again later
            deltas.stop()
            deltas = None
        warmer.pause()
        worktree: str | None = None
        try:
            if path.startswith("{"):  # JSON (every job the daemon sends now)
                job = json.loads(path)
                if "take" in job:  # a watch snapshot (a path may hold a newline: RED31 D4)
                    worktree = job["take"]
                    out: dict[str, object] = take(job["take"])
                elif "prepare" in job:
                    worktree = job["prepare"]
                    out = prepare(job["prepare"], job.get("upto"))
                else:
                    out = record_bursts(job["worktree"], job["bursts"])
            else:  # a worktree's path as a raw line (a path without a newline)
                worktree = path
                out = take(path)
        except UserError as exc:
            out = {"error": str(exc)}
        except Exception as exc:  # the daemon logs it and retries later
            out = {"error": f"internal error {exc!r}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
        rebuild.ahead_clear()  # what the job did not take is stale (or another's)
        then = _then(path, worktree, out)
        if then is not None and worktree is not None:  # after the answer: not waited for
            deltas = Deltas.start(worktree, then)
        warmer.resume(worktree)
    if deltas is not None:
        deltas.stop()
    warmer.pause()  # (not in the middle of a read as the process ends)
    return 0


def _then(line: str, worktree: str | None, out: dict[str, Any]) -> str | None:
    """What :func:`housekeep` does after the job of *line* that answered *out*: ``new``
    after a new watch snapshot, else None (an unchanged one: not a process's start; a
    preparation: a merge process after each, killed by the next job in a busy period, cost
    the hook 0.3 s after the writes ~40 ms of wall, session 16; a hook that finds
    index.RECENT_MAX rows merges them)."""
    if "error" in out or worktree is None:
        return None
    if line.startswith("{") and not line.startswith('{"take"'):
        return None
    return "new" if out.get("new") else None


# The command of the process that does what follows a job (``--deltas [WHAT] WORKTREE``:
# housekeep; without WHAT, ``new``)
DELTAS_ARGV = [sys.executable, "-m", "git_snapshot.watch.take", "--deltas"]


def serve_argv() -> list[str]:
    """The command of the daemon's worker (``--serve``), started by this process: it is
    told this process's pid, to end with it even if it dies before the worker is up."""
    return [
        sys.executable,
        "-m",
        "git_snapshot.watch.take",
        "--serve",
        "--parent",
        str(os.getpid()),
    ]


def deltas_argv(worktree: str, what: str = "new") -> list[str]:
    """The command of the deltas process of *worktree*, started by this process (the
    worker), told this process's pid (see :func:`serve_argv`)."""
    return [*DELTAS_ARGV, what, worktree, "--parent", str(os.getpid())]


class Deltas:
    """What follows a job (:func:`housekeep`: the recent rows merged, the files cache
    retargeted, the deltas a first ``find`` would compute, store/history.warm_deltas), done
    by a process of its own at a lower priority, which the worker kills as soon as a job
    comes: on L (200k files) each delta of a 1 % change costs ~0.25 s of CPU, and up to 20
    of them (history.WARM_MOST) computed in the worker itself held every job after them, a
    hook's preparation among them, for seconds (one logged at 10.6 s under load; the hook
    gives up waiting after 3 s and rebuilds itself); the files cache's retarget and the
    merge did the same (2.9 and 0.5 s of wall after a watch snapshot on L, session 16).
    Each delta is written whole or not at all (a temp file renamed: gc sweeps a killed one's
    temp file), the merge is one transaction, so a killed run loses only the step under
    way; the next job's run does it again."""

    __slots__ = ("proc",)

    def __init__(self, proc: Any) -> None:
        self.proc = proc

    @classmethod
    def start(cls, worktree: str, what: str = "new") -> Deltas | None:
        import subprocess

        try:
            proc = subprocess.Popen(
                deltas_argv(worktree, what),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
        except OSError:
            return None  # a cache only: find computes what is missing
        return cls(proc)

    def stop(self) -> None:
        """Killed if it still runs, and reaped."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.kill()
        with contextlib.suppress(OSError):
            self.proc.wait()


def warm_deltas(worktree: str) -> None:
    """Compute the deltas a first ``find`` would (store/history.py): the worker is idle now,
    a person running find is not. A cache only: any failure is left for find to meet. Run by
    :func:`housekeep` (in :class:`Deltas`'s process, at nice 10: below the worker; what keeps
    it from holding a hook's preparation is that the worker kills it when a job comes)."""
    from git_snapshot import gitrepo
    from git_snapshot import identity
    from git_snapshot.store import Store
    from git_snapshot.store import history

    with contextlib.suppress(Exception), Store() as store:
        history.warm_deltas(store, identity.source(store, gitrepo.find_repo(worktree)))


def _parent(argv: list[str]) -> tuple[list[str], int]:
    """*argv* without its ``--parent PID`` (serve_argv, deltas_argv) and that pid: the
    process that started this one. Not os.getppid() here: a parent killed while this one
    started (imports take a second under load) has already left it to the reaper, and
    die_with_parent would then wait on the reaper. Without it (a command of an older
    version), the parent this one has now."""
    if len(argv) >= 2 and argv[-2] == "--parent" and argv[-1].isdigit():
        return argv[:-2], int(argv[-1])
    return argv, os.getppid()


def main(argv: list[str]) -> int:
    from git_snapshot.errors import UserError
    from git_snapshot.store.pids import die_with_parent

    argv, parent = _parent(argv)
    if argv == ["--serve"]:
        die_with_parent(parent)  # the daemon's worker: never at a job after it died
        return serve()
    if len(argv) in (2, 3) and argv[0] == "--deltas":
        die_with_parent(parent)  # the worker's: ends with it (see Deltas)
        with contextlib.suppress(OSError):
            os.nice(10)  # below the worker
        housekeep(argv[-1], argv[1] if len(argv) == 3 else "new")
        return 0
    if len(argv) != 1:
        print("usage: python -m git_snapshot.watch.take WORKTREE|--serve", file=sys.stderr)
        return 2
    try:
        print(json.dumps(take(argv[0])), flush=True)
    except UserError as exc:
        print(f"git-snapshot: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
