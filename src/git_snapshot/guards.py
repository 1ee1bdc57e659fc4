"""What a command given to ``git snapshot run`` is about to destroy beyond the current worktree.

``run`` always snapshots the worktree it runs in. Some git commands destroy data elsewhere:
``git worktree remove [--force] PATH`` deletes another worktree (with its untracked and ignored
files), ``git stash drop`` and ``git stash clear`` delete stash entries that exist nowhere else.
:func:`targets` reads the argv; :func:`protect` snapshots each target first (a stash entry by
writing its files, tracked and untracked, into a scratch directory) and says where it went.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import output
from git_snapshot import proc
from git_snapshot import whichstore
from git_snapshot import worktree
from git_snapshot.errors import UserError
from git_snapshot.store import Options
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import create_snapshot
from git_snapshot.store import location

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

# git's global options that point it at another repository (their value: the next word)
_ELSEWHERE_OPTS = frozenset({"--git-dir", "--work-tree", "--namespace"})
# a Target of another repository's, which the guard does not save (it says so)
_ELSEWHERE = "elsewhere"


# The records below are plain classes with __slots__: dataclasses imports inspect and ast, 11 ms
# of every `git snapshot run` (46 M instructions).
class Target:
    __slots__ = ("kind", "label", "where")

    def __init__(
        self,
        kind: str,  # "worktree" or "stash"
        where: str,  # the worktree's root, or the stash commit id
        label: str,  # for people: the worktree path, or "stash@{0}"
    ) -> None:
        self.kind = kind
        self.where = where
        self.label = label


def _git_words(argv: list[str], cwd: str) -> tuple[list[str], str, bool] | None:
    """(the words from git's command word on, the directory git runs in, whether git's own
    options name the repository: ``--git-dir X`` or ``--git-dir=X``...), or None if *argv*
    is not a git command we can read."""
    at = _command_at(argv)
    if at is None:
        return None
    i, named = 1, False
    while i < at:
        opt = argv[i]
        named = named or opt.partition("=")[0] in _ELSEWHERE_OPTS
        if opt == "-C":
            cwd = os.path.join(cwd, argv[i + 1])
        i += 2 if opt in proc.GIT_VALUE_OPTIONS else 1
    return argv[at:], cwd, named


# characters that would make a path a pattern in a gitignore line
_GLOB_CHARS = frozenset("*?[\\")


def _command_at(argv: list[str]) -> int | None:
    """Where git's command word (clean, stash...) is in the git command *argv*, or None."""
    if not argv or os.path.basename(argv[0]) != "git":
        return None
    at = proc.command_index(tuple(argv))  # (proc.git_subcommand's walk of git's options)
    return at if at < len(argv) else None


def _clean_options(words: list[str]) -> tuple[int, str] | None:
    """Where git clean's options end in *words* (its argv past ``clean``: the first ``--``
    that is not the value of an ``-e``, else the end), and the letters of its short options
    before that (an ``-e``'s pattern left out: ``-ePATTERN``, ``-fdXe PATTERN``; an f for
    each ``--force``); None when an ``-e`` lacks its value (git refuses that line: it is
    left as it is)."""
    i, letters = 0, ""
    while i < len(words):
        w = words[i]
        if w == "--":
            return i, letters
        if w.startswith("--"):
            takes = "=" not in w and len(w) > 2 and "--exclude".startswith(w)
            letters += "f" if len(w) > 2 and "--force".startswith(w) else ""
        else:  # a cluster of short options (-fdxe PATTERN, -ePATTERN)
            cluster = w[1:] if w.startswith("-") else ""
            letters += cluster.partition("e")[0]
            takes = "e" in cluster and cluster.index("e") == len(cluster) - 1
        if takes:
            if i + 1 == len(words):
                return None
            i += 1
        i += 1
    return len(words), letters


def gitignore_literal(rel: str) -> str:
    """*rel* (a path relative to the worktree's top) as a gitignore pattern that matches that
    folder and nothing else: anchored with '/', its glob characters escaped with '\\' (the
    leading '/' keeps a '#' or '!' from being read as a comment or a negation)."""
    escaped = "".join("\\" + ch if ch in _GLOB_CHARS else ch for ch in rel)
    return f"/{escaped}/"


def keep_store_out(argv: list[str], cwd: str, store_path: str) -> tuple[list[str], str | None]:
    """*argv* made to spare the store when it is a ``git clean`` or a ``git stash -u/-a`` run
    on a worktree the store lies in (the default store with a repository at $HOME: ``git
    clean -fdx`` deleted every snapshot of every repository, RED32; ``git stash -u`` took
    them into its entry, red41R2 S1), and what the line before the command says of the
    change ("run with ...: why"), or None when it runs as typed."""
    at = _command_at(argv)
    if at is None or argv[at] not in ("clean", "stash"):
        return argv, None
    got = _stash_push(argv[at + 1 :]) if argv[at] == "stash" else None
    if argv[at] == "stash" and (got is None or not got.takes):
        return argv, None  # (stash list, pop, a push without -u/-a: no git call for them)
    # the worktree that git, given the command's own global options and environment, acts on
    found = gitrepo._run(cwd, [*argv[1:at], "rev-parse", "--show-toplevel"], env=dict(os.environ))
    top = os.fsdecode(found.stdout.rstrip(b"\n"))
    # (by device and inode: HOME may name the worktree by another path, a bind mount)
    rel = location.in_worktree(store_path, top) if found.returncode == 0 and top else None
    if rel is None:
        return argv, None
    if got is not None:
        return _stash_without(argv, at, got, cwd, store_path, os.path.join(top, rel), rel)
    return _clean_without(argv, at, cwd, store_path, top, rel)


def _clean_without(
    argv: list[str], at: int, cwd: str, store_path: str, top: str, rel: str
) -> tuple[list[str], str | None]:
    """git reads ``-e`` patterns even with ``-x``, relative to the worktree's top wherever the
    clean runs; the pattern goes last among them, before any ``--``, so that it wins. With
    ``-ff`` git removes an untracked nested repository whole, never reading the patterns
    below it: a store inside one needs that repository's folder kept out too (red41R2 S2)."""
    got = _clean_options(argv[at + 1 :])
    if got is None:
        return argv, None
    end, letters = got
    if "X" in letters:  # only ignored files go: an -e would make the store one of them
        _refuse_if_ignored(argv[1:at], cwd, store_path, os.path.join(top, rel))
        return argv, None
    pattern = gitignore_literal(rel)
    added = ["-e", pattern]
    nested = _nested_repository(argv[1:at], cwd, top, rel) if letters.count("f") > 1 else None
    if nested is not None:
        added = ["-e", gitignore_literal(nested), *added]
    said = " ".join(f"-e {output.shell_quote(os.fsencode(p))}" for p in added[1::2])
    why = "the snapshot store is in that worktree, and kept out of it"
    if nested is not None:
        where = output.display(os.fsencode(nested + "/"))
        why = (
            f"the snapshot store is in that worktree, inside the nested repository {where}, "
            "which git clean -ff removes whole: both are kept out of it"
        )
    cut = at + 1 + end
    return [*argv[:cut], *added, *argv[cut:]], f"run with {said}: {why}"


def _nested_repository(options: list[str], cwd: str, top: str, rel: str) -> str | None:
    """The outermost folder on the way from the worktree's *top* to the store (at *rel*) that
    is a repository of its own (a ``.git`` in it) which the worktree does not track as a
    submodule: git clean -ff removes it whole. None for none."""
    parts = rel.split("/")
    for n in range(1, len(parts)):
        folder = "/".join(parts[:n])
        if not os.path.lexists(os.path.join(top, folder, ".git")):
            continue
        staged = gitrepo._run(
            cwd,
            [*options, "ls-files", "-s", "--full-name", "--", f":(top,literal){folder}"],
            env=dict(os.environ),
        )
        if not staged.stdout.startswith(b"160000 "):
            return folder
    return None


def _ignored(options: list[str], cwd: str, in_tree: str) -> bool:
    """Whether the worktree's ignore rules cover the folder *in_tree* (or one above it): git
    check-ignore, with the command's global *options*."""
    found = gitrepo._run(
        cwd,
        [*options, "check-ignore", "-q", "--no-index", "--", in_tree + "/"],
        env=dict(os.environ),
    )
    return found.returncode == 0


def _refuse_if_ignored(options: list[str], cwd: str, store_path: str, in_tree: str) -> None:
    """``git clean -X`` removes ignored files only, and an ignored folder whole: a store the
    worktree's ignore rules cover (or a folder above it) would go with every snapshot, and
    no pattern on the command line can bring it back under a folder git drops whole (RED32
    V1: the -e meant to keep it out made it ignored, and -X deleted it). *in_tree*: the
    store's path under the worktree's top as git names it (not another path to it)."""
    if _ignored(options, cwd, in_tree):  # (git's global *options*: the clean's own)
        raise UserError(
            f"refusing to run git clean -X: it would delete the snapshot store "
            f"{output.display(os.fsencode(store_path))}, which this worktree's ignore rules "
            "cover, with every snapshot in it; clean without -X, or keep the store outside "
            "the worktree (GIT_SNAPSHOT_STORE)"
        )


class _StashPush:
    """What ``git stash [push|save] ...`` was given, as far as the store is concerned."""

    __slots__ = ("dashdash", "from_file", "pathspecs", "save", "takes")

    def __init__(
        self,
        takes: int,  # the untracked files it takes: 0 none, 1 untracked (-u), 2 ignored too (-a)
        save: bool,  # ``git stash save``: its words are the message, it takes no pathspec
        dashdash: bool,  # its pathspecs follow a ``--``
        pathspecs: bool,  # it has pathspecs with no ``--`` before them (``push -u .``)
        from_file: bool,  # --pathspec-from-file: git takes no pathspec on the line with it
    ) -> None:
        self.takes = takes
        self.save = save
        self.dashdash = dashdash
        self.pathspecs = pathspecs
        self.from_file = from_file


def _stash_push(words: list[str]) -> _StashPush | None:
    """*words* (the argv past ``stash``) read as git stash push (or save) reads them; None for
    the other subcommands. The last of -u and -a wins, as in git (one variable)."""
    if not words or not (words[0] in ("push", "save") or words[0].startswith("-")):
        return None
    save = words[0] == "save"
    rest = words[1:] if words[0] in ("push", "save") else words
    takes, dashdash, pathspecs, from_file = 0, False, False, False
    i = 0
    while i < len(rest):
        w = rest[i]
        if w == "--":
            dashdash = True
            break
        if w.startswith("--"):
            name, eq, _ = w[2:].partition("=")
            bare = name[3:] if name.startswith("no-") else name
            if bare and "include-untracked".startswith(bare):
                takes = 0 if bare != name else 1
            elif bare and "all".startswith(bare):
                takes = 0 if bare != name else 2
            elif name and "message".startswith(name) and not eq:
                i += 1  # (its value)
            elif name and "pathspec-from-file".startswith(name):
                from_file = True
                i += 0 if eq else 1
        elif w.startswith("-") and len(w) > 1:
            for k, ch in enumerate(w[1:]):
                if ch in "ua":
                    takes = 1 if ch == "u" else 2
                elif ch == "m":  # the message: the rest of the word, or the next one
                    i += 1 if k == len(w) - 2 else 0
                    break
        else:
            pathspecs = True
        i += 1
    return _StashPush(takes, save, dashdash, pathspecs and not save, from_file)


def _stash_without(
    argv: list[str], at: int, got: _StashPush, cwd: str, store_path: str, in_tree: str, rel: str
) -> tuple[list[str], str | None]:
    """``git stash -u`` takes the untracked files (``-a`` the ignored ones too) into its
    entry and deletes them: a store among them went with every snapshot, and the next hook
    made an empty one in its place (after which ``git stash pop`` refuses: "already exists").
    An exclude pathspec for the store keeps it out (git stash push takes pathspecs); checked
    on git 2.39 to give the same entry, index and worktree, but for the store and for what a
    stash with a pathspec leaves in place where a plain one deletes it: empty untracked
    folders, and the edit of a file marked assume-unchanged (in no entry: git's reset --hard
    writes over it, its checkout-index of the modified files does not)."""
    if rel == ".":
        return argv, None
    if got.takes == 1 and _ignored(argv[1:at], cwd, in_tree):
        return argv, None  # (-u leaves ignored files alone)
    # literal pathspecs (review41 RG): the exclude would be a path matching nothing, and git
    # said "No local changes to save" (exit 0) and stashed nothing
    literal = "--literal-pathspecs" in argv[1:at] or os.environ.get(
        "GIT_LITERAL_PATHSPECS", ""
    ).lower() not in ("", "0", "false", "no", "off")
    if got.save or got.from_file or literal:
        what, instead = (
            ("git stash save", "git stash push")
            if got.save
            else ("git stash --pathspec-from-file", "git stash push with the paths on its line")
            if got.from_file
            else ("git stash with literal pathspecs", "it without them")
        )
        raise UserError(
            f"refusing to run {what} with -u or -a: it would take the snapshot store "
            f"{output.display(os.fsencode(store_path))}, which lies in this worktree, into the "
            "stash entry with every snapshot in it, and no pathspec can keep the store out of "
            f"it there; run {instead} (run keeps the store out of it), or keep the store "
            "outside the worktree (GIT_SNAPSHOT_STORE)"
        )
    spec = f":(exclude,top,literal){rel}"
    # (pathspecs with no -- before them: one more; with none at all, push needs the --)
    added = [spec] if got.dashdash or got.pathspecs else ["--", spec]
    said = output.shell_quote(os.fsencode(spec))
    return [*argv, *added], (
        f"run with the pathspec {said}: the snapshot store is in that worktree, and kept out of it"
    )


def _worktree_remove(
    words: list[str], cwd: str, repo: gitrepo.Repo, options: list[str], run_in: str
) -> list[Target]:
    names = [w for w in words if not w.startswith("-")]
    if len(names) != 1:
        return []
    path = _worktree_named(names[0], cwd, options, run_in)
    if path is None or not os.path.isdir(path):
        return []  # no such worktree (git refuses it), or its folder is gone already
    try:
        other = gitrepo.find_repo(path)
    except UserError as exc:  # (RED36 A2: taken for "git will refuse", and nothing was saved)
        raise UserError(
            f"refusing to run git worktree remove: the worktree it removes cannot be "
            f"snapshotted first: {exc}"
        ) from None
    if other.toplevel == repo.toplevel:
        return []  # this worktree (run snapshots it anyway)
    if other.common_dir != repo.common_dir:  # (--git-dir X: git acts on another repository)
        return [
            Target(
                _ELSEWHERE,
                other.toplevel,
                "the worktree " + output.display(os.fsencode(other.toplevel)) + " it removes is",
            )
        ]
    return [Target("worktree", other.toplevel, other.toplevel)]


def _worktree_named(word: str, cwd: str, options: list[str], run_in: str) -> str | None:
    """The worktree ``git worktree remove WORD`` acts on, as git's find_worktree picks it:
    the one whose path ends in WORD's components when only one does (``wt`` for ../wt, even
    where ./wt is some other folder), else the one at the path WORD from *cwd*; None for
    none, or for the main worktree (git refuses to remove it). (RED36 A1: only the path was
    tried, and a worktree named by its name was not saved.) *options*: git's global options
    of the command, which it is run with from *run_in*."""
    paths = gitrepo.worktree_paths(run_in, options, env=dict(os.environ))
    if paths is None:
        return None
    name = os.fsencode(word)
    ends = [p for p in paths if name and (p == name or p.endswith(b"/" + name))]
    at = os.path.realpath(os.path.join(os.fsencode(cwd), name))
    found = (
        ends[0] if len(ends) == 1 else next((p for p in paths if os.path.realpath(p) == at), None)
    )
    return os.fsdecode(found) if found is not None and found != paths[0] else None


def _stash_entries(words: list[str], cwd: str) -> list[Target]:
    sub, rest = words[0], [w for w in words[1:] if not w.startswith("-")]
    if sub == "clear":
        out = gitrepo.run_git(cwd, "stash", "list", "--format=%gd %H", check=False)
        lines = out.decode("utf-8", "replace").splitlines()
        return [Target("stash", oid, ref) for ref, _, oid in (ln.partition(" ") for ln in lines)]
    ref = rest[0] if rest else "stash@{0}"
    if ref.isdigit():
        ref = f"stash@{{{ref}}}"
    oid = gitrepo.run_git(cwd, "rev-parse", "-q", "--verify", ref, check=False).strip()
    return [Target("stash", oid.decode("ascii"), ref)] if oid else []


def expand(argv: list[str], cwd: str) -> tuple[list[str], str]:
    """*argv* (run in *cwd*) with git's aliases expanded as git expands them before it runs
    the command (``git wtrm ../wt`` under ``alias.wtrm = worktree remove --force``; an alias
    of an alias too), and the name of the ``!`` alias it runs ("" for none): a shell command,
    whose doings the guard cannot read. (RED36 A1: an alias's worktree or stash entry was
    not saved, and the line before the command said a snapshot was taken.)"""
    seen: set[str] = set()
    while (at := _command_at(argv)) is not None:
        word = argv[at]
        if word in seen or len(seen) >= proc.ALIAS_DEPTH:
            break  # a loop: git refuses it
        value = _alias_value(argv[1:at], word, cwd)
        if value is None:
            break
        if value.startswith("!"):
            return argv, word
        try:
            words = shlex.split(value)  # (git splits an alias's value as a shell does)
        except ValueError:  # an unmatched quote: git refuses it too
            break
        seen.add(word)
        argv = [*argv[:at], *words, *argv[at + 1 :]]
    return argv, ""


def _alias_value(options: list[str], word: str, cwd: str) -> str | None:
    """The value of git's alias *word*, as git (with the command's global *options*) reads
    it in *cwd*; None when git runs no alias: none of that name, or *word* names a command
    (builtin, or a git-WORD program: git runs that, never an alias of that name)."""
    env = dict(os.environ)
    got = gitrepo._run(cwd, [*options, "config", "--get", f"alias.{word}"], env=env)
    value = os.fsdecode(got.stdout).rstrip("\n")
    if got.returncode != 0 or not value.strip():
        return None
    listed = gitrepo._run(cwd, [*options, "--list-cmds=builtins,main,others"], env=env)
    return None if word in os.fsdecode(listed.stdout).split() else value


def targets(repo: gitrepo.Repo, argv: list[str], cwd: str) -> list[Target]:
    """What *argv* (its aliases expanded) will destroy besides the worktree at *repo*."""
    found = _git_words(argv, cwd)
    at = _command_at(argv)
    if found is None or at is None:
        return []
    words, where, named = found
    if words[:2] == ["worktree", "remove"]:
        return _worktree_remove(words[2:], where, repo, argv[1:at], cwd)
    if words[:1] == ["stash"] and words[1:2] in (["drop"], ["clear"]):
        if named and not _same_repository(repo, argv[1:at], cwd):
            return [Target(_ELSEWHERE, "", "the stash entries it drops are")]
        return _stash_entries(words[1:], where)
    return []


def _same_repository(repo: gitrepo.Repo, options: list[str], cwd: str) -> bool:
    """Whether git, given the command's global *options* (its --git-dir) in *cwd*, acts on
    *repo*'s repository."""
    got = gitrepo._run(
        cwd,
        [*options, "rev-parse", "--path-format=absolute", "--git-common-dir"],
        env=dict(os.environ),
    )
    common = os.fsdecode(got.stdout.rstrip(b"\n"))
    return got.returncode == 0 and os.path.realpath(common) == os.path.realpath(repo.common_dir)


def _snapshot_stash(store: Store, repo: gitrepo.Repo, target: Target, message: str) -> Saved:
    """Snapshot a stash entry: its worktree tree (tracked files as they were) and its third
    parent (untracked files, with -u or -a), written into a scratch directory. The paths it
    names are those the stash holds edits of: what its owner would look for. Its index
    (second parent), where it holds a staged version other than the worktree's, goes into a
    second snapshot (RED30: the staged version was saved nowhere, and the line said the entry
    was saved)."""
    base = gitrepo.rev(repo, f"{target.where}^1")
    res = _stash_tree(store, repo, target.where, f"{target.where}^3", base, message)
    index_rev = gitrepo.rev(repo, f"{target.where}^2")
    staged = None
    # (staged, and then edited again: a version that is neither the base's nor the tree's)
    if (
        index_rev
        and base
        and set(gitrepo.changed_paths(repo, base, index_rev))
        & set(gitrepo.changed_paths(repo, index_rev, target.where))
    ):
        staged = _stash_tree(
            store, repo, index_rev, None, base, f"{message} (its staged versions)", target.where
        ).snapshot.id
    edited = gitrepo.changed_paths(repo, base, target.where) if base else sorted(res.tracked)
    # a submodule's pointer (a gitlink) is no file: no snapshot holds it (write_tree), and
    # naming it among the saved files said the restore gives it back (red41R2 F6)
    links = _gitlinks(repo, target.where, [p for p in edited if p not in res.tracked])
    edited = [p for p in edited if p not in links]
    return Saved(target, res.snapshot.id, sorted({*edited, *res.untracked}), staged, links)


def _gitlinks(repo: gitrepo.Repo, rev: str, paths: list[bytes]) -> dict[bytes, str]:
    """path -> commit id of the gitlinks (submodule pointers) commit *rev* holds at *paths*
    (those of its changed paths that are not among its files: a deletion, or a gitlink)."""
    if not paths:
        return {}
    from git_snapshot import gitextra

    named = [os.fsdecode(p) for p in paths]
    wanted = set(paths)
    return {
        path: oid
        for path, _mode, kind, oid in gitextra.ls_tree(repo, rev, named, check=False)
        if kind == b"commit" and path in wanted
    }


class _Taken:
    __slots__ = ("snapshot", "tracked", "untracked")

    def __init__(
        self,
        snapshot: Any,
        tracked: set[bytes],
        untracked: list[bytes],
    ) -> None:
        self.snapshot = snapshot
        self.tracked = tracked
        self.untracked = untracked


def _stash_tree(
    store: Store,
    repo: gitrepo.Repo,
    rev: str,
    untracked_of: str | None,
    base: str | None,
    message: str,
    stash: str | None = None,
) -> _Taken:
    """A snapshot of the tree of *rev* (and of *untracked_of*'s, the untracked files of a
    stash -u or -a, when it exists), written into a scratch directory."""
    with store.scratch() as scratch:
        tracked = set(gitrepo.write_tree(repo, rev, scratch))
        untracked_rev = gitrepo.rev(repo, untracked_of) if untracked_of else None
        untracked = gitrepo.write_tree(repo, untracked_rev, scratch) if untracked_rev else []
        meta = {"head": base, "stash": stash or rev}
        snap = _git_versions(store, repo, scratch, message, meta, tracked.__contains__)
    return _Taken(snap, tracked, untracked)


def _git_versions(
    store: Store,
    repo: gitrepo.Repo,
    folder: str,
    message: str,
    meta: dict[str, Any],
    tracked: Callable[[bytes], bool],
) -> Snapshot:
    """A snapshot (trigger run) of the worktree *repo*'s files as git holds them, written out
    into *folder*: a file *tracked* says is tracked, another untracked; *meta* (its "head")
    joins the worktree's tags."""

    def classify(rel: bytes, is_dir: bool, parent: int) -> int:
        if is_dir:
            return 0
        return worktree.TRACKED if tracked(rel) else worktree.UNTRACKED

    return create_snapshot(
        store,
        identity.source(store, repo),
        folder,
        trigger="run",
        message=message,
        worktree=repo.toplevel,
        meta={**meta, **identity.tag_meta(repo)},
        options=Options(classify=classify),
    ).snapshot


class Saved:
    """A target snapshotted before the command ran."""

    __slots__ = (
        "autostash",
        "autostash_paths",
        "autostashed",
        "gitlinks",
        "paths",
        "snapshot",
        "staged",
        "staged_paths",
        "target",
    )

    def __init__(
        self,
        target: Target,
        snapshot: int,
        paths: list[bytes],  # what it held for people to look for (the stash's edits); [] for all
        staged: int | None = None,  # a stash entry's staged versions, where they differ: snapshot
        # a stash entry's changed submodule pointers, path -> commit id: in no snapshot
        gitlinks: dict[bytes, str] | None = None,
        # a worktree's: the paths its snapshot took from the pending autostash (git's, of a
        # stopped rebase --autostash or merge --autostash), and the snapshot of the autostash's
        # versions of those the user changed on disk since
        autostashed: list[bytes] | None = None,
        autostash: int | None = None,
        autostash_paths: list[bytes] | None = None,  # in *autostash*
        staged_paths: list[bytes] | None = None,  # a worktree's, in *staged*
    ) -> None:
        self.target = target
        self.snapshot = snapshot
        self.paths = paths
        self.staged = staged
        self.gitlinks = {} if gitlinks is None else gitlinks
        self.autostashed = [] if autostashed is None else autostashed
        self.autostash = autostash
        self.autostash_paths = [] if autostash_paths is None else autostash_paths
        self.staged_paths = [] if staged_paths is None else staged_paths


class Guarded:
    """What :func:`protect` saved before the command, and what it could not tell."""

    __slots__ = ("command", "saved", "unknown")

    def __init__(
        self,
        saved: list[Saved],
        command: list[str],  # the command, its aliases expanded
        unknown: str = "",  # the line that says what the guard cannot tell ("" when it can)
    ) -> None:
        self.saved = saved
        self.command = command
        self.unknown = unknown


def protect(repo: gitrepo.Repo, argv: list[str], cwd: str) -> Guarded:
    """Snapshot what *argv* will destroy besides this worktree."""
    command, shell_alias = expand(argv, cwd)
    if shell_alias:
        return Guarded([], command, _unknown(shell_alias))
    found = targets(repo, command, cwd)
    elsewhere = [t.label for t in found if t.kind == _ELSEWHERE]
    found = [t for t in found if t.kind != _ELSEWHERE]
    unknown = _unsaved_elsewhere(elsewhere[0]) if elsewhere else ""
    if not found:
        return Guarded([], command, unknown)
    return Guarded(_save(repo, found, shlex.join(argv)), command, unknown)


def _unknown(alias: str) -> str:
    return (
        f"git {output.display(os.fsencode(alias))} is a '!' alias, a shell command: "
        "git-snapshot cannot tell what it destroys besides this worktree (another worktree, "
        "a stash entry), and has not saved that; run the git command itself under "
        "git snapshot run to have it saved"
    )


def _unsaved_elsewhere(what: str) -> str:
    return (
        f"{what} not saved: git's --git-dir names another repository than this "
        "worktree's; run git snapshot run in that repository to have it saved"
    )


def _save(repo: gitrepo.Repo, found: list[Target], what: str) -> list[Saved]:
    saved = []
    with Store() as store:
        for t in found:
            if t.kind == "worktree":
                saved.append(_take_worktree(store, t, what))
            else:
                msg = f"{t.label} ({t.where[:12]}) before: {what}"
                saved.append(_snapshot_stash(store, repo, t, msg))
    return saved


def _take_worktree(store: Store, t: Target, what: str) -> Saved:
    """Snapshot the worktree *t* that the command removes, with what only its git dir holds
    and goes with it (red41R2 F8: the line said the worktree was saved, and the edit a
    stopped ``rebase --autostash`` held was in no snapshot):

    - git's pending autostash, taken in place of the files git took the edits from, as a
      hook takes it (``hooks._overlay``); a path the user changed on disk since keeps the
      disk's version there, and the autostash's own versions of those go into a snapshot
      of their own;
    - the index's staged versions that differ from both HEAD and the file: into a snapshot
      of their own, as for a stash entry (:func:`_snapshot_stash`).

    Those two are taken first: the worktree's own snapshot is its newest."""
    from git_snapshot import gitoverlay  # (an overlay, blobs: off the hook's imports)

    other = gitrepo.find_repo(t.where)
    index = _index_state(other)
    with store.scratch() as scratch:
        overlay, aside = None, []
        stash = gitrepo.autostash_commit(other)
        if stash:
            try:
                changes = gitoverlay.stash_changes(other, stash)  # (one diff-tree: handed on)
                over = gitoverlay.overlay_from_stash(
                    other, stash, os.path.join(scratch, "o"), changes=changes
                )
                changed = _changed_on_disk(other, over.files | over.deleted, index)
                blobs = changes[0]
            except (gitrepo.GitError, UserError):  # (pruned: in no object git can read)
                over = None
            if over is not None:
                overlay = gitrepo.Overlay(over.root, over.files - changed, over.deleted - changed)
                aside = [b for b in blobs if b[0] in changed]
        head = gitrepo.rev(other, "HEAD")
        kept = (
            _blobs_snapshot(
                store,
                other,
                aside,
                f"{what} (the pending autostash's versions)",
                scratch,
                {"head": head},
            ).id
            if aside
            else None
        )
        staged = (
            _blobs_snapshot(
                store, other, index.staged, f"{what} (its staged versions)", scratch, {"head": head}
            ).id
            if index.staged
            else None
        )
        res = worktree.take(store, other, trigger="run", message=what, overlay=overlay)
    took = sorted(overlay.files | overlay.deleted) if overlay is not None else []
    return Saved(
        t,
        res.snapshot.id,
        [],
        staged,
        autostashed=took,
        autostash=kept,
        autostash_paths=sorted(p for p, _, _ in aside),
        staged_paths=[p for p, _, _ in index.staged],
    )


class _Index:
    """A worktree's index as the guard needs it."""

    __slots__ = ("on_disk", "stage0", "staged", "unmerged")

    def __init__(
        self,
        stage0: dict[bytes, tuple[int, str]],  # path -> (mode, blob id) of the merged entries
        unmerged: set[bytes],  # paths in conflict (stages 1-3)
        on_disk: set[bytes],  # paths whose file differs from the index (git ls-files -m)
        staged: list[tuple[bytes, int, str]],  # versions that differ from both HEAD and the file
    ) -> None:
        self.stage0 = stage0
        self.unmerged = unmerged
        self.on_disk = on_disk
        self.staged = staged


def _index_state(repo: gitrepo.Repo) -> _Index:
    """Three git calls in the worktree *repo*: ls-files -s, ls-files -m, diff-index --cached.
    (ls-files -m, not diff-files: diff-files refreshes nothing, and names a file whose stat
    data alone is stale, touched or racily clean, as differing; review41 RG.)"""
    from git_snapshot.gitrepo import split_z

    stage0: dict[bytes, tuple[int, str]] = {}
    unmerged: set[bytes] = set()
    for rec in split_z(gitrepo.run_git(repo.toplevel, "ls-files", "-s", "-z")):
        meta, _, path = rec.partition(b"\t")
        mode, oid, stage = meta.split(b" ")
        if stage != b"0":
            unmerged.add(path)
        else:
            stage0[path] = (int(mode, 8), oid.decode("ascii"))
    on_disk = set(split_z(gitrepo.run_git(repo.toplevel, "ls-files", "-m", "-z")))
    cached = set(stage0)  # (HEAD unborn: every version the index holds is staged)
    if gitrepo.rev(repo, "HEAD"):
        out = gitrepo.run_git(repo.toplevel, "diff-index", "--cached", "--name-only", "-z", "HEAD")
        cached = set(split_z(out))
    staged = [
        (p, *stage0[p])
        for p in sorted(cached & on_disk)
        if p in stage0
        and stage0[p][0] in (gitrepo.MODE_FILE, gitrepo.MODE_EXEC, gitrepo.MODE_SYMLINK)
    ]
    return _Index(stage0, unmerged, on_disk, staged)


def _changed_on_disk(repo: gitrepo.Repo, paths: frozenset[bytes], index: _Index) -> set[bytes]:
    """Those of *paths* whose file on disk is not the index's version: the user changed it
    (or left it in conflict) since git took the autostash, or it is there while the index
    lacks it."""
    top = os.fsencode(repo.toplevel)

    def changed(p: bytes) -> bool:
        if p in index.unmerged or p in index.on_disk:
            return True
        return p not in index.stage0 and os.path.lexists(os.path.join(top, p))

    return {p for p in paths if changed(p)}


def _blobs_snapshot(
    store: Store,
    repo: gitrepo.Repo,
    blobs: list[tuple[bytes, int, str]],
    message: str,
    scratch: str,
    meta: dict[str, Any],
    parts: list[tuple[bytes, gitrepo.Repo, list[tuple[bytes, int, str]]]] | None = None,
) -> Snapshot:
    """A snapshot of the worktree *repo*'s files at *blobs* (path, mode, blob id), written
    as git checks them out into a folder of *scratch*; *meta*: its "head" and the like.
    With *parts* (folder, repository, its blobs), each part's are written below its folder
    by its git (a submodule's: its object store, its attributes)."""
    from git_snapshot import gitoverlay

    dest = os.path.join(scratch, f"b{len(os.listdir(scratch))}")
    os.makedirs(dest)
    for folder, where, some in parts if parts is not None else [(b"", repo, blobs)]:
        inside = os.path.join(dest, os.fsdecode(folder)) if folder else dest
        os.makedirs(inside, exist_ok=True)
        gitoverlay._write_blobs(where, inside, some)
    return _git_versions(store, repo, dest, message, meta, lambda rel: True)


class StagedSaved:
    """This worktree's staged versions that differ from both HEAD and the file (git add, then
    an edit: a version only the index holds), saved before ``run``'s command
    (:func:`save_staged`)."""

    __slots__ = ("blobs", "nested", "snapshot", "taken")

    def __init__(
        self,
        snapshot: int,
        blobs: list[tuple[bytes, int, str]],  # (path from the top, git mode, blob id)
        taken: Snapshot,  # (the snapshot: run's retention keeps it, an older one named again too)
        nested: list[bytes] | None = None,  # submodules' folders: theirs below
    ) -> None:
        self.snapshot = snapshot
        self.blobs = blobs
        self.taken = taken
        self.nested = [] if nested is None else nested


def save_staged(store: Store, repo: gitrepo.Repo, message: str) -> StagedSaved | None:
    """A snapshot of the worktree *repo*'s staged versions that differ from both HEAD and the
    file (their blobs, written as git checks them out), or None when there is none: what
    only the index holds, which `reset --hard`, `checkout -f B`, `switch --discard-changes`,
    `restore --staged`, `rm -f`, `checkout HEAD -- PATH`, `reset`, `read-tree`, `add` (and
    stash drop, worktree remove: the guard's own) throw away, where no snapshot of the files
    has it (red44 F2). Taken before the worktree's snapshot, which stays its newest. One
    ``diff-index --cached`` (its cache-tree compare: ~4 ms of git's on 20k files) when
    nothing is staged; a hash-object of the staged files when something is (:func:`_staged`).
    When the newest such snapshot of the worktree holds these very versions (paths, modes,
    blob ids), that one is named again: a `run` each, they piled up. A checked-out
    submodule's are in it too, below its folder (a `diff-index` each, and a `config` when
    there is a .gitmodules): run's snapshot holds its files, and `reset --hard
    --recurse-submodules`, `git -C sub reset`, `submodule foreach` throw them away (review
    RF2)."""
    parts = [(b"", repo, _staged(repo))]
    for d, sub in _submodules(repo):
        try:
            parts.append((d, sub, _staged(sub)))
        except (gitrepo.GitError, UserError) as exc:  # (said: the others are saved still)
            output.err(
                f"could not save the staged versions only the index of submodule "
                f"{output.display(d)} holds: {exc}"
            )
    parts = [part for part in parts if part[2]]
    if not parts:
        return None
    staged = [(_below(d, p), mode, oid) for d, _, blobs in parts for p, mode, oid in blobs]
    key = _staged_key(staged)
    taken = _staged_before(store, repo, key)
    if taken is None:
        meta = {"head": gitrepo.head(repo), STAGED_META: key}
        with store.scratch() as scratch:
            taken = _blobs_snapshot(store, repo, staged, message, scratch, meta, parts)
    return StagedSaved(int(taken.id), staged, taken, [d for d, _, _ in parts if d])


def _below(folder: bytes, path: bytes) -> bytes:
    return folder + b"/" + path if folder else path


def _submodules(
    repo: gitrepo.Repo, folder: bytes = b"", seen: set[str] | None = None
) -> list[tuple[bytes, gitrepo.Repo]]:
    """(folder from the top, repository) of each checked-out submodule of the worktree *repo*,
    theirs too (below *folder*; each worktree once, *seen*: a symlink makes no loop): none,
    and no git process, without a .gitmodules."""
    from git_snapshot import lostnested
    from git_snapshot.gitrepo import split_z

    top = os.fsencode(repo.toplevel)
    if not os.path.isfile(os.path.join(top, b".gitmodules")):
        return []
    listed = gitrepo.run_git(
        repo.toplevel,
        "config",
        "-z",
        "--file",
        ".gitmodules",
        "--get-regexp",
        r"^submodule\..*\.path$",
        check=False,
    )
    seen = {os.path.realpath(repo.toplevel)} if seen is None else seen
    out = []
    for rec in split_z(listed):
        rel = os.path.normpath(rec.partition(b"\n")[2]).strip(b"/")
        inside = rel not in (b"", b".") and not rel.startswith(b"../") and rel != b".."
        sub = lostnested.nested_repo(top, rel) if inside else None
        if sub is not None and sub.toplevel not in seen:
            seen.add(sub.toplevel)
            out.append((_below(folder, rel), sub))
            out += _submodules(sub, _below(folder, rel), seen)
    return out


STAGED_META = "staged_versions"  # a save_staged snapshot's meta: _staged_key of what it holds


def _staged_key(staged: list[tuple[bytes, int, str]]) -> str:
    """One id for the staged versions *staged* (path, git mode, blob id), sorted."""
    import hashlib

    digest = hashlib.sha1()
    for path, mode, oid in sorted(staged):
        digest.update(b"%s\0%o %s\0" % (path, mode, oid.encode("ascii")))
    return digest.hexdigest()


def _staged_before(store: Store, repo: gitrepo.Repo, key: str) -> Snapshot | None:
    """The newest save_staged snapshot of the worktree *repo*, when it holds the staged
    versions *key* names (_staged_key); None when it holds others, or there is none."""
    source, mine = identity.source(store, repo), identity.owner(repo)
    for snap in reversed(store.snapshots(source, repo.toplevel)):
        if STAGED_META in snap.meta and mine(snap):
            return snap if snap.meta[STAGED_META] == key else None
    return None


_BLOB_MODES = (gitrepo.MODE_FILE, gitrepo.MODE_EXEC, gitrepo.MODE_SYMLINK)


def _staged(repo: gitrepo.Repo) -> list[tuple[bytes, int, str]]:
    """(path, git mode, blob id) of the index's versions that differ from both HEAD and the
    file (as git would store it: hash-object, its filters; a link's target): git's raw
    ``diff-index --cached`` gives the index's side (a deletion, a conflict: none); HEAD
    unborn, every version the index holds, whose file ``ls-files -m`` says differs."""
    from git_snapshot.gitrepo import split_z

    top = repo.toplevel
    wanted: dict[bytes, tuple[int, str]] = {}
    if gitrepo.head(repo) is None:  # (unborn: whatever the index holds is staged)
        index = _index_state(repo)
        return index.staged
    recs = split_z(gitrepo.run_git(top, "diff-index", "--cached", "--no-renames", "-z", "HEAD"))
    for meta, path in zip(recs[0::2], recs[1::2]):
        words = meta.split(b" ")  # :old-mode new-mode old-id new-id status
        if len(words) == 5 and words[4][:1] in (b"A", b"M", b"T"):
            mode = int(words[1], 8)
            if mode in _BLOB_MODES:
                wanted[path] = (mode, words[3].decode("ascii"))
    blobs = [(p, m, o) for p, (m, o) in sorted(wanted.items())]
    there = _on_disk(repo, blobs)
    return [b for b in blobs if b[0] not in there]


def _on_disk(repo: gitrepo.Repo, blobs: list[tuple[bytes, int, str]]) -> set[bytes]:
    """The paths of *blobs* (path, git mode, blob id) whose file is that version, as git
    would store it (hash-object: its filters; a link's target): one hash-object."""
    from git_snapshot import gitextra
    from git_snapshot import hashes

    top = os.fsencode(repo.toplevel)
    files = [p for p, m, _ in blobs if m != gitrepo.MODE_SYMLINK]
    ids = gitextra.clean_path_ids(repo, [p for p in files if not _is_link(repo.toplevel, p)])

    def there(p: bytes, mode: int, oid: str) -> bool:
        if mode != gitrepo.MODE_SYMLINK:
            return ids.get(p) == oid
        try:
            return hashes.blob_id(os.readlink(os.path.join(top, p))) == oid
        except OSError:
            return False

    return {b[0] for b in blobs if there(*b)}


STAGED_STASHES_AT_MOST = 16  # the newest stash entries whose index _thrown reads
STAGED_TIPS_AT_MOST = 64  # branch tips staged_thrown reads, the latest committed first


def staged_thrown(repo: gitrepo.Repo, saved: StagedSaved) -> list[bytes]:
    """The paths of *saved*'s staged versions that git no longer holds after the command
    (:func:`_thrown`), asked of the repository each is in: a submodule's of its git."""
    from git_snapshot import lostnested

    top = os.fsencode(repo.toplevel)
    folders = sorted(saved.nested, key=len, reverse=True)  # (the innermost first)
    parts: dict[bytes, list[tuple[bytes, int, str]]] = {}
    for p, mode, oid in saved.blobs:
        d = next((f for f in folders if p.startswith(f + b"/")), b"")
        parts.setdefault(d, []).append((p[len(d) + 1 :] if d else p, mode, oid))
    out = []
    for d, blobs in parts.items():
        where = lostnested.nested_repo(top, d) if d else repo
        if where is None:  # (its checkout is gone, and its index with it, or unreadable)
            out += [_below(d, p) for p, _, _ in blobs]
            continue
        out += [_below(d, p) for p in _thrown(where, blobs)]
    return sorted(out)


def _thrown(repo: gitrepo.Repo, blobs: list[tuple[bytes, int, str]]) -> list[bytes]:
    """The paths of the staged versions *blobs* of *repo* that git no longer holds: not
    in the index (at any path: `git mv` moves it), not the file on disk (as git would store
    it: `checkout -- PATH` wrote it there), not in HEAD's commit at that path (committed), nor
    in a branch's tip there (`commit` then `checkout -f B` left it on the branch), nor in the
    index of one of the newest stash entries (`git stash` made it; `stash apply --index`
    kept it). An ls-files -s, and only for those not in the index: a hash-object, a
    for-each-ref and a cat-file."""
    from git_snapshot import gitextra
    from git_snapshot.gitrepo import split_z

    top = repo.toplevel
    listed = gitrepo.run_git(top, "ls-files", "-s", "-z", check=False)
    held: set[str] = set()  # (the blob ids the index holds, at any path and stage)
    for rec in split_z(listed):
        words = rec.partition(b"\t")[0].split(b" ")
        if len(words) == 3:
            held.add(words[1].decode("ascii", "replace"))
    todo = [b for b in blobs if b[2] not in held]
    if not todo:
        return []
    kept = _on_disk(repo, todo)
    todo = [b for b in todo if b[0] not in kept]
    if not todo:
        return []
    stashed = [f"{oid}^2" for oid in worktree.stash_ids(repo)[:STAGED_STASHES_AT_MOST]]
    tips = gitrepo.run_git(
        top,
        "for-each-ref",
        "--sort=-committerdate",
        f"--count={STAGED_TIPS_AT_MOST}",
        "--format=%(objectname)",
        "refs/heads/",
        check=False,
    )
    head = gitrepo.head(repo)
    revs = [*([head] if head else []), *tips.decode("ascii", "replace").split(), *stashed]
    there = gitextra._rev_blobs(repo, list(dict.fromkeys(revs)), [p for p, _, _ in todo])
    return [p for p, _, oid in todo if oid not in there.get(p, ())]


def _is_link(top: str, rel: bytes) -> bool:
    return os.path.islink(os.path.join(os.fsencode(top), rel))


def staged_report(
    repo: gitrepo.Repo, saved: StagedSaved, paths: list[bytes], command: str, here: str, now: float
) -> Dropped:
    """The line that names the staged versions at *paths* (:func:`staged_thrown`) that
    *command* threw away, with the restore command that writes them into a folder beside the
    worktree (over the file, it would write over the version the worktree holds now), pasted
    in *here*; and its loss-log entry, at the moment *now* of the command's own report:
    ``undo`` puts back both, this one into that folder. Where the snapshot holds staged
    versions the command left too, both restore *paths* alone (its "restore"). The worktree
    gone (the command removed it), the restore names it as run's line of its files does."""
    from git_snapshot import lossreport

    away = not here or not lossreport.in_worktree(repo, here)
    top = output.shell_quote(os.fsencode(repo.toplevel))
    prefix = f"-C {top} " if away else ""
    if not os.path.isdir(repo.toplevel):  # (no -C into a folder that is gone)
        prefix = f"--repo {top} "
    named = _store_named(repo)  # (another store's numbers are other snapshots: RED44 F1)
    sure = whichstore.sure(named)
    side = os.path.join(os.path.dirname(repo.toplevel), f"staged-{saved.snapshot}")
    dest = _free_dir(side)
    n = len(paths)
    versions = "version that" if n == 1 else "versions that"
    cwd = repo.toplevel if away else here  # (as Report.lines: -C names the top)
    shown = ", ".join(lossreport.fold([lossreport.rel_to(repo, cwd, p) for p in paths]))
    only = [] if len(paths) == len(saved.blobs) else paths  # (staged_thrown's are of these)
    args = f"{output.path_args([lossreport.rel_to(repo, cwd, p) for p in only])} " if only else ""
    to = output.shell_quote(os.fsencode(dest if away else os.path.relpath(dest, here)))
    restore = f"restore {prefix}" if prefix.startswith("--repo") else f"{prefix}restore"
    line = (
        f"git-snapshot: {output.message(command)} threw away {n} staged {versions} differed "
        f"from both HEAD and the file: {shown} (saved in snapshot {saved.snapshot}; restore "
        f"with: {named}git snapshot {restore} {sure}{saved.snapshot} {args}--to {to})"
    )
    entry = {
        "when": output.iso(now),
        "time": now,
        "command": command,
        "snapshot": saved.snapshot,
        "exact": True,
        "lost": [
            {"path": os.fsdecode(p), "kind": "staged", "status": "thrown away"} for p in paths
        ],
        "unsaved": [],
        "restore": [os.fsdecode(p) for p in only],  # (undo: from the top, into *dest*)
        "to": dest,
    }
    return Dropped(line, entry)


def _gone(repo: gitrepo.Repo, t: Target) -> bool:
    """Whether the command did destroy *t*."""
    if t.kind == "worktree":
        return not os.path.isdir(t.where)
    left = gitrepo.run_git(repo.toplevel, "stash", "list", "--format=%H", check=False)
    return t.where not in left.decode("ascii", "replace").split()


def _free_dir(path: str) -> str:
    """*path*, or *path*-2, -3...: the first that does not exist (restore --to fills it)."""
    n, out = 1, path
    while os.path.lexists(out):
        n += 1
        out = f"{path}-{n}"
    return out


class Dropped:
    """A target the command destroyed: the line the user reads, and the loss-log entry
    (``undo`` restores it ``--to`` where the line says)."""

    __slots__ = ("entry", "line")

    def __init__(
        self,
        line: str,
        entry: dict[str, Any],
    ) -> None:
        self.line = line
        self.entry = entry


def _store_named(repo: gitrepo.Repo) -> str:
    """The store named before `git snapshot` when the repository has snapshots in another
    store too (whichstore.prefix): the one this command's snapshots went to."""
    return whichstore.prefix(repo.common_dir, location.store_dir(ephemeral_ok=True))


def report(repo: gitrepo.Repo, guarded: Guarded, cwd: str, here: str) -> list[Dropped]:
    """After the command (run in *cwd*): one line for each target it destroyed, naming what
    it held and the restore command that brings it back, pasted in *here*, where the user is
    ("" when that folder is gone)."""
    saved = guarded.saved
    if not saved:
        return []
    from git_snapshot import lossreport

    found = _git_words(guarded.command, cwd)
    command = shlex.join(["git", *found[0][:2]]) if found else shlex.join(guarded.command)
    # outside the worktree a restore command names it with -C, and --to an absolute path
    # (RED30: pasted there, it restored the other repository's snapshot of that number)
    away = not here or not lossreport.in_worktree(repo, here)
    prefix = f"-C {output.shell_quote(os.fsencode(repo.toplevel))} " if away else ""
    named = _store_named(repo)  # (another store's numbers are other snapshots: RED44 F1)
    sure = whichstore.sure(named)
    # one moment for every target of the command: `undo` puts back all of them (a stash
    # clear's entries, each in its own folder), as the reports of one hook (RED33 A3)
    now = time.time()
    lines = []
    for s in saved:
        t = s.target
        if not _gone(repo, t):
            continue  # the command failed or spared it: its snapshot stays, unmentioned
        if t.kind == "worktree":
            dest, verb = t.where, "removed the worktree"
            what = output.display(os.fsencode(os.path.relpath(t.where, here or "/")))
        else:
            number = t.label.partition("{")[2].rstrip("}") or "0"
            side = os.path.join(os.path.dirname(repo.toplevel), f"stash-{number}")
            dest, verb, what = _free_dir(side), "dropped", t.label
        held = "; ".join(([_held(s.paths)] if s.paths else []) + _links(s.gitlinks))
        held = f" ({held})" if held else ""
        if s.autostashed:  # (a worktree's pending autostash: in its snapshot)
            taken = f"with its pending autostash's edits, {_held(s.autostashed)}"
            held = f" ({taken})" if not held else f"{held[:-1]}; {taken})"
        also = ""
        if s.autostash:
            also += (
                f", the pending autostash's versions of files changed on disk since "
                f"({_held(s.autostash_paths)}) in snapshot {s.autostash}"
            )
        of = f" ({_held(s.staged_paths)})" if s.staged_paths else ""
        also += f", its staged versions{of} in snapshot {s.staged}" if s.staged else ""
        line = (
            f"git-snapshot: {command} {verb} {what}{held}: saved in snapshot {s.snapshot}{also}; "
            f"restore with: {named}git snapshot {prefix}restore {sure}{s.snapshot} --to "
            f"{output.shell_quote(os.fsencode(dest if away else os.path.relpath(dest, here)))}"
        )
        entry = {
            "when": output.iso(now),
            "time": now,
            "command": command,
            "snapshot": s.snapshot,
            "exact": True,
            "lost": [{"path": what, "kind": t.kind, "status": verb}],
            "unsaved": [
                {"path": os.fsdecode(p), "why": _LINK_WHY.format(oid)}
                for p, oid in sorted(s.gitlinks.items())
            ],
            "restore": [],
            "to": dest,
        }
        if s.staged:
            entry["staged_snapshot"] = s.staged
        if s.autostash:
            entry["autostash_snapshot"] = s.autostash
        lines.append(Dropped(line, entry))
    return lines


_LINK_WHY = "a submodule's pointer, to commit {}: no snapshot holds it"


def _links(gitlinks: dict[bytes, str]) -> list[str]:
    """What a stash entry's line says of its submodule pointers, which no snapshot holds: the
    commit each pointed to (`git -C PATH checkout ID`, then `git add PATH`, makes it again)."""
    if not gitlinks:
        return []
    said = ", ".join(f"{output.display(p)} at commit {oid}" for p, oid in sorted(gitlinks.items()))
    what = "pointer" if len(gitlinks) == 1 else "pointers"
    return [f"not saved: the submodule {what} {said}"]


def _held(paths: list[bytes]) -> str:
    from git_snapshot import lossreport

    files = "file" if len(paths) == 1 else "files"
    return f"{len(paths)} {files}: {', '.join(lossreport.fold(paths))}"
