"""What several commands share: finding the repo and a snapshot, describing snapshots.

A command works on the repository it runs in, or on the one ``--repo PATH|NAME`` names: any
repository with a history in the store, existing or deleted (see :func:`resolve_repo`). An ID
may be qualified by a repository label, ``myrepo:12``, as ``list --all`` prints them.
"""

from __future__ import annotations

import os
from collections import namedtuple

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import output
from git_snapshot import snapids
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (as worktree.py)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any
    from typing import NamedTuple


def repo_at(cwd: str, remember: bool = False) -> gitrepo.Repo:
    """The repository at *cwd*. Loss reports a hook could not show (pre-commit without a
    terminal) are printed here, once: every command that works in a worktree finds it.
    *remember*: as :func:`gitrepo.find_repo`'s (a command that snapshots once and ends)."""
    named = " and ".join(k for k in ("GIT_DIR", "GIT_WORK_TREE") if os.environ.get(k))
    try:
        repo = gitrepo.find_repo(cwd, remember=remember)
    except UserError as exc:
        if not named:
            raise
        raise UserError(  # git works there (a bare dotfiles repository and its worktree)
            f"{exc}; git-snapshot finds the repository from the folder, as git does without "
            f"{named}, which are set here: it snapshots a worktree that holds its .git "
            "(or a linked worktree), not one named by those variables"
        ) from None
    if named:
        _same_as_git(repo, cwd)
    # (gitrepo names our files in the git dir: the hooks module is not imported for them)
    if os.path.lexists(os.path.join(repo.git_dir, gitrepo.UNSEEN)):  # rare: losses (~12 ms)
        from git_snapshot import lossrecord

        for line in lossrecord.take_unseen(repo):
            output.err(line.removeprefix("git-snapshot: "))
    report_stopped(repo, os.path.abspath(cwd))
    return repo


def _same_as_git(repo: gitrepo.Repo, cwd: str) -> None:
    """Refuse when GIT_DIR or GIT_WORK_TREE (exported, or from `git --git-dir=...
    --work-tree=... snapshot`) make git work on another repository than *repo*, found from
    the folder as always: a command would list, snapshot or restore this one, and `run`'s
    command change that one. Where they agree (a `!` alias in a linked worktree: git sets
    GIT_DIR) it goes on."""
    named = " and ".join(k for k in ("GIT_DIR", "GIT_WORK_TREE") if os.environ.get(k))
    got = gitrepo.as_user_env(cwd)
    real = [os.path.realpath(p) for p in (repo.git_dir, repo.toplevel)]
    if got is not None and [os.path.realpath(p) for p in got] == real:
        return
    found = "elsewhere"
    hint = ""
    if got is not None:
        found = f"on {got[0]} (worktree {got[1]})"
        if os.path.realpath(got[1]) != real[1]:
            there = output.shell_quote(os.fsencode(got[1]))
            hint = f": git snapshot -C {there} ..."
    raise UserError(
        f"with {named} set, git works {found}, not on this folder's repository "
        f"({repo.git_dir}, worktree {repo.toplevel}), which git-snapshot would use: nothing "
        f"was done; run it without {named}{hint}"
    )


def report_stopped(repo: gitrepo.Repo, here: str, ran: Snapshot | None = None) -> None:
    """What a merge or rebase that stopped with no hook after it (a conflict) destroyed, if
    no hook has said it yet (stopped.py), printed with paths as typed in *here*; never a
    reason for the command to fail. *ran*: the snapshot `run` took before its command,
    which may have ended it (stopped.consume)."""
    if not os.path.lexists(os.path.join(repo.git_dir, gitrepo.PENDING)):  # usual: no import
        return
    from git_snapshot import stopped
    from git_snapshot.store import Store

    try:
        with Store() as store:
            report = stopped.consume(store, repo, ran=ran)
    except Exception as exc:
        output.err(f"could not check an earlier operation: {exc}")
        return
    if report:
        for line in report.lines(repo, here):
            output.err(line.removeprefix("git-snapshot: "))


def existing_store(what: str) -> None:
    """Refuse to *what* (verify, repair) a store that is not there: opening one makes it,
    and a mistyped GIT_SNAPSHOT_STORE then gave an empty store and 'ok: 0 snapshots'."""
    from git_snapshot.store import location

    path = location.store_dir()
    if os.path.isdir(path):
        location.check_yours(path)  # (not "no store": another user's)
    if not (os.path.isdir(path) and location.is_store(path)):
        raise UserError(
            f"no snapshot store at {path}: nothing to {what}; set {location.ENV_STORE} to "
            "the folder of the store"
        )


def current_repo(cwd: str) -> gitrepo.Repo | None:
    """The repository the command runs in, or None outside any worktree."""
    try:
        return repo_at(cwd)
    except UserError:
        return None


# A named tuple, not a frozen dataclass: dataclasses imports inspect (ast, dis, tokenize) and
# typing, 10-20 ms of every command that takes a snapshot. Type checkers see the typed one.
if TYPE_CHECKING:

    class Where(NamedTuple):
        """The repository a command works on, and where it lives today."""

        key: str | None  # its source key in the store; None: it has no history there yet
        label: str  # what people type: --repo LABEL, LABEL:12
        worktree: str | None  # a worktree of it that exists today; None: the repository is gone
        here: bool  # the repository the command runs in (no --repo, or --repo naming it)

else:
    Where = namedtuple("Where", "key label worktree here")


def store_labels(store: Store, *extra: str) -> dict[str, str]:
    """Every repository's label (as list --all names it), *extra* keys too: each key counted
    once, so two snapshots of one repository are not two repositories of its name."""
    return identity.labels([*(k for k, _ in store.index.sources()), *extra])


def _where(store: Store, key: str | None, worktree: str | None, cwd: str) -> Where:
    label = store_labels(store, key)[key] if key else os.path.basename(worktree or "")
    mine = current_repo(cwd) if key else None
    here = mine is not None and identity.known_source(store, mine) == key
    return Where(key, label, worktree, here)


def resolve_repo(store: Store, cwd: str, repo_arg: str | None = None) -> Where:
    """The repository a command works on: the one at *cwd*, or the one ``--repo`` names.

    ``--repo PATH`` names the repository whose worktree holds PATH today, else the history
    taken at PATH by a repository since deleted; ``--repo NAME`` a repository by the last
    component of its path (or the ``name#tag`` label ``list --all`` shows when names clash);
    ``--repo KEY`` by the ``repo`` value ``list --json`` gives (its key in the store).
    """
    if repo_arg is None:
        repo = _repo_here(store, cwd)
        key = identity.source(store, repo)
        return Where(key, store_labels(store, key)[key], repo.toplevel, True)
    if "#" in repo_arg and store.index.has_source(repo_arg):  # a key, as scripts read it
        return _one(store, [repo_arg], repo_arg, cwd)
    path = os.path.abspath(os.path.join(cwd, repo_arg))
    looks_like_path = "/" in repo_arg or repo_arg in (".", "..") or os.path.exists(path)
    if looks_like_path:
        found = _by_path(store, path, cwd)
        # NAME/: a name (none holds '/') as output.shell_quote prints one ending in a newline;
        # never when that is a folder here (then it means that folder, as before)
        name = repo_arg[:-1] if repo_arg.endswith("/") else ""
        if (
            found is None
            and name not in ("", ".", "..")
            and "/" not in name
            and not os.path.lexists(path)
        ):
            return _by_name(store, name, cwd)
        if found is not None or "/" in repo_arg:
            if found is None:
                raise UserError(
                    f"no repository at {path} has snapshots in the store "
                    "(see: git snapshot list --all)"
                )
            return found
    return _by_name(store, repo_arg, cwd)


def _repo_here(store: Store, cwd: str) -> gitrepo.Repo:
    """The repository at *cwd*; reading a remote (--remote) outside any worktree, the
    options that work there: a machine that lost its store often has no worktree either, so
    -C cannot help (RED40 B F2)."""
    try:
        return repo_at(cwd)
    except gitrepo.NoWorktree:
        remote = getattr(store, "remote", None)  # a RemoteStore's (as damage_advice asks)
        if remote is None:
            raise
        raise UserError(
            f"no worktree at {output.display(os.fsencode(os.path.abspath(cwd)))}: name the "
            "repository with --repo NAME "
            f"(see: git snapshot list --remote {remote.name} --all)"
        ) from None


def _by_path(store: Store, path: str, cwd: str) -> Where | None:
    if os.path.isdir(path):
        try:
            repo = gitrepo.find_repo(path)
        except UserError:
            pass
        else:  # a repository lives there today: it, never an older one at the same place
            return _where(store, identity.known_source(store, repo), repo.toplevel, cwd)
    real = os.path.realpath(path)
    keys = [
        k for k in dict.fromkeys(s.source for s in store.snapshots()) if real in _places(store, k)
    ]
    if not keys:
        return None
    return _one(store, keys, path, cwd)


def _places(store: Store, key: str) -> set[str]:
    """The paths a history was taken at: its repository's main worktree and every worktree."""
    return {s.worktree for s in store.snapshots(key)} | {_main_path(key)}


def _by_name(store: Store, name: str, cwd: str) -> Where:
    labels = store_labels(store)
    keys = [k for k, label in labels.items() if label == name]
    keys = keys or [k for k in labels if identity.name_of(k) == name]
    keys = keys or [k for k in labels if identity.tagged(k) == name]  # name#tag, kept
    if not keys and "#" in name:
        # a name#tag printed before its repository moved (identity._adopt_moved): the name
        # is the new place's now, the tag (the start of its id) the same
        tag = name.rpartition("#")[2]
        keys = [k for k in labels if identity.tagged(k).rpartition("#")[2] == tag]
    if not keys:
        raise UserError(
            f"no repository called {name!r} in the store (see: git snapshot list --all)"
        )
    return _one(store, keys, name, cwd)


def _one(store: Store, keys: list[str], what: str, cwd: str) -> Where:
    """The one repository *keys* holds; several are refused, naming each."""
    labels = store_labels(store, *keys)
    if len(keys) > 1:
        gone = {k: "" if identity.live_worktree(store, k) else ", deleted" for k in keys}
        names = "; ".join(f"{labels[k]} ({_main_path(k)}{gone[k]})" for k in keys)
        raise UserError(
            f"{what} matches {len(keys)} repositories: {names}; name one with --repo LABEL"
        )
    key = keys[0]
    return _where(store, key, identity.live_worktree(store, key), cwd)


def _main_path(key: str) -> str:
    common = identity.path_of(key)
    return os.path.dirname(common) if os.path.basename(common) == ".git" else common


def refuse_other_store(
    store: Store,
    repo: gitrepo.Repo | None,
    snapshot_id: str,
    repo_arg: str | None,
    snap: Snapshot,
    verb: str,
) -> None:
    """Refuse a bare snapshot number of this repository that another store it is
    snapshotted into also has (whichstore.ambiguous): a report printed by a git using that
    store names that one, and pasted here it restored this store's, another version,
    silently (RED44 F1). --this-store says this store's is meant."""
    if repo is None or repo_arg is not None or not snapshot_id.strip().isdigit():
        return
    from git_snapshot import whichstore

    why = whichstore.ambiguous(store, repo, snap, verb)
    if why is not None:
        raise UserError(why)


def split_id(store: Store, ref: str) -> tuple[str | None, str]:
    """``myrepo:12`` -> ("myrepo", "12"); a plain id -> (None, id). The label is the longest
    prefix before a ``:`` that names a repository (a name may hold a ``:``, a date too)."""
    if ":" not in ref or ref.startswith("@{"):
        return None, ref
    labels = store_labels(store)
    known = (
        set(labels.values())
        | {identity.name_of(k) for k in labels}
        | {identity.tagged(k) for k in labels}
    )
    cuts = [i for i, c in enumerate(ref) if c == ":"]
    for i in reversed(cuts):
        if ref[:i] in known:
            return ref[:i], ref[i + 1 :]
    return ref[: cuts[0]], ref[cuts[0] + 1 :]


def choose(
    store: Store, cwd: str, ref: str, repo_arg: str | None = None, where: Where | None = None
) -> tuple[Where, Snapshot]:
    """The repository and snapshot an ID names (qualified or not, with or without --repo)."""
    label, plain = split_id(store, ref)
    if label is not None:
        named = _by_name(store, label, cwd)
        if repo_arg is not None or where is not None:
            chosen = where or resolve_repo(store, cwd, repo_arg)
            if chosen.key != named.key:
                raise UserError(
                    f"{ref} is a snapshot of {named.label}, not of the repository --repo "
                    f"names ({chosen.label}); give one of the two"
                )
        where = named
    where = where or resolve_repo(store, cwd, repo_arg)
    return where, pick_in(store, where, plain)


def pick_in(store: Store, where: Where, ref: str) -> Snapshot:
    """A snapshot of *where* by an unqualified ID (see snapids): ``latest`` and dates count
    the snapshots of its worktree, or of the whole repository when that worktree has none."""
    if where.key is None:
        raise UserError(
            f"no snapshots of the repository at {where.worktree} yet (see: git snapshot list --all)"
        )
    own = _owner(where)
    if where.here and where.worktree and not own_snapshots(store, where):
        note = around(store, where.worktree) or moved(store, where.key, where.worktree)
        if note:
            raise UserError(f"no snapshots of this worktree yet{note}")
        try:
            return snapids.resolve(store, where.key, where.worktree, ref, where.here, own)
        except UserError as exc:  # (latest, a date: of this worktree, which has none)
            # (git worktree move: RED30; a removed worktree's at this path: RED34 C3)
            note = elsewhere(store, where.worktree) or earlier_note(store, where)
            if note and str(exc).startswith("no snapshots of this worktree yet"):
                raise UserError(f"no snapshots of this worktree yet{note}") from None
            raise
    return snapids.resolve(store, where.key, where.worktree, ref, where.here, own)


def _owner(where: Where) -> Callable[[Snapshot], bool] | None:
    """identity.owns for the worktree living at *where*.worktree; None when none lives there
    (every snapshot taken at that path then counts)."""
    if where.key is None or where.worktree is None:
        return None
    try:
        repo = gitrepo.find_repo(where.worktree)  # (its top: git's files read, no git run)
    except UserError:
        return None
    return identity.owner(repo) if repo.toplevel == where.worktree else None


def own_snapshots(store: Store, where: Where) -> list[Snapshot]:
    """The snapshots of *where*'s worktree, oldest first: those taken at its path that are
    its own. A linked worktree added at the path of a removed one takes none of that one's
    (identity.owns, the hooks' rule; RED34 C3): list, log, find, ``latest``, dates and
    ``restore --newest`` count these alone. The removed one's stay the repository's, reached
    by number (restored here with --here), ``--repo`` and ``--all`` (earlier_note)."""
    if where.key is None or where.worktree is None:
        return []
    snaps = store.snapshots(where.key, where.worktree)
    own = _owner(where)
    return snaps if own is None else [s for s in snaps if own(s)]


def earlier_snapshots(store: Store, where: Where) -> list[Snapshot]:
    """The snapshots taken at the path of *where*'s worktree that are not its own: a worktree's
    removed from there (own_snapshots), oldest first; [] when there are none."""
    own = _owner(where)
    if own is None or where.key is None:
        return []
    return [s for s in store.snapshots(where.key, where.worktree) if not own(s)]


def earlier_note(store: Store, where: Where) -> str:
    """In the worktree the command runs in, '; ...' saying that snapshots taken at its path
    are a removed worktree's, not its own, and the command that lists them; '' when none are
    (or elsewhere than here)."""
    gone = earlier_snapshots(store, where) if where.here else []
    if not gone:
        return ""
    return (
        f"; {len(gone)} snapshot(s) taken at this path by a worktree since removed from it "
        f"(not this one's; restore from one here with --here) are listed by: git snapshot "
        f"list {output.option('--repo', where.label)}"
    )


def around(store: Store, top: str) -> str:
    """For the worktree at *top*, a repository inside another's worktree (a submodule, a
    clone inside a project) that has no snapshot of its own: '; ...' naming the worktree
    around it, whose snapshots hold its files, and the command that lists them; '' when
    there is none."""
    try:
        outer = gitrepo.find_repo(os.path.dirname(top))
    except UserError:
        return ""
    key = identity.known_source(store, outer)
    if key is None or not store.snapshots(key, outer.toplevel, last=1):
        return ""
    inside = output.display(os.fsencode(os.path.relpath(top, outer.toplevel)))
    there = os.fsencode(outer.toplevel)
    return (
        f"; its files are in the snapshots of the worktree around it, {output.display(there)} "
        f"(as {inside}/): git snapshot -C {output.shell_quote(there)} list"
    )


def moved(store: Store, key: str, top: str) -> str:
    """``elsewhere``'s note when the repository (*key*) has no snapshot at all, else '':
    those of a worktree of it (a linked one removed) are its own, and an ID picks among them."""
    return "" if store.snapshots(key, last=1) else elsewhere(store, top)


def elsewhere(store: Store, top: str) -> str:
    """For the worktree at *top*, which has no snapshot of its own: '; ...' naming a worktree
    of its repository that no longer exists, whose snapshots the store holds (the repository
    moved with `mv`, which keeps its id under a new key, or `git worktree move`), and the
    command that lists them; '' when there is none."""
    try:
        repo = gitrepo.find_repo(top)
    except UserError:
        return ""
    key = identity.known_source(store, repo)
    _, sep, repo_id = (key or "").partition("#")
    keys = [k for k, _ in store.index.sources()]
    same = [k for k in keys if k == key or (sep and k.partition("#")[2] == repo_id)]
    for k in same:
        gone = [
            s.worktree
            for s in reversed(store.snapshots(k))
            if s.worktree != top and not os.path.isdir(s.worktree)
        ]
        if gone:
            # this is the main worktree: the one the moved repository's .git was in
            old_main = os.path.dirname(identity.path_of(k))
            if repo.git_dir == repo.common_dir and old_main in gone:
                gone.insert(0, old_main)
            label = store_labels(store, k)[k]
            return (
                f"; this repository's snapshots taken in {output.display(os.fsencode(gone[0]))}, "
                f"which is gone (moved?), are listed by: git snapshot list "
                f"{output.option('--repo', label)}"
            )
    return ""


def pick(store: Store, repo: gitrepo.Repo, ref: str) -> Snapshot:
    """A snapshot of this repository (by number, ``latest`` of this worktree, or a
    repository-qualified id, which may name another repository)."""
    key = identity.source(store, repo)
    here = Where(key, store_labels(store, key)[key], repo.toplevel, True)
    return choose(store, repo.toplevel, ref, where=here if ":" not in ref else None)[1]


def qualified(store: Store, snaps: list[Snapshot]) -> dict[str, str]:
    """source key -> label, for printing ids as ``label:12``."""
    return store_labels(store, *(s.source for s in snaps))


def user_path(repo: gitrepo.Repo, cwd: str, path: str) -> bytes:
    """A PATH argument (relative to the current directory, as in git) -> path in the snapshot."""
    full = os.path.abspath(os.path.join(cwd, path))
    top = repo.toplevel
    real = os.path.join(os.path.realpath(os.path.dirname(full)), os.path.basename(full))
    for base in (top, os.path.realpath(top)):
        for candidate in (full, real):
            if candidate == base:
                return b""
            if candidate.startswith(base.rstrip("/") + "/"):
                return os.fsencode(candidate[len(base.rstrip("/")) + 1 :])
    raise UserError(f"{path} is outside the worktree {top}")


def here_in(repo: gitrepo.Repo, cwd: str) -> bytes:
    """The current directory *cwd* as a path from the top of *repo*'s worktree (b"": the top)."""
    return user_path(repo, cwd, ".")


def from_here(here: bytes, path: bytes) -> bytes:
    """*path* (from the worktree's top) as typed in the folder *here* (also from the top), as
    git status prints it: ``../top.txt``, ``in.txt``; the folder itself is ``.``."""
    if not here:
        return path or b"."
    there = here.split(b"/")
    parts = path.split(b"/") if path else []
    same = 0
    while same < min(len(there), len(parts)) and there[same] == parts[same]:
        same += 1
    return b"/".join([b".."] * (len(there) - same) + parts[same:]) or b"."


def branch_of(s: Snapshot) -> str:
    """The BRANCH people read for *s*: its branch, '(stash)' for a stash entry's files
    (``run -- git stash drop``), else '(detached)'."""
    return str(s.meta.get("branch") or ("(stash)" if snapids.is_stash(s) else "(detached)"))


def as_json(s: Snapshot) -> dict[str, Any]:
    return {
        "id": s.id,
        "created": output.iso(s.created),
        "trigger": s.trigger,
        "message": s.message,
        "worktree": s.worktree,
        "head": s.meta.get("head"),
        "branch": s.meta.get("branch"),
        "files": s.files,
        "bytes": s.bytes,
        "added_bytes": s.added_bytes,
        "skipped": s.skipped,
        "repo": s.source,
    }
