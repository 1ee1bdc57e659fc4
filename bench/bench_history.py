"""Benchmark (not a test): finding old versions on a big store.

A store of N snapshots (default 100) of the M tree (an app of 2,000 files plus a node_modules
of about 59,000 files, about 550 MB in all), 1 % of the files edited between two snapshots
(and one watched file every 10th), then the commands a user runs on the day they need it:
``log PATH`` (a file, a folder), ``find``, ``diff`` (two snapshots, a folder against the
worktree, the whole worktree) and ``cat``. Target (issue 10.4): under a second each, as a
fresh process (what the user waits for: interpreter start included), warm cache. Each
command runs once to warm up, then ROUNDS times as a fresh process and ROUNDS times
in-process (what the store part costs); the table shows medians.

    python bench/bench_history.py                   # 100 x M on tmpfs, removed afterwards
    python bench/bench_history.py --keep            # ... kept: prints the directory
    python bench/bench_history.py --store DIR       # reuse what --keep kept (no build)
    python bench/bench_history.py --quick           # 20 snapshots of 5,000 files

Building the store takes a few minutes (the first snapshot of M, then 99 of 1 % changed).
The worktree gets 1 % of its files edited after the last snapshot, so that ``diff`` against
it has something to report.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Tree
from common import load_average
from common import median
from common import modify_files
from common import remove
from common import report_header
from common import run_from_bytecode
from common import write_new

META = "bench-history.json"


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=61_000, help="files in the tree (M: 61000)")
    p.add_argument("--snapshots", type=int, default=100)
    p.add_argument("--rounds", type=int, default=5, help="timed runs per command (median)")
    p.add_argument("--quick", action="store_true", help="20 snapshots of 5,000 files")
    p.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    p.add_argument("--keep", action="store_true", help="keep the tree and the store")
    p.add_argument("--store", metavar="DIR", help="reuse a directory kept by --keep")
    p.add_argument(
        "--no-cold", action="store_true", help="skip the first find (it computes every delta)"
    )
    args = p.parse_args()
    if args.quick:
        args.files, args.snapshots = 5_000, 20
    return args


# -- the M tree ------------------------------------------------------------------------------

_LETTERS = b"abcdefghijklmnopqrstuvwxyz"
_PKG_FILES = [b"package.json", b"README.md", b"LICENSE", b"index.js", b"CHANGELOG.md"]
_SUBDIRS = [b"lib", b"dist", b"src", b"types", b"esm", b"cjs", b"test", b"utils", b"internal"]
_EXTS = [b".js", b".js", b".js", b".d.ts", b".map", b".json", b".mjs", b".cjs", b".md"]


def make_m_tree(root: str, files: int, seed: int = 1) -> Tree:
    """A node_modules-shaped tree of *files* files (61,000: about 550 MB), deterministic.

    An app (src/, build/, .env: 2,000 files for M) and node_modules/: packages (a third of them
    scoped, some with a nested node_modules/), each with package.json, README.md, LICENSE,
    index.js and a few folders of source files, most a few KiB, some bundles of up to 2 MiB.
    Contents are text-like and distinct per file (no free deduplication).
    """
    rng = random.Random(seed)
    broot = os.fsencode(root)
    vocabulary = [bytes(rng.choices(_LETTERS, k=rng.randint(2, 10))) for _ in range(3000)]
    pool = b" ".join(rng.choices(vocabulary, k=600_000))  # ~3.9 MB to cut contents from
    paths: list[bytes] = []
    total = 0
    made: set[bytes] = set()
    ndirs = 0

    def write(path: bytes, size: int) -> None:
        nonlocal total, ndirs
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
            ndirs += 1
        start = rng.randrange(len(pool) - size - 1)
        write_new(path, (b"%d\n" % len(paths) + pool[start : start + size])[:size])
        paths.append(path)
        total += size

    def size() -> int:  # mean about 9 KiB, a long tail
        r = rng.random()
        if r < 0.003:
            return rng.randint(256 << 10, 2 << 20)
        if r < 0.08:
            return rng.randint(16 << 10, 64 << 10)
        return min(int(rng.lognormvariate(7.5, 1.0)), 16 << 10)

    app = min(2000, max(10, files // 30))
    write(broot + b"/.env", 200)
    for i in range(app - 1):
        top = b"build" if i % 5 == 0 else b"src"
        sub = b"/m%02d/s%d" % (rng.randrange(40), rng.randrange(4))
        write(broot + b"/" + top + sub + b"/f%05d.ts" % i, size())
    left = files - app
    pkg = 0
    while left > 0:
        name = b"p%04d" % pkg
        if pkg % 3 == 0:
            name = b"@s%02d/" % (pkg % 40) + name
        base = broot + b"/node_modules/" + name
        if pkg % 11 == 5:  # a nested dependency of an earlier package
            base = broot + b"/node_modules/p%04d/node_modules/q%04d" % (pkg - 4, pkg)
        want = min(left, max(5, int(rng.paretovariate(1.2) * 25)))
        for f in _PKG_FILES[:want]:
            write(base + b"/" + f, size())
        subdirs = rng.sample(_SUBDIRS, rng.randint(1, 4))
        for i in range(want - min(want, len(_PKG_FILES))):
            d = rng.choice(subdirs)
            if rng.random() < 0.4:
                d += b"/" + rng.choice(_SUBDIRS)
            write(base + b"/" + d + b"/m%04d" % i + rng.choice(_EXTS), size())
        left -= want
        pkg += 1
    return Tree(root, paths, ndirs, total, 0)


# -- building the store ----------------------------------------------------------------------


def build(base: str, files: int, snapshots: int) -> dict[str, object]:
    """The worktree (a git repository) and its store in *base*; returns what the timing needs
    (also written to *base*/bench-history.json, for --store)."""
    from git_snapshot import gitrepo
    from git_snapshot import identity
    from git_snapshot.store import Options
    from git_snapshot.store import Store
    from git_snapshot.store import create_snapshot

    wt = os.path.join(base, "wt")
    start = time.monotonic()
    tree = make_m_tree(wt, files, seed=1)
    print(
        f"  tree: {len(tree.files)} files, {tree.dirs} folders, {tree.bytes / 1e6:.0f} MB "
        f"({time.monotonic() - start:.0f} s)",
        file=sys.stderr,
    )
    subprocess.run(["git", "init", "-q", wt], check=True)
    repo = gitrepo.find_repo(wt)
    watched = tree.files[len(tree.files) // 2]
    with Store() as store:
        source = identity.source(store, repo)
        for i in range(snapshots):
            if i:
                modify_files(tree, 0.01, seed=i, tag=str(i))
            if i % 10 == 5:
                with open(watched, "ab") as f:
                    f.write(b"watched change %d\n" % i)
            create_snapshot(
                store,
                source,
                wt,
                worktree=repo.toplevel,
                options=Options(omit=frozenset({b".git"})),
            )
            if i % 10 == 0:
                print(
                    f"  snapshot {i + 1}/{snapshots} ({time.monotonic() - start:.0f} s)",
                    file=sys.stderr,
                )
    modify_files(tree, 0.01, seed=snapshots, tag="after the last snapshot")
    rel = os.path.relpath(os.fsdecode(watched), wt)
    meta: dict[str, object] = {
        "files": len(tree.files),
        "bytes": tree.bytes,
        "snapshots": snapshots,
        "file": rel,
        "folder": os.path.dirname(rel),
        "package": "/".join(rel.split("/")[:3] if "/@" in "/" + rel else rel.split("/")[:2]),
        "name": os.path.basename(rel),
    }
    with open(os.path.join(base, META), "w") as f:
        json.dump(meta, f)
    return meta


# -- timing ----------------------------------------------------------------------------------


def in_process(wt: str, argv: list[str], rounds: int) -> tuple[float, float]:
    """Median wall and CPU seconds of the command run in this process."""
    from git_snapshot.cli import main

    walls, cpus = [], []
    for _ in range(rounds):
        sink = io.TextIOWrapper(io.BytesIO())  # cat writes bytes to stdout.buffer
        start, cpu = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(sink):
            rc = main(["-C", wt, *argv])
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        assert rc in (0, 1), (argv, rc)
    return median(walls), median(cpus)


# Runs each fresh command and measures it from a small process of its own, started before the
# store is built: a child's ru_maxrss (wait4) starts from its parent's peak RSS when the
# parent spawns it with vfork (subprocess, posix_spawn), so a command spawned by this process
# after building the store in it "peaked" at this process's 1.4 GB, whatever it used itself.
LAUNCHER = r"""
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    start = time.perf_counter()
    proc = subprocess.Popen(job["argv"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=job["env"])
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    print(json.dumps({"wall": time.perf_counter() - start, "rc": os.waitstatus_to_exitcode(status),
                      "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024,
                      "lines": out.count(b"\n")}), flush=True)
"""


class Launcher:
    """The small process that runs fresh commands (see LAUNCHER)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: list[str], env: dict[str, str]) -> dict[str, float]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"argv": argv, "env": env}) + "\n")
        self.proc.stdin.flush()
        got: dict[str, float] = json.loads(self.proc.stdout.readline())
        return got

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def fresh(
    launcher: Launcher, wt: str, argv: list[str], rounds: int, env: dict[str, str]
) -> tuple[float, float, int, float]:
    """Median wall and CPU (user + system) seconds of a fresh ``python -m git_snapshot``, the
    lines it printed, and its peak RSS in MiB (the largest of the runs): CPU and RSS are the
    child's own, from wait4 in the launcher (RUSAGE_CHILDREN's maximum is that of every
    child ever waited for, this script's other commands included)."""
    walls, cpus, lines, rss = [], [], 0, 0.0
    for _ in range(rounds):
        got = launcher.run([sys.executable, "-m", "git_snapshot", "-C", wt, *argv], env)
        walls.append(got["wall"])
        cpus.append(got["cpu"])
        rss = max(rss, got["rss"])
        if got["rc"] not in (0, 1):
            raise SystemExit(f"{shlex.join(argv)} exited {got['rc']}")
        lines = int(got["lines"])
    return median(walls), median(cpus), lines, rss


def cases(meta: dict[str, object]) -> list[tuple[str, list[str]]]:
    path, folder, package = str(meta["file"]), str(meta["folder"]), str(meta["package"])
    name = str(meta["name"])
    return [
        (f"log {path}", ["log", path]),
        (f"log {package}", ["log", package]),
        (f"find {name}", ["find", name]),
        ("find 'm000*.js'", ["find", "m000*.js"]),
        ("find 'node_modules/*/package.json'", ["find", "node_modules/*/package.json"]),
        ("diff 1 latest", ["diff", "1", "latest"]),
        ("diff latest~1 latest --stat", ["diff", "latest~1", "latest", "--stat"]),
        ("diff 1 latest --json", ["diff", "1", "latest", "--json"]),
        (f"diff latest -- {folder}", ["diff", "latest", "--", folder]),
        ("diff (latest vs worktree)", ["diff"]),
        (f"cat 1 {path}", ["cat", "1", path]),
    ]


def main() -> int:
    args = parse()
    load_before = load_average()
    launcher = Launcher()  # before the build: small, whatever this process grows to
    if args.store:
        base = os.path.abspath(args.store)
        with open(os.path.join(base, META)) as f:
            meta = json.load(f)
    else:
        base = tempfile.mkdtemp(prefix="bench-history-", dir=args.dir)
    os.environ["GIT_SNAPSHOT_STORE"] = os.path.join(base, "store")
    os.environ["GIT_SNAPSHOT_ALLOW_EPHEMERAL"] = "1"  # the store lives on tmpfs
    try:
        if not args.store:
            print(f"building {args.snapshots} snapshots of {args.files} files in {base}")
            start = time.monotonic()
            meta = build(base, args.files, args.snapshots)
            print(f"  built in {time.monotonic() - start:.0f} s", file=sys.stderr)
        wt = os.path.join(base, "wt")
        env = dict(os.environ)
        run_from_bytecode(env, os.path.join(base, "pycache"))
        rows = []
        cold_rss = 0.0
        if not args.no_cold:  # find with no deltas cached yet: what the first find pays
            remove(os.path.join(base, "store", "cache", "deltas"))
            label = f"find {meta['name']} (first: no deltas cached)"
            proc, pcpu, lines, cold_rss = fresh(launcher, wt, ["find", str(meta["name"])], 1, env)
            rows.append((label, proc, pcpu, float("nan"), float("nan"), lines))
            print(f"  {label}: {proc:.3f} s (cpu {pcpu:.3f} s)", file=sys.stderr)
        for label, argv in cases(meta):
            fresh(launcher, wt, argv, 1, env)  # warm: page cache, bytecode, the deltas cache
            proc, pcpu, lines, _ = fresh(launcher, wt, argv, args.rounds, env)
            inproc, icpu = in_process(wt, argv, args.rounds)
            rows.append((label, proc, pcpu, inproc, icpu, lines))
            print(f"  {label}: {proc:.3f} s (cpu {pcpu:.3f} s)", file=sys.stderr)
        width = max(len(r[0]) for r in rows)
        print("\n".join(report_header("bench_history", sys.argv, load_before)))
        print(
            f"- store: {meta['snapshots']} snapshots of {meta['files']} files, "
            f"{int(meta['bytes']) / 1e6:.0f} MB (1 % of files edited between two), on {base}"
        )
        print(
            f"- medians of {args.rounds} runs after one warm-up run; target: < 1 s fresh; "
            "CPU: user + system of the process (the wall time also counts waiting for a CPU "
            "on a shared machine)"
        )
        if cold_rss:
            print(f"- peak RSS of the first find: {cold_rss:.0f} MiB")
        print()
        head = "| fresh: wall | fresh: CPU | in-process: wall | in-process: CPU | lines out |"
        print(f"| {'command'.ljust(width)} {head}")
        print(
            f"|{'-' * (width + 2)}|"
            + "|".join("-" * (len(h) - 1) + ":" for h in head[2:-2].split(" | "))
            + "|"
        )
        for label, proc, pcpu, inproc, icpu, lines in rows:
            print(
                f"| {label.ljust(width)} | {proc:9.3f} s | {pcpu:8.3f} s | {inproc:14.3f} s "
                f"| {icpu:13.3f} s | {lines:9d} |"
            )
    finally:
        launcher.close()
        if args.keep or args.store:
            print(f"kept in {base} (reuse it with --store {base})", file=sys.stderr)
        else:
            remove(base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
