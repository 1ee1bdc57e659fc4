"""Hook name + argv + environment -> what to snapshot and what to report.

Pre-hooks (reference-transaction, pre-rebase, pre-merge-commit) run before git touches the
worktree: if their snapshot fails, the git command is stopped. Post-hooks (post-checkout,
post-merge, post-rewrite) never fail a git command: they report what the operation destroyed,
comparing the snapshot taken before it with the worktree, over the paths git touched only.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from git_snapshot import gitrepo
from git_snapshot import losses
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store

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
        if precommit and not args and name == "post-checkout":
            args = (
                env.get("PRE_COMMIT_FROM_REF", ""),
                env.get("PRE_COMMIT_TO_REF", ""),
                env.get("PRE_COMMIT_CHECKOUT_TYPE", "1"),
            )
        return cls(name, args, precommit)


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
    return None


def _overlay(store: Store, repo: gitrepo.Repo, call: Call, scratch: str) -> gitrepo.Overlay | None:
    """Edits hidden from the worktree right now: git's autostash, or pre-commit's stash."""
    if call.name in PRE_HOOKS:
        stash = gitrepo.autostash_commit(repo)
        if stash:
            return gitrepo.overlay_from_stash(repo, stash, scratch)
    if call.precommit:
        patch = gitrepo.precommit_patch()
        if patch:
            return gitrepo.overlay_from_patch(repo, patch, scratch)
    return None


def _before(store: Store, repo: gitrepo.Repo, started: float) -> Snapshot | None:
    mine = [
        s
        for s in store.snapshots(repo.common_dir)
        if s.worktree == repo.toplevel and s.created < started
    ]
    return mine[-1] if mine else None


def _touched(repo: gitrepo.Repo, call: Call) -> list[bytes] | None:
    """Paths the operation wrote or deleted; None when unknown (then nothing is reported)."""
    if call.name == "post-checkout":
        prev, new, flag = [*call.args, "", "", "1"][:3]
        if not prev or prev == NULL or flag != "1":
            return None
        return gitrepo.changed_paths(repo, prev, new)
    if call.name in ("post-merge", "post-rewrite"):
        orig = (
            gitrepo.run_git(repo.toplevel, "rev-parse", "-q", "--verify", "ORIG_HEAD", check=False)
            .decode()
            .strip()
        )
        head = gitrepo.head(repo)
        if orig and head:
            return gitrepo.changed_paths(repo, orig, head)
    return None


def handle(call: Call, cwd: str, env: Mapping[str, str]) -> list[str]:
    """Do the hook's work; returns the lines to print."""
    started = time.time()
    repo = gitrepo.find_repo(cwd)
    reason = skip_reason(call, repo, env)
    if reason:
        return []
    with Store() as store:
        cfg = worktree.settings(repo)
        lines: list[str] = []
        with worktree.scratch_dir(store) as scratch:
            overlay = _overlay(store, repo, call, scratch)
            if call.name in POST_HOOKS:
                before = _before(store, repo, started)
                touched = _touched(repo, call)
                if before is not None and touched:
                    hidden = overlay.files | overlay.deleted if overlay else frozenset()
                    found = [
                        x for x in losses.find(store, repo, before, touched) if x.path not in hidden
                    ]
                    lines += losses.report(found, before, f"git {WHAT[call.name]}", repo, cwd)
            res = worktree.take(
                store, repo, trigger=call.name, overlay=overlay, cfg=cfg, skip_if_unchanged=True
            )
        worktree.apply_retention(store, repo, cfg)
    s = res.snapshot
    if res.new:
        lines.insert(
            0,
            f"git-snapshot: snapshot {s.id} ({call.name}): {s.files} files, "
            f"+{output.size(s.added_bytes)}",
        )
    else:
        lines.insert(0, f"git-snapshot: unchanged since snapshot {s.id}")
    from git_snapshot.commands.create import warnings

    lines += [f"git-snapshot: {w}" for w in warnings(res)] if res.new else []
    return lines


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
            f"stopped it: {problem}; to go on without a backup: GIT_SNAPSHOT_SKIP=1 git ...",
            file=sys.stderr,
        )
        return 1
    print(f"git-snapshot: {name} snapshot failed: {problem}", file=sys.stderr)
    return 0
