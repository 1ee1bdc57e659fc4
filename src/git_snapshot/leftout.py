"""What the snapshots left out, and what git discarded of it, split out of losses.py.

A snapshot leaves some paths out (snapshot.exclude, a CACHEDIR.TAG folder, a file too large
or unreadable: skipped_paths): a report names those git destroyed as unsaved (unsaved_why,
left_out_whys, why_left_out, discarded_unsaved), and `git snapshot run` the uncommitted edits
git discarded (left_out_edits, discarded_edits). Besides: whether a `git switch`/`checkout`
was forced (switch_force), whether a path is gone from the disk (gone), and the blob id git
would give a file on the disk (file_blob_id).

Called by losses (find's left-out empties), loststash (the disk's ids), lostfrom (switch_force,
discarded_unsaved, gone), stopped and commands/run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot import hashes
from git_snapshot.store import Snapshot

# why a path the snapshot left out is not saved, as the report says it
_UNSAVED = {
    "excluded": "excluded by snapshot.exclude",
    "cache directory (CACHEDIR.TAG)": "a cache directory (CACHEDIR.TAG)",
}


def unsaved_why(why: str, snapshot: int) -> str | None:
    """Why a path that *snapshot* left out (*why*: its skipped_paths' words) is in no
    snapshot, as a report says it; None for what it did not leave out as a file's content."""
    if why in _UNSAVED:
        return _UNSAVED[why]
    if why.startswith("unreadable"):  # a file the user could not read
        detail = why.partition(": ")[2] or why
        return f"it could not be read when snapshot {snapshot} was taken ({detail})"
    return None


def discarded_unsaved(
    repo: gitrepo.Repo, snapshot: int, written: Mapping[bytes, str], old: str | None
) -> list[tuple[bytes, str]]:
    """Of the files snapshot *snapshot* left out that the operation wrote (*written*: path ->
    its skipped_paths' why: lostfrom._discarded), those it wrote back to their committed
    version: holding now the version HEAD holds, which is also the one of the commit it left
    (*old*; None: the same). Whether it held an edit is not known: git rewrites a file whose
    lstat differs from its index entry's without reading it (`checkout -- F` after a mere
    touch writes the same bytes again), so the line says what is lost if it held one, which
    git cannot give back and no snapshot holds. A file whose committed version the operation
    changed is named only after a forced switch (checkout -f, switch --discard-changes): a
    plain one refuses to write over an edit, a forced one writes the new version over it;
    and after any switch where core.fsmonitor is set: git takes the monitor's word that a
    file is unchanged, without looking at it (red41R1 finding 2), or where its stat check
    may miss an edit (gitextra.stat_blind: core.trustctime false, core.checkStat minimal)."""
    top = os.fsencode(repo.toplevel)
    now = gitrepo.tree_entries(repo, "HEAD", written)
    was = gitrepo.tree_entries(repo, old, written) if old else now
    forced: bool | None = None  # (the git command's argv, read only when it matters)
    out = []
    for rel, why in written.items():
        entry, left = now.get(rel), was.get(rel)
        said = unsaved_why(why, snapshot)
        if said is None:
            continue
        if left != entry:  # a switch between commits that differ there
            if entry is None or left is None:
                continue  # (deleted; or written over a left-out untracked file: _unsaved)
            if forced is None:
                from git_snapshot import gitextra

                forced = forced_switch() or gitextra.fsmonitor(repo) or gitextra.stat_blind(repo)
            if not forced:
                continue
        oid = file_blob_id(os.path.join(top, rel))
        if entry is not None and oid == entry[1]:
            whose = "its committed version"
        elif left == entry and oid is not None and gitrepo.existing_blobs(repo, [oid]):
            # the commit did not move: a path checkout from another one (checkout B -- F,
            # restore --source B F) wrote what git has, whatever the file held
            whose = "a version from another commit"
        else:
            continue
        # never "over an uncommitted edit", nor "any edit is lost": a file only touched is
        # written again too, and a forced switch writes over a file that held no edit
        lost = (
            "if it held anything else, that is lost"
            if said.startswith("it could")
            else "if it held an uncommitted edit, that edit is lost"
        )
        out.append((rel, f"{said}; git wrote {whose} over it: {lost}"))
    return out


# checkout's and switch's short options that take a value (the rest of a cluster is it)
_VALUE_SHORT = frozenset("bBcC")


_VALUE_LONG = frozenset(("--orphan", "--create", "--force-create"))


def forced_switch() -> bool:
    """Whether the git command above this hook is a checkout or switch that writes over
    uncommitted edits (-f, --force, --discard-changes); False when unknown (an alias)."""
    return switch_force() is True


def switch_force(argv: tuple[str, ...] | None = None) -> bool | None:
    """The git command above this hook (or *argv*, its alias expanded: the command `git
    snapshot run` ran): True for a checkout or switch that writes over uncommitted edits
    (-f, --force, --discard-changes), False for one that refuses to (a plain one), None for
    anything else or unknown (an alias, a command git runs for another, -m/--merge/--conflict:
    a three-way merge into an edited file)."""
    from git_snapshot import proc

    if argv is None:
        found = proc.user_git_command(proc.ancestors()[0])
        argv = found.argv if found is not None else ()
    sub = proc.git_subcommand(argv)
    if sub not in ("checkout", "switch"):
        return None
    merge = False
    words = iter(argv[argv.index(sub) + 1 :])
    for word in words:
        if word == "--":
            break
        if word in ("--force", "--discard-changes"):
            return True
        if word == "--merge" or word.startswith("--conflict"):
            merge = True
        elif word in _VALUE_LONG:
            next(words, None)  # its value (a branch named -f)
        elif word.startswith("-") and not word.startswith("--"):
            for i, c in enumerate(word[1:], 2):
                if c == "f":
                    return True
                if c == "m":
                    merge = True
                if c in _VALUE_SHORT:
                    if i == len(word):
                        next(words, None)  # its value is the next word
                    break
    return None if merge else False


def left_out_edits(repo: gitrepo.Repo, snap: Snapshot) -> tuple[dict[bytes, str], set[bytes]]:
    """The files *snap* left out (unsaved_why) that git tracks in HEAD and that differ from
    HEAD's version now: path -> git's id of what they hold (read here, kept nowhere). With
    ``discarded_edits`` after a command: which of those edits it destroyed.

    And the left-out paths that hold HEAD's version and nothing else (git gives them back
    while a ref reaches that HEAD): a file whose bytes are HEAD's, a link to HEAD's target, a
    folder holding only such (its walk stops at the first other entry: an untracked file, an
    empty folder). A file not read (too big, unreadable) is in neither: its version is not
    known (review41 RH: run counted such a path as HEAD's, and a link's, an untracked file's
    in a left-out folder HEAD tracks files in; the loss was named nowhere)."""
    top = os.fsencode(repo.toplevel)
    whys = {
        p: why for p, why in left_out_whys(snap).items() if unsaved_why(why, snap.id) is not None
    }
    # a folder left out (excluded, a cache folder): the files HEAD tracks below it (their
    # edits are in no snapshot either)
    folders = [p for p, why in whys.items() if why in _LEFT_OUT_DIRS and _is_dir(top, p)]
    paths = [p for p in whys if os.path.isfile(os.path.join(top, p))]
    links = [p for p in whys if os.path.islink(os.path.join(top, p))]
    if not (paths or folders or links) or gitrepo.head(repo) is None:
        return {}, set()
    wanted = list(dict.fromkeys([*paths, *links]))
    committed = gitrepo.tree_entries(repo, "HEAD", wanted) if wanted else {}
    if folders:
        committed.update(_tracked_below(repo, "HEAD", folders))
    out = {}
    same: set[bytes] = set()
    for p, (mode, head_oid) in committed.items():
        if mode == gitrepo.MODE_SYMLINK:  # (no edit of a file: a link is HEAD's or not)
            if _link_blob_id(os.path.join(top, p)) == head_oid:
                same.add(p)
            continue
        oid = file_blob_id(os.path.join(top, p))
        if oid is not None and oid != head_oid:
            out[p] = oid
        elif oid is not None and mode in (gitrepo.MODE_FILE, gitrepo.MODE_EXEC):
            same.add(p)
    clean = {p for p in wanted if p in same}
    # (walked only where HEAD tracks a file: an untracked .venv is never git's)
    held = {f for f in folders if any(p.startswith(f + b"/") for p in same)}
    clean.update(f for f in held if _only_files_of(top, f, same))
    return out, clean


def _only_files_of(top: bytes, folder: bytes, files: set[bytes]) -> bool:
    """Whether *folder* (below *top*) holds nothing but *files* (its files and links that hold
    HEAD's version), in folders that hold one (git makes no empty folder again)."""
    todo = [folder]
    while todo:
        at = todo.pop()
        try:
            with os.scandir(os.path.join(top, at)) as it:
                empty = True
                for entry in it:
                    empty = False
                    rel = at + b"/" + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(rel)
                    elif rel not in files:
                        return False
        except OSError:
            return False
        if empty:
            return False
    return True


def discarded_edits(
    repo: gitrepo.Repo, snap: Snapshot, edits: Mapping[bytes, str], revs: Sequence[str]
) -> list[tuple[bytes, str]]:
    """Of *edits* (left_out_edits before a command), those the worktree no longer holds and
    git cannot give back (*revs*, HEAD, its state files, the index, the stash): (path, why)."""
    top = os.fsencode(repo.toplevel)
    gone = [p for p, oid in edits.items() if file_blob_id(os.path.join(top, p)) != oid]
    if not gone:
        return []
    from git_snapshot.losses import git_has  # (losses imports this module: not at its top)

    has = git_has(repo, revs, gone)
    whys = left_out_whys(snap)
    return [
        (p, f"{unsaved_why(why_left_out(whys, p) or '', snap.id)}; {_EDIT_DISCARDED}")
        for p in gone
        if edits[p] not in has.get(p, ())
    ]


_EDIT_DISCARDED = "its uncommitted edit was discarded"


# why a folder left out whole holds what no snapshot has (an unreadable one: not even git
# could write in it)
_LEFT_OUT_DIRS = ("excluded", "cache directory (CACHEDIR.TAG)")


def left_out_whys(snap: Snapshot) -> dict[bytes, str]:
    """What *snap* left out, and why: its skipped_paths."""
    return {os.fsencode(p): w for p, w in snap.meta.get("skipped_paths", [])}


def why_left_out(why: Mapping[bytes, str], path: bytes) -> str | None:
    """Why *path* was left out (*why*: left_out_whys): its own words, or its nearest
    folder's."""
    at = path
    while at:
        if at in why:
            return why[at]
        at = at.rpartition(b"/")[0]
    return None


def gone(top: bytes, rel: bytes, folders: dict[bytes, bool] | None = None) -> bool:
    """Whether the worktree at *top* no longer holds *rel* where a snapshot saw it: nothing
    there, or a folder on its way is not one now. os.path.lexists follows a link git wrote
    in a folder's place: v/sub/x.log read w/x.log through the branch's link v/sub -> ../w
    (review RN42). *folders*: folder -> whether it and every folder above it are folders
    now, kept across calls (lstat each once)."""
    if not os.path.lexists(os.path.join(top, rel)):
        return True
    kept = {} if folders is None else folders
    at = rel.rpartition(b"/")[0]
    way = []  # the folders asked, nearest first, until one known
    while at and at not in kept:
        way.append(at)
        at = at.rpartition(b"/")[0]
    real = kept[at] if at else True
    for folder in reversed(way):
        real = real and _is_dir(top, folder)
        kept[folder] = real
    return not real


def _is_dir(top: bytes, rel: bytes) -> bool:
    import stat

    try:
        return stat.S_ISDIR(os.lstat(os.path.join(top, rel)).st_mode)
    except OSError:
        return False


def _tracked_below(
    repo: gitrepo.Repo, rev: str, folders: Sequence[bytes]
) -> dict[bytes, tuple[int, str]]:
    """path -> (mode, blob id) of the regular files and symlinks *rev* holds below *folders*."""
    from git_snapshot import gitextra

    below = gitextra.ls_tree(repo, rev, [os.fsdecode(f) for f in folders], check=False)
    return {path: (mode, oid) for path, mode, kind, oid in below if kind == b"blob"}


def _link_blob_id(path: bytes) -> str | None:
    """git's id of a symbolic link (its target's bytes); None when *path* is none."""
    try:
        target = os.readlink(path)
    except OSError:
        return None
    return hashes.blob_id(target)


HASH_AT_MOST = 256 << 20  # a left-out file bigger than this is not read to compare it


def file_blob_id(path: bytes) -> str | None:
    """git's id of a regular file's content; None when it is no regular file (never opened:
    a FIFO would block), is bigger than HASH_AT_MOST or cannot be read."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with open(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > HASH_AT_MOST:
            return None
        try:
            return hashes.blob_id_of_file(f, st.st_size)
        except OSError:
            return None
