from __future__ import annotations

import argparse

from git_snapshot import install
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import repo_at


def cmd_install(args: argparse.Namespace) -> int:
    repo = repo_at(args.cwd)
    for line in install.install_repo(repo, install.current_exe()):
        print(line)
    note = worktree.install_note(repo)
    if note is not None:
        output.err(note)
    return 0


def cmd_uninstall(args: argparse.Namespace) -> int:
    repo = repo_at(args.cwd)
    for line in install.uninstall_repo(repo):
        print(line)
    return 0
