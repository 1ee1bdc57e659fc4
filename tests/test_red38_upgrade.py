"""RED38 C1: after an upgrade in place, a watcher still running the code it loaded before it
failed every snapshot (across an index schema bump: "written by a newer git-snapshot") or ran
the old code forever, doctor said "running" and exited 0, and watch status told the user, who
had just upgraded, to upgrade. Now the daemon restarts itself when its installed files change,
a daemon of an older git-snapshot is replaced by the next hook or install (and no hook trusts
its dirty set meanwhile), doctor says either in one line and exits 1, and the refusal met by a
process older than the code on disk says to restart it. Real daemons, real inotify; the
"installed" package is a copy of this one, upgraded in place as pip does (the old folder moved
away, the new files written)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps

import git_snapshot
from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store import index as index_mod
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)
SRC = Path(git_snapshot.__file__).parent


def _install(site: Path, schema: int | None = None) -> Path:
    """This package copied into *site* (what an install is to the daemon: files on disk);
    *schema*: an older index schema, as the code before an upgrade had, and a shorter retry
    after a failed watch snapshot (the real one is 30 s)."""
    pkg = site / "git_snapshot"
    shutil.copytree(SRC, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    if schema is not None:
        idx = pkg / "store" / "index.py"
        text = idx.read_text()
        now = f"SCHEMA_VERSION = {index_mod.SCHEMA_VERSION}\n"
        assert now in text
        idx.write_text(text.replace(now, f"SCHEMA_VERSION = {schema}\n"))
        d = pkg / "watch" / "daemon.py"
        d.write_text(d.read_text().replace("SNAPSHOT_RETRY_S = 30.0", "SNAPSHOT_RETRY_S = 1.0"))
    return pkg


def _upgrade(site: Path, tmp: Path) -> None:
    """pip install --force-reinstall: the old files moved away, this version's written."""
    os.rename(site / "git_snapshot", tmp / "stashed-by-pip")
    shutil.copytree(SRC, site / "git_snapshot", ignore=shutil.ignore_patterns("__pycache__"))


Started = list[subprocess.Popen[bytes] | int]


@pytest.fixture
def daemons(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Started]:
    """Daemons a test started (each stopped after it: its process, or a pid another process
    started), autostart on, short timings."""
    monkeypatch.delenv(instance.ENV_AUTOSTART, raising=False)
    config(watchQuiet=0.4, watchMaxDelay=30, watchPoll=0.5, watchSlowScan=0.5)
    started: Started = []
    yield started
    instance.stop(str(store_dir), wait_s=30)
    for p in started:
        if isinstance(p, int):
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
            continue
        if p.poll() is None:
            p.kill()
        p.wait()
        if p.stdout is not None:
            p.stdout.close()


def _start_from(site: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "git_snapshot", "watch", "--foreground"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def _tree(store: Path, root: Path) -> dict[str, object]:
    import json

    try:
        data = json.loads((store / "watch" / "status.json").read_text())
    except (OSError, ValueError):
        return {}
    for w in data.get("worktrees", []):
        if w["path"] == str(root):
            return dict(w)
    return {}


def _holding(repo: Path, rel: str, text: str) -> bool:
    for s in reversed(watch_snaps(repo)):
        with Store() as store:
            got = dict(store.walk(s.root)).get(os.fsencode(rel))
            if got is not None and store.read_object(got.ref) == text.encode():
                return True
    return False


def _watcher_line(repo: Path) -> tuple[str, int]:
    ran = gs(repo, "doctor", rc=None)
    lines = [ln for ln in ran.out.splitlines() if ln.startswith("watcher:")]
    assert len(lines) == 1, ran.out
    return lines[0], ran.rc


@pytest.mark.slow
def test_a_watcher_upgraded_in_place_restarts_itself_with_the_new_code(
    tmp_path: Path, store_dir: Path, daemons: Started
) -> None:
    """RED38 C1 (R6_o2_watcher_upgrade.sh): a watcher of an older index schema fails every
    snapshot of a store the new code migrated; doctor says so and exits 1; once the new code
    is installed where the watcher's was, it restarts itself (the same pid) and what only it
    could save is in a watch snapshot."""
    repo = make_repo(tmp_path)  # (the store at this code's schema)
    (repo / ".gitignore").write_text(".env\n")
    site = tmp_path / "site"
    site.mkdir()
    _install(site, schema=index_mod.SCHEMA_VERSION - 1)
    add(store_dir, repo)
    log = tmp_path / "daemon.log"
    proc = _start_from(site, log)
    daemons.append(proc)
    failed = wait_for(lambda: _tree(store_dir, repo).get("last_error"), what="a failed snapshot")
    assert "newer git-snapshot" in str(failed)
    line, rc = _watcher_line(repo)
    assert rc == 1 and "an older git-snapshot" in line, line
    (repo / ".env").write_text("SECRET=1\n")
    time.sleep(1.5)  # (its retries fail: still the old code)
    assert not _holding(repo, ".env", "SECRET=1\n")

    _upgrade(site, tmp_path)
    (repo / ".env").write_text("SECRET=2 precious, only the watcher can save it\n")
    wait_for(
        lambda: _holding(repo, ".env", "SECRET=2 precious, only the watcher can save it\n"),
        what=f"a watch snapshot of .env after the upgrade: {log.read_text()}",
    )
    text = log.read_text()
    assert "changed (an upgrade or reinstall): restarting" in text, text
    assert text.count(f"started, pid {proc.pid},") == 2, text  # the same process, run again
    assert proc.poll() is None
    assert instance.serving(str(store_dir)) == proc.pid  # hooks trust it again
    line, _ = _watcher_line(repo)
    assert f"running (pid {proc.pid}), watches this worktree;" in line, line


@pytest.mark.slow
def test_a_watcher_of_the_same_schema_restarts_when_reinstalled(
    tmp_path: Path, store_dir: Path, daemons: Started
) -> None:
    """RED38 C1, at the same schema: the old watcher ran its old code for as long as it ran.
    A reinstall in place (new files, whatever their bytes) restarts it at its next snapshot."""
    repo = make_repo(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    _install(site)
    add(store_dir, repo)
    log = tmp_path / "daemon.log"
    proc = _start_from(site, log)
    daemons.append(proc)
    wait_for(lambda: _tree(store_dir, repo).get("last_snapshot"), what="its first snapshot")
    line, _ = _watcher_line(repo)
    assert f"running (pid {proc.pid}), watches this worktree;" in line, line
    _upgrade(site, tmp_path)
    (repo / "src" / "new.py").write_text("after the upgrade\n")
    wait_for(lambda: _holding(repo, "src/new.py", "after the upgrade\n"), what="a watch snapshot")
    text = log.read_text()
    assert "restarting" in text and text.count(f"started, pid {proc.pid},") == 2, text


def _old_daemon(store: Path, tmp: Path) -> subprocess.Popen[bytes]:
    """A daemon as every git-snapshot before RED38 C1 wrote its lock: the pid alone. It holds
    the lock until SIGTERM, as they do."""
    script = tmp / "old_daemon.py"
    script.write_text(
        "import fcntl, os, signal, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.ftruncate(fd, 0); os.pwrite(fd, f'{os.getpid()}\\n'.encode(), 0)\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
        "print('ready', flush=True)\n"
        "while True: time.sleep(1)\n"
    )
    instance.ensure_state_dir(str(store))
    lock = store / "watch" / "daemon.lock"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(lock)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    return proc


@pytest.mark.slow
def test_a_watcher_of_an_older_git_snapshot_is_replaced_by_install_and_hooks(
    tmp_path: Path, store_dir: Path, daemons: Started
) -> None:
    """RED38 C1: a watcher started by a version before this one (its lock names its pid
    alone) is not trusted by hooks, doctor names it and exits 1, and the next install (or
    hook) stops it and starts this version's in its place."""
    repo = make_repo(tmp_path)
    old = _old_daemon(store_dir, tmp_path)
    daemons.append(old)
    store = str(store_dir)
    assert instance.running(store) == old.pid
    assert instance.serving(store) is None  # a hook walks everything
    add(store_dir, repo)
    line, rc = _watcher_line(repo)
    assert rc == 1 and f"running (pid {old.pid}) an older git-snapshot" in line, line
    gs(repo, "install")
    assert old.wait(timeout=60) == 0  # stopped with SIGTERM, as a clean stop
    pid = wait_for(lambda: instance.serving(store), what="this version's watcher")
    daemons.append(pid)
    assert pid != old.pid
    code = instance.daemon_code(store)
    assert code is not None and code[1].startswith("code ")
    wait_for(lambda: _tree(store_dir, repo).get("last_snapshot"), what="it watches the worktree")
    (repo / "src" / "later.py").write_text("seen by the new watcher\n")
    wait_for(lambda: _holding(repo, "src/later.py", "seen by the new watcher\n"), what="snapshot")
    # and a hook with this version's watcher running changes nothing
    git(repo, "checkout", "-q", "-b", "other")
    assert instance.serving(store) == pid


def test_older_compares_the_formats_never_replacing_a_newer_daemon() -> None:
    ours = instance.formats()
    line = f"code {ours[0]} {ours[1]} 0a1b2c3d 0.1.0".encode()
    assert not instance.older(line)
    assert instance.older(b"")  # a version from before the code line
    assert instance.older(f"code {ours[0] - 1} {ours[1]} x 0.1.0".encode())
    assert instance.older(f"code {ours[0]} {ours[1] - 1} x 0.1.0".encode())
    assert not instance.older(f"code {ours[0] + 1} {ours[1]} x 9".encode())  # newer: kept
    assert not instance.older(f"code {ours[0] + 1} {ours[1] - 1} x 9".encode())


def test_the_lock_keeps_the_pid_first_for_older_readers(store_dir: Path) -> None:
    """Older hooks read the pid as the first word of the lock's first 32 bytes."""
    store = str(store_dir)
    with instance.hold(store, code=instance.code_line("0123abcd")) as mine:
        assert mine
        with open(store_dir / "watch" / "daemon.lock", "rb") as f:
            head = f.read(32)
        assert int(head.split()[0]) == os.getpid()
        assert instance.serving(store) == os.getpid()
        fd = os.open(store_dir / "watch" / "daemon.lock", os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(fd)


def test_code_stamp_changes_with_a_reinstall_not_with_bytecode(tmp_path: Path) -> None:
    pkg = _install(tmp_path)
    first = instance.code_stamp(str(pkg))
    (pkg / "store" / "__pycache__").mkdir(exist_ok=True)
    (pkg / "store" / "__pycache__" / "x.pyc").write_bytes(b"bytecode")
    assert instance.code_stamp(str(pkg)) == first
    _upgrade(tmp_path, tmp_path)
    assert instance.code_stamp(str(pkg)) != first
    shutil.rmtree(pkg)
    assert instance.code_stamp(str(pkg)) == "gone"


def test_the_newer_store_refusal_tells_a_process_older_than_its_code_to_restart(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RED38 C1: "upgrade git-snapshot" was the advice watch status showed right after the
    upgrade; a process whose code changed on disk since it loaded it is told to restart."""
    with Store() as store:
        store.index.db.execute(f"PRAGMA user_version={index_mod.SCHEMA_VERSION + 1}")
    with pytest.raises(UserError) as plain:
        Store().__enter__()
    assert "upgrade git-snapshot" in str(plain.value) and "restart" not in str(plain.value)
    monkeypatch.setattr(index_mod, "_LOADED", (0, 0))  # (the file on disk is another now)
    with pytest.raises(UserError) as stale:
        Store().__enter__()
    said = str(stale.value)
    assert f"this process (pid {os.getpid()}) started before git-snapshot was upgraded" in said
    assert "git snapshot watch stop, then git snapshot watch" in said and "\n" not in said


@pytest.mark.slow
def test_the_first_snapshot_after_the_upgrade_replaces_an_older_watcher(
    tmp_path: Path, store_dir: Path, daemons: Started
) -> None:
    """RED38 C1 (R6: after the upgrade the user ran `git snapshot -m`, list, watch status
    and no hook): watch status says the watcher is older, and the first snapshot, which
    does not use its dirty set, replaces it."""
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    old = _old_daemon(store_dir, tmp_path)
    daemons.append(old)
    dirtyset.watching(str(store_dir), str(repo))  # (its dirty set, as it watched there)
    status = gs(repo, "watch", "status").out
    assert f"running (pid {old.pid}" in status and "runs an older git-snapshot" in status
    gs(repo, "create", "-m", "after-upgrade")
    assert old.wait(timeout=60) == 0
    store = str(store_dir)
    pid = wait_for(lambda: instance.serving(store), what="this version's watcher")
    daemons.append(pid)
    (repo / "src" / "later.py").write_text("seen by the new watcher\n")
    wait_for(lambda: _holding(repo, "src/later.py", "seen by the new watcher\n"), what="snapshot")
    assert "runs an older git-snapshot" not in gs(repo, "watch", "status").out


def test_a_restart_waits_until_the_new_code_has_settled(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip moves the old package away, then writes the new files: a restart into an install
    under way would import half a package. The daemon holds its jobs (and sync answers)
    while the stamp moves, and restarts once it has stayed CODE_SETTLE_S; code that stays
    gone (uninstalled) stops it instead."""
    from git_snapshot.watch import config as wconfig
    from git_snapshot.watch import daemon
    from git_snapshot.watch import source

    stamps = iter(["new-1", "new-2", "new-2", "new-2"])
    monkeypatch.setattr(instance, "code_stamp", lambda top: next(stamps))
    d = daemon.Daemon(str(store_dir), wconfig.WatchConfig(), source.Inotify(), code_stamp="old")
    try:
        t = d.code_checked
        assert not d.code_changed(t + 0.5)  # (within CODE_CHECK_S: not taken again)
        assert d.code_changed(t + 1.1) and not d.stop  # new-1: changing, jobs held
        assert d.code_changed(t + 1.5) and not d.stop  # (held, not taken again yet)
        assert d.code_changed(t + 2.2, soon=False) and not d.stop  # new-2: still moving
        assert d.code_changed(t + 3.3) and not d.stop  # new-2 for 1.1 s only
        assert d.next_wakeup(t + 3.3) <= t + 4.3  # (it looks again without an event)
        assert d.code_changed(t + 4.4) and d.stop and d.restart
    finally:
        d.src.close()
    stamps = iter(["gone", "gone"])
    d = daemon.Daemon(str(store_dir), wconfig.WatchConfig(), source.Inotify(), code_stamp="old")
    try:
        t = d.code_checked
        assert d.code_changed(t + 1.1) and not d.stop
        assert d.code_changed(t + 3.2) and d.stop and not d.restart
    finally:
        d.src.close()
