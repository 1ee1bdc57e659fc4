"""Install and uninstall the plain git hook shims (``git snapshot install`` / ``uninstall``).

Every shim is the same POSIX ``sh`` file, ``shims/hook.sh`` (also shipped as ``hooks/<name>``),
with one line filled in: ``exe=<git-snapshot> forward=<dir> py=<python> tag=<cache tag>
lib=<folders>`` (the last three: :func:`fast_start`). It learns which hook it is from
its own file name. Two layouts, chosen by :func:`install_repo`:

Chaining, in the hooks directory git uses when ``core.hooksPath`` is unset (``.git/hooks``):
    ``<name>`` is our shim; ``<name>.git-snapshot-chained`` is the hook that was there before,
    run by the shim after the snapshot with the same arguments and stdin; uninstall moves it
    back byte for byte. pre-commit's hook script runs ``<name>.legacy`` and moves any other
    hook there when re-installed, so when ``<name>`` is pre-commit's script our shim goes to
    ``<name>.legacy`` (both install orders end in the same state).

Forwarding, when ``core.hooksPath`` is set (husky's ``.husky/_``, a tracked ``.githooks``, a
shared directory): nothing in that directory is touched. Our own directory
``<git common dir>/git-snapshot/hooks`` gets a shim under every hook name git knows; each
runs the snapshot (for our six hooks) and then the hook of the same name in the directory git
used before, under its own path, so a dispatcher that looks itself up by ``basename $0``
(husky) still finds its hook. The local ``core.hooksPath`` then points at our directory; its
previous local value is kept in ``snapshot.hooksPathBefore`` and put back by uninstall. A tool
that sets ``core.hooksPath`` again (husky's ``npm install``) only bypasses us: every user hook
still runs, ``git snapshot doctor`` says ours will not, and ``install`` works again.

Our directory's path is absolute (git resolves a relative one from each worktree's root, and a
linked worktree's ``.git`` is a file): after the repository is moved or copied it names the old
place (:func:`is_old_place`); doctor says so, and install points it at the new place, keeping
the value to put back. A ``core.hooksPath`` that git reads after the repository's own config
(an included file, a worktree's config) cannot be taken over: install refuses, changing
nothing (:func:`overridden`). Forwarding to a global or system value, the shims look it up
when they run (but for reference-transaction, whose no-op path spawns nothing: doctor says when
it differs).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys

from git_snapshot import gitrepo
from git_snapshot import hooks
from git_snapshot.errors import UserError
from git_snapshot.hookfiles import CHAINED_SUFFIX
from git_snapshot.hookfiles import GIT_HOOK_NAMES
from git_snapshot.hookfiles import LEFTHOOK_OLD_SUFFIX
from git_snapshot.hookfiles import PRE_COMMIT_LEGACY_SUFFIX
from git_snapshot.hookfiles import file_head
from git_snapshot.hookfiles import is_lefthook_script
from git_snapshot.hookfiles import is_our_shim
from git_snapshot.hookfiles import is_pre_commit_script
from git_snapshot.hookfiles import shim_text
from git_snapshot.store.safewrite import atomic_write
from git_snapshot.store.safewrite import fsync_dir

# The hooks install puts in place, from the one table of hook facts.
HOOK_NAMES = hooks.INSTALLED
# put in place too: a snapshot after a cherry-pick or a revert, or any commit where
# snapshot.postCommit is true (the shim tells them apart; an ordinary commit starts one `tail`)
POST_COMMIT = "post-commit"
# Our own hooks directory in forwarding mode, under the git common dir.
OWN_HOOKS_DIR = os.path.join("git-snapshot", "hooks")
BEFORE_KEY = "snapshot.hooksPathBefore"

# A hook that finds its own files from its name (husky's `. "$(dirname "$0")/h"`, husky 4's
# husky.sh): it cannot run as NAME.git-snapshot-chained.
_USES_OWN_NAME = re.compile(rb"(basename|dirname)[^\n]*\$\{?0\b|\$\{0(%|#)")


def _stale_copy(hook: str, chained: str) -> bool:
    """Whether *chained* is a left-over copy of what now sits at *hook* again: a hook manager
    (lefthook, husky) wrote its script over our shim, so the chained copy is no longer needed."""
    a, b = _read(hook), _read(chained)
    if a is None or b is None:
        return False
    return a == b or (is_lefthook_script(hook) and is_lefthook_script(chained))


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _keep_and_replace(path: str, keep_as: str, data: bytes) -> None:
    """Move the file at *path* to *keep_as* and write our shim at *path*.

    The old file is hard-linked first when possible, so *path* never goes missing for a git
    command running meanwhile; a rename (which keeps the bytes and the mode) otherwise.
    """
    try:
        os.link(path, keep_as, follow_symlinks=False)
        linked = True
    except FileExistsError:
        raise  # appeared since we looked: never overwrite a kept hook
    except OSError:  # no hard links here
        os.rename(path, keep_as)
        linked = False
    try:
        atomic_write(path, data, mode=0o755)
    except BaseException:
        if linked:
            os.unlink(keep_as)
        else:
            os.rename(keep_as, path)
        raise


# --------------------------------------------------------------------------- chaining mode


class _Plan:
    """One hook's change. A plain class: dataclasses imports inspect and ast (8 ms of every
    install and doctor)."""

    __slots__ = ("data", "keep_as", "message", "name", "remove", "target")

    def __init__(
        self,
        name: str,
        target: str,  # where our shim goes
        data: bytes,
        message: str,
        keep_as: str | None = None,  # move the file at target here first
        remove: list[str] | None = None,
    ) -> None:
        self.name = name
        self.target = target
        self.data = data
        self.message = message
        self.keep_as = keep_as
        self.remove = [] if remove is None else remove

    def run(self) -> str:
        for path in self.remove:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        if self.keep_as is not None:
            _keep_and_replace(self.target, self.keep_as, self.data)
        elif _read(self.target) != self.data or not os.path.isfile(self.target):
            atomic_write(self.target, self.data, mode=0o755)
        elif os.stat(self.target).st_mode & 0o777 != 0o755:
            os.chmod(self.target, 0o755)
        return self.message


def _conflict(name: str, path: str, chained: str) -> UserError:
    return UserError(
        f"{name}: both {path} and {chained} exist and neither is git-snapshot's; "
        "move one of them away and run 'git snapshot install' again"
    )


def _refuse_own_name(name: str, hook: str) -> UserError:
    return UserError(
        f"{name}: {hook} finds its own files from its name ($0), so it would stop working "
        f'if moved aside; add the line  git-snapshot hook {name} "$@"  to it yourself, '
        "or run git snapshot install again once it is gone"
    )


def _plan(hooks_dir: str, name: str, exe: str, post_commit: bool = False) -> _Plan:
    hook = os.path.join(hooks_dir, name)
    legacy = hook + PRE_COMMIT_LEGACY_SUFFIX
    chained = hook + CHAINED_SUFFIX
    chained_name = name + CHAINED_SUFFIX
    data = shim_text(name, exe, post_commit=post_commit).encode()
    remove: list[str] = []
    # lefthook moves our shim to NAME.old (which it never runs) and refuses to install while
    # that file exists: an old shim of ours there is only in the way.
    if is_our_shim(hook + LEFTHOOK_OLD_SUFFIX):
        remove.append(hook + LEFTHOOK_OLD_SUFFIX)
    # A shim never chains a shim: that one would call itself (same chained path) forever.
    # Nor a copy of what is at NAME again (a hook manager rewrote its script over our shim).
    if is_our_shim(chained) or (
        not is_our_shim(hook) and not is_pre_commit_script(hook) and _stale_copy(hook, chained)
    ):
        remove.append(chained)
        have_chained = False
    else:
        have_chained = os.path.lexists(chained)

    def _ours(target: str, where: str) -> _Plan:
        current = _read(target)
        if current == data and not os.access(target, os.X_OK):  # run() makes it executable
            msg = f"{name}: made executable again{where}"
        elif current == data:
            msg = f"{name}: already installed{where}"
        else:
            msg = f"{name}: updated{where} (runs {exe})"
        return _Plan(name, target, data, msg, remove=remove)

    if is_our_shim(hook):
        return _ours(hook, "")
    if is_pre_commit_script(hook):
        where = f" as {name}{PRE_COMMIT_LEGACY_SUFFIX}, which pre-commit's hook runs"
        if is_our_shim(legacy):
            return _ours(legacy, where)
        if os.path.lexists(legacy):
            if have_chained:
                raise _conflict(name, legacy, chained)
            if _USES_OWN_NAME.search(file_head(legacy)):
                raise _refuse_own_name(name, legacy)
            msg = (
                f"{name}: installed{where}; chained the previous {name}.legacy (now {chained_name})"
            )
            return _Plan(name, legacy, data, msg, keep_as=chained, remove=remove)
        msg = f"{name}: installed{where}"
        if have_chained:
            msg += f"; chaining the existing {chained_name}"
        return _Plan(name, legacy, data, msg, remove=remove)
    if os.path.lexists(hook):
        if have_chained:
            raise _conflict(name, hook, chained)
        if _USES_OWN_NAME.search(file_head(hook)):
            raise _refuse_own_name(name, hook)
        msg = f"{name}: installed; chained the existing hook (now {chained_name})"
        return _Plan(name, hook, data, msg, keep_as=chained, remove=remove)
    msg = f"{name}: installed"
    if have_chained:
        msg += f"; chaining the existing {chained_name}"
    return _Plan(name, hook, data, msg, remove=remove)


def install(
    hooks_dir: str, exe: str, names: tuple[str, ...] = HOOK_NAMES, post_commit: bool = False
) -> list[str]:
    """Put a shim for every hook in *names* into *hooks_dir*, chaining what is there; one
    message per hook.

    Idempotent: a second run changes nothing (or only the exe path, if it changed). Every
    conflict is found before anything is changed.
    """
    os.makedirs(hooks_dir, exist_ok=True)
    plans = [_plan(hooks_dir, name, exe, post_commit) for name in names]
    return [plan.run() for plan in plans]


def hook_names(repo: gitrepo.Repo) -> tuple[str, ...]:
    """The hooks to install in *repo*: post-commit too (a cherry-pick's or a revert's report;
    every commit's snapshot where snapshot.postCommit is true: _post_commit)."""
    return (*HOOK_NAMES, POST_COMMIT)


def _post_commit(repo: gitrepo.Repo) -> bool:
    """Whether snapshot.postCommit is true: the post-commit shim then asks git config after
    every commit whether it still is (a snapshot each); else it starts no git at all."""
    from git_snapshot import worktree

    return worktree.settings(repo).post_commit


def uninstall(hooks_dir: str) -> list[str]:
    """Remove our shims from *hooks_dir* and put back the hooks they chained; one message each.

    Left-overs go too: a shim lefthook moved to NAME.old, a chained copy of the script a hook
    manager wrote over our shim, and a chained hook whose shim was deleted goes back in place.
    """
    messages: list[str] = []
    for name in (*HOOK_NAMES, POST_COMMIT):
        line = _uninstall_one(hooks_dir, name)
        if name != POST_COMMIT or not line.endswith(": not installed"):  # (older installs: none)
            messages.append(line)
        with contextlib.suppress(OSError):
            fsync_dir(hooks_dir)
    return messages


def _uninstall_one(hooks_dir: str, name: str) -> str:
    hook = os.path.join(hooks_dir, name)
    legacy = hook + PRE_COMMIT_LEGACY_SUFFIX
    chained = hook + CHAINED_SUFFIX
    old = hook + LEFTHOOK_OLD_SUFFIX
    extra = ""
    if is_our_shim(old):
        os.unlink(old)
        extra = f"; removed the shim lefthook had moved to {name}{LEFTHOOK_OLD_SUFFIX}"
    if is_our_shim(hook):
        ours, where = hook, ""
    elif is_pre_commit_script(hook) and is_our_shim(legacy):
        ours, where = legacy, f" (it was {name}.legacy, run by pre-commit's hook)"
    elif os.path.lexists(chained) and not os.path.lexists(hook):
        os.rename(chained, hook)  # our shim was deleted: the original goes back in place
        return f"{name}: not installed; put back the hook it had chained{extra}"
    elif os.path.lexists(chained) and (is_our_shim(chained) or _stale_copy(hook, chained)):
        os.unlink(chained)
        return f"{name}: not installed; removed the left-over {name}{CHAINED_SUFFIX}{extra}"
    else:
        msg = f"{name}: not installed{extra}"
        if os.path.lexists(chained):
            msg += f"; {name}{CHAINED_SUFFIX} left in place"
        return msg
    if os.path.lexists(chained) and not is_our_shim(chained):
        os.replace(chained, ours)  # one atomic step: our shim out, the original back
        return f"{name}: removed{where}; restored the hook it chained{extra}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(chained)  # a stray shim of ours, never anything else
    os.unlink(ours)
    return f"{name}: removed{where}{extra}"


# --------------------------------------------------------------------------- forwarding mode


def own_hooks_dir(repo: gitrepo.Repo) -> str:
    return os.path.join(repo.common_dir, OWN_HOOKS_DIR)


def _config(repo: gitrepo.Repo, *args: str) -> str | None:
    out = gitrepo.run_git(repo.toplevel, "config", *args, check=False)
    return os.fsdecode(out.rstrip(b"\n")) if out else None


class HooksPath:
    """Where git looks for hooks, as configured."""

    __slots__ = ("before", "local", "value")

    def __init__(
        self,
        value: str | None,  # the effective core.hooksPath, or None (the default .git/hooks)
        local: str | None,  # the value in the repository's own config, if any
        before: str | None,  # snapshot.hooksPathBefore: the local value install replaced
    ) -> None:
        self.value = value
        self.local = local
        self.before = before


def hooks_path(repo: gitrepo.Repo) -> HooksPath:
    return HooksPath(
        value=_config(repo, "--get", "core.hooksPath"),
        local=_config(repo, "--local", "--get", "core.hooksPath"),
        before=_config(repo, "--local", "--get", BEFORE_KEY),
    )


def _set_local(repo: gitrepo.Repo, key: str, value: str | None) -> None:
    """Set *key* in the repository's own config, or unset it (value None)."""
    if value is not None:
        gitrepo.run_git(repo.toplevel, "config", "--local", key, value)
    else:
        gitrepo.run_git(repo.toplevel, "config", "--local", "--unset-all", key, check=False)


def _is_own(repo: gitrepo.Repo, value: str | None) -> bool:
    if not value:
        return False
    path = os.path.join(repo.toplevel, os.path.expanduser(value))
    return os.path.realpath(path) == os.path.realpath(own_hooks_dir(repo))


def is_old_place(repo: gitrepo.Repo, value: str | None) -> bool:
    """Whether *value* names git-snapshot's hooks folder of another repository's place: the
    absolute path install wrote before this repository was moved (gone now) or copied (the
    original's, holding only our shims). Never a folder of the user's hooks."""
    if not value or _is_own(repo, value):
        return False
    path = os.path.normpath(os.path.expanduser(value))
    if not os.path.isabs(path) or not path.endswith(os.sep + OWN_HOOKS_DIR):
        return False
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return all(is_our_shim(os.path.join(path, n)) for n in names)


def _ours(repo: gitrepo.Repo, value: str | None) -> bool:
    """A value install wrote, here or at this repository's old place: never the user's."""
    return _is_own(repo, value) or is_old_place(repo, value)


def _before(repo: gitrepo.Repo, hp: HooksPath) -> str | None:
    """The value to put back: snapshot.hooksPathBefore, unless it names a folder of ours (an
    older install, run again after a move or under an include, recorded that; the user's
    value is lost then)."""
    return None if _ours(repo, hp.before) else hp.before


def outer_hooks_path(cwd: str) -> str | None:
    """The global core.hooksPath, else the system one: what git would use without a
    repository's own (as configured, ``~`` expanded)."""
    for scope in ("--global", "--system"):
        out = gitrepo.run_git(cwd, "config", scope, "--get", "core.hooksPath", check=False)
        if out.rstrip(b"\n"):
            return os.path.expanduser(os.fsdecode(out.rstrip(b"\n")))
    return None


def forward_target(repo: gitrepo.Repo, hp: HooksPath) -> str | None:
    """The hooks directory our own one forwards to (as configured: a relative one is resolved
    by git from each worktree's root), or None for chaining mode."""
    if hp.value is None:
        return None
    if not _ours(repo, hp.value):
        return os.path.expanduser(hp.value)
    before = _before(repo, hp)
    if before:
        return os.path.expanduser(before)
    # ours is set locally over a global or system core.hooksPath: forward to that one
    return outer_hooks_path(repo.toplevel)


def _origin(repo: gitrepo.Repo) -> tuple[str, str] | None:
    """(scope, origin) of the effective core.hooksPath, as git names them."""
    out = gitrepo.run_git(
        repo.toplevel, "config", "-z", "--show-scope", "--show-origin", "--get-all",
        "core.hooksPath", check=False,
    )  # fmt: skip
    fields = out.split(b"\0")
    if len(fields) < 4:
        return None
    scope, origin = fields[-4], fields[-3]  # the last value wins (a trailing "" ends it)
    return os.fsdecode(scope), os.fsdecode(origin)


def overridden(repo: gitrepo.Repo, hp: HooksPath) -> str | None:
    """Why a core.hooksPath install writes in the repository's own config would not be the one
    git reads (a value from an included file, a worktree's config, the command line), in
    words naming where the winning value comes from; None when it would be."""
    if hp.value is None or _is_own(repo, hp.value):
        return None
    found = _origin(repo)
    if found is None:
        return None
    scope, origin = found
    if scope in ("system", "global"):
        return None
    own_config = os.path.realpath(os.path.join(repo.common_dir, "config"))
    if (
        scope == "local"
        and origin.startswith("file:")
        and os.path.realpath(os.path.join(repo.toplevel, origin[5:])) == own_config
    ):
        return None
    return (
        f"core.hooksPath = {hp.value} comes from {origin} ({scope} scope), which git reads "
        "after the repository's own config, so git would never run git-snapshot's hooks"
    )


def _install_forwarding(
    repo: gitrepo.Repo,
    exe: str,
    hp: HooksPath,
    target: str,
    names: tuple[str, ...],
    post_commit: bool = False,
) -> list[str]:
    own = own_hooks_dir(repo)
    if os.path.realpath(os.path.join(repo.toplevel, target)) == os.path.realpath(own):
        raise UserError(f"core.hooksPath and {BEFORE_KEY} both name {own}: unset {BEFORE_KEY}")
    why = overridden(repo, hp)
    if why is not None:
        raise UserError(
            f"{why}; nothing was changed (git snapshot install works where core.hooksPath is "
            "set in .git/config, globally, or not at all)"
        )
    # Forwarding to a global or system value: the shims look it up when they run.
    outer = not _before(repo, hp) if _ours(repo, hp.value) else hp.local is None
    made = not os.path.isdir(own)
    os.makedirs(own, exist_ok=True)
    changed = set()
    for name in GIT_HOOK_NAMES:
        path = os.path.join(own, name)
        data = shim_text(name, exe, target, outer, post_commit).encode()
        if _read(path) != data:
            atomic_write(path, data, mode=0o755)
            changed.add(name)
    messages = []
    if not _is_own(repo, hp.value):
        if is_old_place(repo, hp.value):  # moved or copied: the value to put back is kept
            messages.append(
                f"core.hooksPath named {hp.value}, git-snapshot's hooks folder where this "
                f"repository was before it was moved or copied: it now names {own}"
            )
            if hp.before is not None and _before(repo, hp) is None:
                _set_local(repo, BEFORE_KEY, None)
                messages.append(
                    f"{BEFORE_KEY} named {hp.before}, git-snapshot's own folder (an older "
                    "install recorded it): dropped; the value core.hooksPath had before is lost"
                )
        else:
            _set_local(repo, BEFORE_KEY, hp.local)
        _set_local(repo, "core.hooksPath", own)
        if not _is_own(repo, _config(repo, "--get", "core.hooksPath")):  # (checked above)
            _set_local(repo, "core.hooksPath", hp.local)
            _set_local(repo, BEFORE_KEY, hp.before)
            if made:
                shutil.rmtree(own, ignore_errors=True)
            raise UserError(
                f"git does not read the core.hooksPath written in {repo.common_dir}/config "
                f"(see git config --show-origin --show-scope core.hooksPath); nothing was changed"
            )
        changed.add("core.hooksPath")
    for name in names:
        fresh = name in changed or "core.hooksPath" in changed
        state = "installed" if fresh else "already installed"
        messages.append(f"{name}: {state} in {own}; then runs {target}/{name}, if any")
    if "core.hooksPath" in changed and not is_old_place(repo, hp.value):
        messages.append(
            f"core.hooksPath was {hp.value}: it now names {own}, whose hooks run the snapshot "
            f"and then every hook in {target} (nothing in {target} was changed); "
            "git snapshot uninstall puts it back"
        )
    if outer:
        messages.append(
            f"forwarding to the global core.hooksPath ({target}): the hooks follow it when it "
            "changes, but for reference-transaction (git snapshot doctor says when to run "
            "git snapshot install again)"
        )
    return messages


def _uninstall_forwarding(repo: gitrepo.Repo, hp: HooksPath) -> list[str]:
    own = own_hooks_dir(repo)
    messages = []
    if _ours(repo, hp.local):
        before = _before(repo, hp)
        _set_local(repo, "core.hooksPath", before)
        messages.append(f"core.hooksPath: set back to {before or 'its default (unset)'}")
        if before != hp.before:
            messages.append(
                f"{BEFORE_KEY} named {hp.before}, git-snapshot's own folder (an older install "
                "recorded it): the value core.hooksPath had before is lost; set it again if "
                "you had one"
            )
    _set_local(repo, BEFORE_KEY, None)
    if os.path.isdir(own):
        shutil.rmtree(own)
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(own))
        messages.append(f"removed {own}")
    return messages


# --------------------------------------------------------------------------- per repository


def install_repo(repo: gitrepo.Repo, exe: str) -> list[str]:
    """Install in *repo*: chaining in .git/hooks, or forwarding when core.hooksPath is set."""
    hp = hooks_path(repo)
    target = forward_target(repo, hp)
    names = hook_names(repo)
    if target is None:
        return install(repo.hooks_dir(), exe, names, _post_commit(repo))
    return _install_forwarding(repo, exe, hp, target, names, _post_commit(repo))


def uninstall_repo(repo: gitrepo.Repo) -> list[str]:
    """Undo :func:`install_repo`, whichever layout it used (and an older version's shims in a
    core.hooksPath directory)."""
    hp = hooks_path(repo)
    messages = _uninstall_forwarding(repo, hp)
    nothing: list[str] = []
    for directory in dict.fromkeys([repo.hooks_dir(), os.path.join(repo.common_dir, "hooks")]):
        if not os.path.isdir(directory) or _is_own(repo, directory):
            continue
        for line in uninstall(directory):
            (nothing if line.endswith(": not installed") else messages).append(line)
    return messages or nothing[: len(HOOK_NAMES)]


def current_exe() -> str:
    """Absolute path of the git-snapshot executable to put in the shims.

    The one next to the running Python (the same venv) first, then the one on PATH.
    """
    found = None
    if sys.executable:
        found = shutil.which("git-snapshot", path=os.path.dirname(sys.executable) or ".")
    if found is None:
        found = shutil.which("git-snapshot")
    if found is None:
        raise UserError(
            f"cannot find the git-snapshot executable next to {sys.executable} or on PATH; "
            "reinstall git-snapshot"
        )
    return os.path.abspath(found)
