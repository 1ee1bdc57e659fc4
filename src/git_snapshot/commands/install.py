from __future__ import annotations

import os
import time

from git_snapshot import gitrepo
from git_snapshot import install
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.doctor import submodules_line
from git_snapshot.errors import UserError


def cmd_install(*, cwd: str) -> int:
    repo = repo_at(cwd)
    for line in install.install_repo(repo, install.current_exe()):
        print(line)
    subs = submodules_line(repo)
    if subs:
        print(subs)
    said, watched = _watcher(repo)
    if said:
        print(said)
    first = None if watched else _first_snapshot(repo)
    if first is not None:
        print(first[0])
    note = worktree.install_note(repo)
    if note is not None and not (first is not None and first[1]):
        output.err(note)  # (a first snapshot taken here said it: once is enough)
    return 0


def _first_snapshot(repo: gitrepo.Repo) -> tuple[str, bool] | None:
    """The worktree's first snapshot, taken here when no watcher will take it (the watcher
    takes one as it begins to watch), the worktree has none and holds what git cannot give
    back: without it, what the first git command destroys of that (an ignored .env a
    checkout writes over) is in no snapshot, and no report can name it (RED40 D1 finding
    9.11). One line and whether it was taken, or None; a failure is said, never install's:
    the hooks are in place."""
    from git_snapshot import identity
    from git_snapshot.commands.create import summary
    from git_snapshot.store import Store
    from git_snapshot.store import location

    start = time.monotonic()
    try:
        location.check_store_dir(location.store_dir())
    except UserError:
        return None  # (install_note says why the hooks cannot snapshot: not twice)
    try:
        if not _beyond_git(repo):
            return None  # (a clean checkout: git gives back all of it)
        with Store() as store:
            if store.snapshots(identity.source(store, repo), repo.toplevel, last=1):
                return None
            res = worktree.take(store, repo, trigger="install")
    except UserError as exc:  # (a GitError too)
        return f"first snapshot not taken ({exc}); take one with: git snapshot", False
    for warning in output.snapshot_warnings(res.snapshot):
        output.err(warning)
    return f"first {summary(res, time.monotonic() - start)} (no watcher takes one)", True


def _beyond_git(repo: gitrepo.Repo) -> bool:
    """Whether the worktree holds anything git cannot give back: an edit, an untracked or an
    ignored file (git status lists one)."""
    status = gitrepo.run_git(
        repo.toplevel, "--no-optional-locks", "status", "--porcelain", "-z", "--ignored"
    )
    return bool(status)


def _watcher(repo: gitrepo.Repo) -> tuple[str | None, bool]:
    """Register the worktree with the watcher and start it, unless snapshot.watch is false;
    one line saying so (with GIT_SNAPSHOT_WATCH=0, that it did neither), and whether a
    watcher watches it now (it then takes the first snapshot)."""
    from git_snapshot.store import Store
    from git_snapshot.watch import instance
    from git_snapshot.watch import registry

    if instance.autostart_disabled():  # README: install starts it; say that it did not
        return (
            f"watcher: not started, this worktree not registered ({instance.ENV_AUTOSTART}="
            f"{os.environ[instance.ENV_AUTOSTART]}); git snapshot watch add . does both"
        ), False
    if not worktree.settings(repo).watch:
        return "watcher: off for this worktree (snapshot.watch false)", False
    try:
        with Store() as store:
            registry.put(store.path, repo.toplevel, on=True, by="install")
            instance.said_cannot_run(store.path, None)  # (what the daemon says now counts)
            pid = registry.ensure(store.path, repo.toplevel, by="install")
            got = instance.await_start(store.path, 2.0) if pid is not None else None
    except Exception as exc:  # the hooks are in place: the watcher is a bonus
        # a store refused (under /tmp): `watch` fails the same way until it is moved (RED44 F7)
        first = "once that is done, " if str(exc).startswith("refusing to keep snapshots") else ""
        return f"watcher: not started ({exc}); {first}start it with: git snapshot watch", False
    if isinstance(got, str):  # it cannot run: no inotify instance left (RED39 E3)
        return f"watcher: not running: {got}", False
    if pid is None:  # (starting it failed)
        return None, False
    return f"watcher: watching this worktree (pid {pid}); see: git snapshot watch status", True


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
