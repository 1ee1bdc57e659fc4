"""A hook snapshot with the watcher running: the dirty set (watch/dirtyset.py) against the
full walk, on the L tree (200k files) by default.

    .venv/bin/python bench/bench_watch_hook.py               # L tree (~2 GB, slow to make)
    .venv/bin/python bench/bench_watch_hook.py --tree M      # 62k files

Generates the tree, takes a first snapshot, installs the plain hooks, then times the
post-checkout hook shim end to end (a process as git starts it), interleaved:
- *full walk*: no daemon (the hooks as without a watcher);
- *watcher, unchanged*: the daemon watches the worktree, nothing changed;
- *watcher, 1 % changed*: a fresh 1 % of the files appended to before each run;
and, for what stands in the way: Python's start, the git calls that classify the tree, and
reading the changed bytes. Medians; the machine may be shared (say so with the numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trees

EXE = str(Path(sys.executable).parent / "git-snapshot")


def _env(base: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=os.path.join(base, "home"),
        GIT_SNAPSHOT_STORE=os.path.join(base, "store"),
        GIT_SNAPSHOT_ALLOW_EPHEMERAL="1",
        GIT_SNAPSHOT_WATCH="0",  # the daemon runs only when this bench starts it
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@example.invalid",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@example.invalid",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    os.makedirs(env["HOME"], exist_ok=True)
    return env


def _timed(argv: list[str], cwd: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def _gs(env: dict[str, str], cwd: str, *args: str) -> str:
    res = subprocess.run([EXE, *args], cwd=cwd, env=env, check=True, capture_output=True)
    return res.stdout.decode()


def _watching(env: dict[str, str], root: str, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = json.loads(_gs(env, "/", "watch", "status", "--json"))
        if any(w.get("path") == root and w.get("state") == "watching" for w in st["worktrees"]):
            return
        time.sleep(0.5)
    raise SystemExit("the daemon did not watch the worktree in time")


def _ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.0f} ms" if xs else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default="L", choices=sorted(trees.SIZES))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--base-dir", default=os.environ.get("BENCH_DIR"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gsnap-watch-hook-", dir=args.base_dir) as base:
        env = _env(base)
        root = os.path.join(base, "wt")
        t0 = time.perf_counter()
        tree = trees.make(root, args.tree, 1, env)
        print(f"# {tree.describe()} made in {time.perf_counter() - t0:.0f} s", flush=True)
        first = _timed([EXE, "create"], root, env)
        print(f"first snapshot (manual, full): {first:.1f} s", flush=True)
        _gs(env, root, "install")
        hook = os.path.join(root, ".git", "hooks", "post-checkout")
        head = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=root, env=env, check=True, capture_output=True
            )
            .stdout.decode()
            .strip()
        )
        run_hook = [hook, head, head, "1"]
        full, unchanged, changed, reads = [], [], [], []
        for _ in range(2):  # warm caches (files cache, page cache)
            _timed(run_hook, root, env)
        for _ in range(args.runs):
            full.append(_timed(run_hook, root, env))
        _gs(env, root, "watch", "add", ".")
        _watching(env, root)
        _timed(run_hook, root, env)  # the epoch's first snapshot walks everything: the base
        for i in range(args.runs):
            unchanged.append(_timed(run_hook, root, env))
            paths = trees.edit(tree, 0.01, 0, 1000 + i, f"r{i}")
            t0 = time.perf_counter()
            for rel in paths:
                with open(os.path.join(root, rel), "rb") as f:
                    f.read()
            reads.append(time.perf_counter() - t0)
            changed.append(_timed(run_hook, root, env))
        _gs(env, "/", "watch", "stop")
        py = [_timed([sys.executable, "-c", "pass"], root, env) for _ in range(args.runs)]
        cli = [_timed([EXE, "--version"], root, env) for _ in range(args.runs)]
        tracked = [_timed(["git", "ls-files", "-z"], root, env) for _ in range(args.runs)]
        ignored = [
            _timed(
                [
                    "git",
                    "ls-files",
                    "-z",
                    "--others",
                    "--ignored",
                    "--exclude-standard",
                    "--directory",
                ],
                root,
                env,
            )
            for _ in range(args.runs)
        ]
    n = len(tree.files)
    print(f"\n| post-checkout hook, {args.tree} tree ({n:,} files) | median of {args.runs} |")
    print("|---|---|")
    print(f"| no watcher (full walk) | {_ms(full)} |")
    print(f"| watcher running, unchanged tree | {_ms(unchanged)} |")
    print(f"| watcher running, 1 % of files changed ({len(paths):,}) | {_ms(changed)} |")
    print(f"| reading those changed files (page cache) | {_ms(reads)} |")
    print(f"| python -c pass | {_ms(py)} |")
    print(f"| git-snapshot --version | {_ms(cli)} |")
    print(f"| git ls-files (tracked) | {_ms(tracked)} |")
    print(f"| git ls-files --others --ignored --directory | {_ms(ignored)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
