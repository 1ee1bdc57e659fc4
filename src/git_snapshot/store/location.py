"""Where the store lives, and refusing places that do not survive a reboot."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ENV_STORE = "GIT_SNAPSHOT_STORE"
# Tests and benchmarks keep stores under the temp dir on purpose; this is their opt-in.
ENV_ALLOW_EPHEMERAL = "GIT_SNAPSHOT_ALLOW_EPHEMERAL"

_EPHEMERAL_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run")
_EPHEMERAL_FS = ("tmpfs", "ramfs")


def default_store_dir() -> Path:
    """The per-user data dir: ``~/.local/share/git-snapshot`` on Linux."""
    import platformdirs  # imported here: it costs ~15 ms and most runs never need it

    return Path(platformdirs.user_data_dir("git-snapshot", appauthor=False))


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


def ephemeral_reason(path: Path) -> str | None:
    """Why *path* would not survive a reboot, or None when it looks persistent."""
    real = os.path.realpath(path)
    dirs = list(_EPHEMERAL_DIRS)
    for extra in (os.environ.get("TMPDIR"), tempfile.gettempdir()):
        if extra:
            dirs.append(os.path.realpath(extra))
    for d in dirs:
        if real == d or real.startswith(d.rstrip("/") + "/"):
            return f"it is under {d}"
    fstype = _mount_fstype(real)
    if fstype in _EPHEMERAL_FS:
        return f"it is on a {fstype} mount"
    return None


def store_dir(path: Path | None = None) -> Path:
    """The store directory to use (*path*, else the environment, else the default).

    Refuses ephemeral storage unless ENV_ALLOW_EPHEMERAL is set to 1.
    """
    from git_snapshot.errors import UserError

    env = os.environ.get(ENV_STORE)
    if path is None:
        path = Path(env).expanduser() if env else default_store_dir()
    path = path.absolute()
    if os.environ.get(ENV_ALLOW_EPHEMERAL) != "1":
        reason = ephemeral_reason(path)
        if reason:
            raise UserError(
                f"refusing to keep snapshots in {path}: {reason}, which is lost on reboot; "
                f"unset {ENV_STORE} to use the safe default {_default_for_message()}, "
                f"or point it at a persistent directory"
            )
    return path
