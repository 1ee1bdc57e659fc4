"""A snapshot of a git worktree: git's view of the files turned into options for the core."""

from __future__ import annotations

import os
import time

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import whichstore
from git_snapshot.ctx import record
from git_snapshot.errors import UserError
from git_snapshot.store import location
from git_snapshot.store.result import Result
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import forget_auto
from git_snapshot.store.retention import parse_duration

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Mapping

    from git_snapshot.store import Snapshot
    from git_snapshot.store import Store
    from git_snapshot.store.archiver import Classify
    from git_snapshot.store.archiver import Exclude
    from git_snapshot.store.archiver import Progress
# The archiver (walk, pack writer, files cache) is imported by take() when it walks: a hook
# whose snapshot reuses the last one (the watcher's dirty set) never imports it.

TRACKED, UNTRACKED, IGNORED = 1, 2, 3
LABELS = {0: "", TRACKED: "tracked", UNTRACKED: "untracked", IGNORED: "ignored"}

# Retention applied after every hook snapshot (git config snapshot.keepLast / keepWithin).
DEFAULT_KEEP_LAST = 100
DEFAULT_KEEP_WITHIN = "14d"
AUTO_GC_EVERY_S = 86400.0


if TYPE_CHECKING:
    from typing import Any
    from typing import NamedTuple

    class _Settings(NamedTuple):
        excludes: tuple[str, ...] = ()
        skip_cache_dirs: bool = True
        keep_last: int = DEFAULT_KEEP_LAST
        keep_within: str = DEFAULT_KEEP_WITHIN
        auto_prune: bool = True
        watch: bool = True  # snapshot.watch: the watcher daemon watches this worktree
        keep_hourly: int | None = None  # snapshot.keepHourly/keepDaily/keepWeekly, as restic's
        keep_daily: int | None = None
        keep_weekly: int | None = None
        auto_push: str | None = None  # snapshot.autoPush NAME: push there after hook snapshots
        post_commit: bool = False  # snapshot.postCommit: install the post-commit hook too

else:  # no typing import at run time (the hook path)
    _Settings = record(
        "Settings",
        "excludes skip_cache_dirs keep_last keep_within auto_prune watch"
        " keep_hourly keep_daily keep_weekly auto_push post_commit",
        defaults=(
            (),
            True,
            DEFAULT_KEEP_LAST,
            DEFAULT_KEEP_WITHIN,
            True,
            True,
            None,
            None,
            None,
            None,
            False,
        ),
    )


class Settings(_Settings):
    __slots__ = ()

    def policy(self) -> Policy:
        """The retention these settings ask for."""
        return Policy(
            self.keep_last,
            _duration(self.keep_within),
            self.keep_hourly,
            self.keep_daily,
            self.keep_weekly,
        )


def _duration(text: str) -> float:
    """snapids.duration: '14d' and the like read here; git's syntax ('2.weeks.ago') by snapids,
    imported then only (with what it imports: not on an unchanged watched hook's path)."""
    try:
        return parse_duration(text)
    except UserError:
        from git_snapshot import snapids

        return snapids.duration(text)


# snapshot.* keys read as git reads them (git config --type=bool / --type=int)
_BOOLS = ("snapshot.skipCacheDirs", "snapshot.autoPrune", "snapshot.watch", "snapshot.postCommit")
_COUNTS = ("snapshot.keepLast", "snapshot.keepHourly", "snapshot.keepDaily", "snapshot.keepWeekly")


def settings(repo: gitrepo.Repo) -> Settings:
    cfg = gitrepo.config(repo)
    # no git call more than config() when none of these keys is set (the usual hook run)
    flags = gitrepo.typed_config(repo, "bool", _BOOLS, cfg)
    ints = gitrepo.typed_config(repo, "int", _COUNTS, cfg)

    def flag(key: str) -> bool:
        return flags.get(f"snapshot.{key}", "true") == "true"

    def count(key: str) -> int | None:
        value = ints.get(f"snapshot.{key}")
        if value is None:
            return None
        if int(value) < 1:
            raise UserError(f"bad snapshot.{key} {value}: use a whole number, 1 or more")
        return int(value)

    within_set = cfg.get("snapshot.keepwithin")
    within = within_set[-1] if within_set else DEFAULT_KEEP_WITHIN
    try:
        _duration(within)  # a bad one is said now, not after the next snapshot
    except UserError as exc:  # every snapshot stops on it: name the key and the way out
        raise UserError(
            f"snapshot.keepWithin in git config: {exc}; set it again (git config "
            f"snapshot.keepWithin {DEFAULT_KEEP_WITHIN}) where it is set (git config "
            "--show-origin snapshot.keepWithin)"
        ) from None
    return Settings(
        excludes=tuple(cfg.get("snapshot.exclude", [])),
        skip_cache_dirs=flag("skipCacheDirs"),
        keep_last=count("keepLast") or DEFAULT_KEEP_LAST,
        keep_within=within,
        auto_prune=flag("autoPrune"),
        watch=flag("watch"),
        keep_hourly=count("keepHourly"),
        keep_daily=count("keepDaily"),
        keep_weekly=count("keepWeekly"),
        auto_push=(cfg.get("snapshot.autopush") or [""])[-1] or None,
        post_commit=flags.get("snapshot.postCommit") == "true",  # off unless set
    )


def classifier(
    repo: gitrepo.Repo,
    digest: list[str] | None = None,
    hidden: frozenset[bytes] = frozenset(),
    raw: list[bytes] | None = None,
) -> Classify:
    """git's labels; with *digest*, a digest of what they depend on is appended to it.
    *hidden*: an overlay's files, tracked files that git or pre-commit took out of the
    worktree for the moment. They are tracked though the index of the moment may lack them:
    a staged new file in git's autostash is put back staged by its apply, and a later
    ``checkout -f`` that deletes it is a loss (RED39 D). *raw*: with *digest*, git's
    ignored answer is appended to it (gitrepo.labels)."""
    return _classifier(repo, digest, hidden, raw)[0]


def _classifier(
    repo: gitrepo.Repo,
    digest: list[str] | None,
    hidden: frozenset[bytes],
    raw: list[bytes] | None = None,
) -> tuple[Classify, bool]:
    """:func:`classifier`, and whether one of *hidden* lies below a folder git lists as
    ignored (the index of the moment has nothing there: a forced add git hides), where
    only the classifier knows it is tracked."""
    if digest is None:
        tracked = gitrepo.tracked(repo)
        ignored_files, ignored_dirs = gitrepo.ignored(repo)
    else:
        tracked, ignored_files, ignored_dirs, labels = gitrepo.labels(repo, raw)
        digest.append(labels + _digest_of(hidden))
    if hidden:
        tracked = tracked | hidden

    def classify(rel: bytes, is_dir: bool, parent: int) -> int:
        if parent == IGNORED:
            # git lists a directory as ignored (--directory) only when the index has nothing
            # in it: what lies below is ignored, no need to look it up (node_modules); but a
            # file git hides from the index of the moment may lie there (a forced add)
            return TRACKED if rel in hidden else IGNORED
        if is_dir:
            return IGNORED if rel in ignored_dirs else 0
        if rel in tracked:
            return TRACKED
        if rel in ignored_files:
            return IGNORED
        return UNTRACKED

    return classify, any(_folders_in(p, ignored_dirs) for p in hidden)


def _folders_in(path: bytes, folders: frozenset[bytes]) -> bool:
    """Whether a folder above *path* is one of *folders*."""
    folder = os.path.dirname(path)
    while folder:
        if folder in folders:
            return True
        folder = os.path.dirname(folder)
    return False


def _digest_of(hidden: frozenset[bytes]) -> str:
    """A part of the labels' digest for an overlay's *hidden* files ('' without one)."""
    if not hidden:
        return ""
    import zlib  # (an overlay's snapshot only)

    names = b"\0".join(sorted(hidden))
    return f";hidden:{len(hidden)}:{zlib.crc32(names):x}"


def _inside(pattern: str) -> str:
    """'x/**' (or 'x/**/') as 'x/*' (or 'x/*/')."""
    for tail, short in (("/**", "/*"), ("/**/", "/*/")):
        if pattern.endswith(tail):
            return pattern[: -len(tail)] + short
    return pattern


def excluder(patterns: tuple[str, ...]) -> Exclude | None:
    """``snapshot.exclude`` values as lines of a .gitignore, matched as git does: the common
    patterns by :mod:`git_snapshot.excludes` (no import of ``re``: the README's ``/.venv/``),
    any other set by pathspec's GitIgnoreSpec (``!`` re-includes, ``\\#`` and a trailing
    ``\\ `` escape, ``**``, a trailing ``/`` for directories only). The archiver never
    descends into an excluded directory, so, as in git, ``!`` cannot re-include a file below
    one."""
    lines = [p for p in patterns if p.strip() and not p.startswith("#")]
    if not lines:
        return None
    from git_snapshot import excludes  # (only for repositories that set snapshot.exclude)

    # 'x/**' means what is inside x, never x itself, but pathspec also matches the folder
    # 'x/' (so a later '!x/keep' could never act); as no excluded folder is entered, 'x/*'
    # excludes exactly what git does
    lines = [_inside(p) for p in lines]
    if all(excludes.simple(p) for p in lines):
        return excludes.matcher(lines)
    return excludes.pathspec_matcher(lines)


def store_inside_note(store_path: str, repo: gitrepo.Repo) -> str | None:
    """One line for a store that lies inside this worktree (a GIT_SNAPSHOT_STORE in the repo,
    or the default store with a repository at $HOME), or None. Such a store is never
    snapshotted nor restored over, but a plain git clean or git stash -u there takes it (no
    hook sees them): it is better kept apart; the line says why and how."""
    if not location.inside(store_path, repo.toplevel):
        return None
    return (
        f"the snapshot store {store_path} is inside this worktree; it is never snapshotted nor "
        f"restored over, but a plain git clean -fdx or git stash -u (or -a) there can take it "
        f"with every snapshot (git snapshot run -- keeps it out of them); to keep it apart set "
        f"{location.ENV_STORE} to a directory outside the worktree, then move {store_path} there"
    )


def install_note(repo: gitrepo.Repo) -> str | None:
    """What ``install`` says about where the snapshots will go: the store-inside note, or why
    the store location is refused (the hooks would fail on it), or None."""
    try:
        path = location.store_dir()
        location.check_store_dir(path)
    except UserError as exc:
        return f"the hooks cannot snapshot yet: {exc}"
    return store_inside_note(str(path), repo)


def take(
    store: Store,
    repo: gitrepo.Repo,
    *,
    trigger: str,
    message: str = "",
    overlay: gitrepo.Overlay | None = None,
    progress: Progress | None = None,
    skip_if_unchanged: bool = False,
    cfg: Settings | None = None,
    record: Mapping[str, Any] | None = None,
) -> Result:
    """Snapshot the whole worktree: tracked (as on disk), untracked and ignored files.
    *record*: more for its meta (a pre-restore snapshot's ``restore``: restore_record)."""
    cfg = cfg or settings(repo)
    source = identity.source(store, repo)
    # said at the first snapshot of this worktree only (two realpaths: not in every hook)
    first = not store.snapshots(source, repo.toplevel, last=1)
    notes = _first_notes(store, repo) if first else []
    # the watcher's dirty set (watch/dirtyset.py), when a live daemon watches this worktree
    plan = _dirty_plan(store, repo, trigger, cfg) if overlay is None else None
    digest: list[str] = []
    fast = plan is not None and plan.fast and _last_root(store, source, repo) == plan.base_root
    if fast and skip_if_unchanged and plan is not None:
        same = _reused(store, source, repo, plan.base_root)
        if same is not None:
            from git_snapshot.watch import dirtyset

            dirtyset.done(store.path, plan, same.root, plan.begun.base_labels)
            return Result(same, False)
    # the watcher's prepared tree (watch/take.prepare): with nothing marked since it and the
    # same stamp, git's labels are the ones it was built with (no git call, as unchanged)
    prep = None
    if plan is not None and not fast and plan.synced and plan.begun.has_base and plan.rebuildable():
        from git_snapshot.watch.prep import prepared
        from git_snapshot.watch.prep import wait_prepared

        if trigger != "watch":  # (the worker prepares: never while it snapshots)
            wait_prepared(store.path, plan.worktree, plan.begun)
        prep = prepared(store.path, plan.worktree, plan.begun)
    # (one the worker built under other labels than the base's, watch/take._relabel, is not
    # committed: those labels make the hook walk everything, plan.clean; it asks git itself)
    quick = (
        prep is not None
        and not prep.marked
        and prep.stamp == plan.stamp  # type: ignore[union-attr]
        and prep.labels == plan.begun.base_labels  # type: ignore[union-attr]
    )
    if not fast and not quick:
        gitrepo.prefetch(repo)  # the labels, if the hook did not ask for them (a watcher runs)
    from git_snapshot.store.archiver import Options
    from git_snapshot.store.archiver import create_snapshot

    hidden = overlay.files if overlay is not None else frozenset()
    raw: list[bytes] = []  # git's ignored answer: kept with a new base (dirtyset.finish)
    classify, below = (
        (_Lazy(repo), False) if fast or quick else _classifier(repo, digest, hidden, raw)
    )
    opts = Options(
        classify=classify,
        # (classify's own rule: below an ignored folder, all is ignored; but an overlay's
        # file there, which only classify knows)
        inherit=None if below else IGNORED,
        exclude=excluder(cfg.excludes),
        omit=frozenset({b".git"}),
        skip_cachedir_tag=cfg.skip_cache_dirs,
        progress=progress,
    )
    if digest:  # what the labels and exclusions come from: unchanged folders keep their trees
        opts.rules = repr((digest[0], cfg.excludes))
    use = None
    if plan is not None:
        labels = plan.begun.base_labels if fast else prep.labels if quick else digest[0]  # type: ignore[union-attr]
        opts.clean = (lambda rel: True) if fast else plan.clean(labels, lazy=prep is not None)
        opts.clean_base = plan.begun.base_root
        if not fast and plan.rebuildable():  # changed folders rebuilt from the base's trees
            opts.marks = opts.clean
            if prep is not None and opts.marks is not None:  # or from the prepared tree's
                from git_snapshot.watch.prep import UsePrep

                opts.prepared = use = UsePrep(plan, labels)
    if overlay is not None:
        root = os.fsencode(overlay.root)
        opts.overlay = {rel: root + b"/" + rel for rel in overlay.files}
        opts.overlay_deleted = overlay.deleted
    operation = gitrepo.operation(repo)
    meta: dict[str, Any] = {
        "head": gitrepo.head(repo),
        "branch": gitrepo.branch(repo),
        "operation": operation,
    }
    # stopped on a conflict (mid-way, or a stash pop's): the tree git wrote then
    tree = _conflict_tree(repo, operation is not None)
    if tree is not None:
        meta["auto_merge"] = tree
    # the stash entries of the moment: one gone by the next hook (`git stash pop`, then a
    # discard) held edits git can no longer give back (findlosses._unstashed; RED36A 4)
    stashes = stash_ids(repo)[:STASHES_KEPT]
    if stashes:
        meta["stashes"] = stashes
    meta.update(identity.tag_meta(repo))
    if record:
        meta.update(record)
    res = create_snapshot(
        store,
        source,
        repo.toplevel,
        trigger=trigger,
        message=message,
        worktree=repo.toplevel,
        meta=meta,
        options=opts,
        skip_if_unchanged=skip_if_unchanged,
    )
    # the stores this repository is snapshotted into: with two, a printed command names its
    # store, a bare id both have is refused (whichstore; RED44 F1)
    whichstore.note(repo.common_dir, store.path)
    if use is not None:
        use.result(res)  # what changed since the base: the prepared tree's changes too
    if plan is not None:
        from git_snapshot.watch import dirtyset

        # git's ignored answer, packed, when the base's labels change (else the base's stays)
        changed = labels != plan.begun.base_labels and raw
        ignored = dirtyset.pack(raw[0]) if changed else None
        dirtyset.done(store.path, plan, res.snapshot.root, labels, ignored)
    if notes:
        from git_snapshot import output

        for note in notes:
            output.err(note)
    return res


def _first_notes(store: Store, repo: gitrepo.Repo) -> list[str]:
    """What the first snapshot of a worktree says of the store: inside this worktree, or
    open to other users (a file system that ignores its chmod: RED40 C5)."""
    from git_snapshot.store.core import open_to_others  # (the store's module: loaded)

    notes = (store_inside_note(store.path, repo), open_to_others(store.path))
    return [note for note in notes if note is not None]


STASHES_KEPT = 16  # stash entries a snapshot records (a pop or drop takes the newest, mostly)


def stash_ids(repo: gitrepo.Repo) -> list[str]:
    """The stash entries' commits, newest first, read from the stash's reflog file (no git
    call: every snapshot asks; [] without one, as a reftable repository has)."""
    try:
        with open(os.path.join(repo.common_dir, "logs", "refs", "stash"), "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    out = []
    for line in reversed(lines):
        oid = line.split(b" ", 2)[1].decode("ascii", "replace") if line.count(b" ") >= 2 else ""
        if gitrepo.is_oid(oid) and not gitrepo.is_null_oid(oid):
            out.append(oid)
    return out


def _conflict_tree(repo: gitrepo.Repo, in_progress: bool) -> str | None:
    """The tree git wrote where it stopped on a conflict (gitrepo.conflict_tree): the
    worktree as git left it, conflict markers and all. What a snapshot taken then holds of
    it is git's, not the user's edits: a later loss check counts it as git can give back
    (`rebase --continue` after a hand resolution rewrites no edit of the user's)."""
    auto_merge = os.path.exists(os.path.join(repo.git_dir, "AUTO_MERGE"))
    # (a merge's autostash writes none, RED40 A3; nor does am -3, RED40 F3)
    stored = gitrepo.autostash_stored(repo)
    if not auto_merge and not stored and gitrepo.patch_subject(repo) is None:
        return None  # (the common case: no git call)
    try:
        return gitrepo.conflict_tree(repo, in_progress)
    except OSError:
        return None


def _dirty_plan(store: Store, repo: gitrepo.Repo, trigger: str, cfg: Settings) -> Any:
    """The dirty set's plan for this snapshot (None: walk everything, as without a watcher)."""
    if not os.path.isdir(os.path.join(store.path, "watch")):
        return None  # no watcher ever ran with this store: not even an import
    from git_snapshot.watch import dirtyset

    extra = repr((cfg.excludes, cfg.skip_cache_dirs))
    return dirtyset.plan(store.path, repo, trigger, extra, cfg.skip_cache_dirs)


def _reused(store: Store, source: str, repo: gitrepo.Repo, root: bytes) -> Snapshot | None:
    """The worktree's last snapshot when its root is *root* (the dirty set's base, nothing
    changed since) and no object is known damaged: what create_snapshot(skip_if_unchanged)
    returns then, here without importing the archiver (None: let it decide)."""
    with store.lock():
        mine = store.snapshots(source, repo.toplevel, last=1)
        if mine and mine[-1].root == root and not store.index.damaged():
            return mine[-1]
    return None


def _last_root(store: Store, source: str, repo: gitrepo.Repo) -> bytes | None:
    mine = store.snapshots(source, repo.toplevel, last=1)
    return mine[-1].root if mine else None


class _Lazy:
    """git's labels, asked of git only if needed (a root reused whole needs none)."""

    def __init__(self, repo: gitrepo.Repo) -> None:
        self.repo = repo
        self.fn: Classify | None = None

    def __call__(self, rel: bytes, is_dir: bool, parent: int) -> int:
        if self.fn is None:
            self.fn = classifier(self.repo)
        return self.fn(rel, is_dir, parent)


def apply_retention(
    store: Store, repo: gitrepo.Repo, cfg: Settings, taken: Snapshot | None = None
) -> int:
    """The default retention after a hook or watch snapshot (*taken*, never forgotten): the
    settings' policy for all but watch snapshots, which are thinned (store/retention.py);
    returns how many snapshots it forgot."""
    if not cfg.auto_prune:
        return 0
    keep = [taken.rowid] if taken is not None else []
    gone = forget_auto(store, cfg.policy(), [identity.source(store, repo)], keep)
    if gone and gc_due(store.index.meta_get("last_gc", "0"), time.time()):
        from git_snapshot.store.gc import gc  # once a day at most: off the hook's imports

        gc(store, wait=False)  # skipped while another process works in the store
    return len(gone)


def gc_due(last: str, now: float) -> bool:
    """Whether the automatic gc is due, the last one having run at *last* (the index's
    ``last_gc``, seconds): a day after it, or at once when *last* is after *now* (a run by a
    clock that was ahead, since put right, stopped every automatic gc until that date: RED39
    A2) or is no time at all (a damaged value: due, never a hook's traceback)."""
    try:
        return not 0 <= now - float(last or 0) <= AUTO_GC_EVERY_S
    except ValueError:
        return True
