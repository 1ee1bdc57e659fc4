"""The watcher daemon, for real: a `git snapshot watch --foreground` subprocess with the
test's environment, real inotify on temporary worktrees, real snapshots in the store.

Timings are shortened through git config (snapshot.watchQuiet and friends, global: the test's
own ~/.gitconfig). Every daemon is stopped by the fixture's finalizer."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import pytest
from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs
from conftest import init_repo

from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.watch import dirtyset
from git_snapshot.watch import instance
from git_snapshot.watch import registry

if TYPE_CHECKING:
    from git_snapshot.watch.config import WatchConfig
    from git_snapshot.watch.daemon import Daemon

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)
EXE = str(VENV_BIN / "git-snapshot")
QUIET = 0.4


def wait_for(cond: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """*cond*'s first true value, looked for every 50 ms. The deadline only bounds a test that
    fails: 15 s was passed under load (a daemon's start, 2 cores at load 18)."""
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        time.sleep(0.05)


def wait_held(path: Path, text: str) -> None:
    """Until the loss lines held at *path* (a worktree's .git/git-snapshot-unseen, the
    store's losses/unseen) name *text*. The recorder appends a burst's entry first and holds
    its line after: a test that waited for the entry reads the held lines too soon."""
    wait_for(lambda: path.exists() and text in path.read_text(), what=f"a line with {text!r} held")


@contextlib.contextmanager
def in_process(store: str | Path, repo: Path, cfg: WatchConfig | None = None) -> Iterator[Daemon]:
    """A daemon in this process watching *repo* (the test drives its steps: on_events,
    maybe_snapshot, worker_ready...), with the settings *cfg* (the defaults if None); its
    recorder (went on if the test stopped it), its worker and its inotify source ended
    after."""
    from git_snapshot.watch import config as wconfig
    from git_snapshot.watch import daemon
    from git_snapshot.watch import source

    d = daemon.Daemon(str(store), wconfig.WatchConfig() if cfg is None else cfg, source.Inotify())
    try:
        d.add(str(repo))
        yield d
    finally:
        if d.recorder is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(d.recorder.pid, signal.SIGCONT)
        d.end_recorder()
        d.end_worker()
        d.src.close()


def config(**values: object) -> None:
    for key, value in values.items():
        subprocess.run(["git", "config", "--global", f"snapshot.{key}", str(value)], check=True)


class Watcher:
    """One daemon subprocess and what it says."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.procs: list[subprocess.Popen[bytes]] = []
        self.log_path = store.parent / f"{store.name}-daemon.log"  # outside the store

    def start(self) -> subprocess.Popen[bytes]:
        with open(self.log_path, "ab") as out:
            proc = subprocess.Popen(
                [EXE, "watch", "--foreground"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        try:
            wait_for(lambda: self.status().get("pid") == proc.pid, what="the daemon's status")
        except AssertionError:
            proc.kill()
            proc.wait()
            raise AssertionError(f"the daemon did not start: {self.log()}") from None
        return proc

    def status(self) -> dict[str, Any]:
        try:
            with open(self.store / "watch" / "status.json", encoding="utf-8") as f:
                data: dict[str, Any] = json.load(f)
                return data
        except (OSError, ValueError):
            return {}

    def tree(self, root: Path) -> dict[str, Any]:
        for w in self.status().get("worktrees", []):
            if w["path"] == os.path.realpath(root):
                return dict(w)
        return {}

    def watching(self, root: Path) -> dict[str, Any]:
        """Wait until the daemon watches *root* and has taken (or found unneeded) the
        snapshot it takes when watching starts."""
        tree: dict[str, Any] = wait_for(
            lambda: (
                self.tree(root).get("state") in ("watching", "polling")
                and (self.tree(root).get("last_snapshot") or self.tree(root).get("last_error"))
                and self.tree(root)
            ),
            what=f"the daemon to watch {root}",
        )
        return tree

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:  # (its shutdown lets a job under way finish: slow under load)
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def bursts(self) -> list[str]:
        """The daemon's lines of the bursts its recorder took: one a part (a burst whose
        events straddle a snapshot's commit is recorded in parts, each against its snapshot:
        watch/take.record_bursts), all of one recording logged at once."""
        return [ln for ln in self.log().splitlines() if ": a burst of " in ln]


@pytest.fixture
def watcher(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Watcher]:
    monkeypatch.delenv(instance.ENV_AUTOSTART, raising=False)
    config(watchQuiet=QUIET, watchMaxDelay=30, watchPoll=0.5, watchSlowScan=0.5)
    w = Watcher(store_dir)
    yield w
    w.stop()
    # one a hook or install started, if any (also one that was still starting up)
    instance.stop(str(store_dir))
    time.sleep(0.5)
    instance.stop(str(store_dir))


def watch_snaps(root: Path) -> list[Snapshot]:
    with Store() as store:
        return [s for s in store.snapshots() if s.trigger == "watch" and s.worktree == str(root)]


def paths_in(s: Snapshot) -> set[str]:
    with Store() as store:
        return {os.fsdecode(p) for p, _ in store.walk(s.root)}


def add(store: Path, root: Path) -> None:
    with Store(store):  # a store first (as install and hooks have one)
        registry.put(str(store), os.path.realpath(root), by="test")


def make_repo(tmp_path: Path, name: str = "wt") -> Path:
    r = init_repo(tmp_path / name)
    (r / ".gitignore").write_text("node_modules/\n*.log\n")
    (r / "src").mkdir()
    (r / "src" / "main.py").write_text("print(1)\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "init")
    gs(r, "create", "-m", "init")  # saved: watching starts without a watch snapshot
    return Path(os.path.realpath(r))


def test_debounce_several_writes_one_snapshot(
    tmp_path: Path, store_dir: Path, watcher: Watcher
) -> None:
    quiet = 1.2
    config(watchQuiet=quiet)
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    # writes 0.1 s apart. A round in which this test was held off the cores between two
    # writes for watchQuiet or more (its own clock brackets each pair: a loaded machine) has
    # them snapshotted apart, rightly: that round proves nothing, another is written
    for round_ in range(5):
        seen = {s.id for s in watch_snaps(repo)}
        names = [f"src/r{round_}-f{i}.txt" for i in range(4)]
        first_write = time.time()
        gaps: list[float] = []
        began = time.monotonic()
        for name in names:
            # (taken before the write: the daemon reads its event, and counts from, later)
            last_write = time.time()
            before_write = time.monotonic()
            (repo / name).write_text(f"{name}\n")
            gaps.append(time.monotonic() - began)  # from the write before's start to this end
            began = before_write
            time.sleep(0.1)
        if max(gaps) < quiet * 0.9:
            break
        settled(watcher, repo)  # (that round's snapshots taken: the next one's are new)
    else:
        raise AssertionError(f"every round was held between two writes past watchQuiet: {gaps}")

    def new() -> list[Snapshot]:
        return [s for s in watch_snaps(repo) if s.id not in seen]

    snaps = wait_for(new, what="a watch snapshot")
    assert snaps[0].created >= last_write + quiet * 0.9  # after the quiet period, not before
    # the daemon's status of that snapshot (written after the worker's answer, which comes
    # after the store has it: a status read at once can still be of the snapshot taken when
    # watching began)
    last = wait_for(
        lambda: (
            (watcher.tree(repo).get("last_snapshot") or {}).get("id") == snaps[0].id
            and watcher.tree(repo)["last_snapshot"]
        ),
        what="the daemon's status of the watch snapshot",
    )
    # from the last change it read to its answer: at least the quiet period, and no more
    # than from the first write until now (a lag counted from anything earlier is wrong)
    assert quiet * 0.9 <= last["lag_s"] <= time.time() - first_write
    time.sleep(quiet * 1.5)
    snaps = new()
    assert len(snaps) == 1, snaps
    assert set(names) <= paths_in(snaps[0])


@pytest.mark.slow
def test_continuous_churn_snapshots_within_the_max_delay(
    tmp_path: Path, store_dir: Path, watcher: Watcher
) -> None:
    # writes every 0.2 s, never quiet for watchQuiet (60 s, however loaded the machine): a
    # snapshot taken while they go on is the max delay's
    config(watchQuiet=60, watchMaxDelay=2)
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    start = time.time()
    snaps = watch_snaps(repo)
    while not snaps and time.time() - start < 50:
        (repo / "churn.log").write_text(str(time.time()))
        time.sleep(0.2)
        snaps = watch_snaps(repo)
    assert snaps, "no snapshot while changes never settled"
    assert snaps[0].created >= start + 2 * 0.9  # the max delay after the first change


def test_editor_temp_files_and_store_writes_take_no_snapshot(
    tmp_path: Path, watcher: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path)
    inside = repo / ".snapstore"  # a store inside the worktree (as the default one at $HOME)
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(inside))
    watcher.store = inside
    gs(repo, "create")  # makes the store
    add(inside, repo)
    watcher.start()
    watcher.watching(repo)
    # real ones (RED31 D2: a name alone proves nothing): vim's swap file, Emacs's lock link,
    # and temp-named files gone at once (vim's backup and test write, an atomic save's)
    (repo / "src" / ".main.py.swp").write_bytes(b"b0VIM 9.0\0")
    os.symlink("me@host.1:2", repo / "src" / ".#main.py")
    for name in ("main.py~", "4913", "x.tmp"):
        (repo / "src" / name).write_text("temp\n")
        (repo / "src" / name).unlink()
    gs(repo, "create", "-m", "writes the store")
    # the daemon read them (its status, written at most once a second, read once after a
    # fixed sleep, could be older), then a quiet period passes a few times: no snapshot
    wait_for(lambda: watcher.tree(repo).get("events_ignored", 0) >= 5, what="the temp files seen")
    time.sleep(QUIET * 4)
    assert watch_snaps(repo) == []
    (repo / "src" / "real.txt").write_text("edit\n")
    snaps = wait_for(lambda: watch_snaps(repo), what="a snapshot of a real edit")
    assert not any(p.startswith(".snapstore") for p in paths_in(snaps[0]))


@pytest.mark.slow
def test_queue_overflow_marks_all_and_rescans(
    tmp_path: Path, store_dir: Path, watcher: Watcher
) -> None:
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    flood = repo / "flood"
    flood.mkdir()
    gs(repo, "create", "-m", "set up")  # saved: watching starts without a watch snapshot
    proc = watcher.start()
    watcher.watching(repo)
    max_queued = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    proc.send_signal(signal.SIGSTOP)  # the daemon reads nothing while the flood comes
    try:
        (repo / "src" / "sub").mkdir()  # a folder created while events are lost
        for i in range(max_queued // 2 + 500):  # create + modify: two events each
            (flood / f"{i}").write_bytes(b"x")
        (repo / "src" / "sub" / "late.txt").write_text("after the flood\n")
    finally:
        proc.send_signal(signal.SIGCONT)
    tree = wait_for(lambda: watcher.tree(repo).get("overflows"), what="the overflow")
    assert watcher.status()["overflows"] >= 1
    snaps = wait_for(lambda: watch_snaps(repo), what="a snapshot after the flood")
    assert "src/sub/late.txt" in paths_in(snaps[-1])
    # the rescan put a watch on the folder made while events were lost
    wait_for(lambda: watcher.tree(repo).get("state") == "watching", what="the rescan")
    (repo / "src" / "sub" / "later.txt").write_text("seen by its new watch\n")
    wait_for(
        lambda: any("src/sub/later.txt" in paths_in(s) for s in watch_snaps(repo)),
        what="the edit in the rescanned folder",
    )
    assert "queue overflow" in watcher.log()  # and said so
    assert tree


def test_deleted_worktree_is_dropped(tmp_path: Path, store_dir: Path, watcher: Watcher) -> None:
    keep, doomed = make_repo(tmp_path, "keep"), make_repo(tmp_path, "doomed")
    add(store_dir, keep)
    add(store_dir, doomed)
    watcher.start()
    watcher.watching(keep)
    watcher.watching(doomed)
    subprocess.run(["rm", "-rf", str(doomed)], check=True)
    wait_for(lambda: not watcher.tree(doomed), what="the deleted worktree to be dropped")
    # registered a while longer: a worktree moved away and back is watched again
    # (tests/test_red_watch_user.py); the daemon says its folder is gone
    assert watcher.status()["missing"] == [str(doomed)]
    assert watcher.tree(keep)["state"] == "watching"


@pytest.mark.slow
def test_single_instance_and_restart_after_sigkill(
    tmp_path: Path, store_dir: Path, watcher: Watcher
) -> None:
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    first = watcher.start()
    assert instance.running(str(store_dir)) == first.pid
    second = subprocess.run(
        [EXE, "watch", "--foreground"], capture_output=True, text=True, timeout=30
    )
    assert second.returncode == 1
    assert f"already runs (pid {first.pid})" in second.stderr
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert instance.running(str(store_dir)) is None  # its pid file does not count
    again = watcher.start()
    assert instance.running(str(store_dir)) == again.pid != first.pid
    watcher.watching(repo)
    (repo / "src" / "after.txt").write_text("restarted\n")
    snaps = wait_for(lambda: watch_snaps(repo), what="a snapshot by the new daemon")
    assert "src/after.txt" in paths_in(snaps[-1])
    out = gs(repo, "watch", "stop")
    assert f"stopped the watcher (pid {again.pid})" in out
    assert instance.running(str(store_dir)) is None


def test_budget_exhausted_falls_back_to_polling(
    tmp_path: Path, store_dir: Path, watcher: Watcher
) -> None:
    config(watchBudget=4)  # 2 for the daemon's own folders, 2 for the worktree
    repo = make_repo(tmp_path)
    deep = repo / "a" / "b" / "c"
    deep.mkdir(parents=True)
    gs(repo, "create", "-m", "set up")
    add(store_dir, repo)
    watcher.start()
    tree = watcher.watching(repo)
    assert tree["polling_dirs"] >= 3
    status = watcher.status()
    assert status["watches"] <= 4 and status["polling_dirs"] >= 3
    (deep / "polled.txt").write_text("found by the poll\n")
    snaps = wait_for(lambda: watch_snaps(repo), what="a snapshot of a polled folder's change")
    assert "a/b/c/polled.txt" in paths_in(snaps[-1])
    text = gs(repo, "watch", "status")
    assert "folders polled" in text and str(repo) in text
    data = json.loads(gs(repo, "watch", "status", "--json"))
    assert data["running"] and data["polling_dirs"] >= 3 and data["budget"] == 4


def test_big_ignored_tree_one_watch_and_a_slow_scan(
    tmp_path: Path, store_dir: Path, watcher: Watcher
) -> None:
    config(watchBigDirs=5, watchBudget=20)  # too few to watch its 41 folders whole
    repo = make_repo(tmp_path)
    for i in range(20):
        (repo / "node_modules" / f"pkg{i}" / "lib").mkdir(parents=True)
    gs(repo, "create", "-m", "set up")
    add(store_dir, repo)
    watcher.start()
    tree = watcher.watching(repo)
    assert [b["path"] for b in tree["big_trees"]] == [str(repo / "node_modules")]
    assert tree["watches"] == 3  # the root, src/ and node_modules/ (nothing below it)
    (repo / "node_modules" / "pkg7" / "lib" / "index.js").write_text("module.exports = 1\n")
    snaps = wait_for(lambda: watch_snaps(repo), what="the slow scan to find the new file")
    assert "node_modules/pkg7/lib/index.js" in paths_in(snaps[-1])


def test_a_hook_starts_the_watcher_and_remove_is_kept(
    tmp_path: Path, store_dir: Path, watcher: Watcher
) -> None:
    repo = make_repo(tmp_path)
    gs(repo, "install")
    wait_for(lambda: instance.running(str(store_dir)), what="install to start it")
    assert registry.active(str(store_dir)) == [str(repo)]
    gs(repo, "watch", "stop")
    git(repo, "checkout", "-q", "-b", "topic")  # post-checkout: starts it again
    pid = wait_for(lambda: instance.running(str(store_dir)), what="the hook to start it")
    assert pid > 0
    gs(repo, "watch", "remove", str(repo))
    git(repo, "checkout", "-q", "main")
    assert registry.active(str(store_dir)) == []  # the hook did not add it back
    assert registry.known(str(store_dir), str(repo))


def test_install_service_writes_a_user_unit(tmp_path: Path) -> None:
    out = gs(tmp_path, "watch", "--install-service")
    unit = Path(os.environ["HOME"]) / ".config/systemd/user/git-snapshot-watch.service"
    text = unit.read_text()
    assert (
        "watch --foreground" in text
        and f"GIT_SNAPSHOT_STORE={os.environ['GIT_SNAPSHOT_STORE']}" in text
    )
    # (the one way to start it at login that works here: RED40 D9.6)
    if os.path.isdir("/run/systemd/system"):
        assert "systemctl --user enable --now git-snapshot-watch" in out
    else:
        assert "no systemd here" in out and "systemctl" not in out, out


@pytest.mark.slow
def test_a_burst_of_deletions_is_a_loss_entry(
    tmp_path: Path, store_dir: Path, watcher: Watcher
) -> None:
    """The daemon feeds deletions to the burst detector and records the burst against its
    last snapshot before it (W2's bursts.record does the rest)."""
    config(burstFiles=50, burstSeconds=1)
    repo = make_repo(tmp_path)
    data = repo / "data"
    data.mkdir()
    gs(repo, "create", "-m", "set up")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    for i in range(60):
        (data / f"f{i}.csv").write_text(f"{i}\n")
    snaps = wait_for(lambda: watch_snaps(repo), what="a snapshot holding data/")
    assert "data/f59.csv" in paths_in(snaps[-1])
    subprocess.run(["rm", "-rf", str(data)], check=True)
    entries = wait_for(lambda: json.loads(gs(repo, "losses", "--json")), what="the loss entry")
    assert entries[-1]["snapshot"] == snaps[-1].id
    assert len(entries[-1]["lost"]) == 60


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_a_snapshot_that_hangs_is_stopped_and_retried(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker stuck on a file system that stopped answering must not stop every later
    watch snapshot: it is killed after the timeout, the failure is shown, the worktree
    retried later."""
    from git_snapshot.watch import daemon as wdaemon

    monkeypatch.setattr(wdaemon, "WORKER_TIMEOUT_S", 5.0)
    r = make_repo(tmp_path)
    add(store_dir, r)
    with in_process(store_dir, r) as d:
        d.end_worker()
        tree = d.trees[str(r)]
        stuck = subprocess.Popen(["sleep", "600"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        now = wdaemon._now()  # (the daemon's clock: monotonic, RED31 D5)
        d.child, d.child_tree, d.child_started = stuck, tree, now - 1
        d.next_registry = d.next_exists = now + 600
        d.status_dirty = False
        assert d.next_wakeup(now) == pytest.approx(now + 4)  # it wakes up for the timeout
        d.timers(now)
        assert stuck.poll() is None and d.child_tree is tree  # not yet
        d.timers(now + 5)
        assert stuck.wait(10) == -signal.SIGKILL
        assert d.child is None and d.child_tree is None
        assert tree.last_error is not None and "did not finish in 5s" in tree.last_error
        assert tree.retry_at > now and tree.first_change is not None  # tried again later


def test_status_says_a_watch_snapshot_is_under_way(tmp_path: Path, store_dir: Path) -> None:
    """A worktree's status says 'snapshotting' from the job's send to the reading of its
    answer (its changed_since is null already): a test, or a user, can tell a daemon that
    has nothing left to do from one whose snapshot is still running."""
    r = make_repo(tmp_path)
    add(store_dir, r)
    with in_process(store_dir, r) as d:
        tree = d.trees[str(r)]
        (tree_status,) = d.status()["worktrees"]
        assert tree_status["snapshotting"] is False and tree_status["changed_since"] is not None
        d.maybe_snapshot(time.time())  # the snapshot watching begins with: due at once
        assert d.child_tree is tree
        (tree_status,) = d.status()["worktrees"]
        assert tree_status["snapshotting"] is True and tree_status["changed_since"] is None
        assert d.status_dirty  # (written with it)
        d.worker_ready()  # its answer (read as it comes)
        (tree_status,) = d.status()["worktrees"]
        assert tree_status["snapshotting"] is False and tree_status["last_snapshot"]


def settled(w: Watcher, repo: Path) -> Snapshot:
    """The newest watch snapshot of *repo*, once the daemon has nothing left to do for it:
    its status, written after that snapshot's answer, has no change pending and no watch
    snapshot under way (a fixed sleep was not enough under load: a snapshot still running
    read the test's next writes). Wait for the snapshot holding what the test wrote first:
    the daemon had read every event of its files before it read that snapshot's answer."""

    def idle() -> Snapshot | None:
        snaps = watch_snaps(repo)
        t = w.tree(repo)
        last = t.get("last_snapshot") or {}
        if not snaps or last.get("id") != snaps[-1].id:
            return None
        return None if t.get("changed_since") or t.get("snapshotting") else snaps[-1]

    got: Snapshot = wait_for(idle, what="the daemon settled")
    return got


def test_status_names_the_newest_watch_snapshot_the_store_holds(
    tmp_path: Path, store_dir: Path, watcher: Watcher
) -> None:
    """`watch status` never lags `list`. The daemon writes its status at most once a second,
    after its worker's answer: right after `install` started it, `watch status` said "no
    snapshot yet" while `list` showed its snapshot 1. Here the worker's snapshot is taken
    the way the worker takes it, while the daemon waits out a long quiet period."""
    config(watchQuiet=60, watchMaxDelay=120)  # the daemon takes no snapshot of its own now
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    watcher.start()
    first = watcher.watching(repo)["last_snapshot"]["id"]
    (repo / "src" / "new.txt").write_text("new\n")
    # the daemon marks it before it sends a job (the worker's take trusts the dirty set: a
    # daemon that had not read the event yet, under load, had it find nothing changed)
    assert dirtyset.sync(str(store_dir), str(repo), timeout=30)
    took = time.time()  # (before the snapshot is created)
    subprocess.run(
        [str(VENV_BIN / "python"), "-m", "git_snapshot.watch.take", str(repo)], check=True
    )
    newest = max(s.id for s in watch_snaps(repo))
    assert newest > first
    data = json.loads(gs(repo, "watch", "status", "--json"))
    [tree] = [w for w in data["worktrees"] if w["path"] == str(repo)]
    assert tree["last_snapshot"]["id"] == newest
    # its age as the command saw it (rounded to 0.1 s), whatever the machine's load
    assert 0 <= tree["last_snapshot"]["age_s"] <= time.time() - took + 0.05
    assert f"last snapshot {newest} " in gs(repo, "watch", "status")
