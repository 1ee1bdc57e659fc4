"""Where a lost version still is, besides git's commits: stash entries and renames, split out
of losses.py.

A lost file may be in a stash entry made by the command itself (`git stash`: _stashed_part,
each lost file merged onto the new entry as `stash apply` would), in a stash entry dropped
since (stashed_versions, holding: which older snapshot holds an entry's versions), or at
another path the index holds (a `git mv` made or undone: _moved_back, with the index's and
the disk's ids). reported_since says what this worktree's reports named already.

Called by losses.find (_moved_back, _stashed_part: imported there, as this module imports
losses) and findlosses (_unstashed: stashed_versions, holding, reported_since; _entry_at).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot import hashes
from git_snapshot.losses import CONVERTED_AT_MOST
from git_snapshot.losses import _git_mode
from git_snapshot.losses import _tree_at
from git_snapshot.losses import git_blob_id
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import Entry

STASHED_PART_AT_MOST = 64  # lost files a new stash entry is merged onto (a merge-file each)


def _stashed_part(
    store: Store, repo: gitrepo.Repo, snap: Snapshot, lost: Sequence[tuple[bytes, Entry]]
) -> set[bytes]:
    """Of the *lost* tracked files, those the newest stash entry gives back, made after
    *snap* was taken from part of their edits (`git stash push -p`: the entry holds the hunks
    stashed, the file on disk the others): `git stash pop` merges the entry's change onto the
    file as it is now, which gives the version *snap* holds. A whole file stashed is in the
    entry (find's revs give it already): so is this one, in two parts (RED33 A7). A merge
    that conflicts, a binary file, or more than STASHED_PART_AT_MOST files: still named."""
    from git_snapshot.worktree import TRACKED

    files = {p: e for p, e in lost if e.label == TRACKED and e.kind == FILE}
    if not files or len(files) > STASHED_PART_AT_MOST:
        return set()
    newest = gitrepo.stash_entries(repo, 1)
    if not newest or len(newest[0]) < 2:
        return set()
    entry, base = newest[0][0], newest[0][1]
    made = gitrepo.run_git(repo.toplevel, "show", "-s", "--format=%ct", entry, check=False)
    if not made.strip().isdigit() or int(made) < int(snap.created):
        return set()  # an entry made before: not this command's
    theirs = gitrepo.tree_entries(repo, entry, files)
    olds = gitrepo.tree_entries(repo, base, files)
    top = os.fsencode(repo.toplevel)
    out = set()
    for path, e in files.items():
        if path in theirs and path in olds and theirs[path] != olds[path]:
            merged = _merged_onto(repo, top + b"/" + path, olds[path], theirs[path])
            if merged == (git_blob_id(store, e), _git_mode(e)):
                out.add(path)
    return out


UNSTASHED_ENTRIES_AT_MOST = 4  # gone stash entries a hook looks into (a diff-tree each)


UNSTASHED_SNAPSHOTS_AT_MOST = 64  # older snapshots searched for an entry's versions


def stashed_versions(repo: gitrepo.Repo, entries: Sequence[str]) -> dict[bytes, tuple[int, str]]:
    """path -> (git mode, blob id) of the files and links each of the stash *entries* (gone
    now: popped or dropped; newest first) changed from the commit it was made on: the
    versions a `git stash pop` wrote back (the newest entry's, where two changed a path).
    An entry whose commit is gone (pruned) gives none."""
    from git_snapshot.gitoverlay import stash_changes
    from git_snapshot.gitrun import GitError

    out: dict[bytes, tuple[int, str]] = {}
    for entry in entries[:UNSTASHED_ENTRIES_AT_MOST]:
        if not gitrepo.is_oid(entry):
            continue
        try:
            blobs, _ = stash_changes(repo, entry)
        except GitError:
            continue
        for path, mode, oid in blobs:
            out.setdefault(path, (mode, oid))
    return out


def holding(
    store: Store, snaps: Sequence[Snapshot], versions: Mapping[bytes, tuple[int, str]]
) -> dict[bytes, Snapshot]:
    """path -> the first of *snaps* (newest first) whose entry there is that very version of
    *versions* (git mode, blob id), raw bytes compared: a path git converts (an eol setting,
    a filter) matches none, and is not named (never another version in its place)."""
    from git_snapshot.store.history import Trees
    from git_snapshot.store.objects import CorruptObject

    trees = Trees(store)  # each tree read once, not once a path (_entry_at's)
    ids: dict[bytes, str] = {}  # an object's git id, each read once
    out: dict[bytes, Snapshot] = {}
    for snap in snaps[:UNSTASHED_SNAPSHOTS_AT_MOST]:
        for path, (mode, oid) in versions.items():
            if path in out:
                continue
            try:
                e = trees.at(snap.root, path)
                if e is None or e.kind == DIR or _git_mode(e) != mode:
                    continue
                if e.ref not in ids:
                    ids[e.ref] = git_blob_id(store, e)
            except CorruptObject:
                continue  # (not read: not this one; an older snapshot may hold it)
            if ids[e.ref] == oid:
                out[path] = snap
        if len(out) == len(versions):
            break
    return out


def reported_since(
    store: Store, repo: gitrepo.Repo, since: float
) -> dict[tuple[int, bytes], float]:
    """(snapshot, path) of each loss this worktree's reports named from *since* on, and when
    the newest of them named it: what they said lost, and "not saved" (a path the snapshot
    left out; the two never meet at one snapshot and path)."""
    from git_snapshot.lossrecord import _when
    from git_snapshot.lossrecord import history

    out: dict[tuple[int, bytes], float] = {}
    for e in history(store, repo):
        when = _when(e)
        if when >= since:
            for x in [*e["lost"], *e.get("unsaved", [])]:
                key = (e["snapshot"], os.fsencode(x["path"]))
                out[key] = max(when, out.get(key, when))
    return out


def _merged_onto(
    repo: gitrepo.Repo, path: bytes, base: tuple[int, str], theirs: tuple[int, str]
) -> tuple[str, int] | None:
    """(git blob id, git mode) of the regular file at *path* with the change from blob *base*
    to *theirs* (mode, id) merged onto it, as `git stash pop` merges it; None when the merge
    conflicts or cannot be made (a binary file, no regular file there)."""
    import stat
    import tempfile

    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > CONVERTED_AT_MOST:
        return None
    with tempfile.TemporaryDirectory(prefix="git-snapshot-merge-") as tmp:
        sides = []
        for name, (_mode, oid) in (("base", base), ("theirs", theirs)):
            side = os.path.join(tmp, name)
            with open(side, "wb") as f:
                f.write(gitrepo.run_git(repo.toplevel, "cat-file", "blob", oid))
            sides.append(side)
        res = gitrepo._run(repo.toplevel, ["merge-file", "-p", "-q", os.fsdecode(path), *sides])
    if res.returncode != 0:
        return None
    on_disk = gitrepo.MODE_EXEC if st.st_mode & 0o100 else gitrepo.MODE_FILE
    mode = theirs[0] if theirs[0] != base[0] else on_disk
    return hashes.blob_id(res.stdout), mode


def _moved_back(
    store: Store,
    repo: gitrepo.Repo,
    snap: Snapshot,
    items: Sequence[tuple[bytes, Entry, str]],
    given: set[bytes],
) -> set[bytes]:
    """Of the lost *items* (less *given*), the renames the operation made or undid: a file
    *snap* labels tracked whose bytes and mode are now on disk at a path the index holds
    (with them, or with others: the file there has an unstaged edit) where *snap* held
    nothing, or something else. `git mv src/y lib/y` then `reset --hard` (or `checkout -f`)
    deletes lib/y and writes src/y back from HEAD: nothing the user wrote is gone, and
    restoring lib/y made an untracked duplicate (RED32); `git mv a e` of an a with an
    unstaged edit moves the edit with it, the index holding the committed bytes at e (RED33
    A6). A rename also edited, or a copy of a file that stayed (*snap* held the same there),
    is still named; so is a path the index still holds: a rename leaves its old path, and
    swapping two links (or copying one file's committed bytes over another, edited too) and
    `reset --hard` lost both edits, not one (RED40 A2). An empty file only to a path *snap*
    held nothing at (the rename's old path, written back): the empty blob is at many paths,
    and one whose edit the operation discarded is no rename's (RED40 F4: `git mv` of an empty
    `__init__.py` undone was named). Only for such files: two `ls-files`, and each tree of
    *snap* read once (every lost empty file is compared with every empty file the index
    holds: one lookup each was 35 s for 100 of them against 2,000)."""
    from git_snapshot.worktree import TRACKED

    moved = [
        (p, e)
        for p, e, _ in items
        if p not in given and e.label == TRACKED and e.kind in (FILE, SYMLINK)
    ]
    if not moved:
        return set()
    index = _index_entries(repo)
    moved = [(p, e) for p, e in moved if p not in index]  # (still tracked: no rename of it)
    if not moved:
        return set()
    entries = dict(moved)
    wanted = {p: (git_blob_id(store, e), _git_mode(e)) for p, e in moved}
    at = _index_paths_of(index, set(wanted.values()))
    edited = _edited_paths(repo)
    on_disk = _disk_keys(os.fsencode(repo.toplevel), {e.size for _, e in moved})
    from git_snapshot.store.history import Trees

    trees = Trees(store)
    out = set()
    for path, key in wanted.items():
        for other in dict.fromkeys([*at.get(key, ()), *edited]):
            if other == path or on_disk(other) != key:
                continue
            was = trees.at(snap.root, other)
            if was is None or (
                entries[path].size
                and (was.kind == DIR or (git_blob_id(store, was), _git_mode(was)) != key)
            ):
                out.add(path)
                break
    return out


def _edited_paths(repo: gitrepo.Repo) -> list[bytes]:
    """The paths the index holds whose file on disk differs from it (an unstaged edit, which
    `git mv` carries to the new name: the index has the old bytes there)."""
    raw = gitrepo.run_git(repo.toplevel, "ls-files", "-m", "-z", check=False)
    return [p for p in raw.split(b"\0") if p]


def _index_entries(repo: gitrepo.Repo) -> dict[bytes, tuple[str, int] | None]:
    """Every path the index holds -> its (blob id, mode); None for an unmerged one."""
    raw = gitrepo.run_git(repo.toplevel, "ls-files", "-s", "-z", check=False)
    out: dict[bytes, tuple[str, int] | None] = {}
    for rec in raw.split(b"\0"):
        meta, _, path = rec.partition(b"\t")
        parts = meta.split()
        if len(parts) != 3 or not path:
            continue
        merged = parts[2] == b"0"
        out[path] = (parts[1].decode("ascii", "replace"), int(parts[0], 8)) if merged else None
    return out


def _index_paths_of(
    index: Mapping[bytes, tuple[str, int] | None], keys: set[tuple[str, int]]
) -> dict[tuple[str, int], list[bytes]]:
    """(blob id, mode) -> the paths *index* (_index_entries) holds with it, merged entries
    only, for *keys*."""
    out: dict[tuple[str, int], list[bytes]] = {}
    for path, key in index.items():
        if key is not None and key in keys:
            out.setdefault(key, []).append(path)
    return out


def _disk_keys(top: bytes, sizes: set[int]) -> Callable[[bytes], tuple[str, int] | None]:
    """The (git blob id, git mode) of what is on disk at a path under *top* (a symlink's
    target as git hashes it); None for none, a folder, or a size not in *sizes* (never read:
    it cannot hold a lost file's bytes). Each path read once."""
    import stat

    seen: dict[bytes, tuple[str, int] | None] = {}

    def key(rel: bytes) -> tuple[str, int] | None:
        if rel in seen:
            return seen[rel]
        path = top + b"/" + rel
        got: tuple[str, int] | None = None
        try:
            st = os.lstat(path)
            if st.st_size not in sizes:
                pass
            elif stat.S_ISLNK(st.st_mode):
                got = (hashes.blob_id(os.readlink(path)), gitrepo.MODE_SYMLINK)
            elif stat.S_ISREG(st.st_mode):
                from git_snapshot.leftout import file_blob_id

                found = file_blob_id(path)
                mode = gitrepo.MODE_EXEC if st.st_mode & 0o100 else gitrepo.MODE_FILE
                got = (found, mode) if found else None
        except OSError:
            pass
        seen[rel] = got
        return got

    return key


def _entry_at(store: Store, root: bytes, path: bytes) -> Entry | None:
    """The entry at *path* in snapshot tree *root*, None if it holds none there."""
    from git_snapshot.store import validate

    folder, _, name = path.rpartition(b"/")
    tree = _tree_at(store, root, folder) if folder else root
    if tree is None:
        return None
    rel = folder + b"/" if folder else b""
    return next((e for e in validate.read_tree(store, tree, rel) if e.name == name), None)
