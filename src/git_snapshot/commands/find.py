"""``git snapshot find PATTERN [--all]``: which snapshots hold paths matching a glob.

Those of this worktree, as ``list`` and ``log`` show them (a linked worktree's, merged into
its ranges, were ids that ``restore`` here refuses); ``--repo`` searches every worktree of
that repository and ``--all`` every repository, as ``list``'s do.

A pattern with a '/' is matched against the whole path, one without against the name alone,
as with ``find -name``, anywhere in the tree. Consecutive snapshots holding the same content
of a path are one line. In the repository it runs in, paths (a pattern's and those printed)
are relative to the current directory, as every PATH argument is (cat, log, restore take
them as printed); --json, --all and --repo give them from the worktree's top.
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import os
import re
import time
from collections.abc import Callable

from git_snapshot import output
from git_snapshot.commands.common import around
from git_snapshot.commands.common import from_here
from git_snapshot.commands.common import here_in
from git_snapshot.commands.common import own_snapshots
from git_snapshot.commands.common import qualified
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.common import resolve_repo
from git_snapshot.commands.log import folder_size
from git_snapshot.ctx import gc_paused
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import validate
from git_snapshot.store.history import Match
from git_snapshot.store.history import Run
from git_snapshot.store.history import Trees
from git_snapshot.store.history import find
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import KIND_NAMES
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

SHORT = 12


def matcher(pattern: str, here: bytes = b"") -> Match:
    """fnmatch (case-sensitive, '*' crosses '/') on the path, or on the name alone when the
    pattern holds no '/'; a path pattern is read from folder *here* (from the top)."""
    text = pattern.strip("/")  # paths in a snapshot start below its top
    whole = "/" in text
    if whole:  # ./a.txt, a/../b: as cat and log read them, at the top too (RED30)
        text = os.path.normpath(os.path.join(glob.escape(os.fsdecode(here)), text))
        if text == ".." or text.startswith("../"):
            raise UserError(f"{pattern}: the pattern leads outside the worktree")
    # matched on the bytes (the pattern's regex encoded as paths are): no decoding per entry
    regex = re.compile(os.fsencode(fnmatch.translate(text)), re.S)
    if whole:
        return lambda path, e: regex.match(path) is not None
    return lambda path, e: regex.match(e.name) is not None


# more pieces than this ('1-3,5,7-8'), and a row says how many and between which: '9 of 1-20'
_PIECES = 3


def _ids(snaps: list[Snapshot]) -> str:
    """The ids of a run as a row shows them: a range only over ids that all exist ('1-3' read
    as holding 2, forgotten since: RED32), else pieces ('1,3'), else a count."""
    pieces: list[list[int]] = []
    for s in snaps:
        if pieces and s.id == pieces[-1][-1] + 1:
            pieces[-1].append(s.id)
        else:
            pieces.append([s.id])
    if len(pieces) > _PIECES:
        return f"{len(snaps)} of {snaps[0].id}-{snaps[-1].id}"
    return ",".join(str(p[0]) if len(p) == 1 else f"{p[0]}-{p[-1]}" for p in pieces)


def _content(e: Entry) -> str:
    return "-> " + output.target(e.ref) if e.kind == SYMLINK else e.ref.hex()[:SHORT]


def cmd_find(
    *,
    cwd: str,
    pattern: str,
    all_repos: bool = False,
    json_out: bool = False,
    repo_arg: str | None = None,
) -> int:
    # no cycles are made here: collections would only rescan the deltas' paths and entries
    with gc_paused():
        return _find(pattern, cwd, all_repos, json_out, repo_arg)


def _find(pattern: str, cwd: str, all_repos: bool, json_out: bool, repo_arg: str | None) -> int:
    found: list[tuple[str, Run, int, int]] = []  # (repo label, run, files, bytes)
    skipped: list[tuple[str, Snapshot, str]] = []  # (repo label, snapshot, its damage)
    here: bytes | None = None  # the current folder, from the top (None: paths from the top)
    with Store() as store, store.lock():
        mine: str | None = None  # the worktree searched alone (None: every one)
        if all_repos:
            sources = [k for k, _ in store.index.sources()]
        else:
            where = resolve_repo(store, cwd, repo_arg)
            sources = [where.key] if where.key else []
            if where.here:
                here = here_in(repo_at(cwd), cwd)
            if repo_arg is None:  # this worktree's, as list and log: ids restore takes here
                mine = where.worktree
        match = matcher(pattern, here or b"")
        labels = qualified(store, store.snapshots())
        trees = Trees(store)
        # a first search computes every delta (seconds on a big store): shown on a terminal
        progress = output.Progress("find: comparing snapshots", unit="snapshots")
        start = time.monotonic()

        def computing(done: int, total: int) -> None:
            if time.monotonic() - start > 0.5:  # no bar flashing by for a delta or two
                progress.count_of(done, total)

        try:
            for source in sources:
                # (its own: not a removed worktree's at its path, RED34 C3)
                snaps = own_snapshots(store, where) if mine else store.snapshots(source)
                try:
                    runs = find(store, snaps, match, by_path=True, progress=computing)
                except CorruptObject:  # a damaged folder listing: search the other snapshots
                    bad = _damaged(store, snaps)
                    skipped.extend((labels.get(source, source), s, why) for s, why in bad)
                    gone = {s.rowid for s, _ in bad}
                    good = [s for s in snaps if s.rowid not in gone]
                    runs = find(store, good, match, by_path=True, progress=computing)
                    trees = Trees(store)
                for run in runs:
                    files, size = trees.totals(run.entry)
                    found.append((labels.get(source, source), run, files, size))
        finally:
            progress.done()
        note = ""  # a repository inside another's worktree: that one's snapshots hold its files
        if not found and here is not None and where.worktree:
            note = around(store, where.worktree)
        scope = ""  # ... or another worktree's of this repository (find searched this one's)
        if (
            not (found or note or json_out)
            and mine
            and sources
            and _others_hold(store, sources[0], own_snapshots(store, where), match)
        ):
            scope = " of this worktree"
            # (after --: a PATTERN starting with '-' is no option)
            args = ("-- " if pattern.startswith("-") else "") + output.shell_quote(
                os.fsencode(pattern)
            )
            note = (
                "; snapshots of other worktrees of this repository hold matching paths, "
                f"listed by: git snapshot find {output.option('--repo', where.label)} {args}"
            )
        if not (found or note or json_out) and _wider_finds(
            store, sources, (lambda: own_snapshots(store, where)) if mine else None, here, pattern
        ):
            # `find README` (RED44 F7): a glob on the whole name matched no README.md
            args = ("-- " if pattern.startswith("-") else "") + output.shell_quote(
                os.fsencode(f"*{pattern}*")
            )
            note = (
                " (a glob on the whole name; some hold a name containing it, listed by: "
                f"git snapshot find {args})"
            )
    iso = _Times()
    if json_out:
        output.print_json([_json(label, run, f, n, all_repos, iso) for label, run, f, n in found])
    elif not found:
        searched = " searched" if skipped else ""
        print(f"no snapshot{scope}{searched} holds a path matching {_quoted(pattern)}{note}")
    else:
        _print(found, all_repos, iso, here or b"")
    if not skipped:
        return 0
    for label, snap, why in skipped[:20]:
        name = f"{label}:{snap.id}" if all_repos else str(snap.id)
        output.err(f"not searched: snapshot {name}: {why}")
    output.err(
        f"{len(skipped)} damaged snapshot(s) could not be searched (listed above), every other "
        "was; see which paths with: git snapshot verify --read-data"
    )
    return 1


def _wider_finds(
    store: Store,
    sources: list[str],
    mine: Callable[[], list[Snapshot]] | None,
    here: bytes | None,
    pattern: str,
) -> bool:
    """Whether ``*PATTERN*`` matches a path of the snapshots searched (*sources*; *mine*: this
    worktree's alone, when searched alone) where PATTERN, a glob with no wildcard, matched
    none; a damaged snapshot is passed over (a courtesy, never find's failure)."""
    if not pattern or any(c in pattern for c in "*?["):
        return False
    match = matcher(f"*{pattern}*", here or b"")
    for source in sources:
        snaps = mine() if mine is not None else store.snapshots(source)
        with contextlib.suppress(CorruptObject):
            if find(store, snaps, match, by_path=True):
                return True
    return False


def _quoted(pattern: str) -> str:
    """*pattern* as the shell word that gives it back, in quotes even where it needs none (it
    is named in a sentence); not Python's repr, which doubled a backslash (RED36 B4)."""
    word = output.shell_quote(os.fsencode(pattern))
    return word if word != pattern else f"'{pattern}'"  # (shlex left it bare: no ' in it)


def _others_hold(store: Store, source: str, mine: list[Snapshot], match: Match) -> bool:
    """Whether a snapshot of repository *source* other than this worktree's (*mine*, as
    searched) holds a path *match* accepts, asked when *mine* hold none (then `find` says
    where to look: RED33 V4).

    Cheaper than their search: along their snapshots' chain (their own find's, whose deltas
    the cache may hold), the first that holds a match has it in its delta, and that ends it.
    A damaged snapshot is passed over: the answer is a courtesy, never find's failure."""
    ours = {s.rowid for s in mine}
    root = b""
    trees = Trees(store)
    for snap in store.snapshots(source):
        if snap.rowid in ours:
            continue
        try:
            d = trees.cached_delta(root, snap.root)
        except CorruptObject:
            continue
        root = snap.root
        hits = [i for i, path in enumerate(d.paths) if match(path, _named(path))]
        if not hits:
            continue
        entries = d.fields()
        if entries is None or any(entries[i] is not None for i in hits):  # not all vanished
            return True
    return False


def _named(path: bytes) -> Entry:
    """An entry holding only the name of *path*: all a by-path match reads."""
    return Entry(path.rpartition(b"/")[2], 0, 0, 0, 0, b"")


def _damaged(store: Store, snaps: list[Snapshot]) -> list[tuple[Snapshot, str]]:
    """The snapshots whose trees cannot all be read, each with its first damage ('sub:
    object ... is unreadable'); each tree is read once across them all."""
    bad: dict[bytes, str | None] = {}  # tree key -> its first damage below, None if intact
    out = []
    for snap in snaps:
        stack: list[tuple[bytes, bytes, bool]] = [(snap.root, b"", False)]
        while stack:
            key, rel, done = stack.pop()
            if key in bad and not done:
                continue
            if done:  # its children are known: its own verdict
                children = [
                    (e.ref, rel + e.name + b"/")
                    for e in validate.read_tree(store, key, rel)
                    if e.kind == DIR
                ]
                bad[key] = next((bad[k] for k, _ in children if bad.get(k)), None)
                continue
            try:
                entries = validate.read_tree(store, key, rel)
            except CorruptObject as exc:
                bad[key] = f"{output.display(rel.rstrip(b'/')) or '.'}: {exc}"
                continue
            stack.append((key, rel, True))
            stack.extend((e.ref, rel + e.name + b"/", False) for e in entries if e.kind == DIR)
        why = bad.get(snap.root)
        if why:
            out.append((snap, why))
    return out


class _Times(dict[float, str]):
    """output.iso of a snapshot's time, each once (3,638 runs of m000*.js on 100 x M name
    200 times of 100 snapshots)."""

    def __missing__(self, ts: float) -> str:
        got = self[ts] = output.iso(ts)
        return got


def _json(
    label: str, run: Run, files: int, size: int, with_repo: bool, iso: _Times
) -> dict[str, Any]:
    e = run.entry
    return {
        **({"repo": label} if with_repo else {}),
        "path": os.fsdecode(run.path),  # (as show --json: a newline as JSON writes it)
        "type": KIND_NAMES.get(e.kind, "?"),
        "size": size,
        **({"files": files} if e.kind == DIR else {}),
        "content": os.fsdecode(e.ref) if e.kind == SYMLINK else e.ref.hex(),
        "snapshots": [s.id for s in run.snapshots],
        "first": iso[run.snapshots[0].created],
        "last": iso[run.snapshots[-1].created],
    }


def _print(
    found: list[tuple[str, Run, int, int]], with_repo: bool, iso: _Times, here: bytes
) -> None:
    rows = []
    for label, run, files, size in found:
        first, last = run.snapshots[0], run.snapshots[-1]
        e = run.entry
        shown = folder_size(files, size) if e.kind == DIR else output.size(size)
        rows.append(
            [
                *([label] if with_repo else []),
                output.display(from_here(here, run.path)) + ("/" if e.kind == DIR else ""),
                _ids(run.snapshots),
                shown,
                _content(e),
                iso[first.created],
                iso[last.created],
            ]
        )
    headers = [*(["REPO"] if with_repo else []), "PATH", "SNAPSHOTS", "SIZE", "CONTENT"]
    headers += ["FIRST", "LAST"]
    right = [2, 3] if with_repo else [1, 2]
    print(output.table(headers, rows, right=right, colors={right[0] - 1: "yellow"}))
