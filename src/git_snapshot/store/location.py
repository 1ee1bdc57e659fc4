"""Where the store lives: refusing places that do not survive a reboot, relative paths, and
directories that hold something else; recognising a store by its marker file.

Paths are plain strings (``os.path``), not pathlib: every hook runs this, and pathlib
imports urllib.parse, ipaddress, fnmatch and ntpath. Any path-like argument is accepted."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Union

    PathArg = Union[str, "os.PathLike[str]"]

ENV_STORE = "GIT_SNAPSHOT_STORE"
# Tests and benchmarks keep stores under the temp dir on purpose; this is their opt-in.
ENV_ALLOW_EPHEMERAL = "GIT_SNAPSHOT_ALLOW_EPHEMERAL"

# The file that says "this directory is a git-snapshot store", written on first use. Stores
# made before it existed are recognised by their index or packs folder.
MARKER = "GIT-SNAPSHOT-STORE"
MARKER_TEXT = (
    "This directory is a git-snapshot store: the snapshots of your repositories.\n"
    "Do not edit or delete anything in it. To move it, set GIT_SNAPSHOT_STORE to the new\n"
    "place, then move this whole directory there.\n"
)
_OLD_STORE_SIGNS = (MARKER, "index.sqlite", "packs")

_EPHEMERAL_DIRS = ("/tmp", "/var/tmp", "/usr/tmp", "/dev/shm", "/run")
# where tempfile.gettempdir() looks first (tempfile itself is not imported: every hook runs
# this check, and tempfile imports random and shutil)
_TEMP_VARS = ("TMPDIR", "TEMP", "TMP")
_EPHEMERAL_FS = ("tmpfs", "ramfs")


def default_store_dir() -> str:
    """The per-user data dir: ``~/.local/share/git-snapshot`` on Linux."""
    xdg = _xdg_data_dir()
    if xdg is not None:
        return xdg
    import platformdirs  # imported here: it costs 15-50 ms (typing...), and every hook runs this

    return str(platformdirs.user_data_dir("git-snapshot", appauthor=False))


def _xdg_data_dir() -> str | None:
    """platformdirs' answer on Linux in the usual case, without importing it: $XDG_DATA_HOME
    when it is an absolute path, else ~/.local/share, with the app's name. None where that
    is not certain (another OS, HOME unset or relative: platformdirs decides)."""
    if not sys.platform.startswith("linux"):
        return None
    xdg = os.environ.get("XDG_DATA_HOME", "")
    if xdg.startswith("/"):
        return os.path.join(xdg, "git-snapshot")
    home = os.environ.get("HOME", "")
    if not home.startswith("/"):
        return None
    return os.path.join(home.rstrip("/") or "/", ".local", "share", "git-snapshot")


def _default_for_message() -> str:
    try:
        return str(default_store_dir())
    except Exception:  # the message must not fail
        return "~/.local/share/git-snapshot"


def _mount_fstype(path: str) -> str | None:
    """File system type of the mount holding *path*, from /proc/self/mounts (Linux)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    best, fstype = "", None
    for fields in mounts:
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, fstype = point, fields[2]
    return fstype


def ephemeral_reason(path: PathArg) -> str | None:
    """Why *path* would not survive a reboot, or None when it looks persistent."""
    real = os.path.realpath(path)
    dirs = list(_EPHEMERAL_DIRS)
    for extra in (os.environ.get(name) for name in _TEMP_VARS):
        if extra:
            dirs.append(os.path.realpath(extra))
    for d in dirs:
        if real == d or real.startswith(d.rstrip("/") + "/"):
            return f"it is under {d}"
    fstype = _mount_fstype(real)
    if fstype in _EPHEMERAL_FS:
        return f"it is on a {fstype} mount"
    return None


def store_dir(path: PathArg | None = None, *, ephemeral_ok: bool = False) -> str:
    """The store directory to use (*path*, else the environment, else the default), absolute.

    Refuses ephemeral storage unless ENV_ALLOW_EPHEMERAL is set to 1 or *ephemeral_ok* (a
    cache, fetched again when lost).
    """
    from git_snapshot.errors import UserError

    env = os.environ.get(ENV_STORE)
    if path is None:
        path = _from_env(env) if env else default_store_dir()
    path = os.path.abspath(path)
    if not ephemeral_ok and os.environ.get(ENV_ALLOW_EPHEMERAL) != "1":
        reason = ephemeral_reason(path)
        if reason:
            raise UserError(
                f"refusing to keep snapshots in {path}: {reason}, which is lost on reboot; "
                + _ephemeral_advice(path)
            )
    return path


def _ephemeral_advice(refused: str) -> str:
    """What to do instead: the safe default, unless that is the refused place itself."""
    default = _default_for_message()
    if default == str(refused):
        return f"set {ENV_STORE} to a directory on a persistent disk"
    if ephemeral_reason(default):  # named all the same: the safe place wherever HOME is
        return (
            f"set {ENV_STORE} to a directory on a persistent disk (the default, {default}, "
            "is not on one here)"
        )
    return (
        f"unset {ENV_STORE} to use the safe default {default}, "
        "or point it at a persistent directory"
    )


def _from_env(value: str) -> str:
    """GIT_SNAPSHOT_STORE as a path. A relative one is refused: it would name a different
    store in every directory the tool runs in, often one inside the worktree it protects."""
    from git_snapshot.errors import UserError

    path = os.path.expanduser(value)
    if not os.path.isabs(path):
        raise UserError(
            f"{ENV_STORE}={value!r} is a relative path, which would put the store wherever "
            f"git-snapshot runs; set it to an absolute path such as {os.path.abspath(value)}"
        )
    return path


def is_store(path: PathArg) -> bool:
    """Whether the existing directory *path* is a store (this version's or an earlier one's)."""
    return any(os.path.lexists(os.path.join(path, name)) for name in _OLD_STORE_SIGNS)


def check_store_dir(path: PathArg) -> None:
    """Refuse an existing *path* that is not a directory, or that holds other things than a
    store: the store's first use creates folders in it and makes it private (0700)."""
    from git_snapshot.errors import UserError

    try:
        names = os.listdir(path)
    except FileNotFoundError:
        _refuse_root_in_foreign(path)
        if before_new_store is not None:
            before_new_store(os.fsdecode(os.path.abspath(path)))
        return  # created on first use
    except NotADirectoryError:
        raise UserError(
            f"cannot use {path} as the snapshot store: it is not a directory; "
            f"set {ENV_STORE} to a new or empty directory"
        ) from None
    except OSError as exc:
        check_yours(path)  # (another user's store: says so, with the chown that fixes it)
        raise UserError(
            f"cannot use {path} as the snapshot store: {exc.strerror}; "
            f"set {ENV_STORE} to a directory you can write"
        ) from None
    if names and not is_store(path):
        raise UserError(
            f"refusing to use {path} as the snapshot store: it already holds other files and "
            f"is not a git-snapshot store; set {ENV_STORE} to a new or empty directory"
        )
    # another user's store (or part of it): refused before the first write, the chmod
    check_yours(path)


# asked before a missing store is made, with its absolute path (raises UserError to refuse):
# the git layer's look into the stash entries around it (git_snapshot.stashedstore, set when
# gitrepo is imported); the store core itself runs no git
before_new_store: Callable[[str], None] | None = None


def _refuse_root_in_foreign(path: PathArg) -> None:
    """As root, no store made in a folder another user owns (`sudo -E git ...` before that
    user's first snapshot: root would own the user's store). One stat per missing folder."""
    if os.geteuid() != 0:
        return
    here = os.path.abspath(path)
    while not os.path.lexists(here):
        parent = os.path.dirname(here)
        if parent == here:
            return
        here = parent
    refuse_foreign(path, here)


def check_yours(path: PathArg) -> None:
    """UserError naming the first part of the store at *path* that belongs to another user,
    before anything reads or writes it. Not readable and writable by this user: a `sudo git
    ...` left what its hook wrote to root; the line gives the chown back (RED30: an internal
    error, or "no snapshot store", from every command and hook). Or, NotYourStore, readable
    only because this process is root: what it wrote there would be root's, which the owner
    could not read back (RED40 C1: `sudo -E git ...` keeps HOME, and root's hook wrote packs
    into the user's store). A few lstat calls, and access(2) for another's."""
    from git_snapshot.store.core import SUBDIRS

    folder = os.R_OK | os.W_OK | os.X_OK
    parts = [(path, folder), *((os.path.join(path, d), folder) for d in SUBDIRS)]
    parts.append((os.path.join(path, "index.sqlite"), os.R_OK | os.W_OK))
    for part, need in parts:
        refuse_foreign(path, part, need)


def refuse_foreign(path: PathArg, part: PathArg, need: int = os.R_OK) -> None:
    """UserError when *part* of the store at *path* belongs to another user and this
    process may not use it (*need*: access(2)'s mode), NotYourStore when it may only as
    root (_foreign); else nothing (a part that is ours, or missing: what is wrong with it,
    the caller's error says). Also called by a read of a pack refused with EACCES: not
    damage, and no verify mends it."""
    try:
        uid = os.lstat(part).st_uid
    except OSError:
        return
    me = os.geteuid()
    if uid == me:
        return
    if not os.access(part, need):
        raise _foreign(path, part, uid, as_root=False)
    if me == 0:  # (allowed by privilege alone; a user's, by its mode: a FUSE mount's owner)
        raise _foreign(path, part, uid, as_root=True)


def _foreign(path: PathArg, part: PathArg, uid: int, *, as_root: bool) -> Exception:
    """NotYourStore for root in another user's store (no process of root's can use it: a
    hook lets git go on); else a plain UserError: the store is this user's once the chown
    gives it back, and a pre-hook stops git until then (a rebase would destroy what no
    snapshot holds)."""
    from git_snapshot.errors import NotYourStore
    from git_snapshot.errors import UserError
    from git_snapshot.store.core import shell_word

    owner = _user_name(uid)
    what = "it" if os.fspath(part) == os.fspath(path) else os.fsdecode(part)
    if as_root:  # (no chown: the owner's own commands can use it, and root's must not)
        return NotYourStore(
            f"cannot use the snapshot store at {os.fsdecode(path)}: {what} "
            f"belongs to {owner}, not to you ({_user_name(0)}): what you wrote there would "
            f"be yours, and {owner} could not read it back (a `sudo -E git ...` keeps HOME); "
            f"run the command as {owner} (without sudo), or set {ENV_STORE} to a store of "
            "your own; nothing was written"
        )
    where = shell_word(os.fsdecode(path))
    return UserError(
        f"cannot use the snapshot store at {os.fsdecode(path)}: {what} belongs "
        f"to {owner} and is not readable and writable by you (a `sudo git ...` leaves what "
        f'its hook wrote so); give it back with: sudo chown -R "$(id -un)" {where}'
    )


def _user_name(uid: int) -> str:
    try:
        import pwd  # (only here)

        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"user {uid}"


def mark(path: PathArg) -> None:
    """Write the marker file into the store at *path*, unless it is there already."""
    try:
        fd = os.open(
            os.path.join(path, MARKER), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600
        )
    except FileExistsError:
        return
    try:
        os.write(fd, MARKER_TEXT.encode())
    finally:
        os.close(fd)


def inside(path: str, worktree: str) -> bool:
    """Whether *path* lies inside the worktree rooted at *worktree* (its .git excepted, which
    is never snapshotted nor restored), by device and inode as the walk knows the store."""
    return in_worktree(path, worktree) is not None


def in_worktree(path: str, worktree: str) -> str | None:
    """*path*'s place in the worktree rooted at *worktree* ("a/b", or "." for the top), or
    None when it lies outside it or in its .git. The folders above *path* are compared with
    the top by device and inode, not by name: a home folder reached by two paths (a bind
    mount) names the same store twice, and a path comparison missed it (RED40 C1: git clean
    deleted the store). Parts of *path* not made yet go by name. One stat per folder above."""
    try:
        top = os.stat(worktree)
    except OSError:
        return None
    here = os.path.realpath(path)
    names: list[str] = []
    while True:
        try:
            st = os.stat(here)
        except OSError:
            st = None
        if st is not None and (st.st_dev, st.st_ino) == (top.st_dev, top.st_ino):
            break
        parent, name = os.path.split(here)
        if parent == here:
            return None
        names.append(name)
        here = parent
    names.reverse()
    if names[:1] == [".git"]:
        return None
    return "/".join(names) or "."
