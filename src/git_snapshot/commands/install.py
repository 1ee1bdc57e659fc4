from __future__ import annotations

from git_snapshot import install
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import repo_at


def cmd_install(*, cwd: str) -> int:
    repo = repo_at(cwd)
    for line in install.install_repo(repo, install.current_exe()):
        print(line)
    note = worktree.install_note(repo)
    if note is not None:
        output.err(note)
    return 0


def cmd_uninstall(*, cwd: str) -> int:
    repo = repo_at(cwd)
    for line in install.uninstall_repo(repo):
        print(line)
    return 0
