"""The hook's import graph stays lean: a hook run on an unchanged worktree (the one every
`git checkout` pays for) imports none of the modules that cost a hook its budget.

Interpreter start and imports are most of an unchanged hook's time (issue 10: the fixed cost
on a small repository). Each module below was on the hook path once and was taken off it;
this test fails if one creeps back (a `from dataclasses import dataclass` or a `from typing
import NamedTuple` at the top of any module a hook imports, a `subprocess` call...).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import head

# module -> what brought it in, and why it must not come back
HEAVY = {
    "argparse": "the command line (cli.py): hooks start at hookmain.main",
    "subprocess": "git runs through os.posix_spawnp (gitrun._spawn)",
    "signal": "brought by subprocess",
    "selectors": "brought by subprocess",
    "shutil": "Store.scratch() and overlays only",
    "tempfile": "Store.scratch() only; location checks TMPDIR/TEMP/TMP itself",
    "random": "brought by tempfile",
    "bz2": "brought by shutil",
    "lzma": "brought by shutil",
    "pathlib": "store paths are str (location, Store.path); pathlib brings urllib.parse too",
    "urllib.parse": "index: only Index._open_readonly quotes a path for an URI",
    "typing": "NamedTuple / TYPE_CHECKING: collections.namedtuple, TYPE_CHECKING = False",
    "dataclasses": "plain classes with __slots__ (Options, Result, Snapshot, Location...)",
    "inspect": "brought by dataclasses",
    "ast": "brought by inspect",
    "zstandard": "imported on first (de)compression: an unchanged snapshot does neither",
    "platformdirs": "location finds the default store on Linux itself",
    # an unchanged walk (the files cache answers) writes nothing: the pack code is imported
    # (the archiver names PackWriter) but neither its threads, OpenSSL nor collections
    "threading": "packs: _thread's local and lock; threading only where threads start",
    "hashlib": "git_snapshot.hashes: OpenSSL on first use; the files cache checks zlib's CRC-32",
    "contextlib": "git_snapshot.ctx",
    "functools": "brought by contextlib and threading; _sqlite3's lru_cache: git_snapshot.sqlite",
    "collections": "brought by functools and collections.abc; packs: _collections",
    "mmap": "filescache maps only a cache of MAP_MIN or more (a small one is read)",
    # made on the first object given (archiver._LazyWriter): an unchanged walk gives none
    "git_snapshot.store.packs": "the pack writer, made when something is written",
    "git_snapshot.store.packread": "brought by packs",
    "git_snapshot.store.records": "a new snapshot's record only",
}
# sqlite3 brings datetime itself.

PROBE = """
import os, sys
sys.argv = ["git-snapshot", "hook", *sys.argv[1:]]
exit_now = os._exit
def report(status, fast):
    modules = sorted(sys.modules) + ["gc-threshold-%d" % __import__("gc").get_threshold()[0]]
    if fast:
        modules.append("fast-exit")
    import json
    sys.stdout.write(json.dumps({"status": status, "modules": modules}))
    sys.stdout.flush()
os._exit = lambda status: (report(status, True), exit_now(status))
from git_snapshot.hookmain import main
report(main(), False)
"""


def _hook_modules(repo: Path, *args: str) -> tuple[int, set[str], str]:
    """Run a hook as git would (the modules: what it imported, nothing before main();
    "fast-exit" when main() ended the process itself, hookmain.leave)."""
    ran = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_SNAPSHOT_WATCH": "0"},
        check=False,
    )
    got = json.loads(ran.stdout)
    return got["status"], set(got["modules"]), ran.stderr


def test_an_unchanged_hook_imports_nothing_heavy(repo: Path) -> None:
    (repo / ".gitignore").write_text("build/\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.o").write_bytes(b"\0" * 100)
    (repo / "notes.txt").write_text("untracked\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore build")
    h = head(repo)
    time.sleep(2.1)  # older than walker.RACY_NS: the files cache answers for every file
    status, _, err = _hook_modules(repo, "post-checkout", h, h, "1")  # the first snapshot
    assert status == 0 and "snapshot 1 (post-checkout)" in err, err
    status, modules, err = _hook_modules(repo, "post-checkout", h, h, "1")
    assert status == 0 and "unchanged since snapshot 1" in err, err
    back = {m: why for m, why in HEAVY.items() if m in modules}
    assert not back, f"heavy modules back on the hook path: {back}"
    assert "git_snapshot.cli" not in modules  # nor the argparse tree of every command
    assert "gc-threshold-20000" in modules  # the collector does not walk the imports anew
    assert "fast-exit" in modules  # nor does Python's exit tear the modules down


def test_an_unchanged_hook_after_a_git_command_imports_nothing_heavy(repo: Path) -> None:
    """git writes in .git at every command (here HEAD, by checkout -b): the root's listing
    still matches its record (.git is left out of both), so its tree is not hashed again,
    which imported OpenSSL (hashlib) for that one digest."""
    h = head(repo)
    time.sleep(2.1)  # older than walker.RACY_NS: the files cache answers for every file
    status, _, err = _hook_modules(repo, "post-checkout", h, h, "1")  # the first snapshot
    assert status == 0 and "snapshot 1 (post-checkout)" in err, err
    git(repo, "-c", "core.hooksPath=/dev/null", "checkout", "-q", "-b", "other")
    status, modules, err = _hook_modules(repo, "post-checkout", h, h, "1")
    assert status == 0 and "unchanged since snapshot 1" in err, err
    back = {m: why for m, why in HEAVY.items() if m in modules}
    assert not back, f"heavy modules back on the hook path: {back}"


def test_a_hook_that_may_not_start_the_watcher_imports_no_watch_code(repo: Path) -> None:
    """GIT_SNAPSHOT_WATCH=0 (the benchmarks', the test suite's): registry.ensure would do
    nothing, so the hook does not import the watch package's modules to learn it."""
    h = head(repo)
    status, modules, err = _hook_modules(repo, "post-checkout", h, h, "1")
    assert status == 0 and "snapshot 1 (post-checkout)" in err, err
    assert not {m for m in modules if m.startswith("git_snapshot.watch")}


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "1", "", "true", "OFF", " 0"])
def test_the_hooks_reading_of_git_snapshot_watch_is_the_watchers(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from git_snapshot import hooks
    from git_snapshot.watch import instance

    monkeypatch.setenv(instance.ENV_AUTOSTART, value)
    assert hooks.WATCH_ENV == instance.ENV_AUTOSTART
    assert (value in hooks.WATCH_OFF) == instance.autostart_disabled()


@pytest.mark.parametrize(
    "env",
    [{}, {"XDG_DATA_HOME": "/x/data"}, {"XDG_DATA_HOME": "relative"}, {"HOME": "/"}],
)
def test_default_store_dir_is_platformdirs_answer(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default store is found without importing platformdirs (typing and more: tens of
    ms of every hook), with the very answer platformdirs gives."""
    import platformdirs

    from git_snapshot.store import location

    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    want = platformdirs.user_data_dir("git-snapshot", appauthor=False)
    # default_store_dir() itself is off limits to tests (conftest): this is what it returns
    assert location._xdg_data_dir() in (want, None)
    if sys.platform.startswith("linux"):
        assert location._xdg_data_dir() == want


# what an unchanged worktree's hook does not need when the watcher's dirty set answers for it
# (issue 11: under 50 ms end to end on a 200k-file tree): the snapshot code, the pack code,
# what only reports and new snapshots print, and the costliest standard modules
WATCHED_UNUSED = {
    "git_snapshot.store.archiver": "worktree._reused returns the last snapshot itself",
    "git_snapshot.store.filescache": "the dirty set stands for the walk",
    "git_snapshot.store.packs": "Store.reader is made on first read",
    "git_snapshot.store.objects": "store.core imports it where an object is read or written",
    "git_snapshot.store.records": "the same (a tombstone when snapshots are forgotten)",
    "git_snapshot.snapids": "worktree reads keepWithin's units itself; git's dates need it",
    "git_snapshot.store.reserve": "a Store finds the reserve in place with a stat",
    "git_snapshot.losses": "imported for a report or held lines only",
    "git_snapshot.lossrecord": "the same (the loss log, held lines)",
    "git_snapshot.lossreport": "the same (a report's lines)",
    "git_snapshot.leftout": "the same (what the snapshot left out, git discarded)",
    "git_snapshot.lostnested": "the same (submodules)",
    "git_snapshot.loststash": "the same (stash entries, renames)",
    "git_snapshot.output": "imported to print a new snapshot's warnings or a report",
    "json": "imports re and compiles its patterns: imported where used",
    "re": "enum, sre: 13 M instructions",
    "hashlib": "OpenSSL's start and digest list: 11 M instructions (git_snapshot.hashes)",
    "_hashlib": "the same",
    "threading": "dirtyset and packs use _thread",
    "datetime": "sqlite3's package imports it: modules bind sqlite3 to git_snapshot.sqlite",
    "sqlite3.dbapi2": "the same",
    "zstandard": "nothing is read or written",
    "contextlib": "git_snapshot.ctx has its contextmanager and suppress",
    "functools": "imported by contextlib, and by _sqlite3 for lru_cache (git_snapshot.sqlite)",
    "collections": "imported by functools and collections.abc: ctx.record, TYPE_CHECKING",
    "operator": "brought by collections",
    "git_snapshot.gitextra": "what an operation changed: not for an unchanged tree",
    "git_snapshot.gitoverlay": "git's autostash, pre-commit's stash: not for an unchanged tree",
    "git_snapshot.proc": "the git command above the hook: looked up for a report only",
}


def test_an_unchanged_watched_hook_imports_no_snapshot_code(repo: Path) -> None:
    """With a live watcher whose dirty set says nothing changed, the hook reuses the last
    snapshot without importing the archiver, the packs or the costly standard modules. The
    daemon is played by this process (its lock, its epoch, its answers to sync tokens)."""
    import threading
    import time

    from git_snapshot.store import Store
    from git_snapshot.watch import dirtyset
    from git_snapshot.watch import instance

    (repo / "notes.txt").write_text("untracked\n")
    h = head(repo)
    stop = threading.Event()
    with Store() as store, instance.hold(store.path) as got:
        assert got
        dirtyset.watching(store.path, str(repo))
        folder = dirtyset.watch_dir(store.path)

        def ack() -> None:  # as the daemon does, with no event pending
            while not stop.is_set():
                for name in os.listdir(folder):
                    if name.endswith(dirtyset.SYNC_SUFFIX):
                        dirtyset.synced(store.path, os.path.join(folder, name))
                time.sleep(0.001)

        acker = threading.Thread(target=ack, daemon=True)
        acker.start()
        try:
            status, _, err = _hook_modules(repo, "post-checkout", h, h, "1")  # the base
            assert status == 0 and "snapshot 1 (post-checkout)" in err, err
            status, modules, err = _hook_modules(repo, "post-checkout", h, h, "1")
            assert status == 0 and "unchanged since snapshot 1" in err, err
            back = {m: why for m, why in WATCHED_UNUSED.items() if m in modules}
            assert not back, f"imported by an unchanged watched hook: {back}"
            assert "git_snapshot.watch.dirtyset" in modules  # the dirty set did answer
            assert "fast-exit" in modules
            assert not [n for n in os.listdir(folder) if n.endswith(dirtyset.SYNC_SUFFIX)]
            (repo / "notes.txt").write_text("changed, and marked as the daemon would\n")
            dirtyset.mark(store.path, str(repo), [], [str(repo / "notes.txt")])
            status, modules, err = _hook_modules(repo, "post-checkout", h, h, "1")
            assert status == 0 and "snapshot 2 (post-checkout)" in err, err
            assert "git_snapshot.store.archiver" in modules  # a change: the snapshot code
            # and zstd's C backend, without zstandard's __init__ (platform, typing: 52 M)
            assert "zstandard.backend_c" in modules and "platform" not in modules
        finally:
            stop.set()
            acker.join()


LEAVE = """
import atexit, sys, threading
from git_snapshot.hookmain import leave
print("before", end="")  # block-buffered: stdout is a pipe
if sys.argv[1] == "thread":
    go = threading.Event()
    threading.Thread(target=go.wait).start()
    status = leave(3)
    go.set()
elif sys.argv[1] == "atexit":
    atexit.register(print, " at exit", end="")
    status = leave(3)
else:
    status = leave(3)
print(" after", status, end="")
"""


@pytest.mark.parametrize(
    ("case", "out", "code"),
    [
        ("plain", "before", 3),  # flushed, then the process ends with the hook's status
        ("thread", "before after 3", 0),  # a thread runs: Python's own exit waits for it
        ("atexit", "before after 3 at exit", 0),  # a registered function still runs
    ],
)
def test_a_hook_process_ends_without_pythons_teardown_only_when_nothing_is_left(
    case: str, out: str, code: int
) -> None:
    """hookmain.leave: the hook's status, its output flushed, and no module teardown; the
    ordinary exit when a thread or an atexit function still needs it."""
    ran = subprocess.run(
        [sys.executable, "-c", LEAVE, case], capture_output=True, text=True, check=False
    )
    assert (ran.stdout, ran.returncode, ran.stderr) == (out, code, "")
