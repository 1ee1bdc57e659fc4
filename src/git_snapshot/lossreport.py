"""A loss report: what it says and the restore command it gives, split out of losses.py.

Report holds what one git command destroyed (losses.find's Loss list) and the snapshot that
holds it; its lines name the paths (fold, named_losses, describe), relative to where the
user is (rel_to, in_worktree), with the `git snapshot restore` command to paste
(restore_paths: the lost paths one by one up to RESTORE_AT_MOST, then the folders holding no
other change). report_of builds one from a snapshot and its losses.

Called by findlosses, autostash, stopped, hooks (a report's lines), guards, watch (bursts,
salvage) and the commands (run, losses, undo_since, ...); lossrecord records Report.as_json.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot import whichstore
from git_snapshot.losses import FILTERED
from git_snapshot.losses import Loss
from git_snapshot.losses import _folders
from git_snapshot.losses import _tree_at
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.objects import DIR

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from typing import Any

SHOW_AT_MOST = 10
# what a report says of a copy saved before the command, not checked right before it
LATER_EDITS = "later edits, if any, were not saved"
RESTORE_AT_MOST = 100  # lost paths named one by one; past it, folders holding no other change


def restore_paths(
    store: Store, root: bytes, losses: Sequence[Loss], directory: bytes | None = None
) -> list[bytes]:
    """The paths a restore command names to bring back *losses* from snapshot tree *root*
    and nothing else: each folder of which every file and link the snapshot holds was lost
    (an rm -rf; two or more of them) once, the other lost paths one by one. A folder holding
    a file that was not lost is never named: its restore would also put back that file's
    older version (what the user's tool or the merge wrote there on purpose). Past
    RESTORE_AT_MOST of those, with the worktree *directory* they were lost from, folders in
    which every file that differs from the snapshot was lost (a restore of one writes back
    only lost files: the others are the same) stand for what they hold; the list may still
    be long (never a folder whose restore would revert something)."""
    from git_snapshot.store import validate  # the store's checks: off the hook's imports

    gone = {x.path for x in losses}
    tops = sorted({p.split(b"/", 1)[0] for p in gone})
    lost_below: dict[bytes, int] = {}  # folder -> lost files and links below it
    for x in losses:
        if x.type != "dir":
            for folder in _folders(x.path):
                lost_below[folder] = lost_below.get(folder, 0) + 1
    # a folder only where it stands for several paths ("sub" for a lone sub/x says less),
    # outermost first; its walk stops at the first file more than were lost (a big folder
    # with one lost file is not read through)
    whole: set[bytes] = set()
    for folder in sorted((f for f, n in lost_below.items() if n > 1), key=len):
        if any(f in whole for f in _folders(folder)):
            continue
        tree = _tree_at(store, root, folder)
        if tree is None:
            continue
        held = 0
        for _, entry in validate.walk(store, tree, folder + b"/"):
            if entry.kind != DIR:
                held += 1
                if held > lost_below[folder]:
                    break
        if held == lost_below[folder]:
            whole.add(folder)
    out = [p for p in sorted(gone) if not any(f in whole for f in _folders(p))]
    out = sorted([*out, *whole])
    if len(out) <= RESTORE_AT_MOST or directory is None:
        return out
    return _unchanged_folders(store, root, directory, out, gone, tops)


def _unchanged_folders(
    store: Store,
    root: bytes,
    directory: bytes,
    paths: list[bytes],
    gone: set[bytes],
    tops: list[bytes],
) -> list[bytes]:
    """*paths* (lost paths and whole lost folders) with each replaced by its outermost folder
    below which every file or link that is not as the snapshot holds it was lost (*gone*):
    restoring that folder writes back lost files only."""
    from git_snapshot.store.diff import lost

    # every file and link below the top folders that the disk no longer holds as saved
    changed = [p for p, e, _ in lost(store, root, directory, tops, complete=True) if e.kind != DIR]
    reverted: set[bytes] = set()  # folders holding a changed file that was not lost
    for p in changed:
        if p not in gone and not any(f in gone for f in _folders(p)):
            reverted.update(_folders(p))
    out = set()
    for p in paths:
        out.add(next((f for f in _folders(p) if f not in reverted), p))
    return sorted(out)


class Report:
    """What one command destroyed, and where it is saved. (A plain class, not a dataclass:
    dataclasses imports inspect, ast and dis, and every hook imports this module.)"""

    __slots__ = (
        "command",
        "exact",
        "gone",
        "gone_more",
        "gone_restore",
        "losses",
        "restore",
        "saved_at",
        "snapshot",
        "store",
        "unsaved",
        "when",
    )

    def __init__(
        self,
        command: str,  # as the user ran it: "git switch", "rm -rf build"
        snapshot: int,  # the snapshot holding the lost versions
        saved_at: float,  # when that snapshot was taken
        exact: bool,  # checked right before the command: it holds what was lost (else: maybe older)
        losses: list[Loss],
        unsaved: list[tuple[bytes, str]] | None = None,  # (path, why) in no snapshot
        when: float | None = None,
        restore: list[bytes] | None = None,  # what the restore command names (restore_paths)
        store: str | None = None,  # the store holding *snapshot* (its path), when known
        gone: list[Loss] | None = None,  # in *snapshot*, gone since, not by *command*
        gone_restore: list[bytes] | None = None,  # what *gone*'s restore command names
        gone_more: list[bytes] | None = None,  # gone so, too many to ask git of
    ) -> None:
        self.gone = gone if gone is not None else []
        self.gone_restore = gone_restore
        self.gone_more = gone_more if gone_more is not None else []
        self.restore = restore
        self.store = store
        self.command = command
        self.snapshot = snapshot
        self.saved_at = saved_at
        self.exact = exact
        self.losses = losses
        self.unsaved = unsaved if unsaved is not None else []
        self.when = when if when is not None else time.time()

    def __repr__(self) -> str:
        return (
            f"Report({self.command!r}, snapshot={self.snapshot}, losses={self.losses!r}, "
            f"unsaved={self.unsaved!r})"
        )

    def __bool__(self) -> bool:
        return bool(self.losses or self.unsaved)

    def lines(self, repo: gitrepo.Repo, cwd: str, absolute: bool = False) -> list[str]:
        """What the user reads; paths relative to *cwd*, where they are (their shell's
        directory), when it is in the worktree; else (`git -C OTHER ...`, `git snapshot -C
        OTHER run ...`) relative to the worktree's top, and the restore command names the
        worktree with ``-C``: pasted where they are, a command without it restores their
        own repository's snapshot of that number (RED30). The restore command's paths are
        *absolute* when it may be read elsewhere: held for the next git-snapshot command,
        which may run in another directory."""
        out = []
        outside = not in_worktree(repo, cwd)
        if outside:
            cwd = repo.toplevel
        if self.losses:
            names = ", ".join(named_losses(repo, cwd, self.losses, self.exact))
            restore = self._command(repo, cwd, absolute, outside, "restore", self.covering())
            # not exact: the snapshot was not checked right before the command: DESIGN.md's
            # words for a copy that may be older
            where = (
                f"saved in snapshot {self.snapshot}"
                if self.exact
                else f"an earlier version, saved {output.age(self.saved_at, self.when)}, is in "
                f"snapshot {self.snapshot}; {LATER_EDITS}"
            )
            out.append(
                f"git-snapshot: {output.message(self.command)} destroyed "
                f"{describe(self.losses)}: {names} "
                f"({where}; restore with: {restore})"
            )
        for why in sorted({why for _, why in self.unsaved}):
            paths = [rel_to(repo, cwd, p) for p, w in self.unsaved if w == why]
            out.append(f"git-snapshot: not saved: {', '.join(fold(paths))}, {why}")
        out += self._gone_lines(repo, cwd, absolute, outside)
        return out

    def _command(
        self,
        repo: gitrepo.Repo,
        cwd: str,
        absolute: bool,
        outside: bool,
        verb: str,
        paths: Sequence[bytes] = (),
    ) -> str:
        """`git snapshot VERB N PATHS...` as the user pastes it: the store named when the
        repository is snapshotted into another one too, where the same number is another
        snapshot (RED44 F1; a restore's number is then that store's: whichstore.sure); the
        worktree named with ``-C`` when they are *outside* it (RED30); *paths* relative to
        *cwd*, or *absolute* (lines)."""
        top = os.fsencode(repo.toplevel)
        named = whichstore.prefix(repo.common_dir, self.store)
        where_to = f"-C {output.shell_quote(top)} " if outside else ""
        sure = whichstore.sure(named) if verb == "restore" else ""
        words = [os.path.join(top, p) if absolute else rel_to(repo, cwd, p) for p in paths]
        args = f" {output.path_args(words)}" if words else ""
        return f"{named}git snapshot {where_to}{verb} {sure}{self.snapshot}{args}"

    def _gone_lines(self, repo: gitrepo.Repo, cwd: str, absolute: bool, outside: bool) -> list[str]:
        """The lines naming what the snapshot held that is gone since, not by this command
        (findlosses._gone_not_by_it: a `git clean` just before, red44 F5b), with its restore
        command, and counting those too many to ask git of (*gone_more*); printed with a
        report only, never on their own."""
        since = (
            f"git-snapshot: also gone since snapshot {self.snapshot} was taken "
            f"({output.age(self.saved_at, self.when)}), not by {output.message(self.command)} "
            "(a git clean, which runs no hook, or by hand)"
        )
        out = []
        if self.gone:
            restore = self._command(
                repo,
                cwd,
                absolute,
                outside,
                "restore",
                self.gone_restore or [x.path for x in self.gone],
            )
            them = "it" if len(self.gone) == 1 else "them"
            out.append(
                f"{since}: {describe(self.gone)}: "
                f"{', '.join(fold([shown(rel_to(repo, cwd, x.path), x) for x in self.gone]))} "
                f"(git snapshot undo puts {them} back with the rest; restore with: {restore})"
            )
        if self.gone_more:  # (too many to ask git of: counted, never called lost)
            names = ", ".join(fold([rel_to(repo, cwd, p) for p in self.gone_more]))
            diff = self._command(repo, cwd, absolute, outside, "diff")
            out.append(
                f"{since}: {len(self.gone_more):,} untracked or ignored files, too many to tell "
                f"which git gives back: {names} (see them with: {diff})"
            )
        return out

    def covering(self) -> list[bytes]:
        """Paths whose restore brings back every loss and nothing else: restore_paths's,
        else the lost paths themselves, however many. A folder (or the whole tree) would
        also put back the snapshot's version of what the operation wrote on purpose there
        (a merged tracked file)."""
        if self.restore is not None:
            return self.restore
        return [x.path for x in self.losses]

    def as_json(self) -> dict[str, Any]:
        return {
            "when": output.iso(self.when),
            "time": self.when,
            "command": self.command,
            "snapshot": self.snapshot,
            "saved": output.iso(self.saved_at),
            "saved_time": self.saved_at,
            "exact": self.exact,
            "lost": [
                {
                    "path": os.fsdecode(x.path),
                    "kind": x.kind,
                    "status": x.status,
                    "type": x.type,
                    **({"modes": list(x.modes)} if x.modes else {}),  # (`losses` names them)
                }
                for x in self.losses
            ],
            "unsaved": [{"path": os.fsdecode(p), "why": why} for p, why in self.unsaved],
            "restore": [os.fsdecode(p) for p in self.covering()],
            **(
                {
                    "also_gone": [
                        {
                            "path": os.fsdecode(x.path),
                            "kind": x.kind,
                            "status": x.status,
                            "type": x.type,
                        }
                        for x in self.gone
                    ]
                }
                if self.gone
                else {}
            ),
            **({"gone_more": len(self.gone_more)} if self.gone_more else {}),
        }


def report_of(
    store: Store,
    repo: gitrepo.Repo,
    command: str,
    snap: Snapshot,
    exact: bool,
    found: list[Loss],
    unsaved: list[tuple[bytes, str]] | None = None,
    when: float | None = None,
    gone: list[Loss] | None = None,
    gone_more: list[bytes] | None = None,
) -> Report:
    """The report of what *command* destroyed in *repo*'s worktree: *found*, held by the
    snapshot *snap* (*exact*: taken right before it), and *unsaved*; its restore command
    names restore_paths of *found* (a hook's, run's and a stopped operation's report).
    *when*: the moment it is made (the reports of one command, one per snapshot, share it:
    `undo` puts back all of them). *gone*: what else *snap* holds that is gone since, not by
    *command* (findlosses._gone_not_by_it), named in a line of its own (*gone_more*: too many
    such files to ask git of, counted)."""
    from git_snapshot.store.objects import CorruptObject

    top = os.fsencode(repo.toplevel)
    try:
        restore = restore_paths(store, snap.root, found, top) if found else None
    except CorruptObject:  # a damaged folder of *snap*: the lost paths one by one
        restore = None
    try:
        back = restore_paths(store, snap.root, gone, top) if gone else None
    except CorruptObject:
        back = None
    return Report(
        command,
        snap.id,
        snap.created,
        exact,
        found,
        unsaved,
        when,
        restore,
        store.path,
        gone,
        back,
        gone_more,
    )


def _count(kind: str, folders: bool, n: int) -> str:
    """'1 ignored file', '2 files with uncommitted edits', '1 untracked folder' (empty), '1
    file whose bytes git's filter or end-of-line conversion does not give back' (FILTERED:
    the version git has is the file as its clean filter stores it; what the filter drops,
    or the line ends, are the snapshot's only)."""
    noun = ("folder" if folders else "file") + ("" if n == 1 else "s")
    if kind == FILTERED:
        return f"{n} {noun} whose bytes git's filter or end-of-line conversion does not give back"
    if kind == "tracked":
        return f"{n} {noun}" if folders else f"{n} {noun} with uncommitted edits"
    return f"{n} {kind} {noun}"


def describe(losses: Sequence[Loss]) -> str:
    kinds: dict[tuple[str, bool], int] = {}
    for x in losses:
        key = (FILTERED if x.status == FILTERED else x.kind, x.type == "dir")
        kinds[key] = kinds.get(key, 0) + 1
    return ", ".join(_count(k, d, n) for (k, d), n in sorted(kinds.items()))


def shown(path: bytes, loss: Loss) -> bytes:
    """*path* as a report names it: a folder with a final '/'."""
    return path + b"/" if loss.type == "dir" else path


def named_losses(repo: gitrepo.Repo, cwd: str, found: Sequence[Loss], exact: bool) -> list[str]:
    """*found* as a report names them (fold); when each is named, a file whose mode alone
    went says so: "x.env (mode 755 -> 644, bytes unchanged)", "bytes as saved" when the
    snapshot was not taken right before the command (*exact*), where "an earlier version"
    alone read as if its bytes went (RED44 F8.4)."""
    names = fold([shown(rel_to(repo, cwd, x.path), x) for x in found])
    return with_modes(names, [x.modes for x in found], exact)


def with_modes(names: list[str], modes: Sequence[tuple[int, int] | None], exact: bool) -> list[str]:
    """*names* (fold's, of as many paths as *modes*), each of a file whose mode alone went
    (its *modes*: the saved one, the disk's) followed by "(mode 755 -> 644, bytes unchanged)"
    ("bytes as saved" when not *exact*); as they are when folded. A report's line and the
    `losses` table both name them so."""
    if len(modes) > SHOW_AT_MOST:
        return names
    same = "bytes unchanged" if exact else "bytes as saved"
    return [
        f"{name} (mode {m[0]:o} -> {m[1]:o}, {same})" if m else name
        for name, m in zip(names, modes)
    ]


def in_worktree(repo: gitrepo.Repo, cwd: str) -> bool:
    """Whether the directory *cwd* is in *repo*'s worktree (not in its git directory): where
    a restore command without ``-C`` restores that worktree's snapshots."""
    try:
        real = os.path.realpath(cwd)
    except OSError:  # (a directory deleted: os.getcwd fails)
        return False
    top = os.path.realpath(repo.toplevel)
    if not (real == top or real.startswith(top.rstrip(os.sep) + os.sep)):
        return False
    gitdir = os.path.realpath(repo.git_dir)
    if real == gitdir or real.startswith(gitdir + os.sep):
        return False
    while real != top:  # in a repository nested in it (a submodule): that one's worktree
        if os.path.lexists(os.path.join(real, ".git")):
            return False
        real = os.path.dirname(real)
    return True


def rel_to(repo: gitrepo.Repo, cwd: str, rel: bytes) -> bytes:
    """A worktree path as the user types it from *cwd* (restore takes cwd-relative paths)."""
    full = os.path.join(os.fsencode(repo.toplevel), rel)
    return os.path.relpath(full, os.fsencode(os.path.abspath(cwd)))


def _top(path: bytes) -> bytes:
    """The folder a path is folded into: its first component past any leading '..'."""
    parts = path.split(b"/")
    i = 0
    while i < len(parts) - 1 and parts[i] == b"..":
        i += 1
    return b"/".join(parts[: i + 1])


def _files_and_folders(paths: Sequence[bytes]) -> str:
    """'3 files', '2 folders', '3 files, 1 folder': a folder's path ends with '/' (shown)."""
    folders = sum(1 for p in paths if p.endswith(b"/"))
    files = len(paths) - folders
    parts = [(files, "file"), (folders, "folder")]
    return ", ".join(f"{n:,} {word}{'' if n == 1 else 's'}" for n, word in parts if n)


def fold(paths: Sequence[bytes]) -> list[str]:
    """Names for people: every path when few, else one ``dir/ (N files)`` per top folder
    holding several, then "and N more" past SHOW_AT_MOST entries."""
    if len(paths) <= SHOW_AT_MOST:
        return [output.display(p) for p in paths]
    groups: dict[bytes, list[bytes]] = {}
    for p in paths:
        groups.setdefault(_top(p), []).append(p)
    names = [
        f"{output.display(g)}/ ({_files_and_folders(ps)})" if len(ps) > 1 else output.display(ps[0])
        for g, ps in groups.items()
    ]
    if len(names) > SHOW_AT_MOST:
        names = [*names[:SHOW_AT_MOST], f"and {len(names) - SHOW_AT_MOST} more"]
    return names
