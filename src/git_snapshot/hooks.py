"""Hook name + argv + environment -> what to snapshot and what to report.

Pre-hooks (reference-transaction, pre-rebase, pre-merge-commit) run before git touches the
worktree: if their snapshot fails, the git command is stopped. Post-hooks (post-checkout,
post-merge, post-rewrite) never fail a git command: they report what the operation destroyed,
comparing the snapshot taken before it with the worktree, over the paths git touched only.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from git_snapshot import gitrepo
from git_snapshot import losses
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.errors import UserError
from git_snapshot.install import PRE_COMMIT_LEGACY_SUFFIX
from git_snapshot.install import is_our_shim
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.diff import ADDED
from git_snapshot.store.diff import diff_trees
from git_snapshot.store.objects import DIR

PRE_HOOKS = ("reference-transaction", "pre-rebase", "pre-merge-commit")
POST_HOOKS = ("post-checkout", "post-merge", "post-rewrite", "post-commit")
NULL = "0" * 40
WHAT = {
    "reference-transaction": "merge",
    "pre-rebase": "rebase",
    "pre-merge-commit": "merge",
    "post-checkout": "checkout",
    "post-merge": "merge",
    "post-rewrite": "rebase",
    "post-commit": "commit",
}
# Hooks that run while git's own autostash (rebase/merge/pull --autostash) holds the user's
# edits to tracked files, before git applies it back. git writes the autostash before
# pre-rebase and pre-merge-commit, and applies it only after post-rewrite / post-merge: at all
# four the worktree lacks those edits. reference-transaction (ORIG_HEAD) runs before the
# autostash is made; post-checkout is skipped inside a rebase, and outside one a pending
# MERGE_AUTOSTASH (a merge stopped by a conflict) is not about to be applied.
AUTOSTASH_HOOKS = ("pre-rebase", "pre-merge-commit", "post-merge", "post-rewrite")
# A file checkout writes the files, then the index: files written more than this before the
# index are not its work (a checkout of very many files on a slow disk may take longer: then
# a loss goes unreported, which is better than a false alarm).
FILE_CHECKOUT_WINDOW_NS = 10 * 10**9


@dataclass(frozen=True)
class Call:
    """One hook invocation, from argv (plain hooks) or PRE_COMMIT_* variables (pre-commit)."""

    name: str
    args: tuple[str, ...]
    precommit: bool

    @classmethod
    def parse(cls, name: str, argv: Sequence[str], env: Mapping[str, str]) -> Call:
        args = tuple(argv)
        precommit = env.get("PRE_COMMIT") == "1"
        if precommit and not args:
            # pre-commit gives its hooks no argv: git's arguments come in variables
            if name == "post-checkout":
                args = (
                    env.get("PRE_COMMIT_FROM_REF", ""),
                    env.get("PRE_COMMIT_TO_REF", ""),
                    env.get("PRE_COMMIT_CHECKOUT_TYPE", "1"),
                )
            elif name == "post-rewrite" and env.get("PRE_COMMIT_REWRITE_COMMAND"):
                args = (env["PRE_COMMIT_REWRITE_COMMAND"],)
            elif name == "post-merge" and env.get("PRE_COMMIT_IS_SQUASH_MERGE"):
                args = (env["PRE_COMMIT_IS_SQUASH_MERGE"],)
        return cls(name, args, precommit)

    @property
    def file_checkout(self) -> bool:
        """post-checkout of files (`git checkout -- f`, `git restore f`), not of a branch."""
        return self.name == "post-checkout" and self.args[2:3] == ("0",)


def skip_reason(call: Call, repo: gitrepo.Repo, env: Mapping[str, str]) -> str | None:
    """Why this invocation takes no snapshot (None: it does)."""
    if call.name not in PRE_HOOKS + POST_HOOKS:
        return f"unknown hook {call.name}"
    if env.get("_PRE_COMMIT_SKIP_POST_CHECKOUT"):
        return "pre-commit's own checkout (the user's edits are stashed)"
    if (
        call.name in ("post-checkout", "reference-transaction")
        and gitrepo.operation(repo) == "rebase"
    ):
        # mid-rebase (pull --rebase also moves ORIG_HEAD): pre-rebase already has the
        # state before, post-rewrite snapshots the result
        return "inside a rebase"
    if call.name == "post-rewrite" and call.args[:1] == ("amend",):
        return "amend changes no file"
    if call.precommit and _plain_shim_ran(repo, call.name):
        return "the plain git-snapshot hook already ran"
    return None


def _plain_shim_ran(repo: gitrepo.Repo, name: str) -> bool:
    """Whether pre-commit's hook script has just run our plain shim as ``<name>.legacy``.

    That is the layout ``git snapshot install`` and ``pre-commit install`` make together (the
    README suggests both, for reference-transaction). pre-commit runs the legacy hook before
    it stashes anything, so the shim saw the real worktree: a second snapshot, and a second
    loss report, from pre-commit's own run of the hook would only repeat it.
    """
    try:
        hooks_dir = repo.hooks_dir()
    except UserError:
        return False
    return is_our_shim(os.path.join(hooks_dir, name + PRE_COMMIT_LEGACY_SUFFIX))


def _overlay(repo: gitrepo.Repo, call: Call, scratch: Callable[[], str]) -> gitrepo.Overlay | None:
    """Edits hidden from the worktree right now: git's autostash, or pre-commit's stash.
    *scratch* makes the directory to put them in, only when there are some."""
    if call.name in AUTOSTASH_HOOKS:
        stash = gitrepo.autostash_commit(repo)
        if stash:
            return gitrepo.overlay_from_stash(repo, stash, scratch())
    if call.precommit:
        patch = gitrepo.precommit_patch()
        if patch:
            return gitrepo.overlay_from_patch(repo, patch, scratch())
    return None


def _before(
    store: Store, repo: gitrepo.Repo, call: Call, started: float, orig: str | None
) -> Snapshot | None:
    """The latest snapshot of this worktree taken before the operation changed it."""
    mine = [s for s in store.snapshots(repo.common_dir, repo.toplevel) if s.created < started]
    if call.name == "post-merge" and orig:
        # pre-merge-commit runs after the merge has written the worktree: its snapshot (HEAD
        # was still ORIG_HEAD then) already holds the result, not what the merge destroyed
        while mine and mine[-1].trigger == "pre-merge-commit" and mine[-1].meta.get("head") == orig:
            mine.pop()
    return mine[-1] if mine else None


def _touched(repo: gitrepo.Repo, call: Call, orig: str | None) -> list[bytes] | None:
    """Paths a branch checkout, merge or rebase wrote or deleted; None when unknown."""
    if call.name == "post-checkout":
        prev, new, flag = [*call.args, "", "", "1"][:3]
        if not prev or prev == NULL or flag != "1":
            return None
        if prev == new:  # checkout -b, or a switch between branches at one commit
            return []
        return gitrepo.changed_paths(repo, prev, new)
    if call.name in ("post-merge", "post-rewrite") and orig:
        if call.name == "post-merge" and call.args[:1] == ("1",):
            # a squash merge moves no ref: what it wrote is what it staged
            return gitrepo.staged_paths(repo, orig)
        head = gitrepo.head(repo)
        if head:
            return gitrepo.changed_paths(repo, orig, head)
    return None


def _clean(repo: gitrepo.Repo, paths: list[bytes]) -> set[bytes]:
    """Those of *paths* whose worktree content is the index's (what a checkout writes)."""
    dirty = gitrepo.unstaged_paths(repo, paths)
    return {p for p in paths if p not in dirty}


def _fresh(repo: gitrepo.Repo, paths: list[bytes]) -> list[bytes]:
    """Those of *paths* written just before git last wrote the index, as a file checkout
    does (it writes the files, then the index). A file the user saved and committed a
    while ago is not one of them."""
    try:
        index_ns = os.stat(os.path.join(repo.git_dir, "index")).st_mtime_ns
    except OSError:
        return paths
    top = os.fsencode(repo.toplevel)
    out = []
    for p in paths:
        try:
            mtime = os.lstat(os.path.join(top, p)).st_mtime_ns
        except OSError:
            continue
        if mtime >= index_ns - FILE_CHECKOUT_WINDOW_NS:
            out.append(p)
    return out


def _discarded(store: Store, repo: gitrepo.Repo, before: Snapshot, after: Snapshot) -> list[bytes]:
    """Tracked files a file checkout (`git checkout -- f`, `git restore f`) put back to their
    index content although *before* held an edit: files that changed between the two
    snapshots, were written by git moments ago, and whose content is now the index's. A file
    the user edited further is not clean, so it is not named; an edit git still has (the
    committed content) is left out by losses.find."""
    changed = [
        c.path
        for c in diff_trees(store, before.root, after.root)
        if c.status != ADDED and c.old is not None and c.old.kind != DIR
        if c.old.label == worktree.TRACKED
    ]
    changed = _fresh(repo, changed)
    return sorted(_clean(repo, changed)) if changed else []


def _what(call: Call, env: Mapping[str, str]) -> str:
    action = env.get("GIT_REFLOG_ACTION", "")
    if call.name in ("post-merge", "post-rewrite") and action.startswith("pull"):
        return "git pull"
    return f"git {WHAT[call.name]}"


def _user_cwd(repo: gitrepo.Repo, env: Mapping[str, str]) -> str:
    """Where the user ran git: hooks run in the worktree root, GIT_PREFIX names the subdir."""
    prefix = env.get("GIT_PREFIX", "")
    where = os.path.normpath(os.path.join(repo.toplevel, prefix))
    if prefix and os.path.isdir(where) and where.startswith(repo.toplevel):
        return where
    return repo.toplevel


def _losses(
    store: Store,
    repo: gitrepo.Repo,
    call: Call,
    env: Mapping[str, str],
    started: float,
    after: Snapshot,
    overlay: gitrepo.Overlay | None,
) -> list[str]:
    """The report of what the operation that ran this post-hook destroyed (may be empty)."""
    orig = gitrepo.rev(repo, "ORIG_HEAD") if call.name != "post-checkout" else None
    before = _before(store, repo, call, started, orig)
    if before is None:
        return []
    if call.file_checkout:
        touched: list[bytes] | None = _discarded(store, repo, before, after)
    else:
        touched = _touched(repo, call, orig)
    if not touched:
        return []
    # what git or pre-commit only hid for the moment is not lost
    hidden = overlay.files | overlay.deleted if overlay else frozenset()
    found = [x for x in losses.find(store, repo, before, touched) if x.path not in hidden]
    return losses.report(found, before, _what(call, env), repo, _user_cwd(repo, env))


def handle(call: Call, cwd: str, env: Mapping[str, str]) -> list[str]:
    """Do the hook's work; returns the lines to print."""
    started = time.time()
    repo = gitrepo.find_repo(cwd)
    reason = skip_reason(call, repo, env)
    if reason:
        return []
    report: list[str] = []
    with Store() as store:
        cfg = worktree.settings(repo)
        with contextlib.ExitStack() as stack:
            overlay = _overlay(repo, call, lambda: stack.enter_context(worktree.scratch_dir(store)))
            res = worktree.take(
                store, repo, trigger=call.name, overlay=overlay, cfg=cfg, skip_if_unchanged=True
            )
        # The snapshot is taken: nothing after this may turn it into a failure (for a
        # pre-hook, that would stop the git command for no reason).
        if call.name in POST_HOOKS:
            try:
                report = _losses(store, repo, call, env, started, res.snapshot, overlay)
            except Exception as exc:
                report = [
                    f"git-snapshot: could not check what the {WHAT[call.name]} destroyed: {exc}"
                ]
        try:
            worktree.apply_retention(store, repo, cfg)
        except Exception as exc:
            report.append(f"git-snapshot: retention not applied: {exc}")
    s = res.snapshot
    if res.new:
        lines = [
            f"git-snapshot: snapshot {s.id} ({call.name}): {s.files} files, "
            f"+{output.size(s.added_bytes)}"
        ]
        lines += [f"git-snapshot: {w}" for w in output.snapshot_warnings(s)]
    else:
        lines = [f"git-snapshot: unchanged since snapshot {s.id}"]
    return lines + report


def _aftermath(name: str, cwd: str) -> str:
    """What git leaves behind when this pre-hook stops it, and how to get out (or '')."""
    try:
        repo = gitrepo.find_repo(cwd)
        stash = gitrepo.autostash_commit(repo)
    except Exception:
        return ""
    if name == "pre-rebase" and stash:
        # git 2.39 does not apply its autostash back when pre-rebase refuses
        return (
            "; git keeps your uncommitted edits in its autostash: get them back with "
            "'git rebase --quit && git stash pop'"
        )
    if name == "pre-merge-commit":
        return (
            "; git left the merge written but not committed: 'git merge --abort' undoes it, "
            "'git merge --continue' commits it"
        )
    return ""


def run_hook(name: str, argv: Sequence[str], cwd: str = ".") -> int:
    env = os.environ
    if env.get("GIT_SNAPSHOT_SKIP") == "1":
        return 0
    call = Call.parse(name, argv, env)
    try:
        for line in handle(call, cwd, env):
            print(line, file=sys.stderr)
        return 0
    except (UserError, OSError) as exc:
        problem = str(exc)
    except Exception as exc:  # a post-hook must never fail the git command
        problem = f"internal error {exc!r}"
    if name in PRE_HOOKS:
        print(
            f"git-snapshot: could not snapshot before the {WHAT.get(name, name)}, so git "
            f"stopped it: {problem}; to go on without a backup: GIT_SNAPSHOT_SKIP=1 git ..."
            f"{_aftermath(name, cwd)}",
            file=sys.stderr,
        )
        return 1
    print(f"git-snapshot: {name} snapshot failed: {problem}", file=sys.stderr)
    return 0
