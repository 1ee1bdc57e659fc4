"""Hook name + argv + environment -> what to snapshot and what to report.

Pre-hooks (reference-transaction, pre-rebase, pre-merge-commit) run before git touches the
worktree: if their snapshot fails, the git command is stopped. They print nothing else. Post-
hooks (post-checkout, post-merge, post-rewrite) never fail a git command: they print at most
one line when nothing was lost, and a loss report when something was, comparing the snapshot
taken before the operation with the worktree over every path the operation wrote or deleted.
"""

from __future__ import annotations

import os
import sys
import time

from git_snapshot import gitrepo
from git_snapshot import precommit
from git_snapshot.ctx import record
from git_snapshot.ctx import suppress
from git_snapshot.errors import NotYourStore
from git_snapshot.errors import UserError

TYPE_CHECKING = False  # not typing's: typing is not imported on the hook path
if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Iterator
    from collections.abc import Mapping
    from collections.abc import Sequence
    from contextlib import AbstractContextManager
    from typing import Any
    from typing import NamedTuple

    from git_snapshot import lossreport
    from git_snapshot.store import Snapshot
    from git_snapshot.store import Store

# The store, the snapshot code and the loss reports are imported by the functions that use
# them, after handle() has started git's side of the snapshot (gitrepo.prefetch): the git
# calls run while Python imports them.


# Named tuples, not frozen dataclasses: dataclasses imports inspect (ast, dis, tokenize), and
# typing's NamedTuple imports typing; nor collections.namedtuple (collections, and a __new__
# compiled per class): ctx.record makes the same tuples. Every git command imports this
# module. Type checkers see the typed NamedTuple.

if TYPE_CHECKING:

    class _Hook(NamedTuple):
        name: str
        pre: bool  # runs before git touches the worktree: a failed snapshot stops the command
        what: str  # the git command it belongs to, when nothing better is known
        # runs while git's own autostash (rebase/merge/pull --autostash) holds the user's
        # edits to tracked files: git writes it before pre-rebase and pre-merge-commit and
        # applies it only after post-rewrite / post-merge. reference-transaction (ORIG_HEAD)
        # runs before the autostash is made; post-checkout is skipped inside a rebase, and
        # outside one a pending MERGE_AUTOSTASH (a merge stopped by a conflict) is not about
        # to be applied.
        autostash: bool
        # its snapshot shows the worktree right before the command touched it
        # (pre-merge-commit runs after the merge wrote the worktree)
        sees_before: bool = False
        installed: bool = True  # put in place by `git snapshot install`

    class _Call(NamedTuple):
        name: str
        precommit: bool = False
        prev: str | None = None  # post-checkout: HEAD before and after
        new: str | None = None
        branch_checkout: bool = True  # post-checkout: 1 = a branch, 0 = files
        squash: bool = False  # post-merge
        rewrite: str = ""  # post-rewrite: amend or rebase
        upstream: str = ""  # pre-rebase
        branch: str = ""  # pre-rebase: the branch being rebased, when named
        state: str = ""  # reference-transaction: prepared, committed or aborted

else:
    _Hook = record("_Hook", "name pre what autostash sees_before installed", defaults=(False, True))
    _Call = record(
        "_Call",
        "name precommit prev new branch_checkout squash rewrite upstream branch state",
        defaults=(False, None, None, True, False, "", "", "", ""),
    )


class Hook(_Hook):
    """What we know of one git hook."""

    __slots__ = ()


HOOKS: dict[str, Hook] = {
    h.name: h
    for h in (
        Hook("reference-transaction", pre=True, what="merge", autostash=False, sees_before=True),
        Hook("pre-rebase", pre=True, what="rebase", autostash=True, sees_before=True),
        Hook("pre-merge-commit", pre=True, what="merge", autostash=True),
        Hook("post-checkout", pre=False, what="checkout", autostash=False),
        Hook("post-merge", pre=False, what="merge", autostash=True),
        Hook("post-rewrite", pre=False, what="rebase", autostash=True),
        Hook("post-commit", pre=False, what="commit", autostash=False, installed=False),
    )
}
INSTALLED = tuple(name for name, h in HOOKS.items() if h.installed)
PRE_HOOKS = frozenset(name for name, h in HOOKS.items() if h.pre)

NULL = "0" * 40
UNSEEN = gitrepo.UNSEEN  # in the worktree's git dir (lossrecord, tests)
# in the store's losses folder: report lines of a repository deleted whole (no git dir is
# left to keep them in), for the next hook of any worktree (lossrecord.hold_everywhere)
EVERYWHERE = "unseen"
PENDING = gitrepo.PENDING  # in the worktree's git dir (stopped)
# watch.instance.ENV_AUTOSTART and the values its autostart_disabled() takes for "off"
WATCH_ENV = "GIT_SNAPSHOT_WATCH"
WATCH_OFF = ("0", "false", "no", "off")
RUN_ENV = "GIT_SNAPSHOT_RUN"  # set by `git snapshot run` for its command: it reports, not us
RUN_FILE = "git-snapshot-run-"  # its value's name: a file run made in the git dir
# Without /proc (so without the git command's start time), a file written this long before git
# last wrote the index counts as written by the operation (a file checkout writes the files,
# then the index). Too short misses a loss on a slow disk, which is better than a false alarm.
FILE_CHECKOUT_WINDOW_NS = 10 * 10**9
# A file's mtime comes from the kernel's coarse clock, which lags the real time by up to a
# tick (HZ=100: 10 ms), more when the tick itself comes late on a busy machine: a file git
# wrote 1 ms after it started can read as written 5 ms before (seen in CI, which then left
# it out of a loss report). So "written since T" means an mtime from T less two such ticks.
# (A file the user wrote that shortly before the git command counts as written by it: named
# only if it also holds content git has and differs from the snapshot before.)
COARSE_CLOCK_SLACK_S = 0.02


class Call(_Call):
    """One hook invocation, its arguments parsed once into named fields."""

    __slots__ = ()

    @classmethod
    def parse(cls, name: str, argv: Sequence[str], env: Mapping[str, str]) -> Call:
        under = precommit.active(env)
        args = list(argv) or (precommit.hook_argv(name, env) if under else [])
        a = [*args, "", "", ""]
        if name == "post-checkout":
            return cls(name, under, a[0] or None, a[1] or None, branch_checkout=a[2] != "0")
        if name == "post-merge":
            return cls(name, under, squash=a[0] == "1")
        if name == "post-rewrite":
            return cls(name, under, rewrite=a[0])
        if name == "pre-rebase":
            return cls(name, under, upstream=a[0], branch=a[1])
        if name == "reference-transaction":
            return cls(name, under, state=a[0])
        return cls(name, under)

    @property
    def hook(self) -> Hook | None:
        return HOOKS.get(self.name)

    @property
    def file_checkout(self) -> bool:
        """post-checkout of files (`git checkout -- f`, `git restore f`), not of a branch."""
        return self.name == "post-checkout" and not self.branch_checkout


class Context:
    """Where the hook runs: the git command above it ("git switch", as the user ran it), when
    it started (Unix time, None if unknown), whether `git snapshot run` reports for it. The
    git command is looked up in /proc on first use (git waits for its hook, so it is still
    there): an unchanged worktree's hook never needs it."""

    __slots__ = ("_call", "_env", "_found", "under_run")

    def __init__(self, call: Call, env: Mapping[str, str]) -> None:
        self._call = call
        self._env = env
        self._found: (
            tuple[str, float | None, str | None, bool, tuple[str, ...], str | None] | None
        ) = None
        self.under_run = bool(env.get(RUN_ENV))

    @classmethod
    def find(cls, call: Call, env: Mapping[str, str]) -> Context:
        return cls(call, env)

    def _find(self) -> tuple[str, float | None, str | None, bool, tuple[str, ...], str | None]:
        if self._found is None:
            from git_snapshot import proc

            chain, _ = proc.ancestors()
            git_proc = proc.user_git_command(chain)
            sub = proc.git_subcommand(git_proc.argv) if git_proc else None
            self._found = (
                f"git {sub}" if sub else _fallback_command(self._call, self._env),
                git_proc.started if git_proc and git_proc.started else None,
                proc.user_dir(chain),
                bool(git_proc and proc.elsewhere(git_proc.argv)),
                git_proc.argv if git_proc and sub else (),
                proc.cwd_of(git_proc.pid) if git_proc else None,
            )
        return self._found

    @property
    def argv(self) -> tuple[str, ...]:
        """The user's git command as it ran (``git -C x restore -s B f``); () if unknown."""
        return self._find()[4]

    @property
    def user_dir(self) -> str | None:
        """The directory of the shell (or program) that ran the git command, None if unknown."""
        return self._find()[2]

    @property
    def git_prefix(self) -> str | None:
        """The git command's folder from the top, as git gives it to its hooks (GIT_PREFIX:
        "d/" for `git -C d restore`); None when git did not set it."""
        return self._env.get("GIT_PREFIX")

    @property
    def redirected(self) -> bool:
        """The user's git command was pointed at this worktree from elsewhere (``git -C``)."""
        return self._find()[3]

    @property
    def git_cwd(self) -> str | None:
        """The directory the user's git command itself runs in, None if unknown: the
        superproject's for a submodule's hook run by `git submodule update`."""
        return self._find()[5]

    @property
    def command(self) -> str:
        return self._find()[0]

    @property
    def started(self) -> float | None:
        return self._find()[1]


def _fallback_command(call: Call, env: Mapping[str, str]) -> str:
    """The command from GIT_REFLOG_ACTION ("pull", "rebase (start)"), else from the hook."""
    action = env.get("GIT_REFLOG_ACTION", "").split(" ", 1)[0]
    if action in ("pull", "merge", "rebase", "checkout", "switch", "cherry-pick", "am"):
        return f"git {action}"
    if not action and call.name == "reference-transaction":
        return "git am"  # the shim lets no other unnamed ORIG_HEAD move through
    if call.name == "post-commit":  # (git runs it at the worktree's root)
        found = gitrepo._at_root(os.getcwd())
        moved = picked(found[0]) if found else None
        if moved:
            return f"git {moved[2]}"
    hook = call.hook
    return f"git {hook.what if hook else call.name}"


def skip_reason(call: Call, repo: gitrepo.Repo, env: Mapping[str, str]) -> str | None:
    """Why this invocation takes no snapshot (None: it does)."""
    if call.hook is None:
        return f"unknown hook {call.name}"
    if precommit.own_checkout(env):
        return "pre-commit's own checkout (the user's edits are stashed)"
    if (
        call.name in ("post-checkout", "reference-transaction")
        and gitrepo.operation(repo) == "rebase"
    ):
        # mid-rebase (pull --rebase also moves ORIG_HEAD): pre-rebase already has the
        # state before, post-rewrite snapshots the result
        return "inside a rebase"
    if call.name == "post-rewrite" and call.rewrite == "amend":
        return "amend changes no file"
    if call.name == "post-commit" and not call.precommit and _pick_adds_nothing(repo):
        return "the pick adds no file"
    if call.precommit and _plain_shim_ran(repo, call.name) and _plain_shim_took(repo, call):
        return "the plain git-snapshot hook already ran"
    return None


def _pick_adds_nothing(repo: gitrepo.Repo) -> bool:
    """Whether this post-commit follows a cherry-pick's or a revert's commit that adds no
    file, where snapshot.postCommit is not true: the pick wrote over nothing (git writes
    over an ignored file only where the commit adds one, and refuses to write over an edit
    or an untracked file), so its hook takes no snapshot (one per pick of a range, ~0.3 s
    each on 300 files; review RF5)."""
    moved = picked(repo.git_dir)
    if moved is None:
        return False
    from git_snapshot import worktree

    return not worktree.settings(repo).post_commit and not step_paths(repo, [moved[:2]], "A")


def _plain_shim_took(repo: gitrepo.Repo, call: Call) -> bool:
    """Whether our plain shim, run by pre-commit as ``NAME.legacy``, took this hook's snapshot:
    always, but for post-commit, which takes one for a cherry-pick's or a revert's commit
    that adds a file (_pick_adds_nothing), and for any other only where it asks
    snapshot.postCommit (``pc=1``) and that is true (the id snapshot-post-commit snapshots
    every commit: it still does)."""
    if call.name != "post-commit":
        return True
    if picked(repo.git_dir):
        return not _pick_adds_nothing(repo)
    from git_snapshot import worktree
    from git_snapshot.hookfiles import PRE_COMMIT_LEGACY_SUFFIX
    from git_snapshot.hookfiles import post_commit_written

    legacy = os.path.join(repo.hooks_dir(), call.name + PRE_COMMIT_LEGACY_SUFFIX)
    return post_commit_written(legacy) and worktree.settings(repo).post_commit


def _plain_shim_ran(repo: gitrepo.Repo, name: str) -> bool:
    """Whether pre-commit's hook script has just run our plain shim as ``<name>.legacy``.

    That is the layout ``git snapshot install`` and ``pre-commit install`` make together (the
    README suggests both, for reference-transaction). pre-commit runs the legacy hook before
    it stashes anything, so the shim saw the real worktree: a second snapshot, and a second
    loss report, from pre-commit's own run of the hook would only repeat it.
    """
    from git_snapshot.hookfiles import PRE_COMMIT_LEGACY_SUFFIX  # it imports this module
    from git_snapshot.hookfiles import is_our_shim

    try:
        hooks_dir = repo.hooks_dir()
    except UserError:
        return False
    return is_our_shim(os.path.join(hooks_dir, name + PRE_COMMIT_LEGACY_SUFFIX))


# set by pre-commit's hook script while it runs the hook it replaced (ours, as NAME.legacy)
PRE_COMMIT_LEGACY_ENV = "PRE_COMMIT_RUNNING_LEGACY"


def _precommit_says_it(repo: gitrepo.Repo, name: str, env: Mapping[str, str]) -> bool:
    """Whether this plain shim runs as pre-commit's ``NAME.legacy`` and pre-commit will then
    run our hook id for the stage (its ``git-snapshot (NAME)....Passed`` line, the one line
    of the git command: RED32; that run takes no second snapshot, _plain_shim_ran). Read
    from the configuration pre-commit's script uses by default; where it names no such id
    (pre-commit for other hooks only, an old branch), the shim's own line is the one."""
    return bool(env.get(PRE_COMMIT_LEGACY_ENV)) and precommit.config_has(repo.toplevel, name)


def _overlay(
    repo: gitrepo.Repo, call: Call, scratch: Callable[[], str], problems: list[str]
) -> gitrepo.Overlay | None:
    """Edits hidden from the worktree right now: git's autostash, or pre-commit's stash.
    *scratch* makes the directory to put them in, only when there are some. pre-commit's
    patch that cannot be read back is said in *problems* and the worktree taken as it is:
    pre-commit holds those edits and puts them back, so stopping the merge keeps nothing."""
    hook = call.hook
    if hook is not None and hook.autostash:
        stash = gitrepo.autostash_commit(repo)
        if stash:
            return gitrepo.overlay_from_stash(repo, stash, scratch())
    if call.precommit:
        patch = precommit.patch()
        if patch:
            try:
                return gitrepo.overlay_from_patch(repo, patch, scratch())
            except UserError as exc:
                problems.append(f"git-snapshot: {exc}")
    return None


def _noted_stash(repo: gitrepo.Repo, call: Call, overlay: gitrepo.Overlay | None) -> str | None:
    """git's pending autostash when this hook's snapshot took edits from it (*overlay* is the
    autostash's: _overlay), for the note of an operation that may end with no post-hook
    (stopped.begin): its check runs after git applied the autostash (autostash.stash_gave_back)."""
    hook = call.hook
    if overlay is None or hook is None or not hook.autostash:
        return None
    return gitrepo.autostash_commit(repo)  # (None: pre-commit's stash, put back already)


def _tell_run(
    repo: gitrepo.Repo, call: Call, overlay: gitrepo.Overlay | None, env: Mapping[str, str]
) -> None:
    """Under `git snapshot run`: git's pending autostash this hook's snapshot took edits from
    (_noted_stash), told to run (tell_run). run's check asks what git gave back of it
    (autostash.stash_gave_back): it compares its snapshot with the worktree after git applied the
    autostash (RED41 R1 F3 under run)."""
    where = env.get(RUN_ENV, "")
    if _run_file(where):
        stash = _noted_stash(repo, call, overlay)
        if stash:
            tell_run(repo, where, [stash])


def _run_file(where: str) -> bool:
    """Whether RUN_ENV's value *where* may name the file a run made (not the "1" of an older
    run)."""
    return os.path.isabs(where) and os.path.basename(where).startswith(RUN_FILE)


def tell_run(repo: gitrepo.Repo, where: str, stashes: list[str]) -> None:
    """Add the autostash commits *stashes* to the file a run made for its command's hooks,
    whose path is RUN_ENV's value *where* (`toplevel NUL commit NUL` each); also from a run
    inside a run, which passes on what its own command's hooks told it (else the outer run
    named the edit its autostash gave back). A value that is no such file is not written
    to: a path outside this worktree's git dir (a stale or foreign environment: a file of
    the user's had the line appended), or no regular file of ours there (a FIFO blocked the
    hook, and git with it, for ever). OSError when it cannot be written."""
    import stat  # (os imported it)

    if not (stashes and _run_file(where)):
        return
    if not os.path.samefile(os.path.dirname(where), repo.git_dir):
        return
    fd = os.open(where, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():  # (run made it)
            top = os.fsencode(repo.toplevel)
            os.write(fd, b"".join(top + b"\0" + s.encode() + b"\0" for s in stashes))
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- what was lost


# the reflog messages of a commit a cherry-pick or a revert made (git 2.39: the sequencer's
# "cherry-pick: " and "revert: ", and `git commit` or `--continue` ending a pick stopped by a
# conflict, "commit (cherry-pick): "; one ending a stopped revert says "commit: ", as any)
_PICKED = (b"cherry-pick: ", b"revert: ", b"commit (cherry-pick): ")


def picked(git_dir: str) -> tuple[str, str, str] | None:
    """(HEAD before, HEAD after, "cherry-pick" or "revert") when the commit whose post-commit
    runs was made by a cherry-pick or a revert, as the last line of HEAD's reflog says (the
    shim's same test); None for any other commit, or with no reflog. Such a pick writes the
    worktree as a merge does: over an ignored file the commit brings in (red44 F5)."""
    try:
        last = reflog_tail(git_dir, 1 << 16).rstrip(b"\n").rpartition(b"\n")[2]
    except OSError:
        return None
    entry = reflog_entry(last)
    if entry is None or not entry[2].startswith(_PICKED):
        return None
    for old, new, _ in real_moves([entry[:3]]):
        return old, new, "revert" if entry[2].startswith(b"revert: ") else "cherry-pick"
    return None


REFLOG_TAIL = 1 << 20  # the end of HEAD's reflog head_steps reads (~5,000 moves)


def head_steps(
    git_dir: str, since: float, actions: tuple[bytes, ...] = ()
) -> list[tuple[str, str]]:
    """(from, to) of each move of HEAD since *since* (unix time), oldest first, from the
    worktree's reflog of HEAD (losses.reflog_since); [] when there is none. With *actions*,
    only the moves whose message's first word is one of them (b"rebase": "rebase (pick): ...")."""
    from git_snapshot.losses import reflog_since

    moves = real_moves(reflog_since(git_dir, since, REFLOG_TAIL))
    out = [(old, new) for old, new, word in moves if not actions or word in actions]
    out.reverse()
    return out


def reflog_tail(git_dir: str, size: int) -> bytes:
    """The last *size* bytes of the worktree's reflog of HEAD (OSError: none, or unreadable)."""
    with open(os.path.join(git_dir, "logs", "HEAD"), "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - size))
        return f.read()


def reflog_entry(line: bytes) -> tuple[str, str, bytes, int | None] | None:
    """(from, to, message, time: None when it is no number) of a line of a reflog (`<from>
    <to> <who> <time> <zone>\t<message>`); None for a line with fewer fields (the empty one
    after the last, or one cut by reflog_tail). reflog_since, run._moves_since and picked."""
    head, _, msg = line.partition(b"\t")
    words = head.split(b" ")
    if len(words) < 4:
        return None
    try:
        when: int | None = int(words[-2])
    except ValueError:
        when = None
    return words[0].decode("ascii", "replace"), words[1].decode("ascii", "replace"), msg, when


def real_moves(entries: Iterable[tuple[str, str, bytes]]) -> Iterator[tuple[str, str, bytes]]:
    """(from, to, first word of its message: b"rebase" of "rebase (pick): ...") of each of the
    reflog *entries* (from, to, message) that moved HEAD from a commit to another (not to or
    from none: all zeros). head_steps and run._moves_since."""
    for old, new, msg in entries:
        real = gitrepo.is_oid(old) and gitrepo.is_oid(new)
        if real and old != new and not (gitrepo.is_null_oid(old) or gitrepo.is_null_oid(new)):
            yield old, new, msg.partition(b" ")[0].partition(b":")[0]


def tree_changes(
    repo: gitrepo.Repo, lines: Sequence[str], only: str = ""
) -> list[tuple[bytes, bytes]]:
    """(git's status letter, path) of each file each of *lines* changed (diff-tree --stdin's:
    a commit and the one it is compared with, or one alone, with its parent or, a root, with
    nothing; *only*: of these changes, git's --diff-filter letters): one diff-tree for all of
    them (a commit gone since ends the list). step_paths and run._diff_paths."""
    out = gitrepo.run_git(
        repo.toplevel,
        "diff-tree",
        "--stdin",
        "-r",
        "-z",
        "--root",
        "--no-renames",
        "--name-status",
        "--no-commit-id",
        *([f"--diff-filter={only}"] if only else []),
        input="".join(f"{line}\n" for line in lines).encode("ascii"),
        check=False,
    )
    fields = out.split(b"\0")
    return list(zip(fields[0::2], fields[1::2]))


def step_paths(repo: gitrepo.Repo, steps: Sequence[tuple[str, str]], only: str = "") -> set[bytes]:
    """The paths that each (from, to) of *steps* (head_steps) wrote or deleted (*only*: of
    these changes, git's --diff-filter letters): tree_changes."""
    if not steps:
        return set()
    return {p for _, p in tree_changes(repo, [f"{new} {old}" for old, new in steps], only)}


# the hooks that check what git's autostash deleted (RED40 F1): the stash is made before
# pre-rebase; a merge's after its reference-transaction, and applied after post-merge
AUTOSTASH_CHECKS = ("pre-rebase", "post-merge")


def _merge_stashes(call: Call, env: Mapping[str, str], repo: gitrepo.Repo) -> bool:
    """Whether the operation whose pre-hook runs now may be a merge that makes git's
    autostash (its stopped note's check asks autostash.stopped_stash_wrote only then: a merge that
    did not leaves such a folder alone, and the later command that deletes it names it
    itself; review41 RA). The merge process's own words (`git merge`, an alias expanded, or
    the one a merging `git pull` runs, which passes it --autostash or --no-autostash when
    given one), else merge.autoStash (`git -c` too); a branch's mergeOptions that may say
    it, or a merge not found above this hook: True (not known). A rebase's autostash ran
    before pre-rebase (autostash._autostash_losses), an am makes none: False."""
    if call.name != "reference-transaction":
        return False
    if not env.get("GIT_REFLOG_ACTION", "").startswith(("merge", "pull")):
        return False
    from git_snapshot import proc

    merge = next((p.argv for p in proc.ancestors()[0] if proc.git_subcommand(p.argv)), ())
    merge = proc.expanded(merge)  # (the innermost git: pull's merge, or the user's own)
    if proc.git_subcommand(merge) != "merge":
        return True
    said = _autostash_said(merge[proc.command_index(merge) + 1 :])
    if said is not None:
        return said
    stashes = False  # git's default
    for key, value in gitrepo.merge_config(repo):
        if key == "merge.autostash":  # (a spelling of false not among these: not known)
            stashes = value.lower() not in ("false", "no", "off", "0", "")
        elif "-au" in value:  # (a mergeOptions that may say --autostash or --no-autostash)
            return True
    return stashes


# git merge's options that take the next word as their value (abbreviated too: `--mess`)
_MERGE_VALUED = ("--message", "--file", "--strategy", "--strategy-option", "--cleanup")
_MERGE_VALUED_SHORT = "mFsX"


def _autostash_said(words: Sequence[str]) -> bool | None:
    """What git merge's *words* (its options and arguments) say of the autostash: the last
    of --autostash / --no-autostash (or a unique abbreviation of one, as git takes it:
    `--autos`, `--no-au`), up to `--`; None when neither is there."""
    said = None
    it = iter(words)
    for w in it:
        if w == "--":
            break
        if w.startswith("--"):
            if "=" in w:
                continue
            if len(w) >= 4 and "--autostash".startswith(w):
                said = True
            elif len(w) >= 7 and "--no-autostash".startswith(w):
                said = False
            elif len(w) >= 3 and any(o.startswith(w) for o in (*_MERGE_VALUED, "--into-name")):
                next(it, None)
        elif w.startswith("-"):
            for i, c in enumerate(w[1:], 2):
                if c == "S":  # (-S[keyid]: its value, if any, is the rest of the word)
                    break
                if c in _MERGE_VALUED_SHORT:
                    if i == len(w):
                        next(it, None)
                    break
    return said


# --------------------------------------------------------------------------- the hook


def _may_stop(call: Call, env: Mapping[str, str], repo: gitrepo.Repo) -> bool:
    """Whether the operation this pre-hook runs for may stop with no post-hook after it (a
    conflict): a merge or pull (the shim's own test), or a rebase; or has no hook of ours
    after it at all: `git am` (GIT_REFLOG_ACTION unset)."""
    if call.name == "pre-rebase":
        return True
    if call.name != "reference-transaction":
        return False
    action = env.get("GIT_REFLOG_ACTION", "")
    return action.startswith(("merge", "pull")) or (not action and gitrepo.am_starting(repo))


def _watched(repo: gitrepo.Repo) -> bool:
    """Whether a live watcher keeps this worktree's dirty set (then worktree.take asks git
    for the labels only if the dirty set says something changed)."""
    try:
        from git_snapshot.store import location

        store = str(location.store_dir())
        if not os.path.isdir(os.path.join(store, "watch")):
            return False
        from git_snapshot.watch import dirtyset
        from git_snapshot.watch import instance

        journal = dirtyset.journal_path(store, repo.toplevel)
        if not os.path.exists(journal) or instance.running(store) is None:
            return False
        # the token of the dirty set's sync, written now (git has written what it writes):
        # the daemon answers while this process imports and opens the store
        dirtyset.sync_start(store, repo.toplevel)
        return True
    except Exception:  # the snapshot says what is wrong with the store, not this guess
        return False


def _user_cwd(repo: gitrepo.Repo, env: Mapping[str, str], ctx: Context) -> str:
    """Where the user ran git: hooks run in the worktree root. The directory of the process
    that ran git when it is in this worktree (`git pull` in a subdirectory runs `git merge`
    in the root; `git -C sub` runs in sub while the user is elsewhere), else GIT_PREFIX."""
    user = ctx.user_dir
    top = os.path.realpath(repo.toplevel)
    if user and os.path.isabs(user) and os.path.isdir(user):  # not "/x (deleted)"
        real = os.path.realpath(user)
        if real == top or real.startswith(top + os.sep):
            gitdir = os.path.realpath(repo.git_dir)
            if not (real == gitdir or real.startswith(gitdir + os.sep)):
                return os.path.join(repo.toplevel, os.path.relpath(real, top))
        elif ctx.redirected or _outside(ctx.git_cwd, top):
            # `git -C ../other checkout` from another repository: its report's restore
            # command names this worktree with -C (Report.lines), or pasted where the user
            # is it would restore that repository's snapshot of the same number (RED30);
            # so does a submodule's hook run by the superproject's `git submodule update`,
            # whose git moved into the submodule by itself (RED39 B3)
            return user
    prefix = env.get("GIT_PREFIX", "")
    where = os.path.normpath(os.path.join(repo.toplevel, prefix))
    if prefix and os.path.isdir(where) and where.startswith(repo.toplevel):
        return where
    return repo.toplevel


def _outside(folder: str | None, top: str) -> bool:
    """*folder* is known and not in the worktree whose real top is *top*."""
    if not folder or not os.path.isabs(folder) or not os.path.isdir(folder):
        return False
    real = os.path.realpath(folder)
    return not (real == top or real.startswith(top + os.sep))


def _quiet(repo: gitrepo.Repo) -> bool:
    quiet = gitrepo.typed_config(repo, "bool", ["snapshot.quiet"], gitrepo.config(repo))
    return quiet.get("snapshot.quiet") == "true"


def handle(call: Call, cwd: str, env: Mapping[str, str]) -> list[str]:
    """Do the hook's work; returns the lines to print."""
    started = time.time()
    # one process per git command: git's answers (config, tracked and ignored paths) are
    # asked once, side by side, while the store opens
    repo = gitrepo.find_repo(cwd, remember=True)
    if os.geteuid() == 0 and "SUDO_UID" in os.environ:  # `sudo git ...`: the user's hook
        from git_snapshot import sudo

        sudo.become_sudoer(repo.toplevel, os.environ)  # before the store opens
    if skip_reason(call, repo, env):
        return []
    # git's config is needed either way: it runs while _watched imports the journal's code
    gitrepo.prefetch(repo, labels=False)
    # with a live watcher, an unchanged worktree needs none of git's labels: on a big tree
    # `ls-files --others --ignored` costs more than the rest of such a hook (a walk of its own)
    if not _watched(repo):
        gitrepo.prefetch(repo)
    try:
        return _handle(call, repo, env, started)
    finally:
        gitrepo.release(repo)
        dirtyset = sys.modules.get("git_snapshot.watch.dirtyset")
        if dirtyset is not None:
            dirtyset.sync_abandon()  # a token written early that no snapshot used


def _handle(call: Call, repo: gitrepo.Repo, env: Mapping[str, str], started: float) -> list[str]:
    # losses and output are imported where a report or a new snapshot needs them: an
    # unchanged worktree's hook (the usual one) imports neither
    from git_snapshot import boundary
    from git_snapshot import worktree
    from git_snapshot.store import Store

    boundary.allow_deep_trees()  # the command line's entry does it; hookmain's does not
    hook = HOOKS[call.name]
    ctx = Context.find(call, env)
    reports: list[lossreport.Report] = []
    earlier: lossreport.Report | None = None  # what an earlier, stopped operation destroyed
    soft: set[bytes] = set()  # of it, edits a reset left at HEAD's version (stopped.settle)
    note: dict[str, Any] | None = None  # the stopped note its own post-hook reads (own_note)
    problems: list[str] = []
    # a wait for the store's lock (a repair, a gc, a suspended one) is said, once
    Store.on_wait = _say_waiting(call)
    Store.on_wait_after = LOCK_QUIET_S
    with Store() as store:
        cfg = worktree.settings(repo)
        held: list[AbstractContextManager[str]] = []  # contextlib's ExitStack, without it

        def scratch() -> str:
            cm = store.scratch()
            path = cm.__enter__()
            held.append(cm)
            return path

        try:
            overlay = _overlay(repo, call, scratch, problems)
            if call.name == "post-checkout" and overlay is None and not ctx.under_run:
                try:  # (only a report depends on it)
                    from git_snapshot.findlosses import _prepared_before

                    _prepared_before(store, repo, call, ctx)
                except Exception as exc:
                    problems.append(f"git-snapshot: the watcher's prepared tree not kept: {exc}")
            res = worktree.take(
                store, repo, trigger=call.name, overlay=overlay, cfg=cfg, skip_if_unchanged=True
            )
        except Exception as exc:
            # no snapshot after the operation (its store's disk full, say): what it destroyed
            # is still named, from the worktree itself (the earlier snapshot needs no room)
            if hook.pre or ctx.under_run or call.precommit:
                raise
            raise _Failed(exc, _losses_anyway(store, repo, call, ctx, started, env)) from exc
        finally:
            for cm in reversed(held):
                cm.__exit__(None, None, None)
        # The snapshot is taken: nothing after this may turn it into a failure (for a
        # pre-hook, that would stop the git command for no reason).
        if ctx.under_run and overlay is not None:
            with suppress(Exception):  # (not told: run names what the autostash took)
                _tell_run(repo, call, overlay, env)
        if hook.sees_before:
            from git_snapshot import lossrecord

            lossrecord.note_checked(store, repo, res.snapshot.id, call.name)
        if not ctx.under_run and os.path.lexists(os.path.join(repo.git_dir, PENDING)):
            try:  # a merge or rebase that stopped with no hook after it (stopped.py)
                from git_snapshot import stopped

                if call.name in stopped.OWN_REPORT:  # (read once: find_losses, held_since)
                    note = stopped.own_note(store, repo)
                else:
                    earlier = stopped.consume(store, repo, call.name, res.snapshot.root, soft=soft)
            except Exception as exc:
                problems.append(f"git-snapshot: could not check an earlier operation: {exc}")
        if not ctx.under_run and _may_stop(call, env, repo):
            with suppress(Exception):  # only a later report depends on it
                from git_snapshot import stopped

                brings = stopped.targets(repo, call, env)
                stopped.begin(
                    repo,
                    res.snapshot,
                    ctx.command,
                    brings,
                    _noted_stash(repo, call, overlay),
                    rebase=call.name == "pre-rebase",
                    stashes=_merge_stashes(call, env, repo),
                )
        # git's autostash ran before pre-rebase, or in a merge, and may have destroyed
        autostash = call.name in AUTOSTASH_CHECKS and bool(gitrepo.autostash_commit(repo))
        if (not hook.pre or autostash) and not ctx.under_run:
            try:
                # the shared lock from the choice of the snapshot compared with until the
                # report naming it is in the log: a prune forgets (retention.forget_unnamed)
                # and gc deletes only after, never what is being read or about to be named
                # (RED34 D3: "object ... is missing from the index", and a report naming a
                # snapshot the prune then forgot)
                with store.lock():
                    if not hook.pre:
                        from git_snapshot.findlosses import find_losses

                        reports = find_losses(store, repo, call, ctx, started, res, overlay, note)
                    if autostash:
                        from git_snapshot.autostash import _autostash_losses

                        reports += _autostash_losses(
                            store, repo, call, ctx, started, res, overlay, reports
                        )
                    if reports and earlier:
                        from git_snapshot import stopped

                        reports, earlier = stopped.settle(reports, earlier, soft)  # once
                    if earlier and soft:  # (not recorded yet: stopped.consume's *soft*)
                        from git_snapshot import lossrecord

                        lossrecord.record(store, repo, earlier)  # (first: it came first)
                        soft.clear()
                    if reports:
                        from git_snapshot import lossrecord

                        for report in reports:
                            lossrecord.record(store, repo, report)
            except Exception as exc:
                problems.append(
                    f"git-snapshot: could not check what {ctx.command} destroyed: {exc}"
                )
        if earlier and soft:  # (not recorded above: no check of this hook's own)
            try:
                from git_snapshot import lossrecord

                lossrecord.record(store, repo, earlier)
            except Exception as exc:
                problems.append(f"git-snapshot: could not check an earlier operation: {exc}")
        try:
            if res.new:  # (nothing stored: nothing to thin; every row read for nothing)
                worktree.apply_retention(store, repo, cfg)
        except Exception as exc:
            problems.append(f"git-snapshot: retention not applied: {exc}")
        if cfg.watch:
            _watcher(store.path, repo.toplevel)
        away = [] if call.precommit else _take_everywhere(store.losses_dir)
        if cfg.auto_push and res.new:  # a detached push, at most one a minute: no waiting
            from git_snapshot.store.remote.auto import kick

            kick(store.path, cfg.auto_push)
    s = res.snapshot
    lines = []
    if res.new:
        from git_snapshot import output

        lines = [f"git-snapshot: {w}" for w in output.snapshot_warnings(s)]
    if not call.precommit:  # what the watcher saw go (bursts.py), printed once; pre-commit
        lines = _take_unseen(repo) + away + lines  # hides it: the next command prints it
    if earlier:
        lines += earlier.lines(repo, _user_cwd(repo, env, ctx), absolute=call.precommit)
    if reports:
        # under pre-commit without a terminal the report waits for the next git-snapshot
        # command, wherever it runs: its restore command names absolute paths
        where = _user_cwd(repo, env, ctx)
        for report in reports:
            lines += report.lines(repo, where, absolute=call.precommit)
    elif (
        not hook.pre
        and not ctx.under_run
        and not call.precommit
        and not _precommit_says_it(repo, call.name, env)
        and not _quiet(repo)
    ):
        # the one line per git command: post-hooks only (a pre-hook's snapshot shows here);
        # under pre-commit its own "...Passed" line is that one line
        lines.insert(0, _status(s, res.new, call.name))
    return lines + problems


class _Failed(Exception):
    """A post-hook's snapshot failed (*cause*), and *lines* say what the operation destroyed
    (run_hook prints both)."""

    def __init__(self, cause: Exception, lines: list[str]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.lines = lines


def _losses_anyway(
    store: Store,
    repo: gitrepo.Repo,
    call: Call,
    ctx: Context,
    started: float,
    env: Mapping[str, str],
) -> list[str]:
    """The loss report's lines of an operation whose post-hook could take no snapshot, from
    the worktree (findlosses.find_losses without one after); none when it cannot be made."""
    try:
        from git_snapshot.findlosses import find_losses

        reports = find_losses(store, repo, call, ctx, started, None, None)
        if not reports:
            return []
        from git_snapshot import lossrecord

        where = _user_cwd(repo, env, ctx)
        lines = []
        for report in reports:
            with suppress(Exception):  # (the store's disk is full: only the log misses it)
                lossrecord.record(store, repo, report)
            lines += report.lines(repo, where, absolute=call.precommit)
        return lines
    except Exception:
        return []


def _watcher(store_path: str, toplevel: str) -> None:
    """The watcher knows this worktree and runs: a stat and a flock when it does, else a
    detached start (never waited for). Never a reason for a hook to fail. Nothing is imported
    when GIT_SNAPSHOT_WATCH turns the start off, as instance.autostart_disabled reads it
    (registry.ensure then does nothing either): the watch package's three modules were ~1.5 M
    instructions of such a hook."""
    if os.environ.get(WATCH_ENV, "") in WATCH_OFF:
        return
    if os.geteuid() == 0:
        from git_snapshot import sudo

        if sudo.owner(toplevel) != 0:
            # root's store, another user's worktree (sudo for a third user, su): a root daemon
            # would copy their files into root's store on and on (RED40 C2); the hook's
            # snapshot is as far as root's command goes
            return
    with suppress(Exception):
        from git_snapshot.watch import registry  # standard library only

        registry.ensure(store_path, toplevel)


def _take_unseen(repo: gitrepo.Repo) -> list[str]:
    """lossrecord.take_unseen, importing lossrecord only when there is something to take."""
    if not os.path.exists(os.path.join(repo.git_dir, UNSEEN)):
        return []
    from git_snapshot import lossrecord

    return lossrecord.take_unseen(repo)


def _take_everywhere(losses_dir: str) -> list[str]:
    """lossrecord.take_everywhere (the watcher's report of a repository deleted whole), importing
    losses only when there is something to take."""
    if not os.path.exists(os.path.join(losses_dir, EVERYWHERE)):
        return []
    from git_snapshot import lossrecord

    return lossrecord.take_everywhere(losses_dir)


def _status(s: Snapshot, new: bool, trigger: str) -> str:
    if new:
        from git_snapshot import output

        added = output.size(s.added_bytes)
        return f"git-snapshot: snapshot {s.id} ({trigger}): {output.files(s.files)}, +{added}"
    return f"git-snapshot: unchanged since snapshot {s.id}"


def _aftermath(name: str, cwd: str) -> str:
    """What git leaves behind when this pre-hook stops it, and how to get out (or '')."""
    try:
        repo = gitrepo.find_repo(cwd)
        stash = gitrepo.autostash_commit(repo)
    except Exception:
        return ""
    if name == "pre-rebase" and stash:
        # git 2.39 does not apply its autostash back when pre-rebase refuses
        return (
            "; git keeps your uncommitted edits in its autostash: get them back with "
            "'git rebase --quit && git stash pop'"
        )
    if name == "pre-merge-commit":
        return (
            "; git left the merge written but not committed: 'git merge --abort' undoes it, "
            "'git merge --continue' commits it"
        )
    if name == "reference-transaction" and gitrepo.am_starting(repo):
        return "; git left the am's state folder behind: run 'git am --abort' first"
    return ""


TTY = "/dev/tty"


def tell(call: Call, cwd: str, lines: list[str]) -> None:
    """Show *lines* to the user. pre-commit hides what a passing hook prints (a hook that
    failed to be heard would have to fail git's command): there they go to the controlling
    terminal, and without one they wait for the next git-snapshot command in this worktree
    (the loss log has them anyway)."""
    if not lines:
        return
    if not call.precommit:
        for line in lines:  # what was destroyed in red, where git would colour
            if " destroyed " in line or line.startswith("git-snapshot: not saved"):
                from git_snapshot import output

                line = output.paint(line, "red", sys.stderr)
            print(line, file=sys.stderr)
        return
    try:
        with open(TTY, "w", encoding="utf-8", errors="surrogateescape") as tty:
            # pre-commit has written "name.....", and writes "Passed" once the hook is
            # done: the report goes on lines of its own, "Passed" below it
            tty.write("".join(f"\n{line}" for line in lines) + "\n")
        return
    except OSError:
        pass  # no controlling terminal (CI, an IDE, a GUI client)
    with suppress(Exception):
        from git_snapshot import lossrecord

        lossrecord.hold(gitrepo.find_repo(cwd), lines)
    for line in lines:
        print(line, file=sys.stderr)  # shown if pre-commit is told to be verbose


# A hook waits for the store's lock as long as another git-snapshot holds it exclusively (a
# repair, a gc): DESIGN's hooks never fail on a lock, and giving up would stop a pre-hook's git
# command, or leave a post-hook's operation without its snapshot and loss report. A wait
# longer than this is said (RED34 D4: one behind a suspended repair looked hung); a gc's
# moment is not.
LOCK_QUIET_S = 1.0


def _say_waiting(call: Call) -> Callable[[], None]:
    """Store.on_wait for this hook: one line, the first time it waits, where a person
    watching sees it now (a wait over is not worth keeping for the next command)."""
    said: list[bool] = []

    def say() -> None:
        if said:
            return
        said.append(True)
        with suppress(Exception):
            from git_snapshot import lockwait

            lockwait.on_screen(call, lockwait.waiting_line(lockwait.lock_holder()))

    return say


def _problem(exc: Exception) -> str:
    if isinstance(exc, (UserError, OSError)):
        return str(exc)
    # loaded if one of its errors was raised (the C module: see git_snapshot/sqlite.py)
    sqlite3 = sys.modules.get("_sqlite3") or sys.modules.get("sqlite3")
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        from git_snapshot import boundary  # a damaged index: name repair, not an internal error

        return boundary.sqlite_message(exc)
    return f"internal error {exc!r}"


def run_hook(name: str, argv: Sequence[str], cwd: str = ".") -> int:
    env = os.environ
    if env.get("GIT_SNAPSHOT_SKIP") == "1":
        return 0
    call = Call.parse(name, argv, env)
    lost: list[str] = []
    try:
        tell(call, cwd, handle(call, cwd, env))
        return 0
    except Exception as exc:  # a post-hook must never fail the git command
        from git_snapshot import output  # (the failure path only)

        if isinstance(exc, _Failed):  # (and what the operation destroyed, said after)
            lost = exc.lines
        cause = exc.cause if isinstance(exc, _Failed) else exc
        problem = output.one_line(_problem(cause))  # a path in it: on its line, no escape
        # another user's store: this process can never snapshot into it, whatever it does
        # (a `sudo -E git ...`), so stopping git would protect nothing (RED40 C1)
        foreign = isinstance(cause, NotYourStore)
    if name in PRE_HOOKS and not foreign:
        # the shim lets reference-transaction through unnamed only for an am
        unnamed = name == "reference-transaction" and not env.get("GIT_REFLOG_ACTION")
        what = "am" if unnamed else HOOKS[name].what
        print(
            f"git-snapshot: could not snapshot before the {what}, so git "
            f"stopped it: {problem}; to go on without a backup: GIT_SNAPSHOT_SKIP=1 git ..."
            f"{_aftermath(name, cwd)}",
            file=sys.stderr,
        )
        return 1
    # told as a loss report is (RED34 D1): pre-commit hides a passing hook's stderr, and a
    # failure nobody hears is protection the user thinks is there and is not
    failed = f"git-snapshot: {name} snapshot failed: {problem}"
    try:
        tell(call, cwd, [failed, *lost])
    except Exception:
        print(failed, file=sys.stderr)
    return 0
