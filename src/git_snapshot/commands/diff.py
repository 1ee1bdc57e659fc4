from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot import snapids
from git_snapshot import worktree
from git_snapshot.commands.common import Where
from git_snapshot.commands.common import choose
from git_snapshot.commands.common import here_in
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.common import split_id
from git_snapshot.commands.lookup import from_top
from git_snapshot.commands.lookup import in_tree
from git_snapshot.commands.lookup import snapshot_path
from git_snapshot.commands.patch import MAX_TEXT
from git_snapshot.commands.patch import Sides
from git_snapshot.commands.patch import Unread
from git_snapshot.commands.patch import filtered
from git_snapshot.commands.patch import patches
from git_snapshot.commands.patch import print_stat
from git_snapshot.commands.patch import stats
from git_snapshot.ctx import gc_paused
from git_snapshot.errors import UsageError
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import validate
from git_snapshot.store.diff import ADDED
from git_snapshot.store.diff import DELETED
from git_snapshot.store.diff import MODE
from git_snapshot.store.diff import Change
from git_snapshot.store.diff import Render
from git_snapshot.store.diff import SkipStat
from git_snapshot.store.diff import diff_dir
from git_snapshot.store.diff import diff_dir_text
from git_snapshot.store.diff import diff_trees
from git_snapshot.store.diff import diff_trees_text
from git_snapshot.store.diff import file_key
from git_snapshot.store.diff import read_blobs
from git_snapshot.store.history import Trees
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import KIND_NAMES
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.safety import HOLD_NOTHING
from git_snapshot.words import first_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (every diff)
if TYPE_CHECKING:
    from typing import Any

# git's letters (diff --name-status): a change of mode alone is M there too, T a type change
LETTER = {"added": "A", "deleted": "D", "modified": "M", "mode": "M", "type": "T"}
PAINT = {"added": "green", "deleted": "red"}  # on a terminal, as git colours them


def _lstat_first(check: SkipStat, top: bytes) -> Callable[[bytes], bool]:
    def skip(rel: bytes) -> bool:
        try:
            st = os.lstat(top + b"/" + rel)
        except OSError:
            st = None
        return check(rel, st)

    return skip


def left_out_stat(repo: gitrepo.Repo) -> SkipStat:
    """What a snapshot of the worktree leaves out (.git, snapshot.exclude, cache dirs, special
    files), for a path whose lstat is known (None: the disk does not hold it): not changes, or
    every diff would list them as added."""
    cfg = worktree.settings(repo)
    exclude = worktree.excluder(cfg.excludes)
    top = os.fsencode(repo.toplevel)

    def skip(rel: bytes, st: os.stat_result | None) -> bool:
        if rel == b".git":
            return True
        if st is None:
            return False  # gone: the snapshot side says what it was
        is_dir = stat.S_ISDIR(st.st_mode)
        if not (is_dir or stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            return True
        if exclude is not None and exclude(rel, is_dir):
            return True
        full = top + b"/" + rel
        return is_dir and cfg.skip_cache_dirs and _tagged(full + b"/CACHEDIR.TAG")

    return skip


def _tagged(path: bytes) -> bool:
    """archiver.is_cachedir_tag, with a plain os.open: most folders have no tag, and a failed
    io.open costs ten times as much (it is asked of every folder)."""
    from git_snapshot.store.archiver import CACHEDIR_SIGNATURE  # (imported once: a dict get)

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        return os.read(fd, len(CACHEDIR_SIGNATURE)) == CACHEDIR_SIGNATURE
    except OSError:
        return False
    finally:
        os.close(fd)


def _worktree_of(where: Where, snap: Snapshot) -> gitrepo.Repo:
    """The worktree a snapshot is compared with: the one the command names or runs in."""
    if where.worktree is None:
        raise UserError(
            f"the repository of snapshot {snap.id} ({snap.worktree}) no longer exists: "
            "compare two of its snapshots instead (git snapshot diff ID ID2 --repo ...)"
        )
    return gitrepo.find_repo(where.worktree)


def _name(where: Where, snap: Snapshot) -> str:
    """*snap*'s id as the summary prints it: qualified (``r2:1``) when of another repository
    than the one the command runs in (RED39 G3: ``diff r2:1 r:1`` printed "snapshot 1 ->
    snapshot 1")."""
    return str(snap.id) if where.here else f"{where.label}:{snap.id}"


def _worktree_named(where: Where, tree: gitrepo.Repo) -> str:
    """The worktree a snapshot is compared with, as the summary names it: by its path when it
    is another repository's than the one the command runs in (RED39 G3: ``diff r2:1`` in r
    compared with r2's worktree and called it "the worktree")."""
    if where.here:
        return "the worktree"
    return f"the worktree {output.display(os.fsencode(tree.toplevel))}"


def split_ids(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """``diff [ID [ID2]] [--] [PATH...]``: the leading words written as IDs (at most two) are
    IDs, the rest paths (a file named like an ID is written ./7, as with git)."""
    ids: list[str] = []
    for word in words:
        if not snapids.looks_like_id(word):
            break
        ids.append(word)
    # three or more: a usage error, not a path that happens to look like an id
    return ids, list(words[len(ids) :])


def cmd_diff(
    *,
    cwd: str,
    ids: Sequence[str] = (),
    paths: Sequence[str] = (),
    stat_only: bool = False,
    patch: bool = False,
    exit_code: bool = False,
    json_out: bool = False,
    repo_arg: str | None = None,
) -> int:
    # no cycles are made here: collections would only rescan the changes and their entries
    # (diff 1 latest on 100 x M: 5 % of its instructions, 10 % with a second process)
    # paths in the worktree that cannot be listed or lstat'ed: named after the output, not
    # compared (a worktree not wholly read is never said to be as the snapshot holds it)
    unread: list[tuple[bytes, str]] = []
    notes: list[str] = []  # what a snapshot compared left out: a D or A there is that
    with gc_paused():
        status = _diff(
            cwd, ids, paths, stat_only, patch, exit_code, json_out, repo_arg, unread, notes
        )
    for note in notes:
        output.err(note)
    special = [(p, why) for p, why in unread if why in HOLD_NOTHING]
    unread = [(p, why) for p, why in unread if why not in HOLD_NOTHING]
    if special:  # no snapshot holds one: not a change, but a D there is not a deletion
        output.err(
            f"note: {len(special)} path(s) in the worktree are FIFOs, sockets or devices, which "
            f'no snapshot holds (a "D" there is that, not a deletion): {_named(special)}'
        )
    if unread:
        output.err(
            f"warning: {len(unread)} path(s) in the worktree could not be read, so what lies "
            f"there was not compared: {_named(unread)}"
        )
        if exit_code:
            status = status or 1
    return status


def _diff(
    cwd: str,
    ids: Sequence[str],
    paths: Sequence[str],
    stat_only: bool,
    patch: bool,
    exit_code: bool,
    json_out: bool,
    repo_arg: str | None,
    unread: list[tuple[bytes, str]],
    notes: list[str],
) -> int:
    guessed = not paths  # PATHs told from IDs by their looks, not written after '--'
    if guessed:
        ids, paths = split_ids(ids)
    if len(ids) > 2:
        output.err("usage: git snapshot diff [ID [ID2]] [-- PATH...] (at most two snapshot ids)")
        return 2
    # folders whose listing, and files whose content, cannot be read: named, not compared
    damaged: list[tuple[bytes, str]] = []
    with Store() as store, store.lock():  # no gc moves an object while we read it
        where, old = choose(store, cwd, ids[0] if ids else "latest", repo_arg)
        trees = Trees(store)
        rels = [snapshot_path(where, cwd, p) for p in paths]
        if len(ids) == 2:
            # two plain ids name snapshots of the same repository: found once (git config)
            plain = split_id(store, ids[0])[0] is None and split_id(store, ids[1])[0] is None
            at, new = choose(store, cwd, ids[1], repo_arg, where=where if plain else None)
            against = f"snapshot {_name(at, new)}"
            notes += _left_out_notes(old, new)
            sides = _ReadAhead(store, None, damaged)
            names = (f"snapshot {old.id}", f"snapshot {new.id}")

            def below(base: bytes) -> list[Change]:
                o, n = trees.at(old.root, base), trees.at(new.root, base)
                assert o is not None and n is not None  # folders both sides hold
                rel = base + b"/" if base else b""
                own = [Change(base, MODE, o, n)] if base and o.mode != n.mode else []
                return own + diff_trees(store, o.ref, n.ref, rel, True, damaged, names)

            def whole_text(render: Render, tally: dict[str, int] | None) -> list[str]:
                return diff_trees_text(
                    store, old.root, new.root, render, b"", True, tally, damaged, names
                )

            def new_is_dir(path: bytes) -> bool:
                try:
                    e = trees.at(new.root, path)
                except CorruptObject:  # a folder on the way unreadable: its parent's diff says
                    return False
                return e is not None and e.kind == DIR

            def sided(changes: list[Change]) -> list[Change]:
                return changes

            def holds(rel: bytes) -> bool:
                return in_tree(trees, old.root, rel) or in_tree(trees, new.root, rel)

        else:
            tree = _worktree_of(where, old)
            top = os.fsencode(tree.toplevel)
            against = _worktree_named(where, tree)
            if not where.here and (json_out or stat_only or patch):  # (no line names it)
                notes.append(f"note: snapshot {_name(where, old)} compared with {against}")
            sides = _ReadAhead(store, top, damaged)
            skip_stat = left_out_stat(tree)
            skip = _lstat_first(skip_stat, top)
            notes += _left_out_notes(old, None, skip)

            def below(base: bytes) -> list[Change]:
                e = trees.at(old.root, base)
                assert e is not None
                rel = base + b"/" if base else b""
                full = top + (b"/" + base if base else b"")
                return _own_mode(e, base, full) + diff_dir(
                    store,
                    e.ref,
                    full,
                    rel,
                    skip,
                    skip_stat=skip_stat,
                    split=True,
                    damaged=damaged,
                    unread=unread,
                )

            def whole_text(render: Render, tally: dict[str, int] | None) -> list[str]:
                return diff_dir_text(
                    store,
                    old.root,
                    top,
                    render,
                    b"",
                    skip,
                    skip_stat=skip_stat,
                    split=True,
                    tally=tally,
                    damaged=damaged,
                    unread=unread,
                )

            def new_is_dir(path: bytes) -> bool:
                return os.path.isdir(top + b"/" + path) and not os.path.islink(top + b"/" + path)

            def sided(changes: list[Change]) -> list[Change]:
                return [disk_side(top, c) for c in changes]

            def holds(rel: bytes) -> bool:
                return in_tree(trees, old.root, rel) or os.path.lexists(top + b"/" + rel)

        sides_named = f"snapshot {_name(where, old)} or {against}"
        for word, rel in zip(paths, rels, strict=True):
            if rel and not holds(rel):
                _matches_nothing(word, sides_named, guessed, where, cwd, trees, old, notes)
        # each process renders its own folders' changes (--json, or the plain list)
        tally: dict[str, int] = {}
        json_pieces = text_pieces = None
        changes: list[Change] = []
        if json_out and not stat_only and not rels:
            json_pieces = whole_text(lambda changes: json_items(sided(changes)), None)
        elif not (json_out or stat_only or patch or rels):
            text_pieces = whole_text(_lines_renderer(), tally)
        else:
            changes = filtered(trees, old.root, new_is_dir, below, rels) if rels else below(b"")
            if rels:  # compared beside the PATHs (their folder): named only when on their way
                unread[:] = [(p, why) for p, why in unread if _on_way(p, rels)]
        stat_rows = None
        if stat_only:
            stat_rows = [row for part in sides.windows(changes) for row in stats(part, sides)]
        patch_text = []
        if patch and not json_out:
            patch_text = [t for part in sides.windows(changes) for t in patches(part, sides)]
    status = 1 if exit_code and (changes or json_pieces or text_pieces) else 0
    if damaged:  # everything else was compared: listed, and the damage named (exit 1)
        status = 1
    if json_out:
        if json_pieces is not None:
            write_json_list(json_pieces, sys.stdout)
        elif stat_rows is not None:
            output.print_json([r.json() for r in stat_rows])
        else:
            sys.stdout.write(changes_json_text(sided(changes)) + "\n")
        if damaged:  # stdout stays the JSON list of what could be compared
            _damage_line(damaged)
        return status
    if stat_rows is not None:
        print_stat(stat_rows)
        if patch and patch_text:  # the stat, a blank line, the patch: as git (RED34 C4)
            sys.stdout.write("\n" if stat_rows else "")
            sys.stdout.writelines(output.color_patch(patch_text))
        if damaged:
            output.print_damaged(damaged, "compared")
        return status
    if patch:
        sys.stdout.writelines(output.color_patch(patch_text))
        if damaged:
            output.print_damaged(damaged, "compared")
        return status
    if text_pieces is None:
        text_pieces = [_lines_renderer()(changes)] if changes else []
        for c in changes:
            tally[c.status] = tally.get(c.status, 0) + 1
    # one write, not a print per change (38,514 lines for diff 1 latest on 100 x M)
    sys.stdout.write("".join(text_pieces))
    counts = {s: tally.get(s, 0) for s in LETTER}
    if any(counts.values()):
        parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        print(f"snapshot {_name(where, old)} -> {against}: {parts}")
    else:
        print(f"no changes between snapshot {_name(where, old)} and {against}")
    if damaged:
        output.print_damaged(damaged, "compared")
    return status


def _matches_nothing(
    word: str,
    sides: str,
    guessed: bool,
    where: Where,
    cwd: str,
    trees: Trees,
    old: Snapshot,
    notes: list[str],
) -> None:
    """A PATH *word* that neither side (*sides*) holds. Told from IDs by its looks, it is
    refused (UsageError), as git diff refuses it: a mistyped id or file name read as a filter
    that matches nothing said "no changes", exit 0 even with --exit-code (RED40 D1). Written
    after '--' it stands, as in git (a script may ask about a path that may not exist: no
    changes there is true), and a note says that nothing is there. A word written as an ID
    came after a PATH (it is one, in the wrong place: review40 RD1)."""
    shown = output.display(os.fsencode(word))
    if not guessed:
        notes.append(f"note: nothing in {sides} is at {shown}")
        return
    here = here_in(repo_at(cwd), cwd) if where.here else b""  # (else: from the top)
    hint = from_top(word, here, lambda top: in_tree(trees, old.root, top))
    if not hint and snapids.looks_like_id(word):
        raise UsageError(
            f"{shown} is no path in {sides}, and an ID comes before the PATHs: "
            "git snapshot diff [ID [ID2]] [--] PATH..."
        )
    raise UsageError(
        f"{shown} is no snapshot id and no path in {sides}"
        + (hint or " (a path is written after --)")
    )


def _own_mode(e: Entry, base: bytes, full: bytes) -> list[Change]:
    """The change of the folder *base* itself (*e*: the snapshot's; *full*: on disk) that a
    path-filtered diff compares below it: its mode alone (its parent's diff names the
    rest), as diff_dir names it; none for the top, whose mode no snapshot holds."""
    if not base:
        return []
    try:
        mode = stat.S_IMODE(os.lstat(full).st_mode)
    except OSError:
        return []
    return [Change(base, MODE, e, None)] if mode != e.mode else []


def _on_way(path: bytes, rels: Sequence[bytes]) -> bool:
    """Whether *path* is one of *rels*, lies below one, or holds one."""
    return any(
        not r or path == r or path.startswith(r + b"/") or r.startswith(path + b"/") for r in rels
    )


def _named(paths: Sequence[tuple[bytes, str]], shown: int = 3) -> str:
    """The first *shown* of *paths* with why, "d (Permission denied), e (...) and 2 more"."""
    return first_of([f"{output.brief(p) or '.'} ({why})" for p, why in paths], shown)


def _left_out_notes(
    old: Snapshot, new: Snapshot | None, skip: Callable[[bytes], bool] | None = None
) -> list[str]:
    """A note per snapshot compared that left out a path the other side may hold (a folder
    it could not read, one excluded): the diff names such a path deleted or added, though
    nothing happened to it but that (RED27). Against the worktree, what the snapshot left
    out that the worktree's side does not leave out now (*skip*: an excluded path still
    excluded is no change, and shown as none); between two, what one left out and the
    other did not."""

    def left(s: Snapshot) -> set[tuple[bytes, str]]:
        return {(os.fsencode(str(p)), str(why)) for p, why in s.meta.get("skipped_paths", [])}

    if new is None:
        sides = [
            (
                old,
                {
                    (p, why)
                    for p, why in left(old)
                    if why.startswith("unreadable") or skip is None or not skip(p)
                },
            )
        ]
    else:
        a, b = left(old), left(new)
        in_a, in_b = {p for p, _ in a}, {p for p, _ in b}
        sides = [
            (old, {x for x in a if x[0] not in in_b}),
            (new, {x for x in b if x[0] not in in_a}),
        ]
    return [
        f"note: snapshot {snap.id} left out {_named(sorted(out))}: what this diff says of "
        f"{'it' if len(out) == 1 else 'them'} is that, not a change "
        f"(see: git snapshot show {snap.id})"
        for snap, out in sides
        if out
    ]


def _damage_line(damaged: list[tuple[bytes, str]], shown: int = 5) -> None:
    """The one line on stderr naming what a --json diff could not compare."""
    from git_snapshot.store.restorer import ADVICE

    names = first_of([f"{output.display(p) or '.'} ({why})" for p, why in damaged], shown)
    output.err(
        f"{len(damaged)} damaged path(s) could not be compared, everything intact was "
        f"(the JSON lists it): {names}; {ADVICE}"
    )


def _lines_renderer() -> Render:
    """Renders changes as the lines of the plain diff ("M path"), each ending in a newline;
    on a terminal that takes colour, added and deleted ones painted as git paints them."""
    show = validate.show  # output.display, without its import statement per call
    if not output.use_color():
        letters = {s: f"{letter} " for s, letter in LETTER.items()}

        def plain(changes: list[Change]) -> str:
            return "".join([f"{letters[c.status]}{show(c.path)}\n" for c in changes])

        return plain

    def painted(changes: list[Change]) -> str:
        out = []
        for c in changes:
            line = f"{LETTER[c.status]} {show(c.path)}"
            out.append((output.paint(line, PAINT[c.status]) if c.status in PAINT else line) + "\n")
        return "".join(out)

    return painted


# contents read ahead at once, at most
WINDOW_BYTES = 64 << 20
WINDOW_CHANGES = 4096


class _ReadAhead(Sides):
    """Sides whose stored contents are read ahead a window of changes at a time, each window
    in storage order by two threads (store.diff.read_blobs): the old versions of a diff lie
    in as many groups as there are changes, and read one by one in path order (8.5 ms each
    on 100 snapshots of M) --stat took 3.5 s."""

    def __init__(
        self, store: Store, top: bytes | None, damaged: list[tuple[bytes, str]] | None = None
    ) -> None:
        super().__init__(store, top, damaged)
        self.ready: dict[bytes, bytes] = {}

    def _entry(self, e: Entry | None) -> bytes | Unread | None:
        if e is not None and e.kind == FILE:
            data = self.ready.get(e.ref)
            if data is not None:
                return data
        return super()._entry(e)

    def windows(self, changes: list[Change]) -> Iterator[list[Change]]:
        """*changes* in windows of at most WINDOW_BYTES of stored content to read, each
        read ahead before it is yielded."""
        i = 0
        while i < len(changes):
            j, size, want = i, 0, []
            while j < len(changes) and size < WINDOW_BYTES and j - i < WINDOW_CHANGES:
                c = changes[j]
                sides = [c.old] if c.status != ADDED else []
                if self.top is None and c.status != DELETED:
                    sides.append(c.new)
                for e in sides:
                    if e is not None and e.kind == FILE and e.size <= MAX_TEXT:
                        want.append(e)
                        size += e.size
                j += 1
            self.ready.clear()
            self.ready.update(read_blobs(self.store, want))
            yield changes[i:j]
            i = j
        self.ready.clear()


def disk_side(top: bytes, c: Change) -> Change:
    """*c* (a change against the worktree under *top*) with its new side read from the disk,
    as a snapshot taken now would record it: content is the store's key of a file (None if it
    cannot be read), a link's target; a folder has none."""
    if c.new is not None or c.status == DELETED:
        return c
    full = top + b"/" + c.path
    try:
        st = os.lstat(full)
        ref = os.readlink(full) if stat.S_ISLNK(st.st_mode) else b""
    except OSError:
        return c  # gone since it was compared
    if stat.S_ISLNK(st.st_mode):
        kind, size = SYMLINK, len(ref)
    elif stat.S_ISDIR(st.st_mode):
        kind, size = DIR, 0
    else:
        kind, size, ref = FILE, st.st_size, file_key(full) or b""
    name = c.path.rpartition(b"/")[2]
    return c._replace(new=Entry(name, kind, stat.S_IMODE(st.st_mode), st.st_mtime_ns, size, ref))


def _content(e: Entry) -> str | None:
    """A side's content in JSON: a link's target, else the key (None: not known, a folder or
    an unreadable file on disk)."""
    if e.kind == SYMLINK:
        return os.fsdecode(e.ref)
    return e.ref.hex() if e.ref else None


def changes_json_text(changes: list[Change]) -> str:
    """``json.dumps([_change_json(c) for c in changes], indent=2, ensure_ascii=False)``, the
    same text, written from a template per change: with an indent, json falls back to its
    pure-Python encoder, a generator per level (diff 1 latest --json on 100 x M, 38,514
    changes: 0.8-1.2 s of CPU, here 0.2 s). Strings go through json's own (C) escaping."""
    return json_list([json_items(changes)] if changes else [])


def json_list(pieces: list[str]) -> str:
    """The JSON list of the changes whose items json_items rendered as *pieces* (runs of
    them, none empty, in order)."""
    return "[\n" + ",\n".join(pieces) + "\n]" if pieces else "[]"


def write_json_list(pieces: list[str], out: Any) -> None:
    """``json_list(pieces) + "\n"`` written to *out* piece by piece: the list's text is never
    built whole (diff 1 latest --json on 100 x M: 16 MB, which the join and the brackets'
    concatenation copied twice, with fresh pages each time: ~45 ms CPU before the write)."""
    if not pieces:
        out.write("[]\n")
        return
    out.write("[\n")
    out.write(pieces[0])
    for piece in pieces[1:]:
        out.write(",\n")
        out.write(piece)
    out.write("\n]\n")


def json_items(changes: list[Change]) -> str:
    """The items of changes_json_text's list for *changes*, ",\n" between them: the text of
    a run of changes is that of its parts joined so (store.diff.Render)."""
    from json.encoder import encode_basestring as q  # the C one, where the interpreter has it

    statuses = {s: q(s) for s in LETTER}
    heads: dict[tuple[str, int, int], str] = {}  # a side's text up to its size, by kind, mode
    out = []
    for c in changes:
        text = f'  {{\n    "path": {output.json_str(c.path)},\n    "status": {statuses[c.status]}'
        for side, e in (("old", c.old), ("new", c.new)):
            if e is not None:
                head = heads.get((side, e.kind, e.mode))
                if head is None:
                    head = heads[side, e.kind, e.mode] = (
                        f',\n    "{side}": {{\n      "type": {q(KIND_NAMES.get(e.kind, "?"))},'
                        f'\n      "mode": "{e.mode:04o}",\n      "size": '
                    )
                # a hex digest needs no escaping
                if e.kind == SYMLINK:
                    content = output.json_str(e.ref)
                else:
                    content = f'"{e.ref.hex()}"' if e.ref else "null"
                text += f'{head}{e.size!r},\n      "content": {content}\n    }}'
        out.append(text + "\n  }")
    return ",\n".join(out)


def _change_json(c: Change) -> dict[str, Any]:
    out: dict[str, Any] = {"path": os.fsdecode(c.path), "status": c.status}
    for side, e in (("old", c.old), ("new", c.new)):
        if e is not None:
            out[side] = {
                "type": KIND_NAMES.get(e.kind, "?"),
                "mode": f"{e.mode:04o}",
                "size": e.size,
                "content": _content(e),
            }
    return out
