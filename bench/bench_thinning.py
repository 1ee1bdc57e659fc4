"""Store growth under a build that rewrites 10k files every minute, with watch snapshots
thinned (store/retention.py), over simulated time.

    .venv/bin/python bench/bench_thinning.py                # 10k files, 60 minutes
    .venv/bin/python bench/bench_thinning.py --files 2000 --minutes 30

Each simulated minute rewrites every file of an ignored build/ folder with new content, takes
a watch snapshot (created at the simulated time) and applies the automatic retention at that
time; gc reclaims every 10 simulated minutes. Then the clock moves on with no more builds, and
the policy alone is run over 14 days of one snapshot a minute to show the bound.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent


def _size(path: Path) -> int:
    """The packs: what the store keeps of the snapshots (the index, the files cache and the
    disk-full reserve are small and do not grow with the builds)."""
    return sum(f.stat().st_size for f in (path / "packs").rglob("*") if f.is_file())


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=1024, help="bytes per file (1024)")
    ap.add_argument("--minutes", type=int, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="thinning-", dir=os.environ.get("BENCH_DIR")) as tmp:
        base = Path(tmp)
        os.environ.update(
            GIT_SNAPSHOT_STORE=str(base / "store"),
            GIT_SNAPSHOT_ALLOW_EPHEMERAL="1",
            GIT_SNAPSHOT_WATCH="0",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=str(base / "gitconfig"),
        )
        (base / "gitconfig").write_text("[user]\n\tname = B\n\temail = b@example.invalid\n")
        repo = base / "repo"
        (repo / "build").mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (repo / ".gitignore").write_text("build/\n")
        return _run(args, base, repo)


def _run(args: argparse.Namespace, base: Path, repo: Path) -> int:
    from git_snapshot import gitrepo
    from git_snapshot import identity
    from git_snapshot import worktree
    from git_snapshot.store import Store
    from git_snapshot.store import archiver
    from git_snapshot.store.prune import gc
    from git_snapshot.store.retention import forget_auto
    from git_snapshot.store.retention import select_auto

    clock = [time.time()]
    # snapshots are created at the simulated time; file times stay real (the files cache)
    fake = SimpleNamespace(time=lambda: clock[0], time_ns=time.time_ns)
    setattr(archiver, "time", fake)  # noqa: B010 (mypy: archiver does not export time)
    r = gitrepo.find_repo(str(repo))
    half = args.size // 2
    pad = b"x" * max(0, args.size - half - 12)
    print(
        f"# a build rewriting {args.files:,} files of {args.size} B every minute, "
        f"{args.minutes} simulated minutes (machine shared: times are noisy)"
    )
    print("| minute | watch snapshots kept | store size | snapshot s |")
    print("|---|---|---|---|")
    with Store() as store:
        cfg = worktree.settings(r)
        policy = cfg.policy()
        source = identity.source(store, r)
        raw = 0
        for minute in range(args.minutes):
            for i in range(args.files):
                data = b"%d %d " % (minute, i) + os.urandom(half) + pad  # half compressible
                (repo / "build" / f"o{i:05d}.o").write_bytes(data)
            raw += args.files * args.size
            t0 = time.perf_counter()
            snap = worktree.take(store, r, trigger="watch", cfg=cfg).snapshot
            took = time.perf_counter() - t0
            forget_auto(store, policy, [source], keep=[snap.rowid], now=clock[0])
            if minute % 10 == 9:
                gc(store)
            kept = len(store.snapshots(source))
            if minute % 10 == 9 or minute == 0:
                print(f"| {minute + 1} | {kept} | {_mb(_size(Path(store.path)))} | {took:.2f} |")
            clock[0] += 60.0
        print(f"\nwritten by the build in that hour: {_mb(raw)} (before compression)")
        for later, label in ((2 * 3600.0, "2 h later"), (26 * 3600.0, "a day later")):
            forget_auto(store, policy, [source], now=clock[0] + later)
            gc(store)
            kept = len(store.snapshots(source))
            print(f"{label}, no more builds: {kept} snapshots, {_mb(_size(Path(store.path)))}")
    # the bound: 14 days of one watch snapshot a minute, the policy alone
    from git_snapshot.store import Snapshot

    now, n = 1_800_000_000.0, 14 * 1440
    snaps = [
        Snapshot(i, "s", i, now - (n - 1 - i) * 60.0, "watch", "", "/w", b"", 0, 0, 0, 0)
        for i in range(n)
    ]
    gone = select_auto(policy, snaps, now)
    print(
        f"\npolicy alone, 14 days of a snapshot a minute: {n:,} taken, {n - len(gone)} kept "
        f"(all of the last hour, one per 10 min for a day, hourly for a week, daily to "
        f"{cfg.keep_within}); the store holds at most that many distinct builds"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
