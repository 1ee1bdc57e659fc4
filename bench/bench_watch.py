"""The watcher daemon's cost and speed (issue 11): prints a markdown table.

1. Generates one tree of bench/trees.py (M by default: 62k files, a node_modules-like part) as
   a git repository and makes --copies hard-linked copies of it (`cp -al`: the same folders
   and files to watch and scan, without --copies times the bytes), each a worktree.
2. Takes a first manual snapshot of copy 0 (timed; the watcher's snapshots build on it).
3. Registers every copy and starts the daemon (`git snapshot watch`), with the defaults
   (quiet 3 s, max delay 60 s, a quarter of max_user_watches).
4. idle: the daemon's CPU (utime + stime from /proc) and resident memory over --idle-seconds
   with nothing changing; the inotify watches it uses.
5. edit to snapshot: --rounds times, one file written in copy 0's src/, then the time until
   a watch snapshot holding it is in the index (median).
6. continuous churn: a file rewritten every 0.5 s for --churn-seconds: the time from the first
   write to the first snapshot, and the longest gap between snapshots.
7. an `npm install`-like burst: --burst-files new files in new packages under
   node_modules/ of copy 0; how many watch snapshots follow within the slow-scan period plus a
   minute, and the CPU the daemon and every process below it spent, by role (CpuSampler:
   daemon, worker, housekeeping, recorder). --burst-only runs only this part (after the
   daemon's first snapshot of every worktree); --burst-dirs-first makes the folders first.

    .venv/bin/python bench/bench_watch.py                    # M tree, 10 copies (~15 min)
    .venv/bin/python bench/bench_watch.py --tree quick --copies 3 --idle-seconds 10 \\
        --idle-warmup 5 --churn-seconds 20 --burst-files 2000   # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime

import common
import trees
from common import log

EXE = os.path.join(os.path.dirname(sys.executable), "git-snapshot")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, children: bool = False) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields after ')': state is [0]; utime [11], stime [12], cutime [13], cstime [14]
    own = int(fields[11]) + int(fields[12])
    kids = int(fields[13]) + int(fields[14]) if children else 0
    return (own + kids) / TICK


def _stat(pid: int) -> tuple[float, float] | None:
    """(own CPU, CPU of its reaped children) of *pid* in seconds, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def _cmdline(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None


def _pipe_fds(pid: int) -> set[str]:
    got = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                got.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    except OSError:
        pass
    return got


class CpuSampler(threading.Thread):
    """The CPU of the daemon and of each process below it, read from /proc every *every*
    seconds while it runs, by role: the daemon's loop, its worker (``take --serve``, whose
    input the daemon holds), the burst recorder (``take --serve`` with its input closed:
    one job), housekeeping (``take --deltas``, after each new watch snapshot) and what those
    fork (a split walk...). A process that lives less than one period is not seen: its CPU
    shows as "unseen" (the tree's total, from the CPU of the processes alive and what they
    reaped, minus what was seen)."""

    def __init__(self, daemon: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = daemon
        self.every = every
        self.stop = threading.Event()
        self.base: dict[int, float] = {}  # CPU at the start (0 for a process born since)
        self.last: dict[int, float] = {}
        self.role: dict[int, str] = {}
        self.parent: dict[int, int] = {}
        self.total0 = self._total(self._tree(), start=True)
        self.total1 = self.total0

    def _tree(self) -> dict[int, int]:
        """pid -> its parent, for the daemon and every process below it."""
        tree = {self.pid: 0}
        queue = [self.pid]
        while queue:
            p = queue.pop()
            for c in _children(p):
                tree[c] = p
                queue.append(c)
        return tree

    def _role_of(self, pid: int, parent: int) -> str:
        if pid == self.pid:
            return "daemon"
        argv = _cmdline(pid)
        if argv is None:
            return "other"
        if argv == _cmdline(parent):
            return "?"  # forked, not its own program (yet): looked at again next time
        if b"--deltas" in argv:
            return "housekeep"
        if b"--serve" in argv:
            try:
                stdin = os.readlink(f"/proc/{pid}/fd/0")
            except OSError:
                return "worker"
            return "worker" if stdin in _pipe_fds(self.pid) else "recorder"
        if not argv[0]:
            return "other"  # (ended, not yet reaped)
        name = os.path.basename(argv[0].decode(errors="replace"))
        return f"{self.role.get(parent, 'other')}: {name}"

    def _total(self, tree: dict[int, int], start: bool = False) -> float:
        total = 0.0
        for p, parent in tree.items():
            got = _stat(p)
            if got is None:
                continue
            own, reaped = got
            total += own + reaped
            if p not in self.base:
                self.base[p] = own if start else 0.0
                self.parent[p] = parent
            if self.role.get(p, "?") == "?":
                self.role[p] = self._role_of(p, parent)
            self.last[p] = own
        return total

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.total1 = self._total(self._tree())

    def finish(self) -> dict[str, float]:
        """Stop; CPU seconds by role over the run, with "unseen" and "total"."""
        self.stop.set()
        self.join()
        self.total1 = self._total(self._tree())
        by: dict[str, float] = {}
        for p, role in self.role.items():
            if role == "?":  # a fork that stayed its parent's program (a split walk...)
                role = self.role.get(self.parent[p], "other") + " (forked)"
            by[role] = by.get(role, 0.0) + self.last[p] - self.base[p]
        total = self.total1 - self.total0
        by["unseen"] = total - sum(by.values())
        by["total"] = total
        return by


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def worst_minute(seen: list[tuple[float, float]]) -> float | None:
    """The highest CPU share of one core over any 60 s of *seen* ((time, CPU seconds),
    oldest first), in %; None when it spans less than 60 s."""
    best = None
    j = 0
    for i in range(len(seen)):
        while seen[i][0] - seen[j][0] > 60:
            j += 1
        if seen[i][0] - seen[j][0] >= 59:
            share = (seen[i][1] - seen[j][1]) / (seen[i][0] - seen[j][0]) * 100
            best = share if best is None else max(best, share)
    return best


def gs(env: dict[str, str], cwd: str, *args: str) -> str:
    return subprocess.run(
        [EXE, *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


def status(env: dict[str, str]) -> dict[str, object]:
    data: dict[str, object] = json.loads(gs(env, "/", "watch", "status", "--json"))
    return data


def watch_ids(env: dict[str, str], root: str) -> list[tuple[int, float]]:
    out = gs(env, root, "list", "--json")
    return [
        (s["id"], datetime.fromisoformat(s["created"]).timestamp())
        for s in json.loads(out)
        if s["trigger"] == "watch"
    ]


def wait_new_snapshot(env: dict[str, str], root: str, known: int, timeout: float) -> float | None:
    """Seconds until a watch snapshot newer than id *known* is listed, or None."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        ids = watch_ids(env, root)
        if ids and ids[-1][0] > known:
            return time.monotonic() - start
        time.sleep(0.1)
    return None


def last_snapshot(env: dict[str, str], root: str) -> dict[str, float]:
    """The daemon's account of its last snapshot of *root*: ``seconds`` (the snapshot) and
    ``lag_s`` (the last change seen to the snapshot committed)."""
    wts = status(env).get("worktrees", [])
    assert isinstance(wts, list)
    for w in wts:
        if w["path"] == os.path.realpath(root) and w.get("last_snapshot"):
            last = w["last_snapshot"]
            return {"seconds": float(last["seconds"]), "lag_s": float(last["lag_s"])}
    return {"seconds": 0.0, "lag_s": 0.0}


def last_id(env: dict[str, str], root: str) -> int:
    ids = watch_ids(env, root)
    return ids[-1][0] if ids else 0


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tree", default="M", choices=sorted(trees.SIZES), help="which tree")
    p.add_argument("--copies", type=int, default=10, help="worktrees watched")
    p.add_argument(
        "--idle-seconds",
        type=int,
        default=240,
        help="the idle window: 240 s is one whole steady scan period (8 x watchSlowScan)",
    )
    p.add_argument(
        "--idle-warmup",
        type=int,
        default=120,
        help="seconds before it, for the first snapshots of the worktrees to end (big trees "
        "there at the start are scanned at the steady pace, 8 x watchSlowScan, from the start)",
    )
    p.add_argument("--rounds", type=int, default=5, help="edit-to-snapshot rounds")
    p.add_argument("--churn-seconds", type=int, default=90)
    p.add_argument("--burst-files", type=int, default=20_000)
    p.add_argument(
        "--burst-dirs-first",
        action="store_true",
        help="the burst makes its folders first, then (1 s later) writes its files: each "
        "file then has its events (create, modify, close) where its folder is watched",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--idle-only",
        action="store_true",
        help="only the idle part (no first snapshot, latency, churn or burst); an idle "
        "window of 240 s or more holds one whole steady scan period",
    )
    p.add_argument(
        "--burst-only",
        action="store_true",
        help="only the burst (after the first snapshot and the daemon's first snapshot of "
        "every worktree): its watch snapshots and its CPU by process",
    )
    args = common.parse_args(p, argv, ["copies", "idle_seconds", "rounds", "churn_seconds"])
    load_before = common.load_average()
    rows: list[list[str]] = []
    with common.scratch_dir("gsnap-watch-", args.base_dir, args.keep) as base:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("GIT_") and k != "GIT_SNAPSHOT_WATCH"
        }
        env.update(
            HOME=os.path.join(base, "home"),
            GIT_SNAPSHOT_STORE=os.path.join(base, "store"),
            GIT_SNAPSHOT_ALLOW_EPHEMERAL="1",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME="bench",
            GIT_AUTHOR_EMAIL="bench@example.invalid",
            GIT_COMMITTER_NAME="bench",
            GIT_COMMITTER_EMAIL="bench@example.invalid",
        )
        os.makedirs(env["HOME"])
        log(f"generating the {args.tree} tree")
        t0 = time.monotonic()
        first = os.path.join(base, "wt0")
        tree = trees.make(first, args.tree, args.seed, env)
        log(f"  {tree.describe()} in {time.monotonic() - t0:.0f}s")
        roots = [first]
        for i in range(1, args.copies):
            root = os.path.join(base, f"wt{i}")
            subprocess.run(["cp", "-al", first, root], check=True)
            roots.append(root)
        first_snapshot = 0.0
        if not args.idle_only:
            log("first manual snapshot of wt0")
            t0 = time.monotonic()
            gs(env, first, "create")
            first_snapshot = time.monotonic() - t0

        log(f"registering {len(roots)} worktrees, starting the daemon")
        for root in roots:
            gs(env, root, "watch", "add", ".")
        t0 = time.monotonic()
        while True:
            st = status(env)
            wts = st.get("worktrees", [])
            assert isinstance(wts, list)
            if sum(1 for w in wts if w.get("state") == "watching") == len(roots):
                break
            time.sleep(0.2)
        setup = time.monotonic() - t0
        pid = int(str(st["pid"]))
        log(f"  pid {pid}, all watched in {setup:.1f}s")
        try:
            rows += measure(args, env, roots, pid, st)
        finally:
            gs(env, "/", "watch", "stop")
        if first_snapshot:
            rows.insert(0, ["first snapshot of wt0 (manual)", f"{first_snapshot:.1f} s", ""])
        rows.insert(1, [f"daemon start to {len(roots)} worktrees watched", f"{setup:.1f} s", ""])
        described = tree.describe()
    print("\n".join(common.report_header("git snapshot watch", [sys.argv[0], *argv], load_before)))
    print(
        f"- trees: {args.copies} hard-linked copies of the {args.tree} tree ({described}); "
        "the machine was shared with other work (see the load average)\n"
    )
    print(common.markdown_table(["measure", "value", "target (issue 11)"], rows))
    return 0


class Rows(list[list[str]]):
    """The table's rows, each also logged as it is measured (a crash later loses none)."""

    def append(self, row: list[str]) -> None:
        log("  " + " | ".join(row))
        super().append(row)


def measure(
    args: argparse.Namespace,
    env: dict[str, str],
    roots: list[str],
    pid: int,
    st: dict[str, object],
) -> list[list[str]]:
    rows: list[list[str]] = Rows()
    wts = st["worktrees"]
    assert isinstance(wts, list)
    big = sum(b["dirs"] for w in wts for b in w["big_trees"])
    rows.append(
        [
            "inotify watches used",
            f"{st['watches']:,} of a budget of {st['budget']:,} "
            f"(max_user_watches {st['max_user_watches']:,})",
            "within the budget",
        ]
    )
    rows.append(["folders covered by the slow scan instead", f"{big:,}", ""])
    if args.burst_only:
        first_snapshots(env, roots)
        rows += burst(args, env, roots[0], pid)
        return rows
    log(f"idle: {args.idle_warmup}s of warm-up, then {args.idle_seconds}s measured")
    c0, w0 = cpu_seconds(pid), time.monotonic()
    time.sleep(args.idle_warmup)
    warm = (cpu_seconds(pid) - c0) / max(1e-9, time.monotonic() - w0) * 100
    c0, w0 = cpu_seconds(pid), time.monotonic()
    rss = []
    samples = [(w0, c0)]  # (time, CPU seconds) each second: the worst minute of the window
    while time.monotonic() - w0 < args.idle_seconds:
        time.sleep(1)
        rss.append(rss_mb(pid))
        samples.append((time.monotonic(), cpu_seconds(pid)))
    idle = (cpu_seconds(pid) - c0) / (time.monotonic() - w0) * 100
    worst = worst_minute(samples)
    covers = (
        "every scanned folder stat'ed once, 1/7.5 of their files"
        if args.idle_seconds >= 240
        else "under one steady scan period, 240 s: more or fewer folder scans than its share"
    )
    label = f"idle CPU (one core), steady, over {args.idle_seconds} s ({covers})"
    rows.append([label, f"{idle:.2f} %", "< 0.5 %"])
    if worst is not None:
        rows.append(["  its worst 60 s (the scans come in steps)", f"{worst:.2f} %", ""])
    rows.append([f"idle CPU during the {args.idle_warmup} s warm-up", f"{warm:.2f} %", ""])
    rows.append(["idle resident memory", f"{max(rss):.1f} MB", "< 60 MB"])
    if args.idle_only:
        return rows

    first = roots[0]
    log(f"edit to snapshot, {args.rounds} rounds")
    lat: list[float] = []
    seen: list[float] = []
    took: list[float] = []
    for r in range(args.rounds):
        known = last_id(env, first)
        with open(os.path.join(first, "src", f"bench-edit-{r}.js"), "w") as f:
            f.write(f"// edit {r}\n")
        got = wait_new_snapshot(env, first, known, 120)
        if got is not None:
            last = last_snapshot(env, first)
            lat.append(last["lag_s"])
            took.append(last["seconds"])
            seen.append(got)
        time.sleep(1)
    if lat:
        med = f"{statistics.median(lat):.1f} s"
        rows.append([f"edit to snapshot committed, median of {len(lat)}", med, "< 5 s"])
        rows.append(
            [
                "  of which the snapshot itself (the rest: the 3 s quiet period)",
                f"{statistics.median(took):.1f} s",
                "",
            ]
        )
        rows.append(
            [
                "  as seen by polling `git snapshot list` (adds one list call)",
                f"{statistics.median(seen):.1f} s",
                "",
            ]
        )
    else:
        rows.append(["edit to snapshot", "no snapshot within 120 s", "< 5 s"])

    log(f"continuous churn for {args.churn_seconds}s")
    known = last_id(env, first)
    stop = threading.Event()

    def churn() -> None:
        i = 0
        while not stop.is_set():
            with open(os.path.join(first, "src", "churn.js"), "w") as f:
                f.write(f"// {i}\n")
            i += 1
            stop.wait(0.5)

    start = time.time()
    writer = threading.Thread(target=churn)
    writer.start()
    time.sleep(args.churn_seconds)
    stop.set()
    writer.join()
    made = [
        c - start
        for sid, c in watch_ids(env, first)
        if sid > known and c <= start + args.churn_seconds
    ]
    first_at = f"{made[0]:.1f} s" if made else "none"
    gaps = [b - a for a, b in zip([0.0, *made], made)]
    rows.append(["churn (a write every 0.5 s): first write to first snapshot", first_at, "< 65 s"])
    rows.append(
        [
            f"churn: snapshots begun in {args.churn_seconds} s, longest gap",
            f"{len(made)}, {max(gaps):.1f} s" if gaps else "0",
            "< 65 s",
        ]
    )

    rows += burst(args, env, first, pid)
    st3 = status(env)
    rows.append(["queue overflows during the run", str(st3.get("overflows")), ""])
    return rows


def first_snapshots(env: dict[str, str], roots: list[str]) -> None:
    """Wait until the daemon has taken its first snapshot of every worktree in *roots*."""
    log("waiting for the daemon's first snapshot of each worktree")
    want = {os.path.realpath(r) for r in roots}
    while True:
        wts = status(env).get("worktrees", [])
        assert isinstance(wts, list)
        if want <= {w["path"] for w in wts if w.get("last_snapshot")}:
            return
        time.sleep(1)


def burst(args: argparse.Namespace, env: dict[str, str], first: str, pid: int) -> list[list[str]]:
    """The npm-install-like burst: the watch snapshots that follow, and the CPU spent, by
    process (CpuSampler)."""
    rows: list[list[str]] = Rows()
    log(f"npm-install-like burst: {args.burst_files} files under node_modules/")
    time.sleep(5)  # let the last snapshot go
    known = last_id(env, first)
    events0 = events(env, first)
    c0 = cpu_seconds(pid, children=True)
    sampler = CpuSampler(pid)
    sampler.start()
    t0 = time.monotonic()
    per_pkg = 20
    if args.burst_dirs_first:  # the folders first: the daemon watches them before the writes
        for n in range(0, args.burst_files, per_pkg):
            os.makedirs(os.path.join(first, "node_modules", f"burst-pkg-{n // per_pkg}", "lib"))
        time.sleep(1)
    for n in range(args.burst_files):
        d = os.path.join(first, "node_modules", f"burst-pkg-{n // per_pkg}", "lib")
        if n % per_pkg == 0 and not args.burst_dirs_first:
            os.makedirs(d)
        with open(os.path.join(d, f"f{n}.js"), "w") as f:
            f.write(f"module.exports = {n};\n")
    written = time.monotonic() - t0
    st2 = status(env)
    settle = float(str(st2.get("quiet_s", 3))) + 30 + 60  # quiet, slow scan, a minute
    time.sleep(settle)
    ids = [sid for sid, _ in watch_ids(env, first) if sid > known]
    by = sampler.finish()
    reaped = cpu_seconds(pid, children=True) - c0
    rows.append(
        [
            f"burst of {args.burst_files:,} files ({written:.1f} s to write): watch snapshots",
            str(len(ids)),
            "<= 2",
        ]
    )
    rows.append(
        ["burst: CPU of the daemon and everything below it", f"{by['total']:.1f} s", "printed"]
    )
    for role in sorted(by, key=lambda r: -by[r]):
        if role != "total" and abs(by[role]) >= 0.05:
            rows.append([f"  {role}", f"{by[role]:.2f} s", ""])
    rows.append(
        [
            "  (the daemon's own and reaped children's CPU: counts a worker's whole life "
            "when it is reaped in the window; sessions 15-16 printed this)",
            f"{reaped:.1f} s",
            "",
        ]
    )
    rows.append(["burst: events read by the daemon", f"{events(env, first) - events0:,}", ""])
    return rows


def events(env: dict[str, str], root: str) -> int:
    wts = status(env).get("worktrees", [])
    assert isinstance(wts, list)
    for w in wts:
        if w["path"] == os.path.realpath(root):
            return int(w.get("events", 0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
