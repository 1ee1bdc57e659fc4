"""A hook that ``sudo git ...`` runs in a user's worktree acts as that user (RED40 C2).

Run as root, the hook opened root's store (HOME is root's under sudo): the user's losses went
unreported to them, the restore commands it printed named root's snapshot numbers (pasted
without sudo, they restored an older version of the user's own), and it started a root
watcher copying the user's worktree into root's store. So a hook running as root with
``SUDO_UID`` set, in a worktree whose top folder that user owns, becomes that user before
the store is opened: its groups, gid and uid (all three ids, so that nothing it starts,
the watcher included, can regain root), and HOME from the user's passwd entry. The
snapshot, the report and the printed commands are the user's own, and what the hook writes
(the store, the notes in .git) stays theirs. A worktree root owns stays root's (etckeeper's
/etc), and so does one a third user owns: that is neither the sudoer's nor root's to give.

Only hooks (hooks.handle) call this, and only as root with SUDO_UID set: a user's hook pays
one geteuid for it. A command run as ``sudo git snapshot ...`` stays root's, as asked.
"""

from __future__ import annotations

import os
import sys

from git_snapshot.errors import UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import MutableMapping

# Root's own places under sudo's env_reset (or none): the user's come from their HOME
_ROOTS_PLACES = (
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_RUNTIME_DIR",
)


def become_sudoer(top: str, env: MutableMapping[str, str]) -> None:
    """Drop to the user ``sudo`` ran for (SUDO_UID in *env*) when they own the worktree *top*,
    setting *env* (os.environ) as theirs. Raises UserError when that user cannot run this
    git-snapshot (its Python is in a folder of root's): the snapshot would go to root's
    store, which is what this prevents."""
    uid = _sudo_uid(env)
    if uid is None or owner(top) != uid:
        return
    import pwd

    try:
        user = pwd.getpwuid(uid)
    except KeyError:
        raise UserError(
            f"run by sudo for uid {uid}, which has no passwd entry, so its store is not known: "
            "run the git command without sudo"
        ) from None
    name = user.pw_name
    try:
        groups = os.getgrouplist(name, user.pw_gid)
        unreadable = _unreadable_as(uid, user.pw_gid, groups)
        if unreadable is None:
            os.setgroups(groups)
            os.setresgid(user.pw_gid, user.pw_gid, user.pw_gid)
            os.setresuid(uid, uid, uid)
    except OSError as exc:  # a root without CAP_SETUID or CAP_SETGID (a container's)
        raise UserError(
            f"run by sudo in {name}'s worktree, and could not act as {name} "
            f"({exc.strerror}), so its snapshot would go to root's store instead of theirs: "
            "run the git command without sudo"
        ) from None
    if unreadable is not None:
        raise UserError(
            f"run by sudo in {name}'s worktree, and {name} cannot read "
            f"{unreadable}, which this git-snapshot runs from, so its snapshot would go to "
            "root's store instead of theirs: run the git command without sudo"
        )
    _take_environment(name, user.pw_dir, env)


def _sudo_uid(env: MutableMapping[str, str]) -> int | None:
    try:
        uid = int(env.get("SUDO_UID", ""))
    except ValueError:
        return None
    return uid if uid > 0 else None


def owner(path: str) -> int | None:
    """Who owns *path* (None: not known); hooks._watcher asks it too."""
    try:
        return os.stat(path).st_uid
    except OSError:
        return None


def _unreadable_as(uid: int, gid: int, groups: list[int]) -> str | None:
    """The first folder this process imports from that *uid* (with *gid* and *groups*) could
    not read, or None. Checked with the effective ids set for a moment and put back: once the
    drop is whole there is no way back, and the imports still to come would fail half-way."""
    folders = list(dict.fromkeys(p for p in sys.path if p and os.path.isdir(p)))  # as root
    old_groups, old_gid = os.getgroups(), os.getegid()
    try:  # (a step that fails is put back too)
        os.setgroups(groups)
        os.setegid(gid)
        os.seteuid(uid)
        for folder in folders:
            if not os.access(folder, os.R_OK | os.X_OK, effective_ids=True):
                return folder
        return None
    finally:
        os.seteuid(0)
        os.setegid(old_gid)
        os.setgroups(old_groups)


def _take_environment(name: str, home: str, env: MutableMapping[str, str]) -> None:
    """*env* as the user's: unless it is theirs already (``sudo -E`` kept their HOME, and
    with it their XDG places and GIT_SNAPSHOT_STORE), HOME from their passwd entry and none
    of root's XDG places, so the store is their default one."""
    env["USER"] = env["LOGNAME"] = name
    if env.get("HOME", "").rstrip("/") == home.rstrip("/"):
        return
    env["HOME"] = home
    for var in _ROOTS_PLACES:
        env.pop(var, None)
