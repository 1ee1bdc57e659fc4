from __future__ import annotations

import argparse
import os
import shlex
import subprocess

from git_snapshot import losses
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import repo_at
from git_snapshot.store import Store
from git_snapshot.store.objects import CorruptObject


def cmd_run(args: argparse.Namespace) -> int:
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        output.err("usage: git snapshot run [-m MSG] -- CMD [ARG...]")
        return 2
    repo = repo_at(args.cwd)
    with Store() as store:
        cfg = worktree.settings(repo)
        res = worktree.take(
            store, repo, trigger="run", message=args.message or shlex.join(cmd), cfg=cfg
        )
        worktree.apply_retention(store, repo, cfg)
    snap = res.snapshot
    output.err(f"snapshot {snap.id} taken before: {shlex.join(cmd)}")
    try:
        rc = subprocess.call(cmd, cwd=args.cwd)
    except FileNotFoundError:
        output.err(f"{cmd[0]}: command not found")
        rc = 127
    except OSError as exc:  # not executable, a directory, bad interpreter...: as a shell does
        output.err(f"{cmd[0]}: cannot run: {exc.strerror}")
        rc = 126
    except KeyboardInterrupt:
        rc = 130
    with Store() as store:
        try:
            found = losses.find(store, repo, snap)
        except CorruptObject as exc:  # the command's status still counts
            output.err(
                f"could not compare with snapshot {snap.id}: {exc}; "
                "see: git snapshot verify --read-data"
            )
            return rc
        for line in losses.report(found, snap, shlex.join(cmd), repo, os.path.abspath(args.cwd)):
            print(line, flush=True)
    return rc
