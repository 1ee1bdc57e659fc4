"""What git-snapshot asks git, and how it reads the answers: the repository of a worktree,
HEAD, the branch, the operation in progress, what is tracked and ignored, the ``snapshot.*``
config. Every git process starts in :mod:`git_snapshot.gitrun` (:func:`run_git`, with an
environment cleaned of the variables git sets for hooks). With :mod:`git_snapshot.gitextra`
and :mod:`git_snapshot.gitoverlay` (the calls no unchanged hook makes, imported on first use:
this module still names them), these are the only modules that talk to git.
GitPython is deliberately not used: importing it costs more than half of the hook budget.

Paths are ``bytes`` relative to the worktree root, ``/``-separated, exactly as git stores them
(``-z`` output, parsed in :func:`split_z`), so names that are not UTF-8 round-trip. Where a path
must go into argv it is passed through :func:`os.fsdecode`, which the OS call reverses.

Every hook imports this module, so it imports only what costs nothing; ``re`` and ``zlib``
are imported by the rare functions that need them.
"""

from __future__ import annotations

import os
import stat

from git_snapshot.errors import UserError
from git_snapshot.gitrun import REPO_ENV_VARS as REPO_ENV_VARS
from git_snapshot.gitrun import GitError
from git_snapshot.gitrun import Pending as Pending
from git_snapshot.gitrun import _run as _run
from git_snapshot.gitrun import first_line as first_line
from git_snapshot.gitrun import git_env as git_env
from git_snapshot.gitrun import run_git
from git_snapshot.store import location as _location


def _before_new_store(path: str) -> None:
    """location.before_new_store: a store that is not there, looked for in the stash entries
    around it first (stashedstore; imported only then)."""
    from git_snapshot import stashedstore

    stashedstore.refuse_if_stashed(path)


_location.before_new_store = _before_new_store

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Sequence
    from typing import Any

__all__ = [
    "GitError",
    "Overlay",
    "Repo",
    "autostash_commit",
    "branch",
    "changed_paths",
    "colorbool",
    "config",
    "find_repo",
    "head",
    "ignored",
    "labels",
    "operation",
    "overlay_from_patch",
    "overlay_from_stash",
    "pager",
    "run_git",
    "tracked",
    "tree_entries",
    "typed_config",
]

_HEX = frozenset("0123456789abcdef")


def is_oid(text: str) -> bool:
    """A full object id: 40 (SHA-1) or 64 (SHA-256) lower-case hex digits."""
    return len(text) in (40, 64) and _HEX.issuperset(text)


MODE_FILE = 0o100644
MODE_EXEC = 0o100755
MODE_SYMLINK = 0o120000
MODE_GITLINK = 0o160000

# git-snapshot's own files in a worktree's git dir, named here (not in hooks, which writes
# them) because every command that finds a repository looks for them (commands.common.repo_at)
# and need not import the hooks for it (3 M instructions):
# report lines nobody has seen yet (lossrecord.hold, take_unseen)
UNSEEN = "git-snapshot-unseen"
# the snapshot before a merge or rebase whose post-hook has not run yet (stopped.begin,
# stopped.consume)
PENDING = "git-snapshot-pending"


def split_z(out: bytes) -> list[bytes]:
    """Split NUL-terminated ``-z`` output into its records (the one place that parses -z)."""
    if not out:
        return []
    parts = out.split(b"\0")
    if parts[-1] == b"":
        parts.pop()
    return parts


def _check_rev(rev: str) -> str:
    if not rev or rev.startswith("-") or any(c in rev for c in "\0\n"):
        raise UserError(f"invalid revision {rev!r} (pass a commit id or ref name)")
    return rev


def is_null_oid(rev: str | None) -> bool:
    return rev is None or (bool(rev) and not rev.strip("0"))


# --------------------------------------------------------------------------------------------
# the repository


class NoWorktree(UserError):
    """No git worktree holds the folder (not the refusals of a bare repository, a git
    directory or a dubious owner): a command that can name a repository another way (--repo)
    says so instead (RED40 B F2)."""


class Repo:
    """A non-bare repository seen from one of its worktrees. Equal (and hashed) by its three
    paths. A plain class: dataclasses imports inspect, ast, dis and tokenize (every hook)."""

    __slots__ = ("common_dir", "git_dir", "memo", "toplevel")

    def __init__(
        self,
        toplevel: str,  # absolute real path of the worktree root
        git_dir: str,  # absolute per-worktree git dir (.git, or .git/worktrees/X)
        common_dir: str,  # absolute real path of the common git dir: the repo identity
        # git's answers kept for the life of this object, for a process that lives as long
        # as one git command (a hook: find_repo(..., remember=True)); None: every call asks
        memo: dict[str, Any] | None = None,
    ) -> None:
        self.toplevel = toplevel
        self.git_dir = git_dir
        self.common_dir = common_dir
        self.memo = memo

    def _key(self) -> tuple[str, str, str]:
        return (self.toplevel, self.git_dir, self.common_dir)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Repo) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        top, git_dir, common = self._key()
        return f"Repo(toplevel={top!r}, git_dir={git_dir!r}, common_dir={common!r})"

    def hooks_dir(self) -> str:
        """Where git looks for hooks: ``core.hooksPath`` (relative to the worktree root, as git
        resolves it), else ``<common_dir>/hooks``."""
        known = self.memo.get("hooks") if self.memo is not None else None
        if isinstance(known, bytes):  # asked by find_repo, in the same rev-parse
            out = known
        else:
            out = run_git(self.toplevel, "rev-parse", "--git-path", "hooks").rstrip(b"\n")
        return os.path.normpath(os.path.join(self.toplevel, os.fsdecode(out)))


def in_the_way(where: str) -> str | None:
    """The first path up from *where* that exists and is no directory (a file where a folder
    should be); None when what exists there is folders."""
    up = where
    while not os.path.lexists(up) and os.path.dirname(up) != up:
        up = os.path.dirname(up)
    return None if os.path.isdir(up) else up


def no_directory(where: str) -> UserError:
    """Why *where* (-C PATH, or the folder a command runs in) is no directory: missing, or
    a file in the way (git's 'Not a directory', where 'no such directory' misled: RED32)."""
    up = in_the_way(where)
    if up is None:
        return UserError(f"no such directory: {where} (pass -C PATH with an existing directory)")
    what = "a file" if os.path.isfile(up) else "no directory"
    return UserError(f"not a directory: {where} ({up} is {what}; pass -C PATH with a directory)")


def find_repo(path: str = ".", *, remember: bool = False) -> Repo:
    """The repository whose worktree contains *path* (any subdirectory works).

    *remember*: the repository's ``snapshot.*`` config is read once (with its scopes, so that
    the local repository id comes from the same git call) and kept: only for a process that
    ends with the git command it serves, a hook. :func:`prefetch` starts the git calls a
    snapshot needs, in parallel."""
    where = os.path.abspath(path)
    if not os.path.isdir(where):
        raise no_directory(where)
    found = _at_root(where)
    if found is not None:  # git's own files say it: no rev-parse (a hook runs at the root)
        git_dir, common = found
        top = os.path.realpath(where)
        _require_utf8(os.fsencode(common))
        _require_utf8(os.fsencode(top))
        return Repo(top, git_dir, common, {} if remember else None)
    asked = [["--absolute-git-dir"], ["--git-common-dir"], ["--show-toplevel"]]
    if remember:
        asked.append(["--git-path", "hooks"])
    flags = ["--is-bare-repository", "--is-inside-work-tree"]
    res = _run(where, ["rev-parse", *flags, *(a for args in asked for a in args)])
    lines = res.stdout.split(b"\n")
    if res.returncode == 0 and len(lines) != len(flags) + len(asked) + 1:
        lines = lines[:2] + [_rev_parse_path(where, args) for args in asked] + [b""]
    if lines and lines[0] == b"true":
        raise UserError(
            f"{where} is a bare repository, which has no worktree to snapshot "
            "(run inside a worktree or pass -C PATH)"
        )
    if len(lines) >= 2 and lines[0] == b"false" and lines[1] == b"false":
        if res.returncode == 0 and len(lines) >= 5 and lines[4]:  # core.worktree: elsewhere
            top = lines[4].decode("utf-8", "replace")
            raise UserError(
                f"{where} holds a repository whose worktree is elsewhere, {top} (core.worktree), "
                "where git itself finds no repository: git-snapshot snapshots a worktree that "
                "holds its .git (or a linked worktree), so it cannot snapshot this one"
            )
        raise UserError(
            f"{where} is inside a git directory, not a worktree "
            "(run inside a worktree or pass -C PATH)"
        )
    if res.returncode != 0:
        if b"detected dubious ownership" in res.stderr:
            raise UserError(_dubious(res.stderr))
        if b"not a git repository" in res.stderr:
            raise NoWorktree(
                f"not a git repository: {where} (run inside a worktree or pass -C PATH)"
            )
        raise GitError(["rev-parse", "--show-toplevel"], res.returncode, res.stderr)
    if len(lines) < 5 or not lines[4]:
        raise NoWorktree(
            f"not inside a git worktree: {where} (run inside a worktree or pass -C PATH)"
        )
    git_dir = os.fsdecode(lines[2])
    common = os.fsdecode(lines[3])
    toplevel = os.fsdecode(lines[4])
    for raw in (lines[3], lines[4]):
        _require_utf8(raw)
    top = os.path.realpath(toplevel)
    memo: dict[str, Any] | None = {} if remember else None
    if memo is not None and len(lines) > 5 and lines[5] and os.path.realpath(where) == top:
        memo["hooks"] = lines[5]  # as hooks_dir() asks it: from the worktree root
    return Repo(
        toplevel=top,
        git_dir=os.path.realpath(os.path.join(where, git_dir)),
        common_dir=os.path.realpath(os.path.join(where, common)),
        memo=memo,
    )


def _rev_parse_path(where: str, args: list[str], env: dict[str, str] | None = None) -> bytes:
    """One path ``git rev-parse ARGS`` prints, whole: for a worktree whose path holds a
    newline, where one call's lines cannot say which path each belongs to."""
    res = _run(where, ["rev-parse", *args], env=env)
    if res.returncode != 0:
        raise GitError(["rev-parse", *args], res.returncode, res.stderr)
    return res.stdout[:-1] if res.stdout.endswith(b"\n") else res.stdout


def _dubious(stderr: bytes) -> str:
    """The line for a repository git refuses because another user owns it (git's
    safe.directory check): git's own advice, the command that trusts it, on one line."""
    import shlex  # (an error's: not on a hook's path)

    text = stderr.decode("utf-8", "replace")
    start = text.find("'")
    end = text.find("'", start + 1)
    where = text[start + 1 : end] if 0 <= start < end else "this repository"
    return (
        f"git refuses to work in {where}: another user owns it (git's safe.directory check); "
        "if you trust it, run: git config --global --add safe.directory "
        f"{shlex.quote(where)} (or run as its owner)"
    )


def _read_small(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read(1 << 20)
    except OSError:
        return None


def _at_root(where: str) -> tuple[str, str] | None:
    """(git dir, common dir), as real paths, when *where* is the root of a worktree laid out
    as git documents it (gitrepository-layout(5)) and nothing could make git see it another
    way; None means: ask git (``rev-parse``).

    *where* holds ``.git``: a directory, or a file ``gitdir: PATH`` (a linked worktree, whose
    git dir names the common dir in its ``commondir`` file). Git's discovery stops at the
    first such ``.git`` that is a valid git dir (HEAD, objects/, refs/), so *where* is the
    worktree root, unless the config moves the worktree (``core.worktree``, submodules) or
    says the repository is bare, or an include could say either, or the git dir belongs to
    another user (git's safe.directory check): then git is asked."""
    dotgit = os.path.join(where, ".git")
    try:
        st = os.stat(dotgit)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        git_dir = dotgit
    elif stat.S_ISREG(st.st_mode):
        text = _read_small(dotgit) or b""
        if not text.startswith(b"gitdir: "):
            return None
        named = os.fsdecode(text[len(b"gitdir: ") :].rstrip(b"\r\n"))
        git_dir = os.path.join(where, named)
    else:
        return None
    git_dir = os.path.realpath(git_dir)
    common = git_dir
    pointer = _read_small(os.path.join(git_dir, "commondir"))
    if pointer is not None:
        common = os.path.realpath(os.path.join(git_dir, os.fsdecode(pointer.rstrip(b"\r\n"))))
    try:
        if os.stat(git_dir).st_uid != os.geteuid() or os.stat(common).st_uid != os.geteuid():
            return None
    except OSError:
        return None
    head = _read_small(os.path.join(git_dir, "HEAD"))
    if head is None or not (
        head.startswith(b"ref: refs/") or is_oid(head.strip().decode("ascii", "replace"))
    ):
        return None
    if not (
        os.path.isdir(os.path.join(common, "objects"))
        and os.path.isdir(os.path.join(common, "refs"))
    ):
        return None
    for name in (os.path.join(common, "config"), os.path.join(git_dir, "config.worktree")):
        conf = _read_small(name)
        if conf is None:
            continue
        lowered = conf.lower()
        if b"worktree" in lowered or b"include" in lowered:
            return None
        for line in lowered.splitlines():
            if b"bare" in line and line.replace(b" ", b"").replace(b"\t", b"") != b"bare=false":
                return None
    return git_dir, common


# snapshot.*, the two core keys that say whether git could convert a file on checkout
# (the overlays, gitoverlay._may_convert), and the two that say whether a merge autostashes
# (merge_config), and core.fsmonitor, core.trustctime and core.checkstat (gitextra.fsmonitor,
# gitextra.stat_blind): in the hook's one config call, none more
_MERGE_KEYS = r"merge\.autostash$|branch\..*\.mergeoptions$"
_STAT_KEYS = r"core\.fsmonitor$|core\.trustctime$|core\.checkstat$"
_CONFIG_ARGS = (
    "config",
    "-z",
    "--show-scope",
    "--get-regexp",
    rf"^(snapshot\.|core\.autocrlf$|core\.attributesfile$|core\.eol$|{_STAT_KEYS}|{_MERGE_KEYS})",
)
_CONVERSION_KEYS = ("core.autocrlf", "core.attributesfile", "core.eol")
_TRACKED_ARGS = ("ls-files", "-z")
_IGNORED_ARGS = ("ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")


def prefetch(repo: Repo, labels: bool = True) -> None:
    """Start, side by side, the git calls a snapshot of a remembering *repo* makes (its
    config and, with *labels*, the tracked and the ignored paths), so that they run while
    Python imports and opens the store. Each answer is used once by :func:`config`,
    :func:`tracked` and :func:`ignored`; a later call asks git again. Calls already started
    (or answered, for the config) are not started again."""
    memo = repo.memo
    if memo is None:
        return
    for key, args in (
        ("config", _CONFIG_ARGS),
        ("tracked", _TRACKED_ARGS),
        ("ignored", _IGNORED_ARGS),
    ):
        if key != "config" and not labels:
            continue
        if key not in memo:
            memo[key] = Pending(repo.toplevel, args)


def release(repo: Repo) -> None:
    """Stop what :func:`prefetch` started and nothing used (a snapshot that needed no labels)."""
    memo = repo.memo
    for key, value in list((memo or {}).items()):
        if memo is not None and isinstance(value, Pending):
            del memo[key]
            value.close()


def _take(repo: Repo, key: str, args: Sequence[str]) -> bytes:
    """The output of git *args*: started by :func:`prefetch`, else run now."""
    pending = repo.memo.pop(key, None) if repo.memo is not None else None
    if isinstance(pending, Pending):
        return pending.result()
    return run_git(repo.toplevel, *args)


def _require_utf8(path: bytes) -> None:
    """The store's index records a repository by its path, as text: refuse one that is not."""
    try:
        path.decode("utf-8")
    except UnicodeDecodeError:
        shown = path.decode("utf-8", "backslashreplace")
        raise UserError(
            f"the repository path {shown} is not valid UTF-8, which git-snapshot cannot "
            "record; rename the folder with the odd bytes to snapshot this repository"
        ) from None


# --------------------------------------------------------------------------------------------
# HEAD, branch, operation in progress


def _read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "surrogateescape").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _files_backend(repo: Repo) -> bool:
    return not os.path.exists(os.path.join(repo.common_dir, "reftable"))


def _head_symref(repo: Repo) -> tuple[bool, str | None]:
    """(known, value) from the HEAD file: value is 'ref: X' target, a commit id, or None."""
    if not _files_backend(repo):
        return False, None
    head_file = os.path.join(repo.git_dir, "HEAD")
    if os.path.islink(head_file):  # core.preferSymlinkRefs: let git read it
        return False, None
    content = _read_text(head_file)
    if content is None:
        return False, None
    if content.startswith("ref:"):
        ref = content[4:].strip()
        if ref.startswith("refs/heads/") and not ref.endswith("/.invalid"):
            return True, ref
        return False, None
    if is_oid(content):
        return True, content
    return False, None


def _packed_ref(repo: Repo, ref: str) -> str | None:
    try:
        with open(os.path.join(repo.common_dir, "packed-refs"), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    suffix = b" " + os.fsencode(ref)
    for line in data.split(b"\n"):
        if line.endswith(suffix) and not line.startswith((b"#", b"^")):
            oid = line[: -len(suffix)].decode("ascii", "replace")
            return oid if is_oid(oid) else None
    return None


def head(repo: Repo) -> str | None:
    """The commit id HEAD points at, or None on an unborn branch."""
    known, value = _head_symref(repo)
    if known and value is not None:
        if not value.startswith("refs/"):
            return value  # detached
        loose = _read_text(os.path.join(repo.common_dir, *value.split("/")))
        if loose is not None and is_oid(loose):
            return loose
        if loose is None:
            # Not a loose ref: packed, or the branch is unborn.
            return _packed_ref(repo, value)
    res = _run(repo.toplevel, ["rev-parse", "-q", "--verify", "HEAD^{commit}"])
    if res.returncode != 0:
        return None
    return res.stdout.strip().decode("ascii")


def branch(repo: Repo) -> str | None:
    """The short name of the current branch, or None when HEAD is detached (or points
    outside refs/heads/)."""
    known, value = _head_symref(repo)
    if known:
        if value is not None and value.startswith("refs/heads/"):
            return value[len("refs/heads/") :]
        return None
    res = _run(repo.toplevel, ["symbolic-ref", "-q", "HEAD"])
    ref = os.fsdecode(res.stdout.rstrip(b"\n"))
    if res.returncode != 0 or not ref.startswith("refs/heads/"):
        return None
    return ref[len("refs/heads/") :]


def operation(repo: Repo) -> str | None:
    """The git operation in progress in this worktree, from the state files in its git dir:
    'rebase', 'am', 'merge', 'cherry-pick', 'revert', 'bisect' or None."""
    g = repo.git_dir
    if os.path.isdir(os.path.join(g, "rebase-merge")):
        return "rebase"
    apply_dir = os.path.join(g, "rebase-apply")
    if os.path.isdir(apply_dir):
        return "am" if os.path.exists(os.path.join(apply_dir, "applying")) else "rebase"
    if os.path.exists(os.path.join(g, "MERGE_HEAD")):
        return "merge"
    if os.path.exists(os.path.join(g, "CHERRY_PICK_HEAD")):
        return "cherry-pick"
    if os.path.exists(os.path.join(g, "REVERT_HEAD")):
        return "revert"
    if os.path.exists(os.path.join(g, "BISECT_LOG")):
        return "bisect"
    return None


def am_starting(repo: Repo) -> bool:
    """Whether a `git am` is starting: its state folder is made (``applying``; a rebase's
    says ``rebasing``) and no patch is applied yet (``patch``: an am stopped mid-way). It
    moves ORIG_HEAD then, before it touches the worktree (the shim's am_starting, the same
    test)."""
    apply_dir = os.path.join(repo.git_dir, "rebase-apply")
    return os.path.exists(os.path.join(apply_dir, "applying")) and not os.path.lexists(
        os.path.join(apply_dir, "patch")
    )


def autostash_commit(repo: Repo) -> str | None:
    """The commit id of git's own autostash (rebase/merge/pull --autostash), if one is pending."""
    for rel in ("rebase-merge/autostash", "rebase-apply/autostash", "MERGE_AUTOSTASH"):
        content = _read_text(os.path.join(repo.git_dir, *rel.split("/")))
        if content and is_oid(content):
            return content
    return None


def autostash_stored(repo: Repo) -> str | None:
    """The commit of the newest stash entry when it is an autostash git could not apply (it
    stores it then, as `autostash`): a merge's leaves the marker files and no AUTO_MERGE
    (conflict_tree). None for none. Read from the tail of the stash's reflog file: no git
    call."""
    try:
        with open(os.path.join(repo.common_dir, "logs", "refs", "stash"), "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 4096))
            tail = f.read()
    except OSError:
        return None
    last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    oid = last.split(b" ", 2)[1].decode("ascii", "replace") if last.count(b" ") >= 2 else ""
    return oid if last.endswith(b"\tautostash") and is_oid(oid) else None


def patch_subject(repo: Repo) -> str | None:
    """The subject of the patch a `git am` (or `rebase --apply`) is applying: the first line
    of `rebase-apply/final-commit`. With -3 git falls back to merge-recursive (2.39), which
    labels the patch's side of a conflict with it and writes no AUTO_MERGE (conflict_tree).
    None when none is under way. No git call."""
    raw = _read_small(os.path.join(repo.git_dir, "rebase-apply", "final-commit"))
    return None if raw is None else os.fsdecode(raw.split(b"\n", 1)[0])


# --------------------------------------------------------------------------------------------
# what git knows about paths


def tracked(repo: Repo) -> frozenset[bytes]:
    """Every path in the index (unmerged paths and gitlinks included), deduplicated."""
    return frozenset(split_z(_take(repo, "tracked", _TRACKED_ARGS)))


def ignored(repo: Repo) -> tuple[frozenset[bytes], frozenset[bytes]]:
    """(ignored files, ignored directories without the trailing '/').

    A directory is listed when git considers all of it ignored; everything under it is ignored.
    """
    return _ignored(_take(repo, "ignored", _IGNORED_ARGS))


def labels(
    repo: Repo, raw: list[bytes] | None = None
) -> tuple[frozenset[bytes], frozenset[bytes], frozenset[bytes], str]:
    """:func:`tracked`, :func:`ignored`'s files and directories, and a digest of git's two
    answers as git printed them (the index's order; ls-files sorts what it finds): the same
    answers, the same digest, and the same digest only for the same sets (a different one
    for the same sets, after a merge conflict's stages say, is only a slower walk). Two zlib
    sums over the bytes (a sum per path over the sets was 2.9 M instructions on S's 2,000).
    With *raw*, git's ignored answer itself is appended to it (the dirty set keeps the
    base's: watch/take.py lets a preparation relabel what changed against it)."""
    out = _take(repo, "tracked", _TRACKED_ARGS)
    ign = _take(repo, "ignored", _IGNORED_ARGS)
    files, dirs = _ignored(ign)
    digest = labels_part(out) + ";" + labels_part(ign)
    if raw is not None:
        raw.append(ign)
    return frozenset(split_z(out)), files, dirs, "2;" + digest


def labels_part(raw: bytes) -> str:
    """The part of :func:`labels`'s digest that one of git's answers *raw* gives (the
    tracked half, then the ignored half)."""
    import zlib

    return f"{len(raw)}:{zlib.crc32(raw):x}:{zlib.adler32(raw):x}"


def _ignored(out: bytes) -> tuple[frozenset[bytes], frozenset[bytes]]:
    files: set[bytes] = set()
    dirs: set[bytes] = set()
    for p in split_z(out):
        if p.endswith(b"/"):
            dirs.add(p.rstrip(b"/"))
        else:
            files.add(p)
    return frozenset(files), frozenset(dirs)


def config(repo: Repo) -> dict[str, list[str]]:
    """Every ``snapshot.*`` key (lower-cased) -> its values in order of precedence (last wins).

    A key written without ``=`` (git's boolean shorthand) has the value ``"true"``.
    """
    if repo.memo is not None:
        result: dict[str, list[str]] = {}
        for _scope, key, value in _scoped_config(repo):
            if key.startswith("snapshot."):
                result.setdefault(key, []).append(value)
        return result
    res = _run(repo.toplevel, ["config", "-z", "--get-regexp", r"^snapshot\."])
    if res.returncode == 1:
        return {}
    if res.returncode != 0:
        raise GitError(["config", "-z", "--get-regexp", r"^snapshot\."], res.returncode, res.stderr)
    result = {}
    for rec in split_z(res.stdout):
        k, v = _config_record(rec)
        result.setdefault(k, []).append(v)
    return result


def conversion_config(repo: Repo) -> dict[str, str]:
    """``core.autocrlf``, ``core.attributesfile`` and ``core.eol`` (lower-cased) -> the value
    git uses, for those set: from the remembered config (no git call in a hook), else one git
    call."""
    if repo.memo is not None:
        return {k: v for _scope, k, v in _scoped_config(repo) if k in _CONVERSION_KEYS}
    args = ["config", "-z", "--get-regexp", r"^core\.(autocrlf|attributesfile|eol)$"]
    res = _run(repo.toplevel, args)
    if res.returncode not in (0, 1):
        raise GitError(args, res.returncode, res.stderr)
    return dict(_config_record(rec) for rec in split_z(res.stdout))


def merge_config(repo: Repo) -> list[tuple[str, str]]:
    """(key lower-cased, value) of ``merge.autoStash`` and of every ``branch.*.mergeOptions``,
    in git's order (the last one wins): from the remembered config (no git call in a hook),
    else one git call."""
    if repo.memo is not None:
        return [
            (k, v)
            for _scope, k, v in _scoped_config(repo)
            if k == "merge.autostash" or (k.startswith("branch.") and k.endswith(".mergeoptions"))
        ]
    args = ["config", "-z", "--get-regexp", f"^({_MERGE_KEYS})"]
    res = _run(repo.toplevel, args)
    if res.returncode not in (0, 1):
        raise GitError(args, res.returncode, res.stderr)
    return [_config_record(rec) for rec in split_z(res.stdout)]


def _config_record(rec: bytes) -> tuple[str, str]:
    key, sep, value = rec.partition(b"\n")
    k = key.decode("utf-8", "surrogateescape").lower()
    return k, value.decode("utf-8", "surrogateescape") if sep else "true"


def _scoped_config(repo: Repo) -> list[tuple[str, str, str]]:
    """(scope, key lower-cased, value) of every ``snapshot.*`` value (and the keys of
    :func:`conversion_config` and :func:`merge_config`), in git's order: one git call per
    remembering *repo*
    (``config --show-scope``, git >= 2.26)."""
    memo = repo.memo
    assert memo is not None
    got = memo.get("config")
    if isinstance(got, list):
        return got
    pending = got if isinstance(got, Pending) else Pending(repo.toplevel, _CONFIG_ARGS)
    res = pending.completed()
    if res.returncode not in (0, 1):
        raise GitError(_CONFIG_ARGS, res.returncode, res.stderr)
    recs = split_z(res.stdout) if res.returncode == 0 else []
    out = []
    for i in range(0, len(recs) - 1, 2):
        k, v = _config_record(recs[i + 1])
        out.append((recs[i].decode("ascii", "replace"), k, v))
    memo["config"] = out
    return out


def local_values(repo: Repo, key: str) -> list[str]:
    """The whitespace-separated words of the values of *key* in the repository's own config
    file (``git config --local --get-all``): from the remembered config when *repo*
    remembers."""
    if repo.memo is None:
        out = run_git(repo.toplevel, "config", "--local", "--get-all", key, check=False)
        return out.decode("utf-8", "replace").split()
    k = key.lower()
    found = [v for scope, name, v in _scoped_config(repo) if scope == "local" and name == k]
    return " ".join(found).split()


def forget_config(repo: Repo) -> None:
    """After writing the config: the next question asks git again."""
    if repo.memo is not None:
        repo.memo.pop("config", None)


# What each --type names, for the message when git cannot read a value as one.
_TYPE_HINT = {"bool": "use true or false", "int": "use a whole number (git's k, m, g allowed)"}


def typed_config(
    repo: Repo, kind: str, keys: Iterable[str], cfg: dict[str, list[str]] | None = None
) -> dict[str, str]:
    """The value of each of *keys* (as the user writes them: ``snapshot.autoPrune``) that is
    set, as git reads it with ``--type=KIND``: ``bool`` gives "true"/"false" (yes, on, 1, 2,
    an empty value: whatever git says), ``int`` the number with git's k/m/g applied. One git
    call for all of *keys*, none when *cfg* (what :func:`config` returned) has none of them
    or spells every value of them plainly (:func:`_plain_value`: true, no, 0, 100...).
    A value git cannot read is a one-line UserError naming the key and what to write."""
    spelled = {k.lower(): k for k in keys}
    wanted = [k for k in spelled if cfg is None or k in cfg]
    if not wanted:
        return {}
    if cfg is not None:  # the usual spellings read here, without a second git process
        plain = {spelled[k]: [_plain_value(kind, v) for v in cfg[k]] for k in wanted}
        if all(None not in values for values in plain.values()):
            return {k: str(values[-1]) for k, values in plain.items()}  # the last one wins
    import re  # only when one of these keys is set: off most hooks' imports

    pattern = "^(" + "|".join(re.escape(k) for k in wanted) + ")$"
    args = ["config", "-z", f"--type={kind}", "--get-regexp", pattern]
    res = _run(repo.toplevel, args)
    if res.returncode == 1:
        return {}
    if res.returncode != 0:
        # "fatal: bad boolean config value 'maybe' for 'snapshot.quiet'": git's words, with
        # the key as the user spells it and what to write instead
        bad = re.search(r"value '(.*)' for '([^']*)'(.*)", first_line(res.stderr))
        if bad is None:
            raise GitError(args, res.returncode, res.stderr)
        value, key, why = bad.groups()
        raise UserError(
            f"bad {spelled.get(key, key)} {value!r} in git config{why}: "
            f"{_TYPE_HINT.get(kind, 'fix it')}"
        )
    result: dict[str, str] = {}
    for rec in split_z(res.stdout):  # in order of precedence: the last one wins
        key, _, value = rec.partition(b"\n")
        name = key.decode("utf-8", "surrogateescape")
        result[spelled.get(name, name)] = value.decode("ascii", "replace")
    return result


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0", "")


def _plain_value(kind: str, value: str) -> str | None:
    """*value* (as :func:`config` gives it: "true" for a bare key) as ``git config
    --type=KIND`` prints it, for the spellings whose reading leaves no doubt; None for any
    other (git reads those: hex, octal, k/m/g, signs, spaces, a bad value and its message).
    git compares its boolean words without case, in ASCII; a whole number is printed as is."""
    if kind == "bool" and value.isascii():
        low = value.lower()
        if low in _TRUE:
            return "true"
        if low in _FALSE:
            return "false"
    elif (
        kind == "int"
        and value.isascii()
        and value.isdigit()
        and len(value) <= 9  # below git's int limit (2**31 - 1)
        and (value == "0" or value[0] != "0")  # a leading 0 is octal to git
    ):
        return value
    return None


# The rest lives in gitextra (what an operation changed, commits, blobs, dates, colour, pager)
# and gitoverlay (the overlays, a tree written out), imported on first use: an unchanged
# worktree's hook calls none of it.
_OVERLAY = frozenset(("Overlay", "overlay_from_patch", "overlay_from_stash", "write_tree"))
_EXTRA = frozenset(
    (
        "am_paths",
        "approxidate",
        "as_user_env",
        "blob_ids",
        "changed_paths",
        "clean_ids",
        "clean_path_ids",
        "colorbool",
        "conflict_tree",
        "converting",
        "existing_blobs",
        "existing_blobs_at",
        "pager",
        "rev",
        "staged_paths",
        "stash_commits",
        "stash_entries",
        "state_commits",
        "tree_entries",
        "unstaged_paths",
    )
)
if TYPE_CHECKING:
    from git_snapshot.gitextra import am_paths as am_paths
    from git_snapshot.gitextra import approxidate as approxidate
    from git_snapshot.gitextra import as_user_env as as_user_env
    from git_snapshot.gitextra import blob_ids as blob_ids
    from git_snapshot.gitextra import changed_paths as changed_paths
    from git_snapshot.gitextra import clean_ids as clean_ids
    from git_snapshot.gitextra import clean_path_ids as clean_path_ids
    from git_snapshot.gitextra import colorbool as colorbool
    from git_snapshot.gitextra import conflict_tree as conflict_tree
    from git_snapshot.gitextra import converting as converting
    from git_snapshot.gitextra import existing_blobs as existing_blobs
    from git_snapshot.gitextra import existing_blobs_at as existing_blobs_at
    from git_snapshot.gitextra import pager as pager
    from git_snapshot.gitextra import rev as rev
    from git_snapshot.gitextra import staged_paths as staged_paths
    from git_snapshot.gitextra import stash_commits as stash_commits
    from git_snapshot.gitextra import stash_entries as stash_entries
    from git_snapshot.gitextra import state_commits as state_commits
    from git_snapshot.gitextra import tree_entries as tree_entries
    from git_snapshot.gitextra import unstaged_paths as unstaged_paths
    from git_snapshot.gitoverlay import Overlay as Overlay
    from git_snapshot.gitoverlay import overlay_from_patch as overlay_from_patch
    from git_snapshot.gitoverlay import overlay_from_stash as overlay_from_stash
    from git_snapshot.gitoverlay import write_tree as write_tree
else:

    def __getattr__(name: str) -> object:
        if name in _EXTRA:
            from git_snapshot import gitextra

            return getattr(gitextra, name)
        if name in _OVERLAY:
            from git_snapshot import gitoverlay

            return getattr(gitoverlay, name)
        raise AttributeError(f"module 'git_snapshot.gitrepo' has no attribute {name!r}")


def worktree_paths(
    cwd: str, options: Sequence[str] = (), env: dict[str, str] | None = None
) -> list[bytes] | None:
    """The paths of the worktrees ``git OPTIONS worktree list`` gives from *cwd*, the main
    one first; None when git lists none. ``-z`` (a path holding a newline) is git 2.36's:
    older git refuses it and lists one path a line (without this, `run`'s guard found no
    worktree there, saved none, and git removed it)."""
    for z, sep in ((["-z"], b"\0"), ([], b"\n")):
        listed = _run(cwd, [*options, "worktree", "list", "--porcelain", *z], env=env)
        if listed.returncode == 0:
            return [f[9:] for f in listed.stdout.split(sep) if f.startswith(b"worktree ")]
    return None
