"""Which history in the store belongs to this repository.

A repository is identified by an id kept in the repository itself, ``git config --local
snapshot.repoId``, written at first use: it dies with the repository, so a new repository at
an old path (or a fresh clone there) starts a new history, while linked worktrees (which share
the repository's config) share one. The source key in the store is ``<common dir>#<id>``; the
path part keeps a copied repository (same id, new place) apart from the original, and a moved
one (its old place gone) takes its history over at its first command there.

Stores written before ids existed keyed a repository by its common dir alone. At first use, a
repository without an id whose path has such a legacy history adopts it only if it holds a
commit that history recorded as HEAD (the same repository, upgraded); its id then starts with
``legacy-`` and its key stays the bare common dir, so its history, including what ``repair``
rebuilds from the packs, stays its own. Otherwise it starts afresh and the old history stays
reachable with ``--repo PATH``.

A linked worktree's snapshots are its repository's, said taken at its path; a small file of
ours in its admin dir (which `git worktree move` keeps and `worktree remove` deletes) says
where it was last seen: moved, its history follows it; new at the path of one removed, it
does not take that one's for its own (_worktree). A path names no worktree for good (git
moves one into another's place, or two swap): each snapshot a linked worktree takes records
which one took it (TAG), and that, not the path, says whose it is (owns, _settle).
"""

from __future__ import annotations

import os
import time

from git_snapshot import gitrepo
from git_snapshot.ctx import suppress
from git_snapshot.errors import UserError
from git_snapshot.store import Store

TYPE_CHECKING = False  # (typing is not imported on the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable

    from git_snapshot.store import Snapshot

CONFIG_KEY = "snapshot.repoId"
LEGACY = "legacy-"
_SEP = "#"


def key_for(common_dir: str, repo_id: str) -> str:
    return common_dir if repo_id.startswith(LEGACY) else f"{common_dir}{_SEP}{repo_id}"


def path_of(key: str) -> str:
    """The common dir (or API name) part of a source key."""
    return key.split(_SEP, 1)[0]


# seconds between tries while another git holds the repository's config locked (~3 s in all)
ASSIGN_WAITS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0)


# What git answered for each repository's id (by common dir), with the stat of its config
# file then: a command asks 1-4 times (resolve_repo's, current_repo's and a report's Repo
# objects each ask), a git process each (~2 ms). The same stat now says that git would read
# the same file: git rewrites it through a lock file and a rename (a new inode), so a write
# since (our _assign's, another process's, a repository made anew at that path) is a miss.
# A file written in the last RACY_NS is not trusted: a write in the same tick of the file
# system's clock could leave the same stat (git's "racily clean" entries).
_READ: dict[str, tuple[tuple[int, int, int, int, int], str | None]] = {}
RACY_NS = 50_000_000
COARSE_NS = 2_000_000_000  # (a tick of FAT, the coarsest)


def _read_id(repo: gitrepo.Repo) -> str | None:
    if repo.memo is not None:  # a hook's Repo: from its remembered config, no git run
        ids = gitrepo.local_values(repo, CONFIG_KEY)
        return ids[0] if ids else None
    seen = None
    with suppress(OSError):
        st = os.stat(os.path.join(repo.common_dir, "config"))
        wrote = max(st.st_mtime_ns, st.st_ctime_ns)
        # whole seconds: a file system whose clock ticks in seconds (ext4 with 128-byte
        # inodes, ext3, HFS+; FAT's in two): a rewrite in place, or a new file given the old
        # one's inode (rm -rf, git init), keeps every field for the rest of that tick
        coarse = not (st.st_mtime_ns % 1_000_000_000 or st.st_ctime_ns % 1_000_000_000)
        if wrote <= time.time_ns() - RACY_NS - (COARSE_NS if coarse else 0):
            seen = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    known = _READ.get(repo.common_dir)
    if seen is not None and known is not None and known[0] == seen:
        return known[1]
    # (the stat taken before git reads: a write in between makes the next stat differ)
    ids = gitrepo.local_values(repo, CONFIG_KEY)
    got = ids[0] if ids else None  # two racing first uses both keep the first one written
    if seen is not None:
        _READ[repo.common_dir] = (seen, got)
    return got


def _same_repository(store: Store, repo: gitrepo.Repo) -> bool:
    """Whether the legacy history at this path was taken in this very repository."""
    heads = {s.meta.get("head") for s in store.snapshots(repo.common_dir)[-50:]}
    return any(
        gitrepo.rev(repo, f"{head}^{{commit}}") is not None
        for head in sorted(h for h in heads if isinstance(h, str))
    )


def _assign(store: Store, repo: gitrepo.Repo) -> str:
    if not os.path.exists(os.path.join(repo.common_dir, "config")):
        # a repository without its config is being deleted (an rm -rf under way, the
        # watcher's snapshot beside it) or damaged: `git config --add` would write one back
        # into the .git rm is emptying ('Directory not empty'), under a new id
        raise UserError(
            f"{os.path.join(repo.common_dir, 'config')} is missing: the repository gets no "
            "snapshot id (is it being deleted?)"
        )
    legacy = bool(store.snapshots(repo.common_dir)) and _same_repository(store, repo)
    new = (LEGACY if legacy else "") + os.urandom(16).hex()  # uuid4's randomness, not its import
    for wait in ASSIGN_WAITS:
        try:
            gitrepo.run_git(repo.toplevel, "config", "--local", "--add", CONFIG_KEY, new)
        except gitrepo.GitError as exc:
            gitrepo.forget_config(repo)
            # another first use (a hook in a linked worktree) writing its id: take that one,
            # else try again (an id of our own here would start a second numbering at 1)
            got = _read_id(repo)
            if got:
                return got
            lock = os.path.join(repo.common_dir, "config.lock")
            if b"File exists" not in exc.stderr and not os.path.exists(lock):
                return LEGACY + "unwritable"  # a read-only repository keeps its path as id
            time.sleep(wait)
            continue
        gitrepo.forget_config(repo)
        return _read_id(repo) or new
    return LEGACY + "unwritable"  # a lock left by a killed git: as a read-only repository


def source(store: Store, repo: gitrepo.Repo) -> str:
    """This repository's source key in *store*; gives the repository its id at first use,
    and a moved one the history its old place holds (_keyed)."""
    repo_id = _read_id(repo)
    if repo_id is None:
        key = key_for(repo.common_dir, _assign(store, repo))
    else:
        key = _keyed(store, repo.common_dir, repo_id)
    _worktree(store, key, repo, write=True)
    return key


def _keyed(store: Store, common_dir: str, repo_id: str) -> str:
    """The key of the repository *repo_id* at *common_dir*, its history taken over from its
    old place when it moved there (_adopt_moved)."""
    key = key_for(common_dir, repo_id)
    if _SEP in key and not store.index.has_source(key):
        _adopt_moved(store, key)
    return key


def _adopt_moved(store: Store, key: str) -> None:
    """A repository moved with `mv` keeps its id under a new key (its common dir's path):
    its first command at the new place (a hook, `list`, `restore`...) takes over the history
    of the one key with its id whose place no longer exists (the snapshots taken in its main
    worktree then said taken in the new one), so that its numbers go on (an old loss line's
    `restore 41` still names that 41, never a new 41 of the new place). A copy beside its
    original (both places exist) starts its own history, as before; so does a repository
    whose id has two gone places (which one it is cannot be told). A repair, which keys each
    snapshot by its record, gives the old snapshots back to the old key: nothing is lost, the
    numbers stay apart (the new place's go on from the old ones'), until the repair gives
    them back (rejoin_moved)."""
    repo_id = key.partition(_SEP)[2]
    gone = [
        k
        for k, _ in store.index.sources()
        if k != key
        and k.partition(_SEP)[2] == repo_id
        and path_of(k).startswith("/")
        and not os.path.lexists(path_of(k))
    ]
    if len(gone) == 1:
        old, new = path_of(gone[0]), path_of(key)
        # its main worktree (the folder its .git was in) moved with it
        main = (os.path.dirname(old), os.path.dirname(new))
        both = os.path.basename(old) == os.path.basename(new) == ".git"
        import sqlite3  # (only here: a moved repository's first command)

        with suppress(sqlite3.OperationalError):  # (a full disk: the index read-only; the
            store.index.rekey_source(gone[0], key, main if both else None)  # next one, then)


class Rejoined:
    """A history at a place gone (*old*, its snapshot numbers *ids*) and the key of the one
    repository of its id living elsewhere (*new*): given back to it (*joined*), or left
    apart when its numbers do not show that it took them over."""

    def __init__(self, old: str, new: str, ids: list[int], joined: bool) -> None:
        self.old, self.new, self.ids, self.joined = old, new, ids, joined


def rejoin_moved(store: Store, whole: bool) -> list[Rejoined]:
    """After a repair: a moved repository's takeover (_adopt_moved) was written in the index
    alone, the packs' records name the old place, so a rebuilt index has the history apart
    again, under the old key (RED36 B-repair). Give it back where it was taken over: the one
    place of the repository's id that holds it today, whose numbers went on from those at
    its gone places (each gone place's below the next one's: a copy's start anew at 1, and
    what a copy took is never its original's). Every number each place gave counts, its
    forgotten snapshots' too: a copy whose first ones were forgotten has its lowest number
    above its deleted original's, and taking the original's would give another repository's
    files under numbers the copy's own loss reports named (review 36). So nothing is given
    unless the repair read the packs *whole* and every forgotten record still reads (_given).
    Where that does not hold the histories stay apart, as they were or cannot be told to
    have been one."""
    by_id: dict[str, list[str]] = {}
    for k, _ in store.index.sources():
        repo_id = k.partition(_SEP)[2]
        if repo_id and path_of(k).startswith("/"):
            by_id.setdefault(repo_id, []).append(k)
    out: list[Rejoined] = []
    given: dict[str, list[int]] | None = None
    for repo_id, keys in by_id.items():
        if len(keys) < 2:
            continue
        live = [k for k in keys if _lives(k, repo_id)]
        if len(live) != 1:  # (copies beside each other, or none here: nothing to give)
            continue
        new = live[0]
        seqs = {k: [s.id for s in store.snapshots(k)] for k in keys}
        gone = sorted((k for k in keys if k != new and seqs[k]), key=lambda k: min(seqs[k]))
        if not gone:
            continue
        if given is None and whole:
            given = _given(store)
        chain = [*gone, new]
        ok = (
            given is not None
            and bool(seqs[new])
            and all(
                max(seqs[a] + given.get(a, [])) < min(seqs[b] + given.get(b, []))
                for a, b in zip(chain, chain[1:], strict=False)
            )
        )
        for old in gone:
            joined = ok and store.index.merge_source(old, new, _mains(old, new))
            out.append(Rejoined(old, new, seqs[old], joined))
    return out


def _given(store: Store) -> dict[str, list[int]] | None:
    """The numbers of the snapshots forgotten, per source, read from their records; None
    when one is no longer there (a gc reclaims them) or does not read: then which source
    gave which number is not known."""
    from git_snapshot.store.objects import CorruptObject
    from git_snapshot.store.records import decode_record
    from git_snapshot.store.records import tombstones

    out: dict[str, list[int]] = {}
    for record in tombstones(store)[0]:
        if not store.index.has(record):
            return None
        try:
            snap, _ = decode_record(store.read_object(record))
        except CorruptObject:
            return None
        out.setdefault(snap.source, []).append(snap.id)
    return out


def _mains(old: str, new: str) -> tuple[str, str] | None:
    """(old main worktree, new one) of a repository moved from key *old* to *new*: the
    folders its .git was in (None: a bare one, no main worktree)."""
    a, b = path_of(old), path_of(new)
    if os.path.basename(a) == os.path.basename(b) == ".git":
        return os.path.dirname(a), os.path.dirname(b)
    return None


def _lives(key: str, repo_id: str) -> bool:
    """The place of *key* holds the repository *repo_id* today (not gone, nor another
    repository made there since)."""
    common = path_of(key)
    if not os.path.lexists(common):
        return False
    top = os.path.dirname(common) if os.path.basename(common) == ".git" else common
    try:
        repo = gitrepo.find_repo(top)
    except UserError:
        return False
    return repo.common_dir == common and _read_id(repo) == repo_id


def known_source(store: Store, repo: gitrepo.Repo) -> str | None:
    """:func:`source` without writing anything into the repository: None when it has no
    history in the store yet (commands that only read never give another repository an id).
    A moved repository's history is taken over here too (the store's index written, not
    the repository)."""
    repo_id = _read_id(repo)
    if repo_id is not None:
        key = _keyed(store, repo.common_dir, repo_id)
        _worktree(store, key, repo, write=False)
        return key
    if store.snapshots(repo.common_dir) and _same_repository(store, repo):
        return repo.common_dir  # a legacy history this repository will adopt at first use
    return None


# --------------------------------------------------------------------------- linked worktrees

# A linked worktree's own file in its admin dir (``<common dir>/worktrees/<name>``), which git
# keeps with it through `git worktree move` and deletes with it (`worktree remove`, `prune`):
# ``<after>\0<path>``, the path it was last seen at and the number up to which the snapshots
# without a TAG taken there are an earlier worktree's (one removed, whose path this one reuses).
WORKTREE_FILE = "git-snapshot-worktree"
# In a snapshot's meta: which linked worktree took it (_tag_of). A path does not say it: git
# moves a worktree into another's place, or two swap (RED33 V1). Snapshots taken before the
# tag go by path and the file's number.
TAG = "worktree_id"


def _is_linked(repo: gitrepo.Repo) -> bool:
    if repo.git_dir == repo.common_dir:  # (find_repo's are real paths: no syscall)
        return False
    return os.path.realpath(repo.git_dir) != os.path.realpath(repo.common_dir)


def _read_file(git_dir: str) -> tuple[str, int] | None:
    """(path last seen at, earlier worktree's numbers up to) of the linked worktree of admin
    dir *git_dir*; None when it has no such file (a new worktree, or one older than the file)."""
    try:
        with open(os.path.join(git_dir, WORKTREE_FILE), "rb") as f:
            after, sep, path = f.read().partition(b"\0")
        return (os.fsdecode(path), int(after)) if sep else None
    except (OSError, ValueError):
        return None


def _read_worktree(repo: gitrepo.Repo) -> tuple[str, int] | None:
    return _read_file(repo.git_dir)


def _write_worktree(repo: gitrepo.Repo, path: str, after: int) -> None:
    """Write the file (a read-only repository keeps none: its history stays by path)."""
    final = os.path.join(repo.git_dir, WORKTREE_FILE)
    tmp = f"{final}.{os.getpid()}.tmp"
    with suppress(OSError):
        with open(tmp, "wb") as f:
            f.write(str(after).encode() + b"\0" + os.fsencode(path))
        os.replace(tmp, final)
    with suppress(OSError):
        os.unlink(tmp)  # (left only when the replace failed)


def _tag_of(git_dir: str) -> str | None:
    """A linked worktree's identity, from its admin dir's ``commondir``: only `git worktree
    add` writes that file (a move, repair or lock does not touch it) and it goes with the
    worktree, so its inode and mtime are this worktree's alone, also against one added later
    under the same admin name. Derived, not stored: nothing to lose or keep in step."""
    try:
        st = os.stat(os.path.join(git_dir, "commondir"))
    except OSError:
        return None
    return f"{st.st_ino:x}.{st.st_mtime_ns:x}"


def worktree_tag(repo: gitrepo.Repo) -> str | None:
    """What a snapshot taken in this worktree records as TAG; None in a main worktree (it
    moves with its repository: its path is its own)."""
    memo = repo.memo
    if memo is not None and "worktree_tag" in memo:
        return memo["worktree_tag"]  # type: ignore[no-any-return]
    tag = _tag_of(repo.git_dir) if _is_linked(repo) else None
    if memo is not None:
        memo["worktree_tag"] = tag
    return tag


def tag_meta(repo: gitrepo.Repo) -> dict[str, str]:
    """The meta naming the linked worktree a snapshot taken in it comes from (its path does
    not say: RED33 V1); {} in a main worktree."""
    tag = worktree_tag(repo)
    return {} if tag is None else {TAG: tag}


def earlier_than(repo: gitrepo.Repo) -> int:
    """The number up to which the snapshots without a TAG taken at this worktree's path are
    an earlier worktree's, not its own (0: all are its own): one that git removed there, whose
    path this one reuses. What :func:`source`'s look at the file found (a hook reads it once)."""
    memo = repo.memo
    if memo is not None and "worktree_after" in memo:
        return int(memo["worktree_after"])
    got = _read_worktree(repo) if _is_linked(repo) else None
    return got[1] if got is not None and got[0] == repo.toplevel else 0


def owns(repo: gitrepo.Repo, snap: Snapshot) -> bool:
    """Whether *snap*, said taken at this worktree's path, is its own (a hook's question,
    _before): taken by it (its TAG), or, untagged (a main worktree's, or taken before tags),
    newer than an earlier worktree's there. Another worktree's can be said taken here: a
    removed one's for good, one's that moved away until it or another is next seen at a new
    place (_settle). A main worktree reads no meta."""
    return owner(repo)(snap)


def owner(repo: gitrepo.Repo) -> Callable[[Snapshot], bool]:
    """:func:`owns` for many snapshots of the worktree: its tag and file looked at once (the
    history commands' "this worktree's snapshots": RED34 C3)."""
    tag, after = worktree_tag(repo), earlier_than(repo)
    if tag is None:  # a main worktree: no meta read
        return lambda snap: snap.id > after
    return lambda snap: _took(snap, tag, after)


def _took(snap: Snapshot, tag: str | None, after: int) -> bool:
    """Whether *snap*, said taken at a linked worktree's path, is that worktree's (its
    identity *tag*; *after*: the number up to which untagged ones there are an earlier
    worktree's): it carries that TAG, or none (taken before tags) and is newer than *after*."""
    took = snap.meta.get(TAG)
    return took == tag if took is not None else snap.id > after


def _worktree(store: Store, key: str, repo: gitrepo.Repo, write: bool) -> None:
    """A linked worktree's history follows it: moved (`git worktree move`, or `mv` and
    `git worktree repair`), the snapshots it took at its old place and its loss log are said
    taken at the new one (as a moved repository's are: _adopt_moved); new at a path another
    worktree of this repository was removed from, it does not take that one's for its own
    (owns). Only a linked worktree: the main one moves with its repository (its key).
    *write*: a first look may write the file (:func:`source`); a command that only reads
    writes it only when a worktree moved."""
    if repo.memo is not None and "worktree_after" in repo.memo:
        return  # (a hook: looked at once)
    if not _is_linked(repo):
        return
    got = _read_worktree(repo)
    if got is not None and got[0] == repo.toplevel:
        after = got[1]
    elif got is not None and _admin_dir(got[0]) == repo.git_dir:
        # its old place is there still, with a .git naming this admin dir: a copy of the
        # folder (git says the worktree is the other one): nothing taken from it
        after = 0
    else:
        # new here or moved here: first every worktree that moved since it was last seen
        # (this one too) takes along what it left at its old place (its snapshots, its log):
        # what is left at this path then is a removed worktree's (V1, V2)
        after = _settle(store, key, repo, got).get(repo.toplevel, 0)
        if got is None:
            after = _born_after(store, key, repo)
            if after:
                _retire_log(store, key, repo, after)
            if write:
                _write_worktree(repo, repo.toplevel, after)
    if repo.memo is not None:
        repo.memo["worktree_after"] = after


def _admin_dir(top: str) -> str | None:
    """The admin dir the linked worktree at *top* names in its ``.git`` file (None: none)."""
    try:
        with open(os.path.join(top, ".git"), "rb") as f:
            text = f.read()
    except OSError:
        return None
    if not text.startswith(b"gitdir: "):
        return None
    named = os.fsdecode(text[len(b"gitdir: ") :].rstrip(b"\r\n"))
    return os.path.realpath(os.path.join(top, named))


def _place(admin: str) -> str | None:
    """Where the linked worktree of admin dir *admin* is, as git says (its ``gitdir`` file,
    which `git worktree move` and `repair` rewrite), when its ``.git`` there names *admin*."""
    try:
        with open(os.path.join(admin, "gitdir"), "rb") as f:
            named = os.fsdecode(f.read().rstrip(b"\r\n"))
    except OSError:
        return None
    top = os.path.realpath(os.path.dirname(os.path.join(admin, named)))
    return top if _admin_dir(top) == os.path.realpath(admin) else None


def _born(git_dir: str | None) -> float | None:
    """When the linked worktree of admin dir *git_dir* was made: its ``commondir``, which only
    `git worktree add` writes (a move rewrites ``gitdir``)."""
    try:
        return os.stat(os.path.join(git_dir, "commondir")).st_mtime if git_dir else None
    except OSError:
        return None


def _born_after(store: Store, key: str, repo: gitrepo.Repo) -> int:
    """For a linked worktree without its file: the newest number of the snapshots taken at
    its path before it was made, which an earlier worktree there took; 0 when there is none
    (a worktree made before the file existed keeps the snapshots it took)."""
    born = _born(repo.git_dir)
    if born is None:
        return 0
    return max((s.id for s in store.snapshots(key, repo.toplevel) if s.created < born), default=0)


class _Moved:
    """A linked worktree seen at *repo*.toplevel now, last seen at *old* (its file)."""

    __slots__ = ("after", "old", "repo", "tag")

    def __init__(self, repo: gitrepo.Repo, old: str, after: int, tag: str | None) -> None:
        self.repo, self.old, self.after, self.tag = repo, old, after, tag

    def took(self, snap: Snapshot) -> bool:
        """Whether *snap*, said taken at its old place, is its own (_took)."""
        return _took(snap, self.tag, self.after)


def _moved(repo: gitrepo.Repo, got: tuple[str, int] | None) -> list[_Moved]:
    """The linked worktrees of the repository that moved since they were last seen: this one
    (*got*: its file; None when new), and every other whose file names a place other than the
    one git says it is at now (a few small files, read only at a worktree's first command at a
    new place)."""
    out = [] if got is None else [_Moved(repo, got[0], got[1], worktree_tag(repo))]
    root = os.path.join(repo.common_dir, "worktrees")
    try:
        names = sorted(os.listdir(root))
    except OSError:
        names = []
    me = os.path.realpath(repo.git_dir)
    for name in names:
        admin = os.path.join(root, name)
        seen = _read_file(admin) if os.path.realpath(admin) != me else None
        top = _place(admin) if seen is not None else None
        if seen is not None and top is not None and top != seen[0]:
            other = gitrepo.Repo(top, admin, repo.common_dir)
            out.append(_Moved(other, seen[0], seen[1], _tag_of(admin)))
    return out


def _settle(
    store: Store, key: str, repo: gitrepo.Repo, got: tuple[str, int] | None
) -> dict[str, int]:
    """Each worktree that moved (_moved) takes the snapshots it took at its old place and its
    loss log to its place now, and its file says so; returns each one's new earlier-than
    number (its new place's untagged snapshots left there: a removed worktree's). All are
    looked at before any is moved: two worktrees may have swapped places, or one moved into
    the other's, and one's things must not be counted as the other's."""
    moved = _moved(repo, got)
    if not moved:
        return {}
    import sqlite3  # (only here: a moved worktree's first command)

    taken = [[s.id for s in store.snapshots(key, m.old) if m.took(s)] for m in moved]
    going = {(m.old, i) for m, ids in zip(moved, taken) for i in ids}
    afters = {
        m.repo.toplevel: max(
            (
                s.id
                for s in store.snapshots(key, m.repo.toplevel)
                if (m.repo.toplevel, s.id) not in going and TAG not in s.meta
            ),
            default=0,
        )
        for m in moved
    }
    logs = [_take_log(store, key, m) for m in moved]
    with suppress(sqlite3.OperationalError):  # (a full disk: the index read-only)
        for m, ids in zip(moved, taken):
            if ids:
                store.index.move_worktree(key, m.old, m.repo.toplevel, ids)
    for m, log in zip(moved, logs):
        top = m.repo.toplevel
        _retire_log(store, key, m.repo, afters[top])  # (a removed worktree's, if any)
        _give_log(store, key, m.repo, log)
        _write_worktree(m.repo, top, afters[top])
    return afters


def _retire_log(store: Store, key: str, repo: gitrepo.Repo, after: int) -> None:
    """The loss log kept at this path for a worktree removed from it (keyed by a linked
    worktree's path) put aside under a name of its own: its reports are not this worktree's
    to list or undo; what they name stays kept (the retention reads every log)."""
    from git_snapshot import lossrecord

    log = lossrecord._log_path(store, repo, key)
    if not os.path.exists(log):
        return
    base, n = f"{log[: -len('.jsonl')]}.before-{after}", 1
    aside = f"{base}.jsonl"
    while os.path.exists(aside):  # (a third worktree at the path: keep the second's too)
        n += 1
        aside = f"{base}-{n}.jsonl"
    with suppress(OSError):
        os.replace(log, aside)


if TYPE_CHECKING:
    # a moved worktree's loss log on its way: its lines (said written at the new place),
    # whether its lines from before RED30 were migrated, and the files to remove once given
    _Log = tuple[list[dict[str, object]], bool, list[str]]


def _take_log(store: Store, key: str, m: _Moved) -> _Log:
    """The lines of the loss log of *m* at its old place (keyed by a linked worktree's path),
    said written at its new one (the retention finds what they keep by worktree and number).
    The file is renamed first to a name of its own (a new worktree at the old place starts
    afresh) that the retention still reads, and removed only once _give_log has written its
    lines: a full disk loses no report. One that cannot be read is left where it is."""
    from git_snapshot import lossrecord
    from git_snapshot.store.core import read_log

    was = lossrecord._log_path(store, gitrepo.Repo(m.old, m.repo.git_dir, m.repo.common_dir), key)
    done = was[: -len(".jsonl")] + lossrecord.MIGRATED
    moving = f"{was[: -len('.jsonl')]}.moving-{os.getpid()}.jsonl"
    try:
        os.replace(was, moving)
    except OSError:  # none
        return [], False, []
    try:
        read = read_log(moving)
    except OSError:  # unreadable: left as it was
        with suppress(OSError):
            os.replace(moving, was)
        return [], False, []
    top = m.repo.toplevel
    lines = [{**e, "worktree": top} if e.get("worktree") == m.old else e for e in read]
    return lines, os.path.exists(done), [moving, done]


def _give_log(store: Store, key: str, repo: gitrepo.Repo, log: _Log) -> None:
    """Append the lines _take_log took to this worktree's loss log, then remove the old."""
    from git_snapshot import lossrecord

    lines, migrated, old = log
    now = lossrecord._log_path(store, repo, key)
    try:
        for e in lines:
            lossrecord._append_line(now, e)
        if migrated:
            with open(now[: -len(".jsonl")] + lossrecord.MIGRATED, "ab"):
                pass
    except OSError:
        return  # (the old file stays: its reports are still read by the retention)
    for path in old:
        with suppress(OSError):
            os.unlink(path)


# --------------------------------------------------------------------------- names


def name_of(key: str) -> str:
    """What people call a repository: the last component of its main worktree's path
    (``/src/myrepo/.git`` -> ``myrepo``, a bare ``/srv/myrepo.git`` -> ``myrepo``); an API
    source is called by its own name."""
    path = path_of(key)
    if not path.startswith("/"):
        return path
    base = os.path.basename(path.rstrip("/"))
    if base == ".git":
        return os.path.basename(os.path.dirname(path.rstrip("/"))) or "/"
    return base[:-4] if base.endswith(".git") and len(base) > 4 else base


def _tag(key: str) -> str:
    """A short stable tag telling apart repositories of one name: the start of the id."""
    import hashlib  # not on the hook path

    _, sep, repo_id = key.partition(_SEP)
    return repo_id[:6] if sep else hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:6]


def tagged(key: str) -> str:
    """The label with its ``#tag`` whether or not another repository shares the name: what a
    line kept for later prints (``--repo``/``LABEL:12`` take it in either case), so that a
    repository of that name added since does not make it ambiguous."""
    return f"{name_of(key)}{_SEP}{_tag(key)}"


def labels(keys: list[str]) -> dict[str, str]:
    """key -> the label people type (``--repo LABEL``, ``LABEL:12``): the name, followed by
    ``#tag`` when several repositories in the store share that name."""
    by_name: dict[str, list[str]] = {}
    for k in dict.fromkeys(keys):  # (a key given twice is still one repository)
        by_name.setdefault(name_of(k), []).append(k)
    return {
        k: name if len(ks) == 1 else f"{name}{_SEP}{_tag(k)}"
        for name, ks in by_name.items()
        for k in ks
    }


def live_worktree(store: Store, key: str, prefer: str | None = None) -> str | None:
    """A worktree of the repository that holds the history *key* today, or None when that
    repository is gone (deleted, or replaced by a new repository at its path)."""
    seen = [s.worktree for s in reversed(store.snapshots(key))]
    candidates = ([prefer] if prefer else []) + list(dict.fromkeys(seen))
    for wt in candidates:
        if not os.path.isdir(wt):
            continue
        try:
            repo = gitrepo.find_repo(wt)
        except UserError:
            continue
        if repo.toplevel == os.path.realpath(wt) and known_source(store, repo) == key:
            return repo.toplevel
    return None
