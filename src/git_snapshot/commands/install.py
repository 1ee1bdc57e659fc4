from __future__ import annotations

import os

from git_snapshot import gitrepo
from git_snapshot import install
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.doctor import submodules_line


def cmd_install(*, cwd: str) -> int:
    repo = repo_at(cwd)
    for line in install.install_repo(repo, install.current_exe()):
        print(line)
    subs = submodules_line(repo)
    if subs:
        print(subs)
    note = worktree.install_note(repo)
    if note is not None:
        output.err(note)
    watching = _watcher(repo)
    if watching:
        print(watching)
    return 0


def _watcher(repo: gitrepo.Repo) -> str | None:
    """Register the worktree with the watcher and start it, unless snapshot.watch is false;
    one line saying so (with GIT_SNAPSHOT_WATCH=0, that it did neither)."""
    from git_snapshot.store import Store
    from git_snapshot.watch import instance
    from git_snapshot.watch import registry

    if instance.autostart_disabled():  # README: install starts it; say that it did not
        return (
            f"watcher: not started, this worktree not registered ({instance.ENV_AUTOSTART}="
            f"{os.environ[instance.ENV_AUTOSTART]}); git snapshot watch add . does both"
        )
    if not worktree.settings(repo).watch:
        return "watcher: off for this worktree (snapshot.watch false)"
    try:
        with Store() as store:
            registry.put(store.path, repo.toplevel, on=True, by="install")
            instance.said_cannot_run(store.path, None)  # (what the daemon says now counts)
            pid = registry.ensure(store.path, repo.toplevel, by="install")
            got = instance.await_start(store.path, 2.0) if pid is not None else None
    except Exception as exc:  # the hooks are in place: the watcher is a bonus
        return f"watcher: not started ({exc}); start it with: git snapshot watch"
    if isinstance(got, str):  # it cannot run: no inotify instance left (RED39 E3)
        return f"watcher: not running: {got}"
    if pid is None:
        return None
    return f"watcher: watching this worktree (pid {pid}); see: git snapshot watch status"


def cmd_uninstall(*, cwd: str) -> int:
    repo = repo_at(cwd)
    for line in install.uninstall_repo(repo):
        print(line)
    watched = _still_watched(repo)
    if watched:
        print(watched)
    return 0


def _still_watched(repo: gitrepo.Repo) -> str | None:
    """One line when the watcher still watches this worktree (install registered it): its
    snapshots go on without the hooks, and the user is told how to stop them too."""
    from git_snapshot.store import location
    from git_snapshot.watch import registry

    try:
        watched = repo.toplevel in registry.active(str(location.store_dir()))
    except Exception:  # the hooks are out: the rest is a courtesy
        return None
    if not watched:
        return None
    top = output.shell_quote(os.fsencode(repo.toplevel))
    return (
        "watcher: still watches this worktree (its snapshots go on); to stop that too: "
        f"git snapshot watch remove {top}"
    )
