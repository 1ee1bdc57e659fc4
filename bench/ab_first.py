"""A/B of a first snapshot: another code's src against this checkout's, interleaved, per thread.

    git worktree add --detach /dev/shm/old REV        # the other code
    (py=$PWD/.venv/bin/python; cd /dev/shm/old && $py setup.py -q build_ext --inplace)  # its C
    .venv/bin/python bench/ab_first.py --old /dev/shm/old/src --tree /dev/shm/M --autogroup

The first lines say whether each code runs the C speedups (git_snapshot.store._ctree; a code
with _ctree.c runs its pure-Python twin until built as above) and warn when only one does.

Copies the tree (made by bench/trees.py, never modified) once; then, in rounds, each code (the
order alternated every round) takes a first snapshot of the copy through the CLI
(`git-snapshot --json`) into a fresh store, the tree's files read whole just before (the page
cache warm, as peers.py's runs have it); with --tar, `tar -I 'zstd -3 -T0'` of the same copy
too (peers.py's command), and each code's ratio to it in the same round. Every snapshot's root
tree key is compared with the first one's: the codes must store the same tree.

Each snapshot runs in a wrapper (THREADS below) that reads, for every thread of the process
(the walking thread, the compression pool, the index thread), its CPU, its time on a core and
in the run queue (/proc/thread-self/schedstat), and its wall time alive; blocked = alive - on a
core - run queue: waits for the GIL, for jobs, for other threads. And the CPU each thread
spends compressing (packs._compress_all, _compress and _compress_many, where the code has
them, a call inside another counted once: since fs45 a group's frame is made by _group_frame
-> _prefixed_frame, which _compress alone no longer sees): the walking thread's share is
the batches it compressed itself while the pool was behind.
Prints per code the medians over the rounds. On two shared cores wall times are noisy (the
same code twice differs by ~10 % at load 4-5); CPU and the per-thread split repeat better.

L: its copy on disk (RULES.md: one writable copy, not in /dev/shm), the stores in --dir:

    bench/ab_first.py --old OLD --tree /dev/shm/L --tree-dir /work/scratch/NAME \
        --dir /dev/shm/NAME/abf --autogroup --tar

--autogroup runs each command in an autogroup of its own at nice -20 (setsid, then
/proc/self/autogroup; root only), as bench/ab_one_percent.py does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time

import common

# The wrapper: argv[1] is where it writes its JSON, the rest the CLI's arguments.
THREADS = r"""
import json, os, sys, threading, time
cpu = {}  # thread name -> [cpu, on a core, run queue, alive, compress cpu]
lock = threading.Lock()
def sched():
    try:
        with open("/proc/thread-self/schedstat") as f:
            run, wait = f.read().split()[:2]
        return int(run) / 1e9, int(wait) / 1e9
    except (OSError, ValueError):
        return 0.0, 0.0
def add(name, values):
    with lock:
        row = cpu.setdefault(name, [0.0] * 5)
        for i, v in enumerate(values):
            row[i] += v
def name():
    t = threading.current_thread()
    return "walk" if t is threading.main_thread() else t.name
start, start_sched = time.perf_counter(), sched()
_run = threading.Thread.run
def run(self):
    t0, r0 = time.perf_counter(), sched()
    try:
        _run(self)
    finally:
        r1 = sched()
        add(name(), [time.thread_time(), r1[0] - r0[0], r1[1] - r0[1], time.perf_counter() - t0])
threading.Thread.run = run
from git_snapshot.store import packs
depth = threading.local()
def timed(fn):
    def compress(*a, **k):
        outer = not getattr(depth, "n", 0)
        depth.n = getattr(depth, "n", 0) + 1
        c = time.thread_time()
        try:
            return fn(*a, **k)
        finally:
            depth.n -= 1
            if outer:  # a call inside another (a group's frame in _compress_all) counted once
                add(name(), [0, 0, 0, 0, time.thread_time() - c])
    return compress
for attr in ("_compress", "_compress_many", "_compress_all"):
    if hasattr(packs, attr):
        setattr(packs, attr, timed(getattr(packs, attr)))
from git_snapshot.hookmain import main
out, sys.argv = sys.argv[1], ["git-snapshot", *sys.argv[2:]]
try:
    main()
finally:
    r = sched()  # (the interpreter's start before *start* counted in its CPU only)
    add("walk", [time.thread_time(), r[0] - start_sched[0], r[1] - start_sched[1],
                 time.perf_counter() - start])
    import resource
    cpu["rss"] = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]
    with open(out, "w") as f:
        json.dump(cpu, f)
"""
# the threads by name (packs._Pool's, archiver._Indexer's): their columns
KINDS = {"walk": "walk", "git-snapshot-zstd": "pool", "git-snapshot-index": "index"}

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--old", help="the other code's src folder (none: this checkout's alone)")
common.add_ab_arguments(ap, "/dev/shm/gsnap-abf", 4, "command")
ap.add_argument("--tar", action="store_true", help="tar+zstd of the tree in every round too")
args = ap.parse_args()
here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODES = {"new": os.path.abspath(args.new or f"{here}/src")}
if args.old:
    CODES = {"old": os.path.abspath(args.old), **CODES}
BASE = args.dir
TREES = os.path.join(args.tree_dir, "gsnap-abf-tree") if args.tree_dir else BASE
TREE = os.path.join(TREES, os.path.basename(os.path.normpath(args.tree)))
OUT = f"{BASE}/threads.json"

env0 = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
env0.update(GIT_SNAPSHOT_ALLOW_EPHEMERAL="1", GIT_SNAPSHOT_WATCH="0", HOME=f"{BASE}/home")


def env(code: str, store: str) -> dict[str, str]:
    e = dict(env0, PYTHONPATH=CODES[code], GIT_SNAPSHOT_STORE=store)
    common.run_from_bytecode(e, f"{BASE}/pyc-{code}")
    return e


def warm() -> None:
    """The tree's files read whole (a first snapshot reads every byte)."""
    for d, _, fs in os.walk(TREE):
        for f in fs:
            path = os.path.join(d, f)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as fh:
                    while fh.read(1 << 20):
                        pass


def timed(cmd: list[str], e: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall and CPU (user + system of all its processes) of *cmd* in TREE, and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    ran = subprocess.run(
        common.in_autogroup(cmd, args.autogroup),
        cwd=TREE,
        env=e,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, ran.stderr.decode(errors="replace")


def root_key(store: str, err: str) -> str:
    db = sqlite3.connect(f"file:{store}/index.sqlite?mode=ro", uri=True)
    try:
        row = db.execute("SELECT hex(root) FROM snapshots").fetchone()
        if row is None:
            sys.exit(f"no snapshot in {store}: {err.strip()[-2000:]}")
        return str(row[0])
    finally:
        db.close()


def snapshot(code: str) -> dict[str, float]:
    store = f"{BASE}/store-{code}"
    common.remove(store)
    warm()
    wall, cpu, err = timed([sys.executable, "-c", THREADS, OUT, "--json"], env(code, store))
    with open(OUT) as f:
        threads: dict[str, list[float]] = json.load(f)
    os.unlink(OUT)
    row = {"wall": wall, "cpu": cpu, "rss": threads.pop("rss")[0]}  # (the Python process's)
    for name, (tcpu, run, queue, alive, zcpu) in threads.items():
        kind = KINDS.get(name, "other")
        for col, v in (
            ("cpu", tcpu),
            ("zstd", zcpu),
            ("rq", queue),
            ("blocked", alive - run - queue),
        ):
            row[f"{kind} {col}"] = row.get(f"{kind} {col}", 0.0) + v
    keys[code] = root_key(store, err)
    common.remove(store)
    return row


def tar() -> float:
    out = f"{BASE}/tar.tar.zst"
    warm()
    wall, _, _ = timed(["tar", "-I", "zstd -3 -T0", "--exclude=./.git", "-cf", out, "."])
    os.unlink(out)
    return wall


COLUMNS = [
    "wall", "cpu", "rss", "walk cpu", "walk zstd", "walk rq", "walk blocked",
    "pool cpu", "pool zstd", "pool rq", "pool blocked", "index cpu", "other cpu",
]  # fmt: skip

keys: dict[str, str] = {}
common.remove(BASE)
os.makedirs(f"{BASE}/home")
os.makedirs(TREES, exist_ok=True)
try:
    subprocess.run(["cp", "-a", args.tree, TREE], check=True)
    subprocess.run(["chmod", "-R", "u+w", TREE], check=True)
    rows: dict[str, list[dict[str, float]]] = {code: [] for code in CODES}
    tars: list[float] = []
    order = list(CODES)
    print("\n".join(common.codes_speedups({c: env(c, BASE) for c in CODES})), flush=True)
    for code in order:  # once untimed: its bytecode written (as an installed package has it)
        snapshot(code)
    print(
        f"first snapshot of {args.tree}, {args.rounds} rounds, load {common.load_average()}",
        flush=True,
    )
    for r in range(args.rounds):
        for code in order if r % 2 == 0 else order[::-1]:
            row = snapshot(code)
            if args.tar:
                row["tar"] = tar()
                row["ratio"] = row["wall"] / row["tar"]
            rows[code].append(row)
            print(
                f"round {r + 1} {code}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()),
                flush=True,
            )
            if keys[code] != keys[order[0]]:
                sys.exit(f"{code}'s root tree {keys[code]} is not {order[0]}'s {keys[order[0]]}")
    print(f"\nmedians (seconds; rss MB), load {common.load_average()}, root tree {keys[order[0]]}")
    cols = COLUMNS + (["tar", "ratio"] if args.tar else [])
    print(
        common.markdown_table(
            ["code", *cols],
            [
                [code, *(f"{common.median([r.get(c, 0.0) for r in rows[code]]):.2f}" for c in cols)]
                for code in CODES
            ],
        )
    )
finally:
    common.remove(BASE)
    if args.tree_dir:
        common.remove(TREES)
