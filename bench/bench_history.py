"""Benchmark (not a test): finding old versions on a big store.

A store of N snapshots (default 100) of a tree of F files (default 60 000), each snapshot
after a few files changed (and one watched file every 10th), then timing the commands a user
runs on the day they need it: ``log PATH`` (a file, a folder), ``find``, ``diff`` (two
snapshots, a folder against the worktree, the whole worktree) and ``cat``. Target: under a
second each. Each command is timed in-process (the median of 3 runs, what the store costs)
and once as a fresh process (what the user waits for, interpreter start included).

    python bench/bench_history.py                 # 100 x 60k files on tmpfs
    python bench/bench_history.py --quick         # 20 x 5k files, for a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import make_tree
from common import median
from common import modify_files


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=60_000)
    p.add_argument("--snapshots", type=int, default=100)
    p.add_argument("--quick", action="store_true", help="20 snapshots of 5 000 files")
    p.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    p.add_argument("--keep", action="store_true", help="keep the tree and the store")
    args = p.parse_args()
    if args.quick:
        args.files, args.snapshots = 5_000, 20
    return args


def build(base: str, files: int, snapshots: int) -> tuple[str, str, str]:
    """The worktree (a git repository) and its store; returns (worktree, a file, a folder)."""
    from git_snapshot import gitrepo
    from git_snapshot import identity
    from git_snapshot.store import Options
    from git_snapshot.store import Store
    from git_snapshot.store import create_snapshot

    wt = os.path.join(base, "wt")
    tree = make_tree(wt, files, seed=1)
    subprocess.run(["git", "init", "-q", wt], check=True)
    repo = gitrepo.find_repo(wt)
    watched = tree.files[len(tree.files) // 2]
    folder = os.path.dirname(watched)
    start = time.monotonic()
    with Store() as store:
        source = identity.source(store, repo)
        for i in range(snapshots):
            if i:
                modify_files(tree, 0.002, seed=i, tag=str(i))
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
                print(f"  snapshot {i + 1}/{snapshots} ({time.monotonic() - start:.0f} s)")
    rel = os.path.relpath(os.fsdecode(watched), wt)
    return wt, rel, os.path.relpath(os.fsdecode(folder), wt)


def in_process(wt: str, argv: list[str]) -> float:
    from git_snapshot.cli import main

    times = []
    for _ in range(3):
        sink = io.TextIOWrapper(io.BytesIO())  # cat writes bytes to stdout.buffer
        start = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            rc = main(["-C", wt, *argv])
        times.append(time.perf_counter() - start)
        assert rc in (0, 1), (argv, rc)
    return median(times)


def fresh(wt: str, argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "git_snapshot", "-C", wt, *argv],
        stdout=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - start


def main() -> int:
    args = parse()
    with tempfile.TemporaryDirectory(prefix="bench-history-", dir=args.dir) as base:
        os.environ["GIT_SNAPSHOT_STORE"] = os.path.join(base, "store")
        os.environ["GIT_SNAPSHOT_ALLOW_EPHEMERAL"] = "1"  # the store lives on tmpfs
        print(f"building {args.snapshots} snapshots of {args.files} files in {base}")
        wt, path, folder = build(base, args.files, args.snapshots)
        name = os.path.basename(path)
        cases: list[tuple[str, list[str]]] = [
            (f"log {path}", ["log", path]),
            (f"log {folder}", ["log", folder]),
            (f"find {name}", ["find", name]),
            ("find 'f0000*.txt'", ["find", "f0000*.txt"]),
            ("diff 1 latest", ["diff", "1", "latest"]),
            ("diff latest~1 latest --stat", ["diff", "latest~1", "latest", "--stat"]),
            (f"diff latest -- {folder}", ["diff", "latest", folder]),
            ("diff (whole worktree)", ["diff"]),
            (f"cat 1 {path}", ["cat", "1", path]),
            (f"cat @{{now}} {path}", ["cat", "@{now}", path]),
        ]
        rows = [(label, in_process(wt, argv), fresh(wt, argv)) for label, argv in cases]
        width = max(len(r[0]) for r in rows)
        print(f"\n{args.snapshots} snapshots of {args.files} files\n")
        print(f"| {'command'.ljust(width)} | in-process | fresh process |")
        print(f"|{'-' * (width + 2)}|-----------:|--------------:|")
        for label, inproc, proc in rows:
            print(f"| {label.ljust(width)} | {inproc:8.3f} s | {proc:11.3f} s |")
        if args.keep:
            input(f"kept in {base}; press Enter to remove it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
