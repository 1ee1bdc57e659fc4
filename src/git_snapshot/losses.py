"""Loss reports: what an operation destroyed that git itself cannot give back.

Content counts as lost only when it was in the worktree before the operation (the snapshot
*before* holds it), is not there after it, and git cannot give it back: no commit in
``HEAD``, git's state files (``ORIG_HEAD``, ``MERGE_HEAD``, ...), the commits the operation
moved between, the index or a stash entry holds that version at that path. The snapshot's
own recorded HEAD is never trusted for this: a snapshot reused as "unchanged since N" keeps
N's old HEAD, long after the user committed the edit it holds.

This module holds Loss, find and the rules by which git gives a version back (gives_back,
_committed_since, _attributes_then, _older_stashed), and HEAD's moves from the reflog
(head_moves). Called by lostfrom (find, not_compared), findlosses, hooks (reflog_since),
autostash, stopped, commands/run and undo_since, the watcher (bursts, salvage, gap), and
gitwrote. Its neighbours import it: lossreport.py (the report and its restore command),
lossrecord.py (the loss log, unseen reports; this module never imports it), lostnested.py
(submodules) and loststash.py (stash entries, renames), which find imports where it calls
them, and leftout.py (left-out files), which _held_empty imports where it calls it: the hook
path imports a module only where its code runs.
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot import hashes
from git_snapshot.hooks import reflog_entry as reflog_entry  # (in hooks: post-commit reads
from git_snapshot.hooks import reflog_tail as reflog_tail  # them, without this module)
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import Entry
from git_snapshot.worktree import LABELS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)

# a Loss status: git has the file's version as its clean filter or end-of-line conversion
# stores it, and writes back other bytes (what the filter drops; CRLF for LF: converted)
FILTERED = "filtered"


if TYPE_CHECKING:
    from typing import NamedTuple

    class _Loss(NamedTuple):
        path: bytes
        kind: str  # tracked (an uncommitted edit), untracked or ignored
        status: str  # deleted, modified, mode (the same bytes, another mode) or FILTERED
        type: str = "file"  # file, symlink or dir (an empty folder)
        # status mode: (the snapshot's mode, the disk's when found), permission bits
        modes: tuple[int, int] | None = None

else:  # no typing import at run time (the hook path)
    _Loss = namedtuple("Loss", "path kind status type modes", defaults=("file", None))


class Loss(_Loss):
    __slots__ = ()


def git_blob_id(store: Store, e: Entry) -> str:
    """The id git would give the content of snapshot entry *e* (a file or a symlink)."""
    return hashes.blob_id_of_chunks(
        e.size, (e.ref,) if e.kind == SYMLINK else store.stream_blob(e.ref)
    )


_TYPES = {FILE: "file", SYMLINK: "symlink", DIR: "dir"}

CONVERTED_AT_MOST = 64 << 20  # bytes of a file whose converted id is asked (read whole)


def converted(
    store: Store,
    repo: gitrepo.Repo,
    items: Iterable[tuple[bytes, Entry]],
    known: Mapping[bytes, set[str]],
    filtered: set[bytes] | None = None,
) -> dict[bytes, str]:
    """Of *items* (path, a snapshot's file entry) whose raw bytes are no version git has at
    that path (*known*: git_has), those git gives back, converted (an end-of-line setting, a
    clean filter such as git lfs'): path -> that version's id. The id of the raw bytes is
    never git's for such a file: a discarded edit went unreported, and a clean file was
    called lost after a forced checkout (RED30). Asked only of paths git has some version of
    and converts (gitextra.converting): none in most repositories.

    "Gives back" is what git WRITES: the file's bytes stored as git stores them (clean
    filter, eol: ``hash-object --path``) are a version git has, and that version as git
    checks it out (smudge, eol: ``cat-file --filters``) is the file's bytes. A clean filter
    that drops content (nbstripout: a notebook's outputs; a filter that strips SECRET
    lines), or CRLF that autocrlf=input stores and writes back as LF, passes the first and
    not the second: what it dropped is in the snapshot only (red41R1 findings 1 and 5).
    Such paths go into *filtered*, when given (a loss of their own kind: a keyword filter
    whose smudge writes the date differs there too, and is no edit of the user's)."""
    wanted = [(p, e) for p, e in items if e.kind == FILE and known.get(p)]
    if not wanted:
        return {}
    conv = gitrepo.converting(repo, [p for p, _ in wanted])
    data = {
        p: b"".join(store.stream_blob(e.ref)) if e.size else b""
        for p, e in wanted
        if p in conv and e.size <= CONVERTED_AT_MOST
    }
    ids = gitrepo.clean_ids(repo, data.items()) if data else {}
    stored = {p: oid for p, oid in ids.items() if oid in known[p]}
    if not stored:
        return {}
    from git_snapshot import gitextra

    written = gitextra.smudged(repo, stored.items())
    back = {p: oid for p, oid in stored.items() if written.get((p, oid)) == data[p]}
    # a keyword's expansion the smudge writes anew (the date of the checkout): git's too
    maybe = {
        p: oid
        for p, oid in stored.items()
        if p not in back and _same_lines(data[p], written.get((p, oid)))
    }
    blobs = gitextra.blob_contents(repo, maybe.values()) if maybe else {}
    for p, oid in maybe.items():
        if oid in blobs and _regenerated(data[p], blobs[oid], written[(p, oid)]):
            back[p] = oid
    if filtered is not None:
        filtered.update(p for p in stored if p not in back)
    return back


def _same_lines(data: bytes, written: bytes | None) -> bool:
    """Whether *written* (git's bytes for a path) has as many lines as *data*."""
    return written is not None and len(data.splitlines()) == len(written.splitlines())


def _regenerated(data: bytes, blob: bytes, written: bytes) -> bool:
    """Whether a file's bytes (*data*, which git's clean filter stores as *blob*) differ from
    what git writes for *blob* now (*written*: its smudge filter and eol conversion) only in
    keyword expansions the smudge filter writes anew: line for line, each line that differs
    is, in the file and in git's output, the blob's line with RCS-style keywords expanded
    (`$Date$` written `$Date: ... $`, git's own `ident`), and ends as git's line does. A
    keyword filter whose smudge writes the date was named at every switch that rewrote its
    file, as a loss git's filter does not give back, though nothing the user wrote was lost
    (session 42, fixK). Any other line the smudge rewrites stays a loss: a filter that
    injects a secret (clean: the value back to a placeholder) hid the user's new secret
    there, which a switch overwrote with the old one (review RK42). So do a line the clean
    filter drops (nbstripout's outputs, a SECRET line), a line ending git writes otherwise
    (eol=crlf, autocrlf=input) and a file whose lines do not pair up (a multi-line
    expansion that grew: named, never hidden). Left: text the user wrote inside a
    keyword's `$Word: ... $`, which the clean filter drops as its own."""
    ours, git, stored = data.splitlines(True), written.splitlines(True), blob.splitlines(True)
    if not len(ours) == len(git) == len(stored):
        return False
    import re  # loaded already (json); only for filtered paths

    keyword = re.compile(rb"\$([A-Za-z]+):[^$\r\n]*\$")
    for o, w, b in zip(ours, git, stored):
        if o == w:
            continue
        body, end = _text_and_end(w)
        text, ending = _text_and_end(o)
        blob_text = _text_and_end(b)[0]
        if body == blob_text or ending != end:
            return False
        if keyword.sub(rb"$\1$", body) != blob_text or keyword.sub(rb"$\1$", text) != blob_text:
            return False
    return True


def _text_and_end(line: bytes) -> tuple[bytes, bytes]:
    """A line's text and its line ending (b"\r\n", b"\n", b"\r" or b"")."""
    text = line.rstrip(b"\r\n")
    return text, line[len(text) :]


def git_has(
    repo: gitrepo.Repo, revs: Sequence[str], paths: Iterable[bytes]
) -> dict[bytes, set[str]]:
    """path -> the versions of it git can give back: in *revs* (the commits the operation moved
    between), HEAD, git's state files, the index and the stash entries."""
    return gitrepo.blob_ids(repo, _every_rev(repo, revs), paths)


def find(
    store: Store,
    repo: gitrepo.Repo,
    snap: Snapshot,
    paths: Iterable[bytes] | None = None,
    revs: Sequence[str] = (),
    unread: dict[bytes, str] | None = None,
    kinds: Snapshot | None = None,
) -> list[Loss]:
    """Entries of *snap* the worktree no longer holds (only at *paths* and below them, when
    given), less the versions git can give back: the same bytes and the same git mode (a
    `chmod +x` undone by `reset --hard` is lost, and a symlink git wrote over with a file of
    its target's text; git never holds folders),
    and less a staged rename the operation undid (_moved_back).

    With *kinds* (the snapshot taken just before the command, when *snap* is another: a
    restore's source, *kinds* its pre-restore snapshot), each path is what *kinds* says it
    was (tracked, untracked, ignored) where it holds one (_labelled_as).

    With *unread* (a hook's check of an older snapshot), a damaged object of *snap* stops
    only the paths that need it: they go into *unread* (path -> the error) and the rest is
    compared. One unreadable copy of a file the operation merely rewrote hid every loss of
    the command (RED34 D2). Without it, a damaged object raises CorruptObject."""
    items = _lost_items(store, repo, snap, paths, unread)
    if not items:
        return []
    if kinds is not None and kinds.root != snap.root:
        items = _labelled_as(store, kinds, items)
    every = _every_rev(repo, revs)
    filtered: set[bytes] = set()  # git gives back only what its filter or eol leaves
    given = _given(store, repo, items, every, unread, filtered, snap.created)
    if unread:
        items = [x for x in items if x[0] not in unread]
    entries = {p: e for p, e, _ in items}
    rest = [x for x in items if x[0] not in given and x[1].kind != DIR]
    if rest:
        given.update(_committed_since(store, repo, snap, rest, every, unread, filtered))
    rest = [x for x in rest if x[0] not in given and x[1].kind == FILE]
    if rest:  # (a FILTERED one too: eol=crlf then, eol=lf now, git wrote the file as it is)
        given.update(_attributes_then(store, repo, snap, rest, every))
    rest = [x for x in items if x[0] not in given and x[1].kind != DIR]
    if rest:
        given.update(_older_stashed(store, repo, rest, unread))
    from git_snapshot.lostnested import _nested  # (they import this module)
    from git_snapshot.loststash import _moved_back
    from git_snapshot.loststash import _stashed_part

    nested_given, nested_tracked = _nested(store, repo, snap, items, filtered)
    moved = _moved_back(store, repo, snap, items, {*given, *nested_given})
    left = [(p, e) for p, e, _ in items if p not in given and p not in nested_given]
    moved |= _stashed_part(store, repo, snap, [(p, e) for p, e in left if p not in moved])
    found = [
        Loss(
            path,
            "tracked" if path in nested_tracked else LABELS.get(e.label) or "untracked",
            FILTERED if path in filtered else status,
            _TYPES.get(e.kind, "file"),
            _modes(repo, path, e) if status == MODE_ONLY and path not in filtered else None,
        )
        for path, e, status in items
        if path not in given and path not in nested_given and path not in moved
    ]
    if unread is not None:
        found = _held_damaged(store, found, entries, unread)
    if any(x.type == "dir" for x in found):
        found = _held_empty(snap, found)
    return found


MODE_ONLY = "mode"  # diff.MODE: the same bytes, another mode (not imported: the hook path)


def _modes(repo: gitrepo.Repo, path: bytes, e: Entry) -> tuple[int, int] | None:
    """(the mode *e* was saved with, the mode of *path* on disk now) for a file whose bytes
    are the saved ones and whose mode is not: a report says "mode 755 -> 644, bytes
    unchanged" (RED44 F8.4: "an earlier version ..." of a file whose exec bit alone went)."""
    if e.kind != FILE:
        return None
    try:
        st = os.lstat(os.path.join(os.fsencode(repo.toplevel), path))
    except OSError:
        return None
    now = st.st_mode & 0o7777
    return (e.mode, now) if now != e.mode else None


def _held_empty(snap: Snapshot, found: list[Loss]) -> list[Loss]:
    """*found* less the folders *snap* holds empty only because it left out what was in them
    (a folder loss is an empty folder of the snapshot's: diff.lost; a left-out path below
    it). Named "an earlier version is in snapshot N", with a restore that gives back an
    empty folder, it was false: `*.log` left out, folder v/sub holding only x.log, which a
    branch's file v/sub replaced (session 42, fixN). What was in it is the caller's "not
    saved" part to name (lostfrom._unsaved, run's), or git gives it back."""
    from git_snapshot.leftout import left_out_whys
    from git_snapshot.leftout import unsaved_why

    left = [p for p, why in left_out_whys(snap).items() if unsaved_why(why, snap.id)]
    if not left:
        return found
    return [
        x for x in found if x.type != "dir" or not any(p.startswith(x.path + b"/") for p in left)
    ]


def _labelled_as(
    store: Store, kinds: Snapshot, items: list[tuple[bytes, Entry, str]]
) -> list[tuple[bytes, Entry, str]]:
    """*items* with each file's label (tracked, untracked, ignored) as snapshot *kinds* has
    it at that path. A restore writes its source's bytes, not git's index, which is what
    makes a file tracked: a file ignored when saved, committed since (`git add -f`) and
    restored, was called an ignored file when `checkout -- .` discarded its edit (RED38 B2).
    Where *kinds* holds no file there (the restore created it), the item's own label. Each
    tree read once (history.Trees); a tree that cannot be read leaves the label as it is."""
    from git_snapshot.store.history import Trees
    from git_snapshot.store.objects import CorruptObject

    trees = Trees(store)
    out = []
    for path, e, status in items:
        try:
            was = trees.at(kinds.root, path) if e.kind != DIR else None
        except CorruptObject:
            was = None
        if was is not None and was.kind != DIR and was.label and was.label != e.label:
            e = e._replace(label=was.label)
        out.append((path, e, status))
    return out


def _given(
    store: Store,
    repo: gitrepo.Repo,
    items: Sequence[tuple[bytes, Entry, str]],
    revs: Sequence[str],
    unread: dict[bytes, str] | None,
    filtered: set[bytes] | None = None,
    taken: float | None = None,
) -> dict[bytes, tuple[str, int]]:
    """path -> (git blob id, git mode) of the *items* whose version the index or one of
    *revs* holds at that path: the same bytes (raw, or as git converts them both ways:
    converted) and the same git mode (a file's executable bit; a symlink is no file). A
    copy *unread* says is damaged is none of them. *filtered* gets the paths git has only as
    its filter or eol leaves them. *taken*: when the snapshot *items* are of was taken
    (_written_otherwise)."""
    known = gitrepo.blob_ids(repo, revs, [p for p, e, _ in items if e.kind != DIR])
    entries = {p: e for p, e, _ in items}
    ids = gives_back(store, repo, entries.items(), known, taken, filtered, unread)
    # git has the bytes: with this mode? (a symlink's too: its target's text as a file's
    # bytes, which git writes as a file, does not give the link back: review RS45)
    given = {p: (oid, _git_mode(entries[p])) for p, oid in ids.items()}
    if given:
        from git_snapshot import gitextra

        held = gitextra.holds_with_mode(repo, revs, given)
        given = {p: v for p, v in given.items() if p in held}
    return given


def gives_back(
    store: Store,
    repo: gitrepo.Repo,
    items: Iterable[tuple[bytes, Entry]],
    known: Mapping[bytes, set[str]],
    taken: float | None = None,
    filtered: set[bytes] | None = None,
    unread: dict[bytes, str] | None = None,
) -> dict[bytes, str]:
    """path -> the id of the version git has (*known*: git_has) of those of *items* (path, a
    snapshot's entry) that git writes back byte for byte: the raw bytes are that blob and git
    writes the blob as they are (_written_otherwise), or the bytes are a blob as git converts
    them both ways (converted). The bytes alone are not enough: under `eol=crlf` a file a
    tool wrote with LF is git's blob byte for byte, and `reset --hard` writes it back CRLF
    (review41 RD); the watcher's burst check and undo's "changed since" asked the raw match
    alone, and missed it there (session 43, review RL42). Folders: none. *taken*: when the
    snapshot of *items* was taken (_written_otherwise). *filtered* gets the paths git has
    only as its filter or eol leaves them. With *unread*, a copy that cannot be read is none
    (its path goes into *unread*: git_blob_id's CorruptObject raised without it)."""
    entries = {p: e for p, e in items if e.kind != DIR}
    raw: dict[bytes, str] = {}
    for path, e in entries.items():
        if known.get(path):
            oid = _blob_id(store, path, e, unread)
            if oid is not None and oid in known[path]:
                raw[path] = oid
    if raw:
        for path in _written_otherwise(store, repo, raw, entries, taken):
            del raw[path]
            if filtered is not None:
                filtered.add(path)
    rest = [(p, e) for p, e in entries.items() if p not in raw and not (unread and p in unread)]
    raw.update(converted(store, repo, rest, known, filtered))
    return raw


def _written_otherwise(
    store: Store,
    repo: gitrepo.Repo,
    raw: Mapping[bytes, str],
    entries: Mapping[bytes, Entry],
    taken: float | None = None,
) -> set[bytes]:
    """Of the files whose raw bytes are blob *raw[path]* of git's, those git writes back as
    other bytes (its smudge filter or end-of-line conversion applied to that blob: converted's
    second half). Under `eol=crlf` a file a tool wrote with LF line ends is git's blob byte
    for byte, and `reset --hard` writes it back as CRLF: the LF bytes were in the snapshot
    only, and no report named them (review41 RD). No git process where no attribute file
    could make git write a blob otherwise (gitoverlay.written_otherwise: a few stats and
    reads; the usual repository, `* text=auto`); else one ``check-attr``, and one
    ``cat-file`` for the paths git may write otherwise. With *taken* (when the snapshot of
    *entries* was taken), a file older than the rule that makes git write it otherwise is
    not one: git wrote those bytes itself before it (gitoverlay.under_older_rules)."""
    files = {
        p: raw[p] for p in raw if entries[p].kind == FILE and entries[p].size <= CONVERTED_AT_MOST
    }
    if not files:
        return set()

    def read(p: bytes) -> bytes:
        e = entries[p]
        return b"".join(store.stream_blob(e.ref)) if e.size else b""

    return written_otherwise(repo, files, read, {p: entries[p].mtime_ns for p in files}, taken)


def written_otherwise(
    repo: gitrepo.Repo,
    raw: Mapping[bytes, str],
    read: Callable[[bytes], bytes],
    mtimes: Mapping[bytes, int],
    taken: float | None = None,
) -> set[bytes]:
    """_written_otherwise of files given by their bytes (*read*: path -> the bytes, which are
    blob *raw[path]*) and times (*mtimes*, ns), wherever they are: a snapshot's, the disk's
    (undo_since: LF bytes a tool wrote since a report are no version git writes back)."""
    from git_snapshot import gitoverlay

    conv = gitoverlay.written_otherwise(repo, sorted(raw))
    asked = [(p, raw[p]) for p in sorted(raw) if p in conv]
    if not asked:
        return set()
    from git_snapshot import gitextra

    written = gitextra.smudged(repo, asked)
    out = set()
    for p, oid in asked:
        w = written.get((p, oid))
        data = read(p)
        if w is not None and w != data and not _regenerated(data, data, w):
            out.add(p)
    if out and taken is not None:
        out -= gitoverlay.under_older_rules(repo, {p: mtimes[p] for p in out}, int(taken * 1e9))
    return out


# path-and-commit lookups (~0.1 ms each) of older stash entries at most: past it, the paths
# not asked are named as before (a stash that deep, and that many lost paths whose version
# is an object of the repository: `git add -A`, then `reset --hard`)
OLDER_STASH_LOOKUPS_AT_MOST = 20_000


def _older_stashed(
    store: Store,
    repo: gitrepo.Repo,
    items: Sequence[tuple[bytes, Entry, str]],
    unread: dict[bytes, str] | None,
) -> dict[bytes, tuple[str, int]]:
    """_given of *items* (files and links about to be named lost) by the stash entries older
    than the newest gitextra.STASH_ENTRIES, which _every_rev asks for every path: `git stash
    apply stash@{60}` gives back what it holds (red41R2 F7). Nothing is asked while the stash
    has no more entries (its reflog file read, no git call); then only of the paths whose
    version is an object of the repository at all (one cat-file for them: an edit never
    stashed nor staged is none), and at most OLDER_STASH_LOOKUPS_AT_MOST lookups. (A version
    git converts, eol or a filter, is looked for by its raw id only.)"""
    from git_snapshot import gitextra
    from git_snapshot.worktree import stash_ids

    if len(stash_ids(repo)) <= gitextra.STASH_ENTRIES:
        return {}
    entries = gitextra.stash_entries(repo, None)  # (one git call)
    newest = {o for e in entries[: gitextra.STASH_ENTRIES] for o in e}
    older = list(
        dict.fromkeys(
            o
            for e in entries[gitextra.STASH_ENTRIES :]
            for o in e
            if gitrepo.is_oid(o) and o not in newest
        )
    )
    if not older:
        return {}
    ids = {p: _blob_id(store, p, e, unread) for p, e, _ in items}
    there = gitextra.existing_blobs(repo, [o for o in ids.values() if o])
    asked = [x for x in items if ids.get(x[0]) in there]
    asked = asked[: OLDER_STASH_LOOKUPS_AT_MOST // len(older)]
    return _given(store, repo, asked, older, unread) if asked else {}


ATTRIBUTES = b".gitattributes"


def _attributes_then(
    store: Store,
    repo: gitrepo.Repo,
    snap: Snapshot,
    items: Sequence[tuple[bytes, Entry, str]],
    revs: Sequence[str],
) -> dict[bytes, tuple[str, int]]:
    """_given of *items* (files about to be named lost from *snap*) under the .gitattributes
    *snap* holds, where they are not the worktree's now: a file *snap* holds as git wrote a
    version of it under those (`eol=crlf`) was named destroyed when the operation removed
    or changed the attribute (`checkout -f B`, `reset --hard B` to a branch without it): the
    question was asked under the attributes after it (red41R1 finding 4). Only a path with a
    .gitattributes in a folder above it that differs between *snap* and the disk is asked:
    each version git has of it written as git writes it under *snap*'s attributes (a scratch
    folder holding them, as git's worktree: git 2.39 has no attribute source), compared
    with *snap*'s bytes. Nothing is asked, and nothing read past a few trees, elsewhere."""
    from git_snapshot.store.history import Trees
    from git_snapshot.store.objects import CorruptObject

    top = os.fsencode(repo.toplevel)
    trees = Trees(store)
    then: dict[bytes, bytes | None] = {}  # a .gitattributes path -> its bytes in *snap*
    differs: dict[bytes, bool] = {}  # ... -> whether the disk's differ

    def changed(attr: bytes) -> bool:
        if attr not in differs:
            try:
                e = trees.at(snap.root, attr)
            except CorruptObject:
                e = None
            then[attr] = (
                b"".join(store.stream_blob(e.ref))
                if e is not None and e.kind == FILE and e.size <= 1 << 20
                else None
            )
            try:
                with open(os.path.join(top, attr), "rb") as f:
                    now: bytes | None = f.read(1 << 20 | 1)
            except OSError:
                now = None
            differs[attr] = then[attr] != now
        return differs[attr]

    asked = []
    for path, e, _ in items:
        if e.size > CONVERTED_AT_MOST:
            continue
        attrs = [ATTRIBUTES, *(f + b"/" + ATTRIBUTES for f in _folders(path))]
        if any(changed(a) for a in attrs):
            asked.append((path, e))
    if not asked:
        return {}
    known = gitrepo.blob_ids(repo, revs, [p for p, _ in asked])
    pairs = [(p, oid) for p, _ in asked for oid in sorted(known.get(p, ()))]
    if not pairs:
        return {}
    import tempfile

    from git_snapshot import gitextra

    with tempfile.TemporaryDirectory(prefix="git-snapshot-attrs-") as scratch:
        for attr, data in then.items():
            if data is not None:
                full = os.path.join(os.fsencode(scratch), attr)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "wb") as f:
                    f.write(data)
        written = gitextra.smudged(repo, pairs, scratch)
    given: dict[bytes, tuple[str, int]] = {}
    for path, e in asked:
        data = b"".join(store.stream_blob(e.ref)) if e.size else b""
        for oid in sorted(known.get(path, ())):
            if written.get((path, oid)) == data:
                given[path] = (oid, _git_mode(e))
                break
    if given:
        held = gitextra.holds_with_mode(repo, revs, given)
        given = {p: v for p, v in given.items() if p in held}
    return given


def _committed_since(
    store: Store,
    repo: gitrepo.Repo,
    snap: Snapshot,
    items: Sequence[tuple[bytes, Entry, str]],
    asked: Sequence[str],
    unread: dict[bytes, str] | None,
    filtered: set[bytes] | None = None,
) -> dict[bytes, tuple[str, int]]:
    """_given of *items* (about to be named lost from *snap*) by the commits HEAD was at since
    *snap* was taken (its reflog, head_moves), less those *asked* already: `git commit -am
    mine` on a new branch, another commit on top, then `checkout main -- f` or `checkout -f
    main` named MINE, which x~1 holds (RED37 review RF). Of them, those a ref still reaches
    and those HEAD reached after *snap*'s HEAD (an edit committed since, amended away by the
    user: _reached_after): the window reaches a minute before *snap* (a clock stepped back),
    and a file an amend dropped from its commit just before *snap* was given back by the
    amended-away commit, which only the reflog holds, and not by one over a minute old
    (RED40 F5). *snap*'s own HEAD by the same rule (a ref reaches it: lostfrom._revs leaves it
    to this, review40 RF1). Only what is about to be named is asked: one lookup a path and
    commit, up to HEAD_MOVES_AT_MOST commits, and one `rev-list` when the reflog goes back
    before *snap*."""
    later = given_heads(repo, snap, asked)
    return _given(store, repo, items, later, unread, filtered, snap.created) if later else {}


def given_heads(repo: gitrepo.Repo, snap: Snapshot, asked: Sequence[str] = ()) -> list[str]:
    """The commits HEAD was at since *snap* (and *snap*'s own HEAD), less *asked*, whose
    versions git gives back: those a ref still reaches and those HEAD reached after *snap*'s
    HEAD (_committed_since; the watcher's burst check too, review40 RF1)."""
    since = snap.created - CLOCK_STEP_SLACK_S
    head = snap.meta.get("head")
    own = [head] if isinstance(head, str) and gitrepo.is_oid(head) else []
    moves = [r for r in dict.fromkeys([*head_moves(repo.git_dir, since), *own]) if r not in asked]
    after = _reached_after(repo.git_dir, since, head)
    kept = _reachable(repo, [r for r in moves if r not in after])
    return [r for r in moves if r in after or r in kept]


def _reached_after(git_dir: str, since: float, head: object) -> set[str]:
    """The commits HEAD's reflog (since *since*) says HEAD reached after it last reached
    *head* (a snapshot's HEAD then: the reflog's order, not its clock); every one in the
    window when none reached *head* there, nothing when *head* is no commit id."""
    if not isinstance(head, str) or not gitrepo.is_oid(head):
        return set()
    out: set[str] = set()
    for _old, new, _msg in reflog_since(git_dir, since, 1 << 16):
        if new == head or len(out) >= HEAD_MOVES_AT_MOST:
            break
        out.add(new)
    return out


def _reachable(repo: gitrepo.Repo, commits: Sequence[str]) -> set[str]:
    """Those of *commits* a ref (a branch, a tag, HEAD, the stash...) reaches: one `rev-list`
    of what they reach that no ref does (an amended-away commit's parent is on the branch:
    a line or two); none when git cannot say (they are named, not hidden). One pruned since
    (an old snapshot's HEAD) is passed over: it holds nothing to give back, and would make
    git fail for all of them."""
    if not commits:
        return set()
    res = gitrepo._run(repo.toplevel, ["rev-list", "--ignore-missing", *commits, "--not", "--all"])
    if res.returncode != 0:
        return set()
    unreachable = set(res.stdout.decode("ascii", "replace").split())
    return {c for c in commits if c not in unreachable}


def _lost_items(
    store: Store,
    repo: gitrepo.Repo,
    snap: Snapshot,
    paths: Iterable[bytes] | None,
    unread: dict[bytes, str] | None,
) -> list[tuple[bytes, Entry, str]]:
    """diff.lost of *snap* at *paths*; with *unread*, a tree it cannot read stops only the
    paths below it: each path is then compared alone, and one that needs a damaged object
    goes into *unread* (a second pass only when the first met damage)."""
    from git_snapshot.store.diff import lost  # the diff code: off the hook's imports
    from git_snapshot.store.objects import CorruptObject

    top = os.fsencode(repo.toplevel)
    wanted = None if paths is None else list(paths)
    try:
        return lost(store, snap.root, top, wanted, complete=True)
    except CorruptObject:
        if unread is None or wanted is None:
            raise
    found: dict[bytes, tuple[bytes, Entry, str]] = {}
    for path in wanted:
        try:
            found.update((x[0], x) for x in lost(store, snap.root, top, [path], complete=True))
        except CorruptObject as exc:
            unread[path] = str(exc)
    return sorted(found.values())


def _blob_id(store: Store, path: bytes, e: Entry, unread: dict[bytes, str] | None) -> str | None:
    """git_blob_id of *e*; with *unread*, None when its copy cannot be read (*path* goes into
    *unread*: whether git has what it held is not known)."""
    from git_snapshot.store.objects import CorruptObject

    try:
        return git_blob_id(store, e)
    except CorruptObject as exc:
        if unread is None:
            raise
        unread[path] = str(exc)
        return None


def _held_damaged(
    store: Store, found: list[Loss], entries: Mapping[bytes, Entry], unread: dict[bytes, str]
) -> list[Loss]:
    """*found* less the losses whose copy the store knows is damaged (its damaged table: an
    object a read met damaged, its group, a pack found missing), which go into *unread*: a
    report names them saved, and their restore fails. (One query; nothing is read.)"""
    if not found:
        return found
    damaged = store.index.damaged()
    if not damaged:
        return found
    out = []
    for x in found:
        e = entries.get(x.path)
        if e is not None and e.kind == FILE and e.ref in damaged:
            unread[x.path] = f"object {e.ref.hex()[:16]} {damaged[e.ref]}"
        else:
            out.append(x)
    return out


def not_compared(snapshot: int, unread: Mapping[bytes, str]) -> list[tuple[bytes, str]]:
    """The (path, why) of what a loss check could not compare with snapshot *snapshot*
    (find's *unread*), as a report's "not saved" line says it: one why for all of them (one
    line), naming the first error; not called lost, which is not known, nor saved."""
    if not unread:
        return []
    first = unread[min(unread)]
    why = (
        f"its copy in snapshot {snapshot} is damaged ({_short_error(first)}): if it held "
        "anything git cannot give back, that is lost; check the store with: git snapshot verify"
    )
    return [(p, why) for p in sorted(unread)]


def _short_error(msg: str) -> str:
    """A CorruptObject's words without the pack's name (the line stays short)."""
    head, sep, rest = msg.partition(" in pack ")
    if not sep:
        return msg
    return head + " " + rest.partition(" ")[2]


HEAD_MOVES_AT_MOST = 64  # commits read from HEAD's reflog (a burst spans seconds)
REFLOG_SLACK_S = 2.0  # reflog times are whole seconds
# how far back of a snapshot's time find looks into HEAD's reflog: the clock may have been
# stepped back between the snapshot and a commit (an older commit found costs lookups only)
CLOCK_STEP_SLACK_S = 60.0


def head_moves(git_dir: str, since: float) -> list[str]:
    """The commits HEAD left or reached since *since* (unix time), newest first, from the
    worktree's reflog of HEAD (no git process); [] when there is none."""
    out: list[str] = []
    for old, new, _msg in reflog_since(git_dir, since, 1 << 16):  # the last moves: at the end
        for name in (old, new):
            if gitrepo.is_oid(name) and not gitrepo.is_null_oid(name) and name not in out:
                out.append(name)
        if len(out) >= HEAD_MOVES_AT_MOST:
            break
    return out


def reflog_since(git_dir: str, since: float, tail: int) -> Iterator[tuple[str, str, bytes]]:
    """(from, to, message) of each line of the worktree's reflog of HEAD since *since* (unix
    time), newest first, read from its last *tail* bytes (no git process; nothing when there
    is none). A reflog time is whole seconds: a line up to REFLOG_SLACK_S before counts."""
    try:
        lines = reflog_tail(git_dir, tail).split(b"\n")
    except OSError:
        return
    for line in reversed(lines):
        entry = reflog_entry(line)
        if entry is None or entry[3] is None:
            continue
        if entry[3] < since - REFLOG_SLACK_S:
            return
        yield entry[:3]


def _every_rev(repo: gitrepo.Repo, revs: Sequence[str]) -> list[str]:
    every = [*revs, *gitrepo.state_commits(repo), *gitrepo.stash_commits(repo)]
    # (all zeros: no commit, `git switch --orphan`'s new HEAD; git holds nothing there)
    return list(dict.fromkeys(r for r in every if r and not gitrepo.is_null_oid(r)))


def _git_mode(e: Entry) -> int:
    """The mode git gives entry *e* (git keeps only a file's executable bit)."""
    if e.kind == SYMLINK:
        return gitrepo.MODE_SYMLINK
    return gitrepo.MODE_EXEC if e.mode & 0o100 else gitrepo.MODE_FILE


def _tree_at(store: Store, root: bytes, folder: bytes) -> bytes | None:
    """The tree key of *folder* in snapshot tree *root*, None if it is not a folder there."""
    from git_snapshot.store import validate

    tree, rel = root, b""
    for part in folder.split(b"/"):
        names = {e.name: e for e in validate.read_tree(store, tree, rel)}
        e = names.get(part)
        if e is None or e.kind != DIR:
            return None
        tree, rel = e.ref, rel + part + b"/"
    return tree


def _folders(path: bytes) -> list[bytes]:
    """The folders *path* lies in, outermost first: b'a/b/c' -> [b'a', b'a/b']."""
    parts = path.split(b"/")
    return [b"/".join(parts[:i]) for i in range(1, len(parts))]
