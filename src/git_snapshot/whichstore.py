"""Which stores hold snapshots of a repository (RED44 F1). Snapshot ids are per store: a
report printed by a git whose store was A (a GUI's, an IDE's, cron's, a shell that did not
read the profile setting GIT_SNAPSHOT_STORE) names A's snapshot 3; pasted where the store is
B, a bare `git snapshot restore 3` restored B's snapshot 3, another version, silently.

Every snapshot of a worktree (worktree.take: hooks, the watcher, create, run, restore's
pre-restore) notes its store in the repository's common git dir, the latest last: a read of
one small file per snapshot, a write only when the store is not the one noted last (never
with one store). With more than one store noted, the commands a report prints name their
store and say so (:func:`prefix`: ``GIT_SNAPSHOT_STORE=/a git snapshot restore --this-store
3 x.env``: right wherever pasted); a bare number typed in a store that is not the one the
worktree's latest snapshot went to, where another noted store has a snapshot of that number,
is refused (:func:`ambiguous`) unless --this-store says this store's is meant. Standard
library only: imported by every hook's snapshot."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import re

    from git_snapshot.gitrepo import Repo
    from git_snapshot.store import Snapshot
    from git_snapshot.store import Store

# in the repository's common git dir: the paths of the stores its worktrees were snapshotted
# into, NUL-separated (no path holds a NUL), the one of the latest snapshot last
FILE = "git-snapshot-stores"
KEPT = 8  # stores remembered (the oldest forgotten past that)
ENV_STORE = "GIT_SNAPSHOT_STORE"
SURE = "--this-store"  # restore's and cat's: the number is this store's (the one named)


MOST = 64 * 1024  # bytes of the record read: KEPT paths of up to PATH_MAX, and more


def stores(common_dir: str) -> list[str]:
    """The stores noted for the repository at *common_dir*, the latest last. Anything but a
    regular file there (a FIFO, which an open waited on forever, a device: a hook hung) is
    no record, and no more than :data:`MOST` bytes are read (review RF1)."""
    try:
        fd = os.open(os.path.join(common_dir, FILE), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return []
    try:
        if os.fstat(fd).st_mode & 0o170000 != 0o100000:  # (stat.S_ISREG, without stat)
            return []
        raw = os.read(fd, MOST)
    except OSError:
        return []
    finally:
        os.close(fd)
    return [os.fsdecode(p) for p in raw.split(b"\0") if p]


def note(common_dir: str, store_path: str) -> None:
    """Note that a snapshot of the repository at *common_dir* went to *store_path*: one read,
    and a write only when another store was noted last. Never fails (a read-only git dir:
    the store is only not named in the commands printed)."""
    known = stores(common_dir)
    if known and known[-1] == store_path:
        return
    import fcntl  # (only when the record changes: not on a hook of one store)

    try:
        lock = os.open(common_dir, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        # hooks of two stores noting theirs at once: each read the record before the other
        # wrote it, and the last rename won alone, the other store forgotten (review RF1)
        try:  # noqa: SIM105  (contextlib: not on the hook path)
            fcntl.flock(lock, fcntl.LOCK_EX)
        except OSError:
            pass  # (a file system without flock: as before, the last writer wins)
        _write(common_dir, store_path, stores(common_dir))
    finally:
        os.close(lock)


def _write(common_dir: str, store_path: str, known: list[str]) -> None:
    if known and known[-1] == store_path:
        return
    kept = [*[p for p in known if p != store_path][-(KEPT - 1) :], store_path]
    path = os.path.join(common_dir, FILE)
    tmp = f"{path}.{os.getpid()}"
    try:
        # (O_EXCL: never through a link, nor into a file left there)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            os.write(fd, b"".join(os.fsencode(p) + b"\0" for p in kept))
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        try:  # noqa: SIM105  (contextlib: not on the hook path)
            os.unlink(tmp)
        except OSError:
            pass


def _real(path: str) -> str:
    return os.path.realpath(path)


def others(common_dir: str, store_path: str) -> list[str]:
    """The other stores noted for the repository that are still stores: the ones where a
    snapshot number of it may name another snapshot than in *store_path*."""
    from git_snapshot.store import location

    mine = _real(store_path)
    out: list[str] = []
    for p in stores(common_dir):
        if p == store_path or _real(p) == mine or p in out:
            continue
        if location.is_store(p):
            out.append(p)
    return out


def quoted(store_path: str) -> str:
    from git_snapshot import output

    return f"{ENV_STORE}={output.shell_quote(os.fsencode(store_path))}"


def shown(store_path: str) -> str:
    """A store's path in a message: the one shell word that gives it back, as every path is
    printed (output.display), never a terminal's escape sequence (review RF1)."""
    from git_snapshot import output

    return output.display(os.fsencode(store_path))


def prefix(common_dir: str, store_path: str | None) -> str:
    """What goes before `git snapshot` in a command printed for the user: the store named
    (``GIT_SNAPSHOT_STORE=/path ``) when the repository is snapshotted into another store
    too, where the same number names another snapshot; else nothing. A restore or cat
    command that has it says :data:`SURE` too (:func:`sure`)."""
    if store_path is None or not others(common_dir, store_path):
        return ""
    return quoted(store_path) + " "


def sure(named: str) -> str:
    """What goes before the snapshot number of a restore or cat command printed with the
    store *named* (:func:`prefix`): that store's number, never refused."""
    return f"{SURE} " if named else ""


# a command a held line prints (-C PATH, shell-quoted, may precede restore's words): the
# word as output.shell_quote makes it ('a b'"'"'c', "$(printf '...')"; review RF1: a path
# holding a space and a quote, or a tab, was cut short and the restore lost --this-store)
_WORD = r"""(?:"\$\(printf '[^']*'\)"|'[^']*'|"[^"]*"|[^\s'"])+"""
_COMMAND = rf"with: git snapshot ((?:-C {_WORD} )?)(restore )?"


def name_store(line: str, store_path: str) -> str:
    """*line* (a report line held for later, printed by a command of another store) with
    each command it prints naming *store_path* (and a restore's, :data:`SURE`), unless it
    names a store already."""
    if f"{ENV_STORE}=" in line:
        return line
    named = quoted(store_path)

    def sub(m: re.Match[str]) -> str:
        verb = f"restore {SURE} " if m.group(2) else ""
        return f"with: {named} git snapshot {m.group(1)}{verb}"

    import re  # (not on the hook path: a held line printed by another store's command)

    return re.sub(_COMMAND, sub, line)


def snapshot_in(store_path: str, repo: Repo, number: int) -> Snapshot | None:
    """The snapshot *number* of *repo* in the store at *store_path*, without giving the
    repository an id there (identity._read_id: only its config is read; opening the store
    writes what any reader of it writes, its lock and its index's journal); None when it
    has none (or cannot be read)."""
    from git_snapshot import identity
    from git_snapshot.store.core import Store

    try:
        repo_id = identity._read_id(repo)
        key = repo.common_dir if repo_id is None else identity.key_for(repo.common_dir, repo_id)
        with Store(store_path) as other:
            return other.get(key, number)
    except Exception:
        return None


def ambiguous(store: Store, repo: Repo, snap: Snapshot, verb: str) -> str | None:
    """Why the bare number of *snap* (this store's) may not be the snapshot the user means:
    the worktree's latest snapshot went to another store, and a store noted for the
    repository other than this one has a snapshot of that number, which a report printed by
    a git of that store named. None when this store took the latest snapshot (its reports
    are the latest), or no other store has that number."""
    from git_snapshot import output

    noted = stores(repo.common_dir)
    if not noted or _real(noted[-1]) == _real(store.path):
        return None
    for other in others(repo.common_dir, store.path):
        theirs = snapshot_in(other, repo, snap.id)
        if theirs is None or theirs.created == snap.created:
            continue  # (the same snapshot: the same store reached by another path)
        return (
            f"snapshot {snap.id} is this store's ({shown(store.path)}, taken "
            f"{output.age(snap.created)}), but this repository is also snapshotted into "
            f"{shown(other)}, whose snapshot {snap.id} "
            f"(taken {output.age(theirs.created)}) is the one a report printed by a git using "
            f"that store names: for that one, run {quoted(other)} git snapshot {verb} ...; "
            f"for this store's, add {SURE}"
        )
    return None
