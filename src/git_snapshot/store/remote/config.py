"""Which remotes this user has: ``remotes.json`` and ``keys/NAME.key`` in the user config dir
(``~/.config/git-snapshot`` on Linux; ``GIT_SNAPSHOT_CONFIG_DIR`` overrides it).

A remote belongs to the user's store, not to one repository, so it is not kept in any git
config; ``snapshot.autoPush NAME`` (git config, any level) names the remote hook snapshots are
pushed to. The per-remote cache (the metadata of what the remote holds, packs fetched for
``--remote`` reads, auto-push state) lives in the user cache dir, keyed by remote and store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass

from git_snapshot.errors import UserError

ENV_CONFIG = "GIT_SNAPSHOT_CONFIG_DIR"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class RemoteConf:
    name: str
    url: str
    key_file: str


def config_dir() -> str:
    env = os.environ.get(ENV_CONFIG)
    if env:
        return env
    import platformdirs

    return platformdirs.user_config_dir("git-snapshot", appauthor=False)


def cache_dir() -> str:
    import platformdirs

    return platformdirs.user_cache_dir("git-snapshot", appauthor=False)


def remote_cache(conf: RemoteConf, store_path: str) -> str:
    """The cache of one remote for one local store."""
    # the path as the bytes it is on disk (surrogateescape: a store path need not be UTF-8,
    # RED40 C6); a UTF-8 one hashes as before, so no cache is orphaned
    named = f"{conf.url}\0{os.path.realpath(store_path)}".encode("utf-8", "surrogateescape")
    tag = hashlib.sha256(named).hexdigest()
    return os.path.join(cache_dir(), "remotes", f"{conf.name}-{tag[:12]}")


def private_dirs(path: str) -> None:
    """makedirs, each folder it makes 0700 (makedirs gives those on the way 0777 - umask): the
    config folder's (under umask 000 another user could swap remotes.json and keys/, RED40
    C8) and the remote cache's (a copy of snapshot records: worktree paths, messages)."""
    parent = os.path.dirname(path)
    if parent != path and not os.path.isdir(parent):
        private_dirs(parent)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)


def check_private(path: str) -> None:
    """UserError when another user could change the config folder *path*: it, or a folder
    above it up to the home folder, is writable by others (a sticky one aside) or, below the
    home folder, belongs to someone else; they could then point this user's pushes at a
    remote of theirs, under a key of theirs (RED40 C8). *path* itself, the user's and open to
    the group, is made 0700."""
    home = os.path.expanduser("~")
    part = path
    while True:
        try:
            st = os.stat(part)
        except OSError:
            st = None  # (not made yet: save makes it)
        if st is not None:
            _refuse_open(path, part, st, owner=part != home)
            ours = stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()
            if part == path and ours and st.st_mode & 0o077:
                # (made by an older version or another umask; not a file the variable names by
                # a slip, nor a folder root made; one that cannot be chmodded, a read-only one,
                # is read as it is: nobody else can write it, see above)
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o700)
        parent = os.path.dirname(part)
        if part in (home, parent):
            return
        part = parent


def _refuse_open(path: str, part: str, st: os.stat_result, *, owner: bool) -> None:
    """check_private's verdict on one folder, *part*, of the config folder *path*; its owner
    is asked only when *owner*: not for the home folder itself, whose owner controls this user
    anyway (~/.profile), and which a container often gives to another uid (OpenShift: any uid,
    a home of uid 1001, group 0, 0775; review40 RC3)."""
    import shlex  # (only here)

    uid = os.geteuid()
    # (root under sudo -E: the user's own config)
    if owner and st.st_uid not in (uid, 0) and uid != 0:
        from git_snapshot.store.location import _user_name

        why = f"belongs to {_user_name(st.st_uid)}"
        fix = f'sudo chown "$(id -un)" {shlex.quote(part)}'
    elif st.st_mode & 0o002 and not st.st_mode & stat.S_ISVTX:
        mode = stat.S_IMODE(st.st_mode)
        why, fix = f"is writable by all (mode {mode:04o})", f"chmod go-w {shlex.quote(part)}"
    else:
        return
    raise UserError(
        f"not using the remotes in {path}: {part} {why}, so other users could change where "
        f"your snapshots are pushed and under which key; check remotes.json and keys/ in it, "
        f"then run: {fix}"
    )


def _file() -> str:
    return os.path.join(config_dir(), "remotes.json")


def key_path(name: str) -> str:
    return os.path.join(config_dir(), "keys", f"{name}.key")


def load() -> dict[str, RemoteConf]:
    check_private(config_dir())
    try:
        with open(_file(), encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UserError(
            f"cannot read the remotes file {_file()}: {exc}; fix or remove it"
        ) from None
    remotes = doc.get("remotes", {}) if isinstance(doc, dict) else None
    if not isinstance(remotes, dict):  # valid JSON, but not what save() writes
        raise UserError(
            f"cannot read the remotes file {_file()}: not a remotes document; fix or remove it"
        )
    out = {}
    for name, item in remotes.items():
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            out[name] = RemoteConf(name, item["url"], str(item.get("key") or key_path(name)))
    return out


def save(remotes: dict[str, RemoteConf]) -> None:
    path = _file()
    check_private(config_dir())
    private_dirs(config_dir())
    doc = {"remotes": {r.name: {"url": r.url, "key": r.key_file} for r in remotes.values()}}
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def get(name: str | None) -> RemoteConf:
    """The remote *name*, or the only one there is when *name* is None."""
    remotes = load()
    if name is None:
        if len(remotes) == 1:
            return next(iter(remotes.values()))
        if not remotes:
            raise UserError("no remote yet; add one with: git snapshot remote add NAME URL")
        raise UserError(
            f"{len(remotes)} remotes ({', '.join(sorted(remotes))}): name one, e.g. "
            f"git snapshot push {sorted(remotes)[0]}"
        )
    if name not in remotes:
        known = f" (known: {', '.join(sorted(remotes))})" if remotes else ""
        raise UserError(
            f"no remote called {name!r}{known}; add one with: git snapshot remote add {name} URL"
        )
    return remotes[name]


def check_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise UserError(f"bad remote name {name!r}: letters, digits, '.', '_' and '-', at most 64")
