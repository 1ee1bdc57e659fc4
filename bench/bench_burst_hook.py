"""A hook while the watcher records a burst: 1,000 files of the tree overwritten (a burst),
2,000 new files made 4.9 s later (the burst ends at 5 s: its recording begins) and the
post-checkout hook 0.2 s after them, each code with its own daemon, interleaved.

    .venv/bin/python bench/bench_watch_hook.py --tree L --dir /dev/shm/x --copy-from /dev/shm/L
    .venv/bin/python bench/bench_burst_hook.py --dir /dev/shm/x --compare OLD_SRC --runs 5

(the first makes the tree, its store and hooks in --dir; this one reuses them). Prints each
round's wall / CPU (the hook's, with git's) and the medians. Before session 16 the daemon's
worker recorded the burst, so a hook syncing then got no preparation and rebuilt its changes
itself; the recording is now a process of its own.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time

import bench_watch_hook as b


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="bench_watch_hook.py's --dir (tree, store)")
    ap.add_argument("--compare", metavar="SRC", help="the other code's src (PYTHONPATH)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    root = os.path.join(args.dir, "wt")
    codes = {"this": b._env(args.dir)}
    if args.compare:
        codes["other"] = dict(b._env(args.dir), PYTHONPATH=os.path.abspath(args.compare))
    files = [f for f in b._files(root) if not f.endswith(".gitignore") and "/new-" not in f]
    dirs = sorted({os.path.dirname(f) for f in files})
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    hook = [os.path.join(root, ".git", "hooks", "post-checkout"), head.strip(), head.strip(), "1"]
    rounds: dict[str, list[tuple[float, float]]] = {k: [] for k in codes}
    rng = random.Random(int(time.time()))
    for i in range(args.runs):
        for name in list(codes) if i % 2 == 0 else list(codes)[::-1]:
            env = codes[name]
            b._gs(env, root, "watch", "add", ".")
            b._watching(env, root)
            b._favoured(env)
            b._settled(env, root)
            b._append(root, rng.sample(files, 1000), i)  # the burst: 1,000 overwrites
            time.sleep(4.9)  # it ends 5 s after its last write: then it is recorded
            for d in rng.sample(dirs, min(2000, len(dirs))):
                with open(os.path.join(root, d, f"new-{rng.randrange(10**12)}.txt"), "wb") as f:
                    f.write(b"new\n")
            time.sleep(0.2)
            b.CPU.clear()
            wall = b._timed(hook, root, env, "hook")
            rounds[name].append((wall, b.CPU["hook"][0]))
            time.sleep(2)
            b._stopped(env)
    for name, xs in rounds.items():
        wall = statistics.median(x[0] for x in xs) * 1000
        cpu = statistics.median(x[1] for x in xs) * 1000
        each = " ".join(f"{w * 1000:.0f}/{c * 1000:.0f}" for w, c in xs)
        print(f"{name}: median {wall:.0f} ms wall, {cpu:.0f} ms CPU; rounds {each}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
