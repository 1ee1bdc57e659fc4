"""A full restore against tar+zstd's extraction of the same tree, interleaved in the same run.

For each tree (default M and L, read from /dev/shm/<T>: left unchanged), a store holding one
snapshot of it (its top-level .git left out, as bench/peers.py's tar leaves it out) and a
`tar -I 'zstd -3 -T0'` archive of it are made once in DIR (kept for the next run with --keep;
--reuse takes them as they are). Then each round restores every tree with every code given
(--src NAME=SRCDIR: an older checkout's src, to compare two versions in the same minute; by
default this checkout's src) and extracts it with tar, in an order that rotates per round,
each into a new directory on the same file system (removed, untimed, after each run). Wall
time, CPU (user+sys of the command and the processes it waited for) and peak RSS are taken
from os.wait4; the table gives medians and the median of the per-round ratios to tar.

Run: env -u PYTHONDONTWRITEBYTECODE .venv/bin/python bench/bench_restore.py \
    [--trees M,L] [--rounds 5] [--dir /dev/shm/restore/bench] [--src old=/path/to/src]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
ZSTD = "zstd -3 -T0"  # as bench/peers.py: tar's compressor, both ways

MAKE_STORE = """
import sys
from git_snapshot.api import _open
from git_snapshot.store.archiver import Options, create_snapshot
with _open(sys.argv[1]) as st:
    r = create_snapshot(st, sys.argv[2], sys.argv[3], options=Options(omit=frozenset({b'.git'})))
    print(r.snapshot.files)
"""


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, file=sys.stderr, flush=True)


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user+sys, waited-for descendants included), peak RSS (KB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd} failed ({status})")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def count(root: str) -> int:
    return sum(len(d) + len(f) for _, d, f in os.walk(root))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trees", default="M,L")
    ap.add_argument("--tree-dir", default="/dev/shm", help="where trees T are (DIR/T)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dir", default="/dev/shm/restore/bench")
    ap.add_argument("--src", action="append", default=[], help="NAME=SRCDIR (repeatable)")
    ap.add_argument("--reuse", action="store_true", help="use the stores and archives in DIR")
    ap.add_argument("--keep", action="store_true", help="keep the stores and archives")
    args = ap.parse_args()
    trees = args.trees.split(",")
    codes = dict(s.split("=", 1) for s in args.src) or {"gs": SRC}
    py = sys.executable
    base_env = dict(os.environ, GIT_SNAPSHOT_ALLOW_EPHEMERAL="1", GIT_SNAPSHOT_WATCH="0")
    os.makedirs(args.dir, exist_ok=True)
    for t in trees:
        store, archive = (
            os.path.join(args.dir, "store-" + t),
            os.path.join(args.dir, t + ".tar.zst"),
        )
        if args.reuse and os.path.isdir(store) and os.path.isfile(archive):
            continue
        tree = os.path.join(args.tree_dir, t)
        shutil.rmtree(store, ignore_errors=True)
        log(f"{t}: a store of {tree}")
        env = dict(base_env, PYTHONPATH=next(iter(codes.values())), GIT_SNAPSHOT_STORE=store)
        subprocess.run([py, "-c", MAKE_STORE, store, t, tree], env=env, check=True)
        log(f"{t}: {archive}")
        excl = "--exclude=./.git"
        subprocess.run(["tar", "-I", ZSTD, excl, "-cf", archive, "-C", tree, "."], check=True)
    tools = [*codes, "tar"]
    wall: dict[tuple[str, str], list[float]] = defaultdict(list)
    cpu: dict[tuple[str, str], list[float]] = defaultdict(list)
    rss: dict[tuple[str, str], list[int]] = defaultdict(list)
    ratios: dict[tuple[str, str], list[float]] = defaultdict(list)
    target = os.path.join(args.dir, "target")
    entries: dict[tuple[str, str], int] = {}
    for r in range(args.rounds):
        for t in trees:
            store = os.path.join(args.dir, "store-" + t)
            order = tools[r % len(tools) :] + tools[: r % len(tools)]
            got: dict[str, float] = {}
            for tool in order:
                shutil.rmtree(target, ignore_errors=True)
                os.makedirs(target)
                if tool == "tar":
                    archive = os.path.join(args.dir, t + ".tar.zst")
                    cmd, env = ["tar", "-I", ZSTD, "-xf", archive, "-C", target], base_env
                else:
                    cmd = [py, "-m", "git_snapshot", "restore", "--repo", t, "1", "--to", target]
                    env = dict(base_env, PYTHONPATH=codes[tool], GIT_SNAPSHOT_STORE=store)
                w, c, m = run(cmd, env)
                got[tool] = w
                wall[t, tool].append(w)
                cpu[t, tool].append(c)
                rss[t, tool].append(m)
                if r == 0:
                    entries[t, tool] = count(target)
            for tool in codes:
                ratios[t, tool].append(got[tool] / got["tar"])
            log(f"round {r + 1} {t}: " + ", ".join(f"{k} {v:.2f} s" for k, v in got.items()))
    shutil.rmtree(target, ignore_errors=True)
    if not args.keep:
        for t in trees:
            shutil.rmtree(os.path.join(args.dir, "store-" + t), ignore_errors=True)
            archive = os.path.join(args.dir, t + ".tar.zst")
            if os.path.exists(archive):
                os.unlink(archive)
    med = statistics.median
    print(f"\nfull restore, medians of {args.rounds} interleaved rounds (load {os.getloadavg()})")
    print("| tree | tool | wall (s) | CPU (s) | peak RSS (MB) | entries | wall / tar (per round) |")
    print("|---|---|---|---|---|---|---|")
    for t in trees:
        for tool in tools:
            k = (t, tool)
            ratio = f"{med(ratios[k]):.2f}x" if tool != "tar" else ""
            print(
                f"| {t} | {tool} | {med(wall[k]):.2f} | {med(cpu[k]):.2f} | "
                f"{med(rss[k]) / 1024:.1f} | {entries.get(k, 0)} | {ratio} |"
            )


if __name__ == "__main__":
    main()
