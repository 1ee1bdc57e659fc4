"""What the git command a post-hook runs for wrote and deleted in the worktree.

Holds the operation a post-hook checks (_Op: its call, the commits HEAD moved between,
_moved, and the paths they differ at, _changed), which paths git wrote since the command
began, holding a version git has (_written_during, _git_wrote, _written_limit,
_disk_blob_id), in submodules too (_in_submodules), what a checkout deleted (_git_dropped)
and staged or converted on the way (_staged_in, _staged_converted, _index_kept), what a
rebase rewrote (_rewritten, _replayed_away), and the diff of two snapshots' trees (_diff,
_overwritten) and whether the snapshot before is the command's own (_exact).

Called by findlosses, lostfrom and autostash; commands/undo_since.py asks _disk_blob_id.
Imported by them, never by hooks.py at import (every git command imports hooks.py).
"""

from __future__ import annotations

import os
import time

from git_snapshot import gitrepo
from git_snapshot.ctx import suppress
from git_snapshot.errors import UserError
from git_snapshot.hooks import COARSE_CLOCK_SLACK_S
from git_snapshot.hooks import FILE_CHECKOUT_WINDOW_NS
from git_snapshot.hooks import NULL
from git_snapshot.hooks import Call
from git_snapshot.hooks import Context
from git_snapshot.hooks import head_steps
from git_snapshot.hooks import picked
from git_snapshot.hooks import step_paths

TYPE_CHECKING = False  # not typing's: typing is not imported on the hook path
if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Collection
    from collections.abc import Mapping
    from collections.abc import Sequence
    from typing import Literal

    from git_snapshot.store import Result
    from git_snapshot.store import Snapshot
    from git_snapshot.store import Store
    from git_snapshot.store.diff import Change
    from git_snapshot.store.objects import Entry


class _Op:
    """The operation a post-hook checks: the hook's *call* and *ctx*, this hook's snapshot
    (*after*, as worktree.take returned it; None when it could take none: hooks._losses_anyway),
    what git or pre-commit only hides for the moment (*overlay*), the commits HEAD moved
    between (*old*, *new*) and the paths they differ at (*changed*)."""

    __slots__ = ("after", "call", "changed", "ctx", "new", "old", "overlay", "repo", "store")

    def __init__(
        self,
        store: Store,
        repo: gitrepo.Repo,
        call: Call,
        ctx: Context,
        after: Result | None,
        overlay: gitrepo.Overlay | None,
    ) -> None:
        self.store, self.repo, self.call, self.ctx = store, repo, call, ctx
        self.after, self.overlay = after, overlay
        self.old, self.new = _moved(repo, call)
        self.changed = _changed(repo, call, self.old, self.new)


def _moved(repo: gitrepo.Repo, call: Call) -> tuple[str | None, str | None]:
    """The commits the operation moved HEAD between, as far as the hook knows them."""
    if call.name == "post-checkout":
        return (None if call.prev in (None, NULL) else call.prev), call.new
    if call.name in ("post-merge", "post-rewrite"):
        return gitrepo.rev(repo, "ORIG_HEAD"), gitrepo.head(repo)
    if call.name == "post-commit":
        moved = picked(repo.git_dir)
        return (moved[0], moved[1]) if moved else (None, None)
    return None, None


def _changed(repo: gitrepo.Repo, call: Call, old: str | None, new: str | None) -> list[bytes]:
    """Paths the operation wrote or deleted because the commits differ there."""
    if call.file_checkout or not old or not new or old == new:
        return []  # old == new: `checkout -b`, `switch -c` wrote no file
    if call.name == "post-merge" and call.squash:
        # a squash merge moves no ref: what it wrote is what it staged
        return gitrepo.staged_paths(repo, old)
    key = (repo.toplevel, old, new)  # (two commits: the answer never changes)
    if key not in _CHANGED:
        _CHANGED.clear()
        _CHANGED[key] = gitrepo.changed_paths(repo, old, new)
    return list(_CHANGED[key])


# _changed's last answer: a post-checkout hook asks it twice (findlosses._prepared_before, then
# _Op), one `git diff-tree` each
_CHANGED: dict[tuple[str, str, str], list[bytes]] = {}


def _written_during(
    repo: gitrepo.Repo,
    paths: list[bytes],
    since: float | None,
    ids: Mapping[bytes, tuple[int, int, int, int, str, int]] | None = None,
    files: bool = False,
    emptied: list[bytes] | None = None,
    vanished: list[bytes] | None = None,
    tree: str | None = None,
) -> list[bytes]:
    """Those of *paths* that the operation wrote: modified since it started (without its start
    time: just before git last wrote the index, as a checkout writes the files, then the
    index), holding the version git wrote there: with *tree* (a branch checkout's, merge's or
    rebase's commit: lostfrom._wrote_from), the one *tree* holds at that path; without (a file
    checkout's source is the index or any REV), any blob git has. (An edit the user made is
    not in git's object database, but one an IDE staged on save while the command ran is:
    RED40 E3.) *ids*: git's blob ids of files the snapshot just read (Result.ids),
    taken instead of reading a file again while its inode, times and size are as then; and
    their labels: a file the snapshot (taken after the operation) found untracked or ignored
    was not written by a branch checkout, merge or rebase (they write only paths they leave
    in the index), so git is not asked about it; *files* (a file checkout: `git restore
    --source=B f` writes f and leaves the index alone) takes them as any other.

    With *emptied* (a checkout's hook), also what it deleted: a path gone now whose nearest
    folder still there was written since it started is added to *emptied* (which of them git
    deleted, and not the user before, the caller decides: _git_dropped); one that a file or
    link written since replaced, with its folder (`restore --source=B conf` over a folder
    conf/), gives that file (whose loss check compares all *before* held below it); one that
    a folder written since replaced (a file where B has a folder) is given itself.

    With *vanished* (a rebase's hook), the paths gone now are added to it (which of them
    the rebase deleted, the caller decides: _replayed_away)."""
    import stat

    from git_snapshot.worktree import IGNORED  # (imported already: the snapshot ran)
    from git_snapshot.worktree import UNTRACKED

    limit = _written_limit(repo, since)
    if limit is None:
        return []
    top = os.fsencode(repo.toplevel)
    fresh: dict[bytes, str] = {}
    gone: list[bytes] = []
    over: list[bytes] = []  # files and links a folder written since replaced: deleted by it
    # (a submodule's files are not in this index, and a recursing checkout writes them)
    nested = os.path.exists(os.path.join(top, b".gitmodules"))
    for p in paths:
        got = ids.get(p) if ids else None
        if (
            not files
            and got is not None
            and (got[5] == UNTRACKED or got[5] == IGNORED)
            and not (nested and _submodule_of(top, p))
        ):
            # not in git's index after the operation: not written by it, whatever happened
            # to the file since (its label alone says so: not even a stat; the snapshot took
            # no git id of it)
            continue
        full = os.path.join(top, p)
        try:
            st = os.lstat(full)
        except OSError:  # (ENOTDIR: a file where a folder on its way was)
            if emptied is not None:
                gone.append(p)
            elif vanished is not None:
                vanished.append(p)
            continue
        if st.st_mtime_ns < limit:
            continue
        if stat.S_ISDIR(st.st_mode):
            if emptied is not None:
                over.append(p)
            continue
        oid = got[4] if got is not None else ""  # ("": untracked or ignored, not hashed)
        if (
            oid
            and got is not None
            and got[:4] == (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
        ):
            fresh[p] = oid
        else:  # written since the snapshot read it (or not read by it): as it is now
            with suppress(OSError):
                fresh[p] = _disk_blob_id(full)
    if gone and emptied is not None:
        for q in _gone_under(top, gone, limit, emptied):
            if q not in fresh:
                with suppress(OSError):
                    fresh[q] = _disk_blob_id(os.path.join(top, q))
    written = _git_wrote(repo, fresh, tree)
    unknown = [p for p in fresh if p not in written]
    if unknown:  # bytes git converts (an eol setting, a clean filter): as git stores them
        conv = gitrepo.converting(repo, unknown)  # (RED30: checkout -- F went unreported)
        if conv:
            written |= _git_wrote(repo, gitrepo.clean_path_ids(repo, conv), tree)
        rest = {p: fresh[p] for p in unknown if p not in written}
        written |= _in_submodules(top, rest)
    return [p for p in fresh if p in written] + over


def _git_wrote(repo: gitrepo.Repo, ids: Mapping[bytes, str], tree: str | None) -> set[bytes]:
    """Those of *ids* (path -> git's id of what the path holds) whose version the operation
    can have written: with *tree*, the one *tree* holds at that path (git writes nothing else
    there: an IDE's `git add` puts its every save in the object database, and its save is
    in no commit the command wrote from); without, any blob of git's object database."""
    if tree is None:
        known = gitrepo.existing_blobs(repo, ids.values())
        return {p for p, oid in ids.items() if oid in known}
    if tree == NULL:  # an orphan branch: git wrote no file
        return set()
    held = gitrepo.tree_entries(repo, tree, ids)
    return {p for p, oid in ids.items() if p in held and held[p][1] == oid}


def _in_submodules(top: bytes, fresh: Mapping[bytes, str]) -> set[bytes]:
    """Those of *fresh* (path -> id of what is there now) whose id the repository of the
    submodule the path lies in (its nearest folder with a .git) has: a checkout with
    submodule.recurse writes a submodule's files from its own object database (RED36 A3:
    they were never compared, and a discarded edit there went unnamed). Those whose raw id
    it lacks are asked as its git stores them (_stored_in_submodule: its eol, its filter)."""
    by_root: dict[bytes, dict[bytes, str]] = {}
    for p, oid in fresh.items():
        d = _submodule_of(top, p)
        if d:
            by_root.setdefault(d, {})[p] = oid
    found: set[bytes] = set()
    for d, ids in by_root.items():
        with suppress(UserError):  # (not a repository after all: nothing of it is git's)
            known = gitrepo.existing_blobs_at(os.fsdecode(os.path.join(top, d)), ids.values())
            found.update(p for p, oid in ids.items() if oid in known)
            rest = [p for p in ids if p not in found]
            if rest:
                found |= _stored_in_submodule(top, d, rest)
    return found


def _stored_in_submodule(top: bytes, folder: bytes, paths: list[bytes]) -> set[bytes]:
    """Of *paths* (from the top, inside the repository nested at *folder*), those whose file
    on disk, as that repository's git stores it (its attributes: an eol rule, a clean
    filter), is a blob it has: under the submodule's `*.txt text eol=crlf` git writes CRLF
    bytes, whose raw id is no blob, and the superproject's gitrepo.converting does not see
    its attributes (review RQ43: a discarded edit of the submodule went unnamed). Asked only
    of the ids the raw match did not give: a check-attr and a config in the submodule, and a
    hash-object only where its attributes convert."""
    from git_snapshot.lostnested import nested_repo

    nested = nested_repo(top, folder)
    if nested is None:
        return set()
    cut = len(folder) + 1
    inner = {p[cut:]: p for p in paths}
    conv = gitrepo.converting(nested, inner)
    return {inner[q] for q in _git_wrote(nested, gitrepo.clean_path_ids(nested, conv), None)}


def _submodule_of(top: bytes, path: bytes) -> bytes:
    """The folder of the repository nested in the worktree *top* that *path* lies in (its
    nearest folder with a .git: a submodule's), or b"" for none."""
    d = path.rpartition(b"/")[0]
    while d and not os.path.lexists(os.path.join(top, d, b".git")):
        d = d.rpartition(b"/")[0]
    return d


def _gone_under(top: bytes, gone: list[bytes], limit: int, emptied: list[bytes]) -> set[bytes]:
    """For each of *gone* (paths no longer on disk), its nearest ancestor still there: a folder
    written since *limit* puts the path in *emptied* (something was removed from it during
    the command); a file or link written since is returned (it replaced the folder the path
    was in). Each ancestor is lstat'ed once."""
    import stat

    seen: dict[bytes, os.stat_result | None] = {}
    files: set[bytes] = set()
    for p in gone:
        d = p
        st: os.stat_result | None = None
        while d:
            d = d.rpartition(b"/")[0]
            if d not in seen:
                try:
                    seen[d] = os.lstat(os.path.join(top, d) if d else top)
                except OSError:
                    seen[d] = None
            st = seen[d]
            if st is not None:
                break
        if st is None or st.st_mtime_ns < limit:
            continue
        if stat.S_ISDIR(st.st_mode):
            emptied.append(p)
        else:
            files.add(d)
    return files


def _git_dropped(
    store: Store, repo: gitrepo.Repo, before: Snapshot, emptied: list[bytes]
) -> list[bytes]:
    """Of *emptied* (gone from a folder the checkout wrote: _written_during), those git can
    have deleted, not the user before it: git deletes a file of its index (a staged new file
    on `checkout -f`, a tracked file the source lacks on `restore --source`), never an
    untracked or ignored one from a folder it keeps. So a file *before* labels tracked, or
    one staged since it was taken: its blob is a loose object written since (with the
    watcher, `git add` is no change of the worktree: *before* still says untracked). A file
    the user deleted, untracked, is not named, even if git holds a copy (a backup of a
    committed file); what git can give back (the index keeps a staged file a plain switch
    carries) the loss check leaves out. Only a file of the size of such a blob is hashed:
    an untracked folder removed since *before* (node_modules) is not read back whole. A file
    whose raw bytes are none of them may be one git stored converted (_staged_converted:
    CRLF bytes under `eol=crlf`, which `git add` stores with LF; review RQ43). A file of a
    submodule was staged into the submodule's object database, and is asked there (_staged_in;
    its attributes for _staged_converted)."""
    from git_snapshot.store.diff import lost
    from git_snapshot.store.objects import FILE
    from git_snapshot.worktree import TRACKED

    top = os.fsencode(repo.toplevel)
    nested = os.path.exists(os.path.join(top, b".gitmodules"))
    since = int((before.created - COARSE_CLOCK_SLACK_S) * 1e9)
    out = []
    # by the folder of the submodule a path lies in (b"": none): the repository whose `git
    # add` staged it, its blobs written since (size -> ids), its files with no such blob raw
    staged: dict[bytes, tuple[gitrepo.Repo | None, dict[int, set[str]]]] = {}
    rest: dict[bytes, dict[bytes, Entry]] = {}
    for p, e, _ in lost(store, before.root, top, emptied):
        if e.label == TRACKED:
            out.append(p)
            continue
        d = _submodule_of(top, p) if nested else b""
        if d not in staged:
            staged[d] = _staged_in(repo, top, d, since)
        blobs = staged[d][1]
        if not blobs:
            continue
        if e.size in blobs:
            from git_snapshot.losses import git_blob_id

            if git_blob_id(store, e) in blobs[e.size]:
                out.append(p)
                continue
        if e.kind == FILE:
            rest.setdefault(d, {})[p] = e
    for d, entries in rest.items():
        where, blobs = staged[d]
        cut = len(d) + 1 if d else 0  # (a submodule's paths from its own top)
        if where is not None:
            with suppress(UserError):  # (its git cannot be asked: raw match alone)
                got = _staged_converted(
                    store, where, {p[cut:]: e for p, e in entries.items()}, blobs
                )
                out += [p for p in entries if p[cut:] in got]
    return out


def _staged_in(
    repo: gitrepo.Repo, top: bytes, folder: bytes, since: int
) -> tuple[gitrepo.Repo | None, dict[int, set[str]]]:
    """The repository a file at *folder* (b"": the worktree's; else the submodule there,
    whose `git add` writes into its own object database: `git checkout -f
    --recurse-submodules` deletes its staged new file, which went unnamed, review RT43) and
    the blobs written into it since *since* (_blobs_written_since). No git process."""
    if not folder:
        return repo, _blobs_written_since(repo, since)
    from git_snapshot.lostnested import nested_repo

    where = nested_repo(top, folder)
    return where, _blobs_written_since(where, since) if where is not None else {}


def _staged_converted(
    store: Store, repo: gitrepo.Repo, entries: Mapping[bytes, Entry], staged: Mapping[int, set[str]]
) -> set[bytes]:
    """Of *entries* (path -> a snapshot's file, gone now, whose raw bytes are none of the
    blobs written since: *staged*, size -> ids), those whose bytes as git stores them at that
    path (its end-of-line conversion, a clean filter: gitrepo.clean_ids) are one of them: a
    file the user wrote with CRLF under `*.txt text eol=crlf` (or `* text=auto`), saved
    untracked, then `git add`ed (git stores LF) is deleted by `checkout -f` as a staged new
    file, and was not named (review RQ43). No git process where nothing can make git store
    a file otherwise (no attribute file, core.autocrlf off: _may_store_otherwise). An eol
    conversion stores a file's bytes as they are or its CRLF pairs as LF, nothing else
    (git's crlf_to_git): only a file whose bytes with LF for CRLF are a staged blob is asked
    that way (git, to say whether it converts there), and read only when its size allows it;
    any other only where a clean filter, ident or working-tree-encoding applies (_filtering,
    asked where an attribute file names one: _may_filter). Each such file a hash-object."""
    from bisect import bisect_left

    from git_snapshot import hashes
    from git_snapshot.losses import CONVERTED_AT_MOST

    files = {p: e for p, e in entries.items() if e.size <= CONVERTED_AT_MOST}
    if not files or not _may_store_otherwise(repo, list(files)):
        return set()
    sizes = sorted(staged)
    data: dict[bytes, bytes] = {}
    for p, e in files.items():
        # LF for CRLF leaves at least half of a file, and less than all of it: a staged size
        # in [size/2, size) (the least one at least half of it); else the file is not read
        # (most files of a node_modules the user removed are of no such size: RT43)
        i = bisect_left(sizes, (e.size + 1) // 2)
        if i < len(sizes) and sizes[i] < e.size:
            b = b"".join(store.stream_blob(e.ref))
            lf = b.replace(b"\r\n", b"\n")
            if len(lf) < len(b) and len(lf) in staged and hashes.blob_id(lf) in staged[len(lf)]:
                data[p] = b
    others = [p for p in files if p not in data]
    for p in _filtering(repo, others) if others and _may_filter(repo, others) else ():
        e = files[p]
        data[p] = b"".join(store.stream_blob(e.ref)) if e.size else b""
    conv = gitrepo.converting(repo, data) if data else set()
    ids = gitrepo.clean_ids(repo, [(p, data[p]) for p in data if p in conv]) if conv else {}
    every = set().union(*staged.values())
    return {p for p, oid in ids.items() if oid in every}


def _may_store_otherwise(repo: gitrepo.Repo, paths: list[bytes]) -> bool:
    """Whether git could store any of *paths* as other bytes than the file's: core.autocrlf
    set (true, or input: CRLF stored as LF), or an attribute file git reads for them exists
    (gitoverlay._may_convert). Stats and the hook's remembered config: no git process."""
    cfg = gitrepo.conversion_config(repo)
    if cfg.get("core.autocrlf", "false").lower() not in ("false", "no", "off", "0", ""):
        return True
    from git_snapshot import gitoverlay

    return gitoverlay._may_convert(repo, paths)


def _may_filter(repo: gitrepo.Repo, paths: list[bytes]) -> bool:
    """Whether git may store any of *paths* through a filter, ident or working-tree-encoding:
    an attribute file git reads for them names one of them (or is too big to read: the word
    test of gitoverlay.written_otherwise; a few stats and reads, no git process). Not under
    `* text=auto` alone: a file the user deleted there asked a check-attr (review RT43)."""
    from git_snapshot import gitoverlay

    return gitoverlay._attributes_say(repo, paths, gitrepo.conversion_config(repo), False)


def _filtering(repo: gitrepo.Repo, paths: list[bytes]) -> set[bytes]:
    """Those of *paths* git stores through a clean filter, ident or working-tree-encoding
    (whatever their size): one ``check-attr``; all of them when it fails."""
    from git_snapshot import gitextra

    told = gitextra.check_attr(repo, paths, ("filter", "ident", "working-tree-encoding"))
    if told is None:
        return set(paths)
    return {p for p, a in told.items() if any(v not in gitextra.NOT_SET for v in a.values())}


def _index_kept(repo: gitrepo.Repo, ctx: Context, paths: list[bytes]) -> set[bytes]:
    """Of *paths* (gone after the file checkout *ctx.argv*, which _git_dropped took as deleted
    by it), those it cannot have deleted: a file checkout never deletes a path its index keeps
    (from the index, it writes the file back; `checkout REV -- d` and `restore --staged`
    write the index too: REV's, without the path) but `restore --source=REV`, the worktree
    alone, deletes one REV lacks, under its pathspec only. So: those the index keeps, and
    (with such a source) REV has or the pathspec leaves out. A file the user deleted by hand
    (` D f`) while the command wrote another in its folder (RED31, RED32) is one. None when
    the command is not known (an alias)."""
    source, specs = _restore_words(ctx.argv)
    if source is False:
        return set()
    from git_snapshot import gitextra

    wanted = set(paths)
    held = {p for p in gitextra.index_paths(repo, paths) if p in wanted}
    if not held or source is None:
        return held
    try:
        kept = set(gitrepo.tree_entries(repo, source, held))
    except Exception:  # not a revision ls-tree reads: each may be one REV lacks
        return set()
    covered = _under_pathspecs(repo, ctx, specs, held - kept)
    return kept | {p for p in held - kept if covered is not None and p not in covered}


def _restore_words(argv: Sequence[str]) -> tuple[str | Literal[False] | None, list[str] | None]:
    """The git command *argv* (a file checkout): its source, None when it writes from the
    index or writes the index too (`checkout`, `restore` without --source, or with
    --staged), the revision of `restore --source=REV` (the worktree alone), False when not
    known; and, for a `restore`, its pathspecs as typed (None when not known:
    `--pathspec-from-file`, or not a restore)."""
    from git_snapshot import proc

    sub = proc.git_subcommand(tuple(argv))
    if sub == "checkout":
        return None, None
    if sub != "restore":
        return False, None
    source: str | Literal[False] | None = None
    specs: list[str] | None = []
    words = iter(argv[argv.index(sub) + 1 :])
    for word in words:
        if word == "--":
            if specs is not None:
                specs += words
            break
        if word in ("--staged", "--pathspec-from-file", "--conflict"):
            if word == "--staged":
                return None, specs
            if word == "--pathspec-from-file":
                specs = None
            next(words, None)
        elif word.startswith("--pathspec-from-file="):
            specs = None
        elif word == "--source":
            source = next(words, None) or False
        elif word.startswith("--source="):
            source = word[len("--source=") :] or None
        elif word.startswith("-") and not word.startswith("--"):
            for i, c in enumerate(word[1:], 2):
                if c == "S":
                    return None, specs
                if c in "sU":
                    value = word[i:] or next(words, None)
                    if c == "s":
                        source = value or False
                    break
        elif not word.startswith("-") and specs is not None:
            specs.append(word)
    return source, specs


def _under_pathspecs(
    repo: gitrepo.Repo, ctx: Context, specs: list[str] | None, paths: set[bytes]
) -> set[bytes] | None:
    """Those of *paths* (from the top, in the index) that *specs* (a restore's pathspecs, as
    typed where the command ran) match, as git matches them (magic, globs): None when that
    is not known (no pathspec read, the folder the command ran in not known)."""
    where = _command_dir(repo, ctx)
    if not specs or not paths or where is None or not os.path.isdir(where):
        return None
    try:
        out = gitrepo.run_git(where, "ls-files", "-z", "--full-name", "--", *specs)
    except Exception:  # (a pathspec git refuses: the command refused it too)
        return None
    return {p for p in out.split(b"\0") if p in paths}


def _command_dir(repo: gitrepo.Repo, ctx: Context) -> str | None:
    """The folder the git command above the hook worked in (its pathspecs are relative to
    it): git sets GIT_PREFIX for its hooks, `-C` applied; None when it is not there."""
    prefix = ctx.git_prefix
    if prefix is None:
        return None
    return os.path.join(repo.toplevel, prefix)


def _blobs_written_since(repo: gitrepo.Repo, since: int) -> dict[int, set[str]]:
    """size -> ids of the loose blobs written into git's objects since *since* (ns): what `git
    add` wrote. A folder of objects/ gets a new mtime when an object is created in it: only
    those are listed, and only their new objects' headers read. (An object git only
    freshened, its bytes there already, is not seen: a miss, never a false alarm.)"""
    import zlib

    objects = os.path.join(repo.common_dir, "objects")
    out: dict[int, set[str]] = {}
    try:
        subs = [d for d in os.listdir(objects) if len(d) == 2]
    except OSError:
        return out
    for d in subs:
        folder = os.path.join(objects, d)
        try:
            if os.stat(folder).st_mtime_ns < since:
                continue
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            try:
                if os.stat(path).st_mtime_ns < since:
                    continue
                with open(path, "rb") as f:
                    head = zlib.decompressobj().decompress(f.read(256), 64)
            except (OSError, zlib.error):
                continue
            kind, _, size = head.partition(b"\0")[0].partition(b" ")
            if kind == b"blob" and size.isdigit():
                out.setdefault(int(size), set()).add(d + name)
    return out


def _written_limit(repo: gitrepo.Repo, since: float | None) -> int | None:
    """The least mtime (ns) of a file the operation started at *since* wrote: *since* less
    the coarse clock's lag; without it, FILE_CHECKOUT_WINDOW_NS before git last wrote the
    index. None when neither is known."""
    if since is not None:
        return int((since - COARSE_CLOCK_SLACK_S) * 1e9)
    try:
        return os.stat(os.path.join(repo.git_dir, "index")).st_mtime_ns - FILE_CHECKOUT_WINDOW_NS
    except OSError:
        return None


def _disk_blob_id(path: bytes) -> str:
    """The id git gives the file (or symlink) at *path*, as it is on disk."""
    from git_snapshot import hashes

    if os.path.islink(path):
        return hashes.blob_id(os.readlink(path))
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        return hashes.blob_id_of_chunks(size, hashes.file_chunks(f))


def _rewritten(
    store: Store,
    repo: gitrepo.Repo,
    before: Snapshot,
    after: Result | None,
    ctx: Context,
    call: Call,
    touched: Collection[bytes] = (),
    within: Callable[[bytes], bool] | None = None,
    tree: str | None = None,
) -> list[bytes]:
    """Files that held something else in *before* and that the operation wrote over or (a
    checkout: HEAD may not move, or not where it deletes) deleted: the discarded edits of
    `checkout -f`, `switch --discard-changes`, `checkout -- f`, `restore` (with or without
    --source), the staged new files they delete, the tracked files `restore --source=REV`
    deletes where REV lacks them, an untracked folder a file checked out replaces; and (a
    rebase) a file one pick wrote over and a later one deleted, not in *touched* (the paths
    ORIG_HEAD and HEAD differ at: _changed). Files the user changed themselves are older
    than the operation: they are not named. With *within*, of the paths it says yes to only
    (each is looked at on disk: a restore's old source differs from the worktree widely).
    *tree*: the commit whose versions the operation wrote (lostfrom._wrote_from)."""
    ids = None
    if after is None:  # no snapshot after it (hooks._losses_anyway): the worktree, read, not stored
        from git_snapshot.store.diff import lost

        changed = [p for p, _, _ in lost(store, before.root, os.fsencode(repo.toplevel))]
    elif before.root == after.snapshot.root:
        return []  # nothing differs (`checkout -b`): not even the diff code is imported
    elif after.changed is not None and after.base == before.root:
        # the snapshot was rebuilt from *before* (the watcher's dirty set): it knows what
        # differs, exactly what the diff would find, and git's ids of what it read
        changed, ids = after.changed, after.ids
    else:
        changed = _overwritten(store, before.root, after.snapshot.root)
    if within is not None:
        changed = [p for p in changed if within(p)]
    if not changed:
        return []
    emptied: list[bytes] | None = [] if call.name == "post-checkout" else None
    vanished: list[bytes] | None = [] if call.name == "post-rewrite" else None
    out = _written_during(
        repo, changed, ctx.started, ids, call.file_checkout, emptied, vanished, tree
    )
    if emptied:
        dropped = _git_dropped(store, repo, before, emptied)
        if dropped and call.file_checkout:
            kept = _index_kept(repo, ctx, dropped)
            dropped = [p for p in dropped if p not in kept]
        out += dropped
    if vanished:
        # (a path ORIG_HEAD and HEAD differ at is compared anyway: no git call for it)
        rest = [p for p in vanished if p not in touched]
        if rest:
            out += _replayed_away(repo, rest, before.created)
    return out


def _replayed_away(repo: gitrepo.Repo, vanished: list[bytes], since: float) -> list[bytes]:
    """Of *vanished* (paths *before*, taken at *since*, held that are gone now), those that a
    move of HEAD since then wrote or deleted: a rebase's pick that adds a file (over the
    user's ignored one, silently) and a later one that deletes it leave it in neither
    ORIG_HEAD nor HEAD, and no mtime to see (RED31: `.env` added by mistake, then untracked
    again). A path no move touched, the user deleted."""
    moved = step_paths(repo, head_steps(repo.git_dir, since))
    return [p for p in vanished if p in moved]


def _overwritten(store: Store, before: bytes, after: bytes) -> list[bytes]:
    """The files and links of tree *before* whose entry differs in tree *after*. A folder
    one of them cannot list (a damaged object, RED34 D2) stops not the rest: in its place,
    the files *after* holds below it (what git may have written there; losses.find then
    says they could not be compared), none when neither can (was: CorruptObject out of
    the hook's whole check, "could not check what git checkout destroyed", and what the
    snapshot before holds elsewhere, or a snapshot in flight, named by nothing)."""
    from git_snapshot.store.diff import ADDED
    from git_snapshot.store.objects import DIR
    from git_snapshot.store.objects import CorruptObject

    try:
        changes = _diff(store, before, after)
    except CorruptObject:
        return _overwritten_damaged(store, before, after)
    return [
        c.path for c in changes if c.status != ADDED and c.old is not None and c.old.kind != DIR
    ]


def _overwritten_damaged(store: Store, before: bytes, after: bytes) -> list[bytes]:
    """_overwritten's answer when a folder of *before* or *after* cannot be listed."""
    from git_snapshot.store import validate
    from git_snapshot.store.diff import ADDED
    from git_snapshot.store.diff import diff_trees
    from git_snapshot.store.history import Trees
    from git_snapshot.store.objects import DIR
    from git_snapshot.store.objects import CorruptObject

    damaged: list[tuple[bytes, str]] = []
    changes = diff_trees(store, before, after, damaged=damaged)
    out = [c.path for c in changes if c.status != ADDED and c.old is not None and c.old.kind != DIR]
    trees = Trees(store)
    for rel, _ in damaged:
        try:
            e = trees.at(after, rel)
            if e is not None and e.kind == DIR:
                top = rel + b"/" if rel else b""
                out += [p for p, x in validate.walk(store, e.ref, top) if x.kind != DIR]
        except CorruptObject:
            continue
    return out


_DIFFED: dict[tuple[str, bytes, bytes], list[Change]] = {}  # the last diff: its trees' keys


def _diff(store: Store, before: bytes, after: bytes) -> list[Change]:
    """diff_trees of store trees *before* and *after*, the last one kept: a hook that reports
    asks it of the same two trees again (findlosses._gone_not_by_it; 20,000 files deleted: ~0.1 s
    each). A tree's key names its content: a kept diff is never stale."""
    key = (store.path, before, after)
    if key not in _DIFFED:
        from git_snapshot.store.diff import diff_trees

        changes = diff_trees(store, before, after)
        _DIFFED.clear()
        _DIFFED[key] = changes
    return _DIFFED[key]


def _exact(store: Store, repo: gitrepo.Repo, before: Snapshot, ctx: Context) -> bool:
    """Whether *before* was checked against the worktree by a pre-hook of this very command
    (then it holds what was lost, not an older version)."""
    from git_snapshot import lossrecord

    seen = lossrecord.last_checked(store, repo)
    if seen is None or seen.snapshot != before.id:
        return False
    if ctx.started is not None:
        return seen.when >= ctx.started - COARSE_CLOCK_SLACK_S
    return time.time() - seen.when < FILE_CHECKOUT_WINDOW_NS / 1e9
