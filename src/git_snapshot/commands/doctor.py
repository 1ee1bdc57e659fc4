"""``git snapshot doctor``: per hook, will it fire and what else runs there; where the store is.

It reads files and git config only (no snapshot, no change), and exits 1 when one of our hooks
will not fire (or ``snapshot.autoPush`` names no remote), so that a script can check an install.
"""

from __future__ import annotations

import os

from git_snapshot import gitrepo
from git_snapshot import hookfiles
from git_snapshot import install
from git_snapshot import output
from git_snapshot import precommit
from git_snapshot.commands.common import repo_at
from git_snapshot.errors import UserError
from git_snapshot.store import location

PRE_COMMIT_CONFIG = precommit.CONFIG
# What pre-commit cannot do for us (README, "pre-commit's limits").
PRE_COMMIT_LIMITS = (
    "pre-commit makes checkout, switch and bisect exit 1 on commits without a "
    f"{PRE_COMMIT_CONFIG}, takes no snapshot on commits whose config lacks the snapshot-* "
    "hook ids, and cannot run reference-transaction (the only hook before merge and pull "
    "touch the worktree)"
)


class HookState:
    """One hook's state. Plain classes here: dataclasses imports inspect and ast (8 ms of
    every install, which asks submodules_line, and doctor)."""

    __slots__ = ("also", "fires", "name", "why")

    def __init__(
        self,
        name: str,
        fires: bool,
        why: str,  # how it fires, or why it will not
        also: str,  # what else runs there ("" if nothing)
    ) -> None:
        self.name = name
        self.fires = fires
        self.why = why
        self.also = also


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _husky_stub(path: str) -> bool:
    head = hookfiles.file_head(path)
    return (b'/h"' in head and len(head) < 200) or b"husky.sh" in head


def describe(path: str, name: str, root: str) -> str:
    """What the hook at *path* runs, for people; "" if nothing is there."""
    path = os.path.join(root, path)  # a forwarded-to core.hooksPath may be relative
    if not _executable(path):
        return ""
    if hookfiles.is_lefthook_script(path):
        return f"lefthook (lefthook run {name})"
    if hookfiles.is_pre_commit_script(path):
        return f"pre-commit ({path})"
    if _husky_stub(path):
        user = os.path.join(os.path.dirname(os.path.dirname(path)), name)
        shown = _shown(user, root)
        return f"husky, which runs {shown}" if os.path.isfile(user) else f"husky (no {shown})"
    return _shown(path, root)


def _shown(path: str, root: str) -> str:
    """A path inside the worktree relative to its root, any other absolute."""
    rel = os.path.relpath(path, root)
    return path if rel.startswith("..") else rel


def _our_shim(path: str, name: str, root: str) -> HookState:
    settings = hookfiles.shim_settings(path)
    exe, forward, outer = settings if settings else ("git-snapshot", "", False)
    if "/" in exe and not _executable(exe):
        return HookState(name, False, f"its program {exe} is gone: run git snapshot install", "")
    interpreter = _missing_interpreter(exe) if "/" in exe else None
    if interpreter is not None:
        why = (
            f"its program {exe} cannot start (its Python {interpreter} is gone): reinstall "
            "git-snapshot and run git snapshot install again"
        )
        return HookState(name, False, why, "")
    written = forward
    if outer and name != "reference-transaction":  # it looks the global value up itself
        forward = install.outer_hooks_path(root) or ""
    if forward:
        chained = os.path.join(forward, name)
    elif outer:
        chained = ""
    else:
        chained = path.rsplit(".legacy", 1)[0] + ".git-snapshot-chained"
    where = "" if path.endswith("/" + name) else f" as {os.path.basename(path)}"
    pc = hookfiles.post_commit_written(path)
    if hookfiles.file_head(path) != hookfiles.shim_text(name, exe, written, outer, pc).encode():
        where += ", from an older git-snapshot: run git snapshot install again to update it"
    return HookState(name, True, f"git-snapshot's shim{where}", describe(chained, name, root))


def _missing_interpreter(exe: str) -> str | None:
    """The interpreter *exe*'s ``#!`` line names, when it is not there (the shim's test)."""
    head = hookfiles.file_head(exe)[:512].split(b"\n", 1)[0]
    words = head[2:].split() if head.startswith(b"#!") else []
    if words and not os.access(words[0], os.X_OK):
        return os.fsdecode(words[0])
    return None


def hook_state(hooks_dir: str, name: str, root: str) -> HookState:
    path = os.path.join(hooks_dir, name)
    if not os.path.lexists(path):
        return HookState(name, False, f"no hook at {path}: run git snapshot install", "")
    if not _executable(path):
        # install replaces a hook, or chains it, and makes its shim executable; beside
        # pre-commit's script it writes NAME.legacy and leaves that script as it is
        fix = (
            f"chmod +x {output.shell_quote(os.fsencode(path))}"
            if hookfiles.is_pre_commit_script(path)
            else "run git snapshot install"
        )
        return HookState(name, False, f"{path} is not executable, so git skips it: {fix}", "")
    if hookfiles.is_our_shim(path):
        return _our_shim(path, name, root)
    also = describe(path, name, root)
    if hookfiles.is_pre_commit_script(path):
        legacy = path + hookfiles.PRE_COMMIT_LEGACY_SUFFIX
        if hookfiles.is_our_shim(legacy):
            state = _our_shim(legacy, name, root)
            return HookState(name, state.fires, state.why, "pre-commit")
        if precommit.config_has(root, name):
            return HookState(
                name, True, f"through pre-commit, while {PRE_COMMIT_CONFIG} has snapshot-{name}", ""
            )
        why = f"{path} is pre-commit's and {PRE_COMMIT_CONFIG} has no snapshot-{name}"
        return HookState(name, False, why + ": run git snapshot install", also)
    if hookfiles.is_our_shim(path + hookfiles.LEFTHOOK_OLD_SUFFIX):
        why = f"lefthook moved our shim to {name}.old, which it never runs"
        return HookState(name, False, why + ": run git snapshot install again", also)
    return HookState(name, False, f"{path} is not git-snapshot's: run git snapshot install", also)


def _hooks_dir_lines(repo: gitrepo.Repo, hooks_dir: str) -> tuple[list[str], bool]:
    """What git's hooks directory is, and what is wrong with it (False: doctor exits 1)."""
    hp = install.hooks_path(repo)
    if hp.value is None:
        return [f"hooks directory: {hooks_dir}"], True
    lines = [f"hooks directory: {hooks_dir} (core.hooksPath = {hp.value})"]
    own = install.own_hooks_dir(repo)
    overridden = install.overridden(repo, hp)
    if install.is_old_place(repo, hp.value):
        lines.append(
            f"core.hooksPath names {hp.value}, git-snapshot's hooks folder of this "
            "repository's old place (it was moved or copied), so git runs none of the hooks "
            "there, neither git-snapshot's nor yours: run git snapshot install"
        )
        return lines, False
    if overridden is not None:
        lines.append(
            f"{overridden}; git snapshot install cannot change that (set core.hooksPath in "
            ".git/config instead, or use pre-commit)"
        )
        return lines, False
    if os.path.isdir(own) and os.path.realpath(hooks_dir) != os.path.realpath(own):
        lines.append(
            f"core.hooksPath was set again to {hp.value} (husky's npm install does that), so "
            f"git no longer runs git-snapshot's hooks in {own}: run git snapshot install again"
        )
        return lines, True  # (every hook says it will not fire)
    settings = hookfiles.shim_settings(os.path.join(hooks_dir, "reference-transaction"))
    if settings is not None and settings[2]:
        now = install.outer_hooks_path(repo.toplevel) or ""
        if now != settings[1]:
            lines.append(
                f"the global core.hooksPath is now {now or 'unset'}, but git-snapshot's "
                f"reference-transaction hook still runs {settings[1]}/reference-transaction, "
                "if any (its other hooks follow the global value): run git snapshot install again"
            )
            return lines, False
    return lines, True


def _store_line(repo: gitrepo.Repo) -> str:
    try:
        path = location.store_dir()
        location.check_store_dir(path)
    except UserError as exc:
        return f"store: unusable, so every snapshot will fail: {exc}"
    where = (
        "inside this worktree (never snapshotted nor restored over, but a plain git clean -fdx "
        "or git stash -u (or -a) there can take it with every snapshot; better kept apart: set "
        f"{location.ENV_STORE} to a directory outside it)"
        if location.inside(str(path), repo.toplevel)
        else "outside this worktree"
    )
    from git_snapshot.store.core import open_to_others  # (RED40 C5: chmod ignored there)

    exposed = open_to_others(str(path))
    return f"store: {path}, {where}" + (f"; {exposed}" if exposed else "")


def _auto_push_line(repo: gitrepo.Repo) -> tuple[str, bool] | None:
    """With ``snapshot.autoPush`` set: where hook snapshots go and how the last push went;
    not ok when the name matches no remote (nothing is ever pushed, and no hook says so:
    RED39 F7). None when it is unset."""
    name = (gitrepo.config(repo).get("snapshot.autopush") or [""])[-1]
    if not name:
        return None
    from git_snapshot.commands.remote import auto_push_health
    from git_snapshot.store.remote import config

    try:
        known = sorted(config.load())
        # (a name that matches no remote is said even when the store is unusable)
        store = str(location.store_dir()) if name in known else ""
    except UserError as exc:
        return f"auto-push: to {name}: cannot tell: {exc}", False
    # a push failing now is said, not a failed doctor: the network may be down for a while
    return f"auto-push: {auto_push_health(store, name, known)}", name in known


def _watcher_line(repo: gitrepo.Repo) -> tuple[str, bool]:
    """Whether the watcher daemon runs and watches this worktree (no snapshot, no start),
    and whether it protects it (False: doctor exits 1): a watcher of an older git-snapshot,
    or one whose last snapshot of this worktree failed, does not (RED38 C1: after an upgrade
    the old one failed every snapshot while doctor said "running")."""
    from git_snapshot import worktree
    from git_snapshot.watch import instance
    from git_snapshot.watch import registry

    if not worktree.settings(repo).watch:
        return "watcher: off for this worktree (snapshot.watch false)", True
    try:
        path = str(location.store_dir())
    except UserError:
        return "watcher: cannot run without a usable store (see the store line)", True
    code = instance.daemon_code(path)
    pid = None if code is None else code[0]
    entry = next((e for e in registry.entries(path) if e.path == repo.toplevel), None)
    # (no parentheses in *where*: the not-running line puts it in a pair of its own)
    if entry is None and instance.autostart_disabled():  # hooks neither register nor start
        where = (
            "does not watch this worktree: hooks neither register nor start it while "
            f"{instance.ENV_AUTOSTART}={os.environ[instance.ENV_AUTOSTART]}; git snapshot "
            "watch add . does"
        )
    elif entry is None:
        where = "this worktree is not registered yet: the next hook or git snapshot watch does it"
    elif not entry.on:
        where = "this worktree was taken out with watch remove; watch add PATH brings it back"
    else:
        where = "watches this worktree"
    if pid is None:
        where = where.replace("watches", "would watch")
        why = instance.cannot_run(path)  # no inotify instance left (RED39 E3)
        if why:
            return f"watcher: not running ({where}): {why}", True
        return f"watcher: not running ({where}); start it with: git snapshot watch", True
    if code is not None and pid > 0 and instance.older(code[1].encode()):
        return (
            f"watcher: running (pid {pid}) an older git-snapshot than this one, started "
            "before an upgrade: its snapshots may fail, and hooks do not use what it saw; "
            "the next hook replaces it, or now: git snapshot watch"
        ), False
    failed = _watch_error(path, pid, repo.toplevel) if entry is not None and entry.on else None
    if failed:
        return (
            f"watcher: running (pid {pid}), {where}, but its last snapshot of it failed: "
            f"{failed}; details: git snapshot watch status"
        ), False
    return f"watcher: running (pid {pid}), {where}; details: git snapshot watch status", True


def _watch_error(store: str, pid: int, toplevel: str) -> str | None:
    """The running watcher's last snapshot error for worktree *toplevel*, unless a watch
    snapshot taken since says it is over (as watch status says it)."""
    from git_snapshot.commands import watch

    try:
        data = watch.status_data(store)
    except Exception:  # (doctor reports; watch status says what is wrong with its status)
        return None
    if data.get("pid") != pid:
        return None
    for w in data.get("worktrees") or ():
        if w.get("path") == toplevel and w.get("last_error"):
            return str(w["last_error"])
    return None


_SAME = " (the same snapshots, slower)"


class _Module:
    __slots__ = ("interface", "name", "native", "needs", "without")

    def __init__(
        self,
        name: str,  # in git_snapshot.store
        native: bool,  # the chooser took it
        interface: int,  # the chooser's INTERFACE
        needs: str,  # what building it needs
        without: str,  # what runs in its place
    ) -> None:
        self.name = name
        self.native = native
        self.interface = interface
        self.needs = needs
        self.without = without


def _modules() -> list[_Module]:
    from git_snapshot.store import ctree
    from git_snapshot.store import readmany

    return [
        _Module(
            "_ctree",
            ctree.NATIVE,
            ctree.INTERFACE,
            "no C compiler or no Python headers",
            "the walk's changed folders (and its lstats of unchanged ones) run in pure Python",
        ),
        _Module(
            "_readmany",
            readmany.NATIVE,
            readmany.INTERFACE,
            "no C compiler, or no Python or OpenSSL headers",
            "a first walk reads its files, and a restore's writers write theirs, in Python",
        ),
    ]


class Speedups:
    __slots__ = ("native", "why")

    def __init__(
        self,
        native: bool,  # every C module (git_snapshot.store._ctree, _readmany) runs
        why: str,  # where they come from, or why one does not run and how to get it
    ) -> None:
        self.native = native
        self.why = why


def speedups() -> Speedups:
    """Whether the walk's C speedups are in use (never imported by a hook to learn it): the
    changed folders' builder (_ctree), a first walk's reads and a restore's writers
    (_readmany)."""
    import importlib

    from git_snapshot.store import ctree

    mods = _modules()
    if all(m.native for m in mods):
        files = [importlib.import_module(f"git_snapshot.store.{m.name}") for m in mods]
        stale = "".join(_stale_build(f.__file__ or "", f.SOURCE_SHA256) for f in files)
        return Speedups(True, f"in use ({', '.join(f.__file__ or '' for f in files)}){stale}")
    if os.environ.get(ctree.PURE_ENV) == "1":
        return Speedups(
            False,
            f"off ({ctree.PURE_ENV}=1): the walk's changed folders run in pure Python, a first "
            f"walk reads its files and a restore's writers write theirs in Python{_SAME}",
        )
    off = [m for m in mods if not m.native]
    said = "; ".join(
        (_not_loaded(m) if m is mods[0] else f"{m.name} {_not_loaded(m)}") + f", so {m.without}"
        for m in off
    )
    return Speedups(False, f"{said}{_SAME}: {_how_to_build(off)}")


def dictionary_frames() -> str:
    """Whether a first snapshot's dictionary frames are made with the dictionary's bytes right
    before the input (store/packs.py _prefixed_frame: zstandard's cffi module, which needs the
    cffi package; zstd's faster search, ~13 % less CPU on M) or by python-zstandard."""
    from git_snapshot.store import ctree
    from git_snapshot.store import packs

    if packs._cffi() is not None:
        return "the faster ones (zstandard's cffi module)"
    if os.environ.get(ctree.PURE_ENV) == "1":
        return f"python-zstandard's ({ctree.PURE_ENV}=1){_SAME}"
    return (
        f"python-zstandard's{_SAME}: zstandard's cffi module does not load (it needs the cffi "
        "package: pip install 'cffi>=1.17' into git-snapshot's environment)"
    )


def _stale_build(module: str, built_from: str) -> str:
    """A warning when a source checkout's .c changed since its module was built."""
    import hashlib

    name = os.path.basename(module).split(".")[0]
    source = os.path.join(os.path.dirname(module), f"{name}.c")
    try:
        with open(source, "rb") as f:
            now = hashlib.sha256(f.read()).hexdigest()
    except OSError:  # an installed copy: the wheel has no source
        return ""
    if now == built_from:
        return ""
    return f", but built from an older {source}: rebuild it ({_reinstall()})"


def _not_loaded(m: _Module) -> str:
    """Why its chooser did not take the C module: not there, not importable, another
    interface."""
    import importlib
    import importlib.util

    name = f"git_snapshot.store.{m.name}"
    if importlib.util.find_spec(name) is None:
        return f"not built ({m.needs} when git-snapshot was installed)"
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        return f"built but not loaded ({exc})"
    have = getattr(module, "INTERFACE", 0)
    if have != m.interface:  # an editable install's module, built before its .c changed
        return f"built from another {m.name}.c (interface {have}, this code's is {m.interface})"
    return "not loaded"  # imported now, not at the start: said as it was


def _how_to_build(off: list[_Module]) -> str:
    ssl = " libssl-dev" if any(m.name == "_readmany" for m in off) else ""
    return (
        "with a C compiler and the headers (Debian, Ubuntu: apt install "
        f"build-essential python3-dev{ssl}), build them again: {_reinstall()}"
    )


def _reinstall() -> str:
    import sys

    import git_snapshot

    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(git_snapshot.__file__))))
    return reinstall_command(sys.prefix, sys.executable, top)


def reinstall_command(prefix: str, python: str, top: str) -> str:
    """The command that builds the C module again for the git-snapshot installed in the
    environment *prefix* (its *python*), from the package found at *top*."""
    if os.path.exists(os.path.join(top, "setup.py")):  # a source checkout (editable, src/)
        return f"{python} -m pip install -e {top}"
    if os.path.basename(os.path.dirname(prefix)) == "venvs" and "pipx" in prefix:
        return f"pipx reinstall {os.path.basename(prefix)}"
    if os.path.basename(prefix).startswith("py_env-"):  # pre-commit's environment for a hook repo
        return "pre-commit clean, then pre-commit install-hooks"
    return f"{python} -m pip install --force-reinstall --no-deps FOLDER-OR-WHEEL, as installed"


INSTALL_SUBMODULES = "git submodule foreach --quiet --recursive git snapshot install"


def submodules_line(repo: gitrepo.Repo) -> str | None:
    """One line naming each checked-out submodule of *repo* where one of our hooks will not
    fire (a repository of its own, with its own hooks folder: installing here protects none
    of the git commands run inside it), with the command that installs them; else None."""
    if not os.path.isfile(os.path.join(repo.toplevel, ".gitmodules")):
        return None
    listed = gitrepo.run_git(
        repo.toplevel, "config", "-z", "--file", ".gitmodules", "--get-regexp",
        r"^submodule\..*\.path$", check=False,
    )  # fmt: skip
    bare = []
    for item in listed.split(b"\0"):
        rel = item.partition(b"\n")[2]
        path = os.path.join(repo.toplevel, os.fsdecode(rel))
        if not rel or not os.path.lexists(os.path.join(path, ".git")):
            continue  # not checked out: nothing runs git there
        try:
            sub = gitrepo.find_repo(path)
        except UserError:
            continue
        hooks = sub.hooks_dir()
        if not all(hook_state(hooks, n, sub.toplevel).fires for n in install.HOOK_NAMES):
            bare.append(output.shell_quote(rel))
    if not bare:
        return None
    has, its, it = ("has", "its", "it") if len(bare) == 1 else ("have", "their", "them")
    return (
        f"submodules: {', '.join(bare)} {has} hooks of {its} own, not git-snapshot's (git "
        f"commands run inside {it} are not protected); install them with: {INSTALL_SUBMODULES}"
    )


def cmd_doctor(*, cwd: str) -> int:
    repo = repo_at(cwd)
    hooks_dir = repo.hooks_dir()
    say = output.one_line  # each line names paths: on its line, no escape sequence
    lines, hooks_ok = _hooks_dir_lines(repo, hooks_dir)
    for line in lines:
        print(say(line))
    states = [hook_state(hooks_dir, name, repo.toplevel) for name in install.HOOK_NAMES]
    for s in states:
        then = f"; then runs {s.also}" if s.also else ""
        print(say(f"{s.name}: {'fires' if s.fires else 'WILL NOT FIRE'}: {s.why}{then}"))
    commits, commits_ok = _post_commit_line(repo, hooks_dir, states)
    print(say(commits))
    uses_pre_commit = os.path.exists(os.path.join(repo.toplevel, PRE_COMMIT_CONFIG)) or any(
        hookfiles.is_pre_commit_script(os.path.join(hooks_dir, n)) for n in install.HOOK_NAMES
    )
    if uses_pre_commit:
        plain = any(s.fires for s in states if s.name == "reference-transaction")
        advice = (
            "the plain hooks installed alongside cover these"
            if plain
            else "keep the plain hooks alongside (git snapshot install)"
        )
        print(f"pre-commit: {PRE_COMMIT_LIMITS}: {advice}")
    subs = submodules_line(repo)
    if subs:
        print(say(subs))
    print(say(_store_line(repo)))
    watcher, watcher_ok = _watcher_line(repo)
    print(say(watcher))
    pushing, push_ok = _auto_push_line(repo) or ("", True)
    if pushing:
        print(say(pushing))
    fast = speedups()
    print(say(f"C speedups: {fast.why}"))
    print(say(f"zstd dictionary frames: {dictionary_frames()}"))
    fired = all(s.fires for s in states)
    return 0 if hooks_ok and watcher_ok and push_ok and fired and commits_ok else 1


def _post_commit_line(
    repo: gitrepo.Repo, hooks_dir: str, states: list[HookState]
) -> tuple[str, bool]:
    """The post-commit hook's line: what it does (a report after a cherry-pick or a revert
    that wrote over an ignored file; a snapshot after every commit with snapshot.postCommit),
    and whether it is as install would write it. Not ok only where the plain shims are in
    place without it (an older install): through pre-commit it is the optional id."""
    from git_snapshot import worktree

    name = install.POST_COMMIT
    state = hook_state(hooks_dir, name, repo.toplevel)
    want = worktree.settings(repo).post_commit
    plain = any(s.fires and s.name == "reference-transaction" for s in states)
    then = f"; then runs {state.also}" if state.also else ""
    if not state.fires:
        return (
            f"{name}: WILL NOT FIRE: {state.why} (a cherry-pick or a revert that writes over "
            f"an ignored file is not reported){then}",
            not plain,
        )
    does = "a loss report after a cherry-pick or a revert"
    path = os.path.join(hooks_dir, name)
    if hookfiles.is_pre_commit_script(path) and not hookfiles.is_our_shim(path):
        path += hookfiles.PRE_COMMIT_LEGACY_SUFFIX
    mismatch = ""
    settings = hookfiles.shim_settings(path)
    installed = "/" in (settings or ("",))[0]  # (not a hooks/ copy, which asks git config)
    asks = hookfiles.post_commit_written(path) or not installed
    if want and installed and not asks:
        mismatch = (
            "; snapshot.postCommit is true, but the shim was written when it was not, "
            "and takes no snapshot after an ordinary commit: run git snapshot install again"
        )
    if want and not mismatch:
        does += ", and a snapshot after every commit (snapshot.postCommit)"
    elif settings is not None:  # (pre-commit's id alone: what its config says)
        does += f"; an ordinary commit starts one tail{' and one git config' if asks else ''}"
        does += ", no snapshot"
    return f"{name}: fires: {state.why}: {does}{mismatch}{then}", not mismatch
