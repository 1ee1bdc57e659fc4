"""``git snapshot cat ID PATH``: one file's bytes from a snapshot, on stdout, as
``git show REV:PATH`` prints them; checked against their hash before any byte is written."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator

from git_snapshot import output
from git_snapshot.commands.common import choose
from git_snapshot.commands.common import current_repo
from git_snapshot.commands.common import here_in
from git_snapshot.commands.common import refuse_other_store
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.lookup import from_top
from git_snapshot.commands.lookup import reach_options
from git_snapshot.commands.lookup import snapshot_path
from git_snapshot.commands.remote import open_store
from git_snapshot.errors import UserError
from git_snapshot.store import validate
from git_snapshot.store.history import Trees
from git_snapshot.store.objects import CHANGED_WHILE_READ
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import SYMLINK

IN_MEMORY = 64 << 20  # larger files wait in the store's scratch space until checked


@contextlib.contextmanager
def _writing(rel: bytes) -> Iterator[None]:
    """Writing *rel*'s bytes to stdout: a write that fails (a full disk, a quota) is one line
    saying the output is incomplete (a closed pipe stays the quiet end it is in cli.main)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        # what stays in stdout's buffer must not be written again at exit (a second error)
        output.to_devnull(sys.stdout)
        raise UserError(
            f"{output.display(rel)} could not be written whole to the output: {exc.strerror}; "
            "what was written is incomplete: free space there and run it again"
        ) from None


def _link_on_the_way(trees: Trees, root: bytes, rel: bytes) -> bytes | None:
    """The first folder of *rel*'s way that the snapshot holds as a symbolic link (RED36
    B5c), or None."""
    parts = rel.split(b"/")
    for n in range(1, len(parts)):
        e = trees.at(root, b"/".join(parts[:n]))
        if e is None or e.kind != DIR:
            return b"/".join(parts[:n]) if e is not None and e.kind == SYMLINK else None
    return None


def cmd_cat(
    *,
    cwd: str,
    snapshot_id: str,
    path: str,
    repo_arg: str | None = None,
    remote: str | None = None,
    this_store: bool = False,
) -> int:
    with open_store(remote) as store, store.lock():
        where, snap = choose(store, cwd, snapshot_id, repo_arg)
        if not this_store and remote is None:  # another store's number (RED44 F1)
            refuse_other_store(store, current_repo(cwd), snapshot_id, repo_arg, snap, "cat")
        rel = snapshot_path(where, cwd, path)
        trees = Trees(store)
        e = trees.at(snap.root, rel)
        # the commands named take PATH as typed here (relative to this folder)
        opts, word = reach_options(repo_arg, remote), output.path_args([os.fsencode(path)])
        shown = output.display(os.fsencode(path))  # as every path is printed: never argv's str
        if e is None:
            link = _link_on_the_way(trees, snap.root, rel)
            if link is not None:  # (log's versions of such a path: none, a dead end)
                raise UserError(
                    f"{shown} is not in snapshot {snap.id}: its way goes through "
                    f"{output.display(link)} (from the worktree's top), a symbolic link in "
                    f"snapshot {snap.id}, which keeps the link, not what it leads to"
                )
            here = here_in(repo_at(cwd), cwd) if where.here else b""  # (else: from the top)
            hint = from_top(path, here, lambda top: trees.at(snap.root, top) is not None)
            raise UserError(
                f"{shown} is not in snapshot {snap.id}"
                + (hint or f"; see its versions with: git snapshot log{opts} {word}")
            )
        if e.kind == DIR:
            raise UserError(
                f"{shown} is a folder in snapshot {snap.id}; list it with: "
                f"git snapshot show{opts} {snap.id} {word}"
            )
        out = sys.stdout.buffer
        if e.kind == SYMLINK:  # as git show prints a link: its target
            with _writing(rel):
                out.write(e.ref)
                out.flush()
            return 0
        # nothing reaches stdout before the whole content matched its hash
        # a file that fits in memory needs no scratch space (a read-only store has none)
        big = e.size > IN_MEMORY
        with (
            store.scratch() if big else contextlib.nullcontext(None) as scratch,
            tempfile.SpooledTemporaryFile(max_size=IN_MEMORY, dir=scratch) as spool,
        ):
            for chunk in validate.stream_blob(store, e):
                spool.write(chunk)
            spool.seek(0)
            with _writing(rel):
                shutil.copyfileobj(spool, out, 1 << 20)
                out.flush()
        if e.flags & CHANGED_WHILE_READ:
            output.err(
                f"warning: {output.display(rel)} kept changing while snapshot {snap.id} read it: "
                "what it holds may mix versions (a torn read)"
            )
    return 0
