"""RED25/28/29's real race: a folder swapped for a symlink to a folder outside the worktree
and back, again and again, beside `git snapshot create`; counts the snapshots that hold the
outside file (each one a file the worktree never had, restored as its own).

    .venv/bin/python bench/race_swapped_folder.py --snapshots 80              # full walks
    .venv/bin/python bench/race_swapped_folder.py --snapshots 80 --watcher    # rebuilds

Another code with PYTHONPATH=<its src> (the watcher's daemon inherits it). The swapper edits
`d/x.txt`, waits 2 ms, renames `d` away and puts the symlink in its place, waits 0.5 ms,
removes it and renames `d` back, waits 2 ms. Session 29: the full walk held the outside file
in 0 of 302 snapshots (session 28's code: 4 of 150), with the watcher in 0 of 324 (the
session's starting code: 1 of 41 and 1 of 81). A rare event: run it a few times.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
OUT = b"OUT\n"


def swapper(top: str, outside: str, seconds: float) -> None:
    d, old, tmp = (os.path.join(top, n) for n in ("d", "d.old", "d.tmp"))
    end, i = time.time() + seconds, 0
    while time.time() < end:
        i += 1
        with open(os.path.join(d, "x.txt"), "w") as f:
            f.write(f"IN {i}\n")
        time.sleep(0.002)
        os.rename(d, old)
        os.symlink(outside, tmp)
        os.replace(tmp, d)
        time.sleep(0.0005)
        os.unlink(d)
        os.rename(old, d)
        time.sleep(0.002)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snapshots", type=int, default=80)
    ap.add_argument("--watcher", action="store_true", help="with the watcher's daemon up")
    ap.add_argument("--dir", help="where the worktree and store go (default: a temp dir)")
    ap.add_argument(
        "--swapper", nargs=3, metavar=("TOP", "OUTSIDE", "SECONDS"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.swapper:
        swapper(args.swapper[0], args.swapper[1], float(args.swapper[2]))
        return
    root = tempfile.mkdtemp(prefix="race-", dir=args.dir)
    top, outside, store = (os.path.join(root, n) for n in ("w", "outside", "store"))
    os.makedirs(os.path.join(top, "d"))
    os.makedirs(outside)
    with open(os.path.join(outside, "x.txt"), "wb") as out:
        out.write(OUT)
    with open(os.path.join(top, "d", "x.txt"), "w") as f:
        f.write("IN\n")
    for i in range(300):
        os.makedirs(os.path.join(top, f"n{i}"))
        with open(os.path.join(top, f"n{i}", "f"), "w") as f:
            f.write(f"{i}\n")
    env = dict(os.environ, HOME=root, GIT_SNAPSHOT_STORE=store, GIT_SNAPSHOT_ALLOW_EPHEMERAL="1")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.pop("GIT_SNAPSHOT_WATCH", None)
    if not args.watcher:
        env["GIT_SNAPSHOT_WATCH"] = "0"

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, cwd=top, env=env, capture_output=True, text=True)

    run("git", "init", "-q")
    run(
        "git",
        "-c",
        "user.email=a@b",
        "-c",
        "user.name=n",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "i",
    )
    run("git", "config", "snapshot.watchQuiet", "0.2")
    run("git", "snapshot", "create", "--json")
    if args.watcher:
        run("git", "snapshot", "watch", "add", ".")
        time.sleep(2)
    sw = subprocess.Popen([sys.executable, __file__, "--swapper", top, outside, "3600"])
    failed = 0
    try:
        for _ in range(args.snapshots):
            failed += run("git", "snapshot", "create", "--json").returncode != 0
    finally:
        sw.kill()
        sw.wait()
        if os.path.islink(os.path.join(top, "d")):
            os.unlink(os.path.join(top, "d"))
            os.rename(os.path.join(top, "d.old"), os.path.join(top, "d"))
        if args.watcher:
            run("git", "snapshot", "watch", "stop")
    from storehelpers import snapshot_contents  # (tests/: the one reader of a whole snapshot)

    from git_snapshot.store import Store

    bad: list[int] = []
    kinds: collections.Counter[tuple[str, tuple[str, ...]]] = collections.Counter()
    with Store(store) as st:
        for s in st.snapshots():
            held = snapshot_contents(st, s)
            if any(v.data == OUT for v in held.values()):
                bad.append(s.id)
            d = held.get(b"d")
            kinds[
                (d.kind if d else "none", tuple(w for _, w in s.meta.get("skipped_paths", [])))
            ] += 1
    print(f"{sum(kinds.values())} snapshots, {failed} failed; holding the outside file: {bad}")
    print("d as held:", dict(kinds))
    print("left in", root)


if __name__ == "__main__":
    main()
