"""The idle watcher's scans of big ignored trees (one root watch + stat scans; issue 11's idle
cost): every file of a scanned tree is still looked at within watchDeepScan, but in slices
spread over the scans instead of all the trees' files at once; a tree the daemon finds when it
starts is scanned at the steady pace, trees found together at phases of their own; a hook's
sync never waits for the files' look; the scan never follows a symlink out of the tree.

Unit level: a WatchSet with its big trees and the scan times given, no daemon, no inotify."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.store import Store
from git_snapshot.watch import source as ev
from git_snapshot.watch.config import WatchConfig
from git_snapshot.watch.watchset import BigTree
from git_snapshot.watch.watchset import Budget
from git_snapshot.watch.watchset import WatchSet


class FakeSource(ev.Source):
    """Watches that are only numbers: what the budget counts."""

    def __init__(self) -> None:
        self.n = 0

    def add(self, path: str) -> int:
        self.n += 1
        return self.n

    def remove(self, wd: int) -> None:
        pass

    def fileno(self) -> int:
        return -1

    def read(self) -> list[ev.Event]:
        return []

    def close(self) -> None:
        pass


def make_tree(top: Path, packages: int = 40) -> Path:
    """A node_modules-like tree: *packages* packages, each with lib/ and two files."""
    nm = top / "node_modules"
    for i in range(packages):
        lib = nm / f"pkg{i}" / "lib"
        lib.mkdir(parents=True)
        (nm / f"pkg{i}" / "package.json").write_text(f'{{"name": "pkg{i}"}}\n')
        (lib / "index.js").write_text(f"module.exports = {i};\n")
    return nm


def scanned_set(root: Path, nm: Path, cfg: WatchConfig) -> tuple[WatchSet, BigTree]:
    ws = WatchSet(str(root), str(root / ".store"), Budget(FakeSource(), 1000), cfg)
    b = BigTree(str(nm))
    b.full()
    ws.schedule(b, 0.0)
    ws.big[b.root] = b
    return ws, b


def folder_scan(ws: WatchSet, b: BigTree) -> set[str]:
    """What the scans find up to and with *b*'s next folder scan (the slices of the look at
    the files that come before it included)."""
    changed: set[str] = set()
    while True:
        at, due = ws.next_scan(), b.next_at
        assert at is not None
        changed |= ws.scan_big(at)
        if at >= due:
            return changed


def rewrite_in_place(f: Path) -> None:
    """Same size, a later mtime, the folder's own stat unchanged: only a look at the files
    (the deep scan) sees it."""
    folder = os.lstat(f.parent)
    st = os.lstat(f)
    data = f.read_bytes()
    f.write_bytes(data.replace(b"module", b"MODULE"))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert os.lstat(f.parent).st_mtime_ns == folder.st_mtime_ns


def counting_listings(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every folder listed (os.scandir) from now on."""
    calls: list[Any] = []
    real: Callable[..., Any] = os.scandir

    def counted(path: Any = ".") -> Any:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(os, "scandir", counted)
    return calls


def test_files_are_looked_at_within_the_deep_period_in_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file rewritten in place deep in a scanned tree is found within watchDeepScan (plus
    one scan interval), and no scan lists more folders than its share of the period: the
    old deep scan listed every folder of every tree at once (3 s of CPU for 10 trees of M)."""
    nm = make_tree(tmp_path)
    cfg = WatchConfig(slow_scan=10, deep_scan=100)
    ws, b = scanned_set(tmp_path, nm, cfg)
    folders = b.count
    assert folders == 81
    f = nm / "pkg33" / "lib" / "index.js"
    rewrite_in_place(f)
    calls = counting_listings(monkeypatch)
    last, found_at, scans = 0.0, None, 0
    while found_at is None:
        at = ws.next_scan()
        assert at is not None and at <= 10 + 100 + 8 * 10, "not found within the deep period"
        calls.clear()
        changed = ws.scan_big(at)
        scans += 1
        share = -(-folders * (at - last) // 100)  # ceil: the slice of this scan
        assert len(calls) <= share, (at, len(calls), share)
        if str(f.parent) in changed:
            found_at = at
        else:
            assert not changed, changed
        last = at
    assert scans >= 3  # spread over several scans, not one
    # and it is not found again: its new stat is learned
    while (at := ws.next_scan()) is not None and at < found_at + 300:
        assert ws.scan_big(at) == set()


def test_a_scan_finds_adds_deletes_and_never_follows_a_symlink_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package folder replaced by a symlink (npm link) to a folder elsewhere: the scan
    names the change and drops the folder with all below it; it does not learn the target's
    folders (the old scan listed the target through the link and scanned it for good)."""
    nm = make_tree(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    for i in range(30):
        (elsewhere / f"d{i}" / "sub").mkdir(parents=True)
    cfg = WatchConfig(slow_scan=10, deep_scan=1800)
    ws, b = scanned_set(tmp_path, nm, cfg)
    before = b.count
    # a package linked, another removed, a folder added deep (no event: only a scan sees it)
    for p in (nm / "pkg5" / "lib" / "index.js", nm / "pkg5" / "package.json"):
        p.unlink()
    (nm / "pkg5" / "lib").rmdir()
    (nm / "pkg5").rmdir()
    (nm / "pkg5").symlink_to(elsewhere)
    for p in (nm / "pkg6" / "lib" / "index.js", nm / "pkg6" / "package.json"):
        p.unlink()
    (nm / "pkg6" / "lib").rmdir()
    (nm / "pkg6").rmdir()
    (nm / "pkg7" / "lib" / "new").mkdir()
    changed = folder_scan(ws, b)
    assert {str(nm / "pkg5"), str(nm / "pkg6"), str(nm / "pkg7" / "lib")} <= changed
    assert str(nm / "pkg7" / "lib" / "new") in changed
    assert str(nm) in changed  # the parent of what went
    assert not any(c.startswith(str(nm / "pkg5") + "/") for c in changed)
    dirs = set(b.dirs())
    assert not any(d == str(nm / "pkg5") or d.startswith(str(nm / "pkg5") + "/") for d in dirs)
    assert str(nm / "pkg6" / "lib") not in dirs
    assert b.count == before - 4 + 1
    # the next scans: nothing new, and nothing listed through the link
    calls = counting_listings(monkeypatch)
    for _ in range(3):
        assert folder_scan(ws, b) == set()
    assert not any("elsewhere" in str(c) or "pkg5" in str(c) for c in calls)
    # the whole tree removed: said once, then nothing
    shutil.rmtree(nm)
    assert {str(nm), str(tmp_path), str(nm / "pkg7" / "lib" / "new")} <= folder_scan(ws, b)
    assert b.count == 0
    assert folder_scan(ws, b) == set()


def test_trees_found_at_setup_are_scanned_at_the_steady_pace_and_apart(
    tmp_path: Path,
) -> None:
    """node_modules trees there when the daemon starts: nothing says they change, so their
    first scan comes at the steady pace (8 x watchSlowScan), not 30 s then 60 s then 120 s
    (three scans of every tree in the first 4 minutes), and trees set up together are not
    scanned together. A tree that appears later (npm install) is scanned soon."""
    cfg = WatchConfig(slow_scan=30, deep_scan=1800, big_dirs=5)
    budget = Budget(FakeSource(), 12)  # the worktrees' own folders, not their node_modules
    sets = []
    for n in range(4):
        root = tmp_path / f"wt{n}"
        (root / "src").mkdir(parents=True)
        make_tree(root, packages=10)
        ws = WatchSet(str(root), str(tmp_path / "store"), budget, cfg)
        ws.setup(frozenset({b"node_modules"}))
        assert list(ws.big) == [str(root / "node_modules")]
        sets.append(ws)
    firsts = [next(iter(ws.big.values())).next_at for ws in sets]  # the first folder scans
    now = time.monotonic()  # (the watch set's clock, RED31 D5)
    assert all(at - now >= 2 * 30 - 5 for at in firsts), [at - now for at in firsts]
    assert all(at - now <= 8 * 30 + 1 for at in firsts)
    gaps = sorted(firsts)
    assert min(b - a for a, b in zip(gaps, gaps[1:])) >= 10  # apart, not all at once
    # a node_modules made later, too big to watch whole: scanned within watchSlowScan
    ws = sets[0]
    fresh = Path(ws.root) / "web" / "node_modules"
    for i in range(10):
        (fresh / f"p{i}" / "lib").mkdir(parents=True)
    before = time.monotonic()
    ws.add_tree(str(fresh))
    assert str(fresh) in ws.big
    assert ws.big[str(fresh)].next_at <= before + 30 + 1


def test_a_hook_sync_never_waits_for_the_look_at_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hook's sync scans a tree touched at its root (only_touched): folders' stats only.
    The old scan listed every folder of the tree (every file's stat) there when its deep scan
    was due, while the hook waited."""
    nm = make_tree(tmp_path)
    cfg = WatchConfig(slow_scan=10, deep_scan=100)
    ws, b = scanned_set(tmp_path, nm, cfg)
    (nm / "pkg40").mkdir()  # what npm install does at the root: an event there
    b.touched = True
    calls = counting_listings(monkeypatch)
    changed = ws.scan_big(150.0, only_touched=True)  # the deep period is over
    assert str(nm / "pkg40") in changed
    assert len(calls) <= 2, calls  # node_modules/ relisted (its mtime changed), pkg40/


def test_the_look_at_files_comes_in_steps_between_folder_scans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A settled tree's folder scan comes every 4 min; the look at its files comes in steps of
    watchSlowScan between them, each its share of the time (10 trees of M: a few ms each),
    not a slice of 4 minutes' worth with each folder scan (the worst minute of the idle
    daemon was one with several trees' folder scans and their slices)."""
    nm = make_tree(tmp_path)
    cfg = WatchConfig(slow_scan=30, deep_scan=1800)
    ws = WatchSet(str(tmp_path), str(tmp_path / ".store"), Budget(FakeSource(), 1000), cfg)
    b = BigTree(str(nm))
    b.full()
    ws.schedule(b, 0.0, settled=True)
    ws.big[b.root] = b
    share = -(-b.count * 30 // 1800)  # ceil: 30 s of the 1800 s round
    calls = counting_listings(monkeypatch)
    steps = []
    while (at := ws.next_scan()) is not None and at < 1800:
        calls.clear()
        assert ws.scan_big(at) == set()
        steps.append((at, len(calls)))
    assert max(n for _, n in steps) <= share, steps
    assert len(steps) >= 1800 / 30 - 2  # a step every 30 s
    assert sum(n for _, n in steps) >= b.count - share  # the whole round, nearly


# -- the daemon, for real: the bounds a watch snapshot keeps (the lead's guard, session 14) --


def _waits(pid: int) -> dict[int, float]:
    """The seconds the daemon *pid* and each of its children (its worker) have spent
    runnable but held off the cores, by pid (their run-queue waits, /proc/PID/schedstat)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        kids = []
    out: dict[int, float] = {}
    for p in (pid, *kids):
        try:
            with open(f"/proc/{p}/schedstat", encoding="ascii") as f:
                out[p] = int(f.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            continue  # (ended since it was listed)
    return out


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_a_scanned_tree_reaches_watch_snapshots_within_its_bounds(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """In a scanned node_modules found at the daemon's start: a file rewritten in place deep
    inside reaches a watch snapshot within watchDeepScan + watchSlowScan, a folder made deep
    inside within 8 x watchSlowScan (its steady pace from the start); the tree removed whole
    (an event at its root) within seconds, whatever the scans' pace."""
    config(watchBigDirs=5, watchBudget=20, watchSlowScan=0.5, watchDeepScan=3)
    repo = make_repo(tmp_path)
    for i in range(20):
        (repo / "node_modules" / f"pkg{i}" / "lib").mkdir(parents=True)
        (repo / "node_modules" / f"pkg{i}" / "lib" / "index.js").write_text(f"// {i}\n")
    gs(repo, "create", "-m", "set up")
    add(store_dir, repo)
    daemon = watcher.start()
    tree = watcher.watching(repo)
    assert [b["path"] for b in tree["big_trees"]] == [str(repo / "node_modules")]
    f = repo / "node_modules" / "pkg13" / "lib" / "index.js"
    t0 = time.time()  # (the daemon's clock)
    rewrite_in_place(f)

    def holds(rel: str, data: bytes | None) -> bool:
        snaps = watch_snaps(repo)
        if not snaps:
            return False
        with Store() as store:
            got = {os.fsdecode(p): e for p, e in store.walk(snaps[-1].root)}
            if data is None:
                return rel not in got and not any(p.startswith(rel + "/") for p in got)
            if rel not in got:
                return False
            e = got[rel]
            return (b"".join(store.stream_blob(e.ref)) if e.size else b"") == data

    def seen_within(rel: str, data: bytes | None, written: float) -> float:
        """Once a watch snapshot holds *rel* as *data*: the seconds from *written* to the
        daemon's seeing the change (its last_snapshot: the result came *lag_s* after the
        last change seen, *seconds* after the snapshot's job began, which is no later than
        the snapshot's *created*). The quiet period is left out; the snapshot's run up to
        its commit (*created* is stamped then) is not: it stays at most (an upper bound).
        Less the time the daemon and its worker waited for a core meanwhile (a loaded
        machine's share, which no fixed margin bounds: a daemon held off the cores went
        past one), their waits summed."""
        before = _waits(daemon.pid)
        wait_for(lambda: holds(rel, data), what=f"a watch snapshot with {rel}")
        after = _waits(daemon.pid)  # (once it is committed)
        snap = watch_snaps(repo)[-1]
        last = wait_for(
            lambda: (
                (watcher.tree(repo).get("last_snapshot") or {}).get("id") == snap.id
                and watcher.tree(repo)["last_snapshot"]
            ),
            what="the daemon's status of that snapshot",
        )
        held = sum(max(0.0, w - before.get(p, 0.0)) for p, w in after.items())
        return float(last["created"] + last["seconds"] - last["lag_s"] - written) - held

    # deep + step + the daemon's own lateness on a loaded machine
    assert seen_within("node_modules/pkg13/lib/index.js", f.read_bytes(), t0) < 3 + 0.5 + 10
    t0 = time.time()
    (repo / "node_modules" / "pkg2" / "lib" / "deep").mkdir()
    (repo / "node_modules" / "pkg2" / "lib" / "deep" / "x.js").write_text("new\n")
    assert seen_within("node_modules/pkg2/lib/deep/x.js", b"new\n", t0) < 8 * 0.5 + 10
    config(watchSlowScan=600)  # (read at start only: the running daemon keeps 0.5)
    t0 = time.time()
    shutil.rmtree(repo / "node_modules")
    assert seen_within("node_modules", None, t0) < 10
