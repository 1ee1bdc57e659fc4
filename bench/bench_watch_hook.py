"""A hook snapshot with the watcher running: the dirty set (watch/dirtyset.py) against the
full walk, on the L tree (200k files) by default.

    .venv/bin/python bench/bench_watch_hook.py               # L tree (~2 GB, slow to make)
    .venv/bin/python bench/bench_watch_hook.py --tree M      # 62k files
    .venv/bin/python bench/bench_watch_hook.py --tree M --dir /dev/shm/x   # tree and store kept
        (made at the first run, reused by the next: compare code versions one after the other,
        e.g. the older one with PYTHONPATH=<its src>, which the hooks and the daemon inherit)
    .venv/bin/python bench/bench_watch_hook.py --dir /dev/shm/x --compare /dev/shm/old/src
        (the watched hooks of both codes interleaved in one run, each on fresh changes: the
        other code's hook runs with PYTHONPATH=SRC, the daemon is this code's)

Generates the tree, takes a first snapshot, installs the plain hooks, then times the
post-checkout hook shim end to end (a process as git starts it), interleaved:
- *full walk*: no daemon (the hooks as without a watcher);
- *watcher, unchanged*: the daemon watches the worktree, nothing changed;
- *watcher, 1 % changed*: a fresh 1 % of the files (anywhere, node_modules included; with
  `--clustered`, every file of folders taken at random until there are as many)
  appended to before each run;
and, for what stands in the way: Python's start, the git calls that classify the tree, and
reading the changed bytes, with two floors measured in this process on the same files:
reading + SHA-256 of them, and reading + SHA-256 + zstd level 3 of them on 2 threads (what
storing them must cost on this machine). Medians; the machine may be shared (say so with
the numbers).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trees
import zstandard

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
        # compiled modules cached as an installed package has them (not in the checkout)
        PYTHONPYCACHEPREFIX=os.path.join(base, "pycache"),
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    os.makedirs(env["HOME"], exist_ok=True)
    return env


CPU: dict[str, list[float]] = {}


def _timed(argv: list[str], cwd: str, env: dict[str, str], label: str = "") -> float:
    """Wall time; the CPU time (user + system, with git's) is kept under *label*."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(label, []).append(cpu)
    return wall


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
    if not xs:
        return "-"
    ms = statistics.median(xs) * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


def _row(what: str, label: str, xs: list[float]) -> str:
    return f"| {what} | {_ms(xs)} | {_ms(CPU.get(label, []))} |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default="L", choices=sorted(trees.SIZES))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--clustered",
        action="store_true",
        help="change every file of folders taken at random, not 1 %% of files anywhere",
    )
    ap.add_argument("--base-dir", default=os.environ.get("BENCH_DIR"))
    ap.add_argument("--dir", help="keep the tree and the store here (reused when there)")
    ap.add_argument(
        "--copy-from", help="copy this tree (cp -a, made writable) instead of making one"
    )
    ap.add_argument(
        "--tree-dir",
        help="the worktree goes here (DIR/wt; a copy of L on disk, as RULES.md asks) while "
        "the store stays in --dir; an existing DIR/wt is taken as the copy",
    )
    ap.add_argument(
        "--compare",
        metavar="SRC",
        help="also time the watched hooks with PYTHONPATH=SRC (another code's src), interleaved",
    )
    ap.add_argument(
        "--after",
        metavar="S[,S...]",
        help="run each changed hook S seconds after the last write (each delay on fresh "
        "changes; the floors are then measured after the hook); default: after the floors",
    )
    ap.add_argument(
        "--daemon-too",
        action="store_true",
        help="with --compare: the daemon runs each code's turn with that code too (stopped "
        "and started again, its epoch's first snapshot taken, before each turn)",
    )
    ap.add_argument(
        "--autogroup",
        action="store_true",
        help="put the daemon's autogroup (its worker's too) at nice -20, as the bench's own "
        "should be (setsid sh -c 'echo -20 > /proc/self/autogroup; exec ...'; root only): on "
        "a machine others load, the worker's preparation, which a hook right after the "
        "writes waits for, is then not starved",
    )
    args = ap.parse_args()
    delays = [float(x) for x in args.after.split(",")] if args.after else [None]
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)
        place: contextlib.AbstractContextManager[str] = contextlib.nullcontext(args.dir)
    else:
        place = tempfile.TemporaryDirectory(prefix="gsnap-watch-hook-", dir=args.base_dir)
    with place as base:
        env = _env(base)
        root = os.path.join(args.tree_dir or base, "wt")
        if os.path.exists(os.path.join(root, ".git", "hooks", "post-checkout")):
            files = _files(root)
            print(f"# {args.tree} tree reused: {len(files):,} files in {root}", flush=True)
        else:
            t0 = time.perf_counter()
            if args.tree_dir and os.path.isdir(root):  # copied there before
                files = _files(root)
                print(f"# {len(files):,} files found in {root}", flush=True)
            elif args.copy_from:  # e.g. /dev/shm/L, made once by bench/trees.py (never modified)
                subprocess.run(["cp", "-a", args.copy_from, root], check=True)
                subprocess.run(["chmod", "-R", "u+w", root], check=True)
                files = _files(root)
                print(f"# {len(files):,} files copied from {args.copy_from}", flush=True)
            else:
                tree = trees.make(root, args.tree, 1, env)
                files = tree.files
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
        full: list[float] = []
        unchanged: list[float] = []
        changed: dict[float | None, list[float]] = {d: [] for d in delays}
        reads: list[float] = []
        other_unchanged: list[float] = []
        other_changed: dict[float | None, list[float]] = {d: [] for d in delays}
        waited: dict[float | None, list[float]] = {d: [] for d in delays}
        other = dict(env, PYTHONPATH=os.path.abspath(args.compare)) if args.compare else None
        hashed: list[float] = []
        packed: list[float] = []
        for _ in range(2):  # warm caches (files cache, page cache)
            _timed(run_hook, root, env)
        for _ in range(args.runs):
            full.append(_timed(run_hook, root, env, "full"))
        _gs(env, root, "watch", "add", ".")
        _watching(env, root)
        if args.autogroup:
            _favoured(env)
        _timed(run_hook, root, env)  # the epoch's first snapshot walks everything: the base
        # and the daemon's own first snapshot of the worktree (a full walk, ~10 s of the
        # worker on L under load) is let finish: while it runs, the worker prepares nothing
        # and every hook rebuilds its changes itself (not the steady state this times)
        _settled(env, root)
        status = json.loads(_gs(env, "/", "watch", "status", "--json"))
        for w in status["worktrees"]:
            whole = ", ".join(
                f"{os.path.relpath(t['path'], root)}/ ({t['dirs']:,} folders)"
                for t in w.get("whole_trees", [])
            )
            scanned = ", ".join(
                f"{os.path.relpath(t['path'], root)}/ ({t['dirs']:,} folders)"
                for t in w.get("big_trees", [])
            )
            print(
                f"watcher: {w.get('watches', 0):,} watches; big trees watched whole: "
                f"{whole or '-'}; scanned: {scanned or '-'}",
                flush=True,
            )
        count = max(1, len(files) // 100)
        sample = [f for f in files if os.path.basename(f) != ".gitignore"]
        seed = int(time.time())  # fresh files each run of the bench too
        daemon_of: list[dict[str, str]] = [env]  # whose code the daemon runs now
        for i in range(args.runs):
            codes = [(env, "", unchanged, changed)]
            if other is not None:  # interleaved, the other code first every other run
                codes.append((other, "o-", other_unchanged, other_changed))
                if i % 2:
                    codes.reverse()
            for k, (e, tag, unch, chg) in enumerate(codes):
                if args.daemon_too and daemon_of[0] is not e:
                    _stopped(daemon_of[0])
                    _gs(e, root, "watch", "add", ".")  # started with this code
                    _watching(e, root)
                    if args.autogroup:
                        _favoured(e)
                    _settled(e, root)
                    daemon_of[0] = e
                for n, delay in enumerate(delays):
                    unch.append(_timed(run_hook, root, e, tag + "unchanged"))
                    rng = random.Random(seed + i + 1000 * k + 100 * n)
                    paths = _append(root, _pick(rng, sample, count, args.clustered), i)
                    wrote = time.perf_counter()
                    if delay is not None:
                        time.sleep(max(0.0, delay - (time.perf_counter() - wrote)))
                        waited[delay].append(time.perf_counter() - wrote)
                        chg[delay].append(_timed(run_hook, root, e, f"{tag}changed@{delay}"))
                    t0 = time.perf_counter()
                    for rel in paths:
                        with open(os.path.join(root, rel), "rb") as f:
                            f.read()
                    reads.append(time.perf_counter() - t0)
                    full_paths = [os.path.join(root, rel) for rel in paths]
                    hashed.append(_in_process(_read_hash, full_paths, "hash"))
                    packed.append(_in_process(_read_hash_zstd, full_paths, "zstd"))
                    if delay is None:
                        waited[delay].append(time.perf_counter() - wrote)
                        chg[delay].append(_timed(run_hook, root, e, f"{tag}changed@{delay}"))
        _stopped(daemon_of[0])
        py = [_timed([sys.executable, "-c", "pass"], root, env, "py") for _ in range(args.runs)]
        cli = [_timed([EXE, "--version"], root, env, "cli") for _ in range(args.runs)]
        tracked = [
            _timed(["git", "ls-files", "-z"], root, env, "tracked") for _ in range(args.runs)
        ]
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
                "ignored",
            )
            for _ in range(args.runs)
        ]
    n = len(files)
    print(
        f"\n| post-checkout hook, {args.tree} tree ({n:,} files) | wall, median of {args.runs} "
        "| CPU (user+sys, with git's) |"
    )
    print("|---|---|---|")
    print(_row("no watcher (full walk)", "full", full))
    print(_row("watcher running, unchanged tree", "unchanged", unchanged))
    what = (
        f"{len(paths):,} files changed (1 %, {'whole folders' if args.clustered else 'anywhere'};"
        f" {len(_parents(paths)):,} folders)"
    )
    for d in delays:
        when = f"hook {_ms(waited[d])} after the last write"
        print(_row(f"watcher running, {what}, {when}", f"changed@{d}", changed[d]))
    if args.compare:
        print(_row(f"PYTHONPATH={args.compare}: unchanged", "o-unchanged", other_unchanged))
        for d in delays:
            when = "after the floors" if d is None else f"{d} s after the last write"
            what = f"PYTHONPATH={args.compare}: files changed, hook {when}"
            print(_row(what, f"o-changed@{d}", other_changed[d]))
    print(f"| reading those changed files (page cache) | {_ms(reads)} | |")
    print(_row("floor: reading + SHA-256 of them (1 thread, in-process)", "hash", hashed))
    print(
        _row(
            "floor: reading + SHA-256 + zstd level 3 of them (2 threads, in-process)",
            "zstd",
            packed,
        )
    )
    print(_row("python -c pass", "py", py))
    print(_row("git-snapshot --version", "cli", cli))
    print(_row("git ls-files (tracked)", "tracked", tracked))
    print(_row("git ls-files --others --ignored --directory", "ignored", ignored))
    print("\nevery round, wall / CPU in ms (a slow round: the hook rebuilt or walked itself):")
    for d in delays:
        for tag, xs in (("", changed[d]), ("o-", other_changed[d])):
            cpu = CPU.get(f"{tag}changed@{d}", [])
            if xs:
                rounds = " ".join(f"{w * 1000:.0f}/{c * 1000:.0f}" for w, c in zip(xs, cpu))
                print(f"  {'PYTHONPATH code, ' if tag else ''}changed, hook {d} s after: {rounds}")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


def _stopped(env: dict[str, str], timeout: float = 600.0) -> None:
    """Stop the daemon and wait until it has gone (it lets the job under way finish)."""
    _gs(env, "/", "watch", "stop")
    deadline = time.monotonic() + timeout
    while json.loads(_gs(env, "/", "watch", "status", "--json"))["running"]:
        if time.monotonic() > deadline:
            raise SystemExit("the daemon did not stop in time")
        time.sleep(0.2)


def _favoured(env: dict[str, str]) -> None:
    """The running daemon's autogroup (its session: the worker's too) at nice -20."""
    pid = json.loads(_gs(env, "/", "watch", "status", "--json"))["pid"]
    with open(f"/proc/{pid}/autogroup", "w") as f:
        f.write("-20")


def _settled(env: dict[str, str], root: str, timeout: float = 600.0) -> None:
    """Wait until the daemon has nothing pending for *root* (its first snapshot taken)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = json.loads(_gs(env, "/", "watch", "status", "--json"))
        for w in st["worktrees"]:
            if w.get("path") == root and w.get("last_snapshot") and not w.get("changed_since"):
                return
        time.sleep(0.5)
    raise SystemExit("the daemon did not settle in time")


def _parents(paths: list[str]) -> set[str]:
    return {os.path.dirname(p) for p in paths}


def _pick(rng: random.Random, files: list[str], count: int, clustered: bool) -> list[str]:
    """*count* of *files*: anywhere (uniformly), or *clustered*: every file of folders taken
    at random until there are enough (an edit, a build or a package update touches a few
    folders, not one file in each of thousands)."""
    if not clustered:
        return rng.sample(files, count)
    by_dir: dict[str, list[str]] = {}
    for f in files:
        by_dir.setdefault(os.path.dirname(f), []).append(f)
    out: list[str] = []
    for d in rng.sample(sorted(by_dir), len(by_dir)):
        out += by_dir[d][: count - len(out)]
        if len(out) >= count:
            break
    return out


def _append(root: str, paths: list[str], i: int) -> list[str]:
    for rel in paths:
        with open(os.path.join(root, rel), "ab") as out:
            out.write(b"// changed %d\n" % i)
    return paths


def _in_process(fn: Callable[[list[str]], object], paths: list[str], label: str) -> float:
    """Wall time of fn(paths) in this process; its CPU (all threads) is kept under *label*."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    fn(paths)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU.setdefault(label, []).append(cpu)
    return wall


def _read_hash(paths: list[str]) -> list[bytes]:
    """The floor of noticing what changed: read each file and hash it (SHA-256)."""
    out = []
    for p in paths:
        with open(p, "rb") as f:
            out.append(hashlib.sha256(f.read()).digest())
    return out


def _read_hash_zstd(paths: list[str]) -> int:
    """The floor of storing what changed: read, hash and compress (zstd level 3, one
    compressor per thread) on 2 threads; hashlib and zstandard release the GIL."""
    sizes = [0, 0]

    def work(k: int) -> None:
        cctx = zstandard.ZstdCompressor(level=3)
        for p in paths[k::2]:
            with open(p, "rb") as f:
                data = f.read()
            hashlib.sha256(data).digest()
            sizes[k] += len(cctx.compress(data))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(sizes)


def _files(root: str) -> list[str]:
    """The regular files of the worktree at *root*, relative, .git left out."""
    out = []
    for d, subs, names in os.walk(root):
        subs[:] = [s for s in subs if s != ".git" and not os.path.islink(os.path.join(d, s))]
        for n in names:
            p = os.path.join(d, n)
            if not os.path.islink(p):
                out.append(os.path.relpath(p, root))
    return sorted(out)


if __name__ == "__main__":
    sys.exit(main())
