from __future__ import annotations

import os
import stat
from collections.abc import Callable
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import pick
from git_snapshot.commands.common import repo_at
from git_snapshot.store import Store
from git_snapshot.store.archiver import is_cachedir_tag
from git_snapshot.store.diff import diff_dir
from git_snapshot.store.diff import diff_trees

LETTER = {"added": "A", "deleted": "D", "modified": "M", "mode": "T"}


def left_out(repo: gitrepo.Repo) -> Callable[[bytes], bool]:
    """What a snapshot of the worktree leaves out (.git, snapshot.exclude, cache dirs, special
    files): not changes, or every diff would list them as added."""
    cfg = worktree.settings(repo)
    exclude = worktree.excluder(cfg.excludes)
    top = os.fsencode(repo.toplevel)

    def skip(rel: bytes) -> bool:
        if rel == b".git":
            return True
        full = top + b"/" + rel
        try:
            st = os.lstat(full)
        except OSError:
            return False  # gone: the snapshot side says what it was
        is_dir = stat.S_ISDIR(st.st_mode)
        if not (is_dir or stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            return True
        if exclude is not None and exclude(rel, is_dir):
            return True
        return is_dir and cfg.skip_cache_dirs and is_cachedir_tag(full + b"/CACHEDIR.TAG")

    return skip


def cmd_diff(*, cwd: str, ids: Sequence[str] = (), json_out: bool = False) -> int:
    if len(ids) > 2:
        output.err("usage: git snapshot diff [ID [ID2]] [--json] (at most two snapshot ids)")
        return 2
    repo = repo_at(cwd)
    with Store() as store, store.lock():  # no gc moves an object while we read it
        old = pick(store, repo, ids[0] if ids else "latest")
        if len(ids) == 2:
            new = pick(store, repo, ids[1])
            changes = diff_trees(store, old.root, new.root)
            against = f"snapshot {new.id}"
        else:
            changes = diff_dir(store, old.root, os.fsencode(repo.toplevel), skip=left_out(repo))
            against = "the worktree"
    if json_out:
        output.print_json([{"path": output.display(c.path), "status": c.status} for c in changes])
        return 0
    for c in changes:
        print(f"{LETTER[c.status]} {output.display(c.path)}")
    counts = {s: sum(c.status == s for c in changes) for s in LETTER}
    if changes:
        parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        print(f"snapshot {old.id} -> {against}: {parts}")
    else:
        print(f"no changes between snapshot {old.id} and {against}")
    return 0
