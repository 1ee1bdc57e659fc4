#!/usr/bin/env python3
"""Benchmark the archiving core against a plain directory walk and against peers.

Not a test: it prints a markdown table. See bench/README.md for what is measured and why.

    .venv/bin/python bench/bench_store.py [--files N] [--rounds N] [--no-peers] [--keep]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable

import common
from common import log

from git_snapshot.store import Store
from git_snapshot.store import create_snapshot
from git_snapshot.store.location import ENV_ALLOW_EPHEMERAL
from git_snapshot.store.restorer import Restorer
from git_snapshot.store.walker import RACY_NS

SOURCE = "bench"
# The share of files changed before the third snapshot.
CHANGE_FRACTION = 0.01
# Targets for a second snapshot of an unchanged tree.
TARGET_RATIO = 2.0
TARGET_GROWTH = 64 << 10
# Repositories are read whole to warm the page cache when they are at most this big.
WARM_READ_LIMIT = 1 << 30

SNAPSHOT_CHILD = """\
import json, sys
from git_snapshot.store import Store, create_snapshot
with Store(sys.argv[1]) as store:
    result = create_snapshot(store, sys.argv[2], sys.argv[3])
snap = result.snapshot
print(json.dumps({"files": snap.files, "added_bytes": snap.added_bytes}))
"""

RESTORE_CHILD = """\
import sys
from git_snapshot.store import Store
from git_snapshot.store.restorer import Restorer
with Store(sys.argv[1]) as store:
    Restorer(store).restore(store.get(sys.argv[2], "latest"), sys.argv[3], None)
"""

IN_PROCESS = "in-process"
SUBPROCESS = "subprocess"


class Tool:
    """One way of taking snapshots of the tree, measured phase by phase.

    ``prepare`` is untimed (a fresh repository per round); ``snapshot`` and ``restore``
    return the wall time of just the work being measured.
    """

    name = ""
    slug = ""
    mode = SUBPROCESS  # which baseline walk its ratio is taken against

    def __init__(self, tree: str, env: dict[str, str]) -> None:
        self.tree = tree
        self.env = env
        self.workdir = ""
        self.added: int | None = None  # what the tool says the last snapshot added
        self.files: int | None = None  # what the tool says the last snapshot holds
        self.last = ""  # for the tools that restore from it: the archive the last one wrote
        self.failed = ""

    def prepare(self, workdir: str) -> None:
        self.workdir = workdir
        os.makedirs(workdir)

    def snapshot(self, label: str) -> float:
        raise NotImplementedError

    def restore(self, target: str) -> float:
        raise NotImplementedError

    def storage(self) -> list[str]:
        """What "store growth" measures (caches left out)."""
        return [self.workdir]

    def warm_paths(self) -> list[str]:
        return [self.workdir]


class GitSnapshotInProcess(Tool):
    name = "git-snapshot (in-process)"
    slug = "gs-inproc"
    mode = IN_PROCESS

    def _store(self) -> str:
        return os.path.join(self.workdir, "store")

    def storage(self) -> list[str]:
        return [self._store()]

    def snapshot(self, label: str) -> float:
        gc.collect()
        start = time.perf_counter()
        with Store(self._store()) as store:
            result = create_snapshot(store, SOURCE, self.tree)
        elapsed = time.perf_counter() - start
        self.added = result.snapshot.added_bytes
        self.files = result.snapshot.files
        return elapsed

    def restore(self, target: str) -> float:
        gc.collect()
        start = time.perf_counter()
        with Store(self._store()) as store:
            Restorer(store).restore(store.get(SOURCE, "latest"), target, None)
        return time.perf_counter() - start


class GitSnapshotSubprocess(GitSnapshotInProcess):
    name = "git-snapshot (subprocess)"
    slug = "gs-subproc"
    mode = SUBPROCESS

    def snapshot(self, label: str) -> float:
        cmd = [sys.executable, "-c", SNAPSHOT_CHILD, self._store(), SOURCE, self.tree]
        ran = common.run(cmd, env=self.env)
        got = json.loads(ran.out.strip().splitlines()[-1])
        self.added = int(got["added_bytes"])
        self.files = int(got["files"])
        return ran.seconds

    def restore(self, target: str) -> float:
        cmd = [sys.executable, "-c", RESTORE_CHILD, self._store(), SOURCE, target]
        return common.run(cmd, env=self.env).seconds


class TarFull(Tool):
    name = "tar -cf"
    slug = "tar"

    def snapshot(self, label: str) -> float:
        self.last = os.path.join(self.workdir, label + ".tar")
        elapsed = common.run(["tar", "-cf", self.last, "-C", self.tree, "."], env=self.env).seconds
        self.added = os.path.getsize(self.last)
        return elapsed

    def restore(self, target: str) -> float:
        os.makedirs(target)
        return common.run(["tar", "-xf", self.last, "-C", target], env=self.env).seconds


class TarIncremental(Tool):
    """GNU tar's own incremental mode: a snapshot file of mtimes and inodes, like a files cache."""

    name = "tar --listed-incremental"
    slug = "tar-incr"

    def __init__(self, tree: str, env: dict[str, str]) -> None:
        super().__init__(tree, env)
        self.archives: list[str] = []

    def prepare(self, workdir: str) -> None:
        super().prepare(workdir)
        self.archives = []

    def snapshot(self, label: str) -> float:
        archive = os.path.join(self.workdir, label + ".tar")
        snar = os.path.join(self.workdir, "state.snar")
        cmd = ["tar", "--listed-incremental", snar, "-cf", archive, "-C", self.tree, "."]
        elapsed = common.run(cmd, env=self.env).seconds
        self.archives.append(archive)
        self.added = os.path.getsize(archive)
        return elapsed

    def restore(self, target: str) -> float:
        os.makedirs(target)
        start = time.perf_counter()
        for archive in self.archives:  # level 0, then each increment in order
            cmd = ["tar", "--listed-incremental", "/dev/null", "-xf", archive, "-C", target]
            common.run(cmd, env=self.env)
        return time.perf_counter() - start


class RepoTool(Tool):
    """A peer that keeps its snapshots in a repository of its own (its caches elsewhere)."""

    def _repo(self) -> str:
        return os.path.join(self.workdir, "repo")

    def storage(self) -> list[str]:
        return [self._repo()]


class Restic(RepoTool):
    name = "restic"
    slug = "restic"

    def prepare(self, workdir: str) -> None:
        super().prepare(workdir)
        # Its normal local cache (the equivalent of our files cache), kept on tmpfs.
        self.env = dict(
            self.env,
            RESTIC_CACHE_DIR=os.path.join(workdir, "cache"),
            RESTIC_PASSWORD="git-snapshot-bench",  # restic always encrypts; a fixed password
        )
        common.run(["restic", "-q", "-r", self._repo(), "init"], env=self.env)

    def snapshot(self, label: str) -> float:
        cmd = ["restic", "-r", self._repo(), "backup", "--json", "--host", SOURCE, self.tree]
        ran = common.run(cmd, env=self.env)
        self.added = self.files = None
        for line in ran.out.splitlines():
            if '"summary"' in line:
                got = json.loads(line)
                self.added = int(got.get("data_added", 0))
                self.files = int(got.get("total_files_processed", 0))
        return ran.seconds

    def restore(self, target: str) -> float:
        cmd = ["restic", "-q", "-r", self._repo(), "restore", "latest", "--target", target]
        return common.run(cmd, env=self.env).seconds


class Borg(RepoTool):
    name = "borg"
    slug = "borg"

    def prepare(self, workdir: str) -> None:
        super().prepare(workdir)
        # Cache (with its files cache), config and security dirs all under a tmpfs home.
        self.env = dict(
            self.env,
            BORG_BASE_DIR=os.path.join(workdir, "home"),
            BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK="yes",
            BORG_RELOCATED_REPO_ACCESS_IS_OK="yes",
        )
        common.run(["borg", "init", "--encryption=none", self._repo()], env=self.env)

    def snapshot(self, label: str) -> float:
        self.last = f"{self._repo()}::{label}"
        cmd = ["borg", "create", "--json", self.last, "."]
        ran = common.run(cmd, cwd=self.tree, env=self.env)
        stats = json.loads(ran.out)["archive"]["stats"]
        self.added = int(stats["deduplicated_size"])
        self.files = int(stats["nfiles"])
        return ran.seconds

    def restore(self, target: str) -> float:
        os.makedirs(target)
        return common.run(["borg", "extract", self.last], cwd=target, env=self.env).seconds


# -- peers -------------------------------------------------------------------------------


def try_install(packages: list[str]) -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        log(f"cannot install {' '.join(packages)}: needs root and apt-get")
        return
    log(f"installing {' '.join(packages)} with apt-get ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", *packages],
    ):
        proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip()[-500:]
            log(f"{' '.join(cmd)} failed ({proc.returncode}): {err}")
            return


def peer_tools(tree: str, env: dict[str, str], install: bool) -> tuple[list[Tool], dict[str, str]]:
    """The peers that can run here, and the version (or why not) of each."""
    wanted: list[tuple[type[Tool], str, str, list[str]]] = [
        (TarFull, "tar", "tar", ["tar", "--version"]),
        (TarIncremental, "tar", "tar", ["tar", "--version"]),
        (Restic, "restic", "restic", ["restic", "version"]),
        (Borg, "borg", "borgbackup", ["borg", "--version"]),
    ]
    missing = sorted({pkg for _cls, exe, pkg, _v in wanted if shutil.which(exe) is None})
    if missing and install:
        try_install(missing)
    tools: list[Tool] = []
    versions: dict[str, str] = {}
    for cls, exe, pkg, version_cmd in wanted:
        if shutil.which(exe) is None:
            versions[cls.name] = f"unavailable (not on PATH; apt-get install -y {pkg})"
            log(f"{cls.name}: unavailable, skipped (apt-get install -y {pkg}, or --install-peers)")
            continue
        versions[cls.name] = common.tool_version(version_cmd)
        tools.append(cls(tree, env))
    return tools, versions


# -- the run -----------------------------------------------------------------------------


Samples = dict[str, list[float]]


class Bench:
    def __init__(self, args: argparse.Namespace, base: str) -> None:
        self.args = args
        self.base = base
        self.tree_dir = os.path.join(base, "tree")
        self.env = dict(os.environ)
        self.env[ENV_ALLOW_EPHEMERAL] = "1"
        self.env.pop("GIT_SNAPSHOT_STORE", None)
        common.run_from_bytecode(self.env, os.path.join(base, "pycache"))
        os.environ[ENV_ALLOW_EPHEMERAL] = "1"
        self.walk = common.load_walk()
        self.samples: dict[str, Samples] = defaultdict(lambda: defaultdict(list))
        self.last_write = 0.0
        self.tools: list[Tool] = [
            GitSnapshotInProcess(self.tree_dir, self.env),
            GitSnapshotSubprocess(self.tree_dir, self.env),
        ]
        self.versions: dict[str, str] = {}
        self.load_before = ""
        self.checks: list[str] = []

    def warm_tree(self, *extra: str) -> None:
        common.warm([self.tree_dir])
        common.warm(extra, WARM_READ_LIMIT)

    def phase(self, what: str, fn: Callable[[Tool], None]) -> None:
        for tool in self.tools:
            if tool.failed:
                continue
            try:
                fn(tool)
            except common.CommandFailed as exc:
                tool.failed = f"{what}: {exc}"
                log(f"{tool.name} failed, dropped from the run: {exc}")

    def baseline(self) -> None:
        s = self.samples["baseline"]
        bpath = os.fsencode(self.tree_dir)
        self.warm_tree()
        ran = common.run([sys.executable, "-c", common.WALK_CHILD, self.tree_dir], env=self.env)
        s["walk_sub"].append(ran.seconds)
        self.warm_tree()
        gc.collect()
        start = time.perf_counter()
        entries = self.walk(bpath)
        s["walk_in"].append(time.perf_counter() - start)
        if int(ran.out) != entries:
            raise RuntimeError(f"the walks disagree: {ran.out.strip()} != {entries}")
        s["entries"].append(entries)
        s["py_start"].append(common.run([sys.executable, "-c", "pass"], env=self.env).seconds)
        importing = [sys.executable, "-c", "import git_snapshot.store.archiver"]
        s["py_import"].append(common.run(importing, env=self.env).seconds)

    def round(self, number: int, tree: common.Tree) -> None:
        rounds = self.args.rounds
        rdir = os.path.join(self.base, f"round{number}")
        os.makedirs(rdir)
        common.settle(self.last_write, RACY_NS)
        self.phase("prepare", lambda t: t.prepare(os.path.join(rdir, t.slug)))

        log(f"round {number + 1}/{rounds}: first snapshots")

        def first(t: Tool) -> None:
            self.warm_tree(*t.warm_paths())
            self.samples[t.slug]["first"].append(t.snapshot("first"))
            if t.files is not None and t.files != len(tree.files) and t.slug.startswith("gs"):
                raise RuntimeError(f"{t.name}: {t.files} files in the snapshot")

        self.phase("first snapshot", first)

        log(f"round {number + 1}/{rounds}: baseline walks, second snapshots (unchanged tree)")
        self.baseline()
        walks = self.samples["baseline"]

        def second(t: Tool) -> None:
            s = self.samples[t.slug]
            before = sum(common.disk_usage(p) for p in t.storage())
            self.warm_tree(*t.warm_paths())
            elapsed = t.snapshot("second")
            after = sum(common.disk_usage(p) for p in t.storage())
            walk = walks["walk_in" if t.mode == IN_PROCESS else "walk_sub"][-1]
            s["second"].append(elapsed)
            s["ratio"].append(elapsed / walk)
            s["growth"].append(after - before)
            if t.added is not None:
                s["added"].append(t.added)

        self.phase("second snapshot", second)

        changed = common.modify_files(
            tree, CHANGE_FRACTION, self.args.seed * 1000 + number, f"round {number}"
        )
        self.last_write = time.time()
        log(f"round {number + 1}/{rounds}: third snapshots ({changed} files changed)")

        def third(t: Tool) -> None:
            self.warm_tree(*t.warm_paths())
            self.samples[t.slug]["third"].append(t.snapshot("third"))

        self.phase("third snapshot", third)

        log(f"round {number + 1}/{rounds}: restores")

        def restore(t: Tool) -> None:
            target = os.path.join(rdir, "restore-" + t.slug)
            common.warm(t.warm_paths(), WARM_READ_LIMIT)
            self.samples[t.slug]["restore"].append(t.restore(target))
            if number == 0:
                got = common.count_files(target)
                ok = "ok" if got == len(tree.files) else "MISMATCH"
                self.checks.append(f"{t.name}: restored {got} of {len(tree.files)} files: {ok}")
            common.remove(target)

        self.phase("restore", restore)
        common.remove(rdir)

    def run(self) -> common.Tree:
        args = self.args
        if not args.no_peers:
            peers, self.versions = peer_tools(self.tree_dir, self.env, args.install_peers)
            self.tools += peers
        self.load_before = common.load_average()
        # untimed: fill the children's bytecode cache
        warmup = "import json, git_snapshot.store.archiver, git_snapshot.store.restorer"
        common.run([sys.executable, "-c", warmup], env=self.env)
        common.run([sys.executable, "-c", common.WALK_CHILD, self.base], env=self.env)
        log(f"generating {args.files} files in {self.tree_dir} ...")
        start = time.perf_counter()
        tree = common.make_tree(self.tree_dir, args.files, args.seed)
        self.last_write = time.time()
        log(f"generated in {time.perf_counter() - start:.1f} s")
        for number in range(args.rounds):
            self.round(number, tree)
        return tree

    def profile(self) -> str:
        """cProfile of one extra in-process second snapshot (unchanged tree)."""
        store = os.path.join(self.base, "profile-store")
        common.settle(self.last_write, RACY_NS)
        with Store(store) as s:
            create_snapshot(s, SOURCE, self.tree_dir)
        common.settle(self.last_write, RACY_NS)
        self.warm_tree(store)
        prof = cProfile.Profile()
        gc.collect()
        prof.enable()
        with Store(store) as s:
            create_snapshot(s, SOURCE, self.tree_dir)
        prof.disable()
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(15)
        common.remove(store)
        return out.getvalue()


# -- the report --------------------------------------------------------------------------


def fmt_s(values: list[float]) -> str:
    return f"{common.median(values):.3f}" if values else "—"


def fmt_kib(values: list[float]) -> str:
    return f"{common.median(values) / 1024:,.1f}" if values else "—"


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GiB"


def report(bench: Bench, tree: common.Tree, elapsed: float, profile: str, argv: list[str]) -> str:
    args = bench.args
    s = bench.samples
    base = s["baseline"]
    out = common.report_header("git-snapshot store benchmark", argv, bench.load_before)
    gs_version = common.package_version("git-snapshot")
    zstd_version = common.package_version("zstandard")
    out.append(
        f"- git-snapshot {gs_version} (zstandard {zstd_version}, SQLite {sqlite3.sqlite_version})"
    )
    for name, version in bench.versions.items():
        out.append(f"- {name}: {version}")
    out.append(
        f"- tree: {len(tree.files):,} files ({fmt_bytes(tree.bytes)}) in {tree.dirs:,} "
        f"directories, at most {tree.max_depth} deep, seed {args.seed}; "
        f"tree, stores, repositories and restore targets on {common.fs_type(bench.base)} "
        f"({bench.base})"
    )
    out.append(
        f"- rounds: {args.rounds}; every figure is the median over the rounds; "
        f"{CHANGE_FRACTION:.0%} changed = {max(1, round(len(tree.files) * CHANGE_FRACTION))} "
        f"files appended to; total run {elapsed:.0f} s"
    )
    out.append("")
    header = [
        "tool",
        "first snapshot (s)",
        "second unchanged (s)",
        "ratio to baseline walk",
        "store growth second (KiB)",
        "1% changed (s)",
        "restore (s)",
    ]
    rows: list[list[str]] = [
        ["baseline walk (in-process)", "—", fmt_s(base["walk_in"]), "1.00", "—", "—", "—"],
        ["baseline walk (subprocess)", "—", fmt_s(base["walk_sub"]), "1.00", "—", "—", "—"],
    ]
    for tool in bench.tools:
        t = s[tool.slug]
        growth = fmt_kib(t["growth"])
        if t["added"]:
            growth += f" (added {fmt_bytes(common.median(t['added']))})"
        ratio = f"{common.median(t['ratio']):.2f}" if t["ratio"] else "—"
        name = tool.name + (" (failed, see below)" if tool.failed else "")
        rows.append(
            [
                name,
                fmt_s(t["first"]),
                fmt_s(t["second"]),
                ratio,
                growth,
                fmt_s(t["third"]),
                fmt_s(t["restore"]),
            ]
        )
    out.append(common.markdown_table(header, rows))
    out.append("")
    out.append(
        "Ratio: second snapshot / baseline walk of the same round (median of the per-round "
        "ratios); in-process rows against the in-process walk, all others against the "
        "subprocess walk (a fresh interpreter: start-up included on both sides). Growth: bytes "
        "on disk (allocated blocks) of the store or repository before and after the second "
        "snapshot, caches outside it; `added` is what the tool itself reports (git-snapshot "
        "`added_bytes`, restic `data_added`, borg `deduplicated_size`, tar: the archive)."
    )
    out.append("")
    out.append("### Targets (git-snapshot, second snapshot of an unchanged tree)\n")
    for tool in bench.tools[:2]:
        t = s[tool.slug]
        if not t["ratio"]:
            continue
        r = common.median(t["ratio"])
        grew = common.median(t["growth"])
        added = common.median(t["added"]) if t["added"] else 0.0
        out.append(
            f"- {tool.name}: {r:.2f}x the {tool.mode} walk "
            f"(target <= {TARGET_RATIO:.0f}x): {'PASS' if r <= TARGET_RATIO else 'MISS'}; "
            f"growth {fmt_bytes(grew)} on disk, added_bytes {added:,.0f} "
            f"(target <= {TARGET_GROWTH >> 10} KiB): "
            f"{'PASS' if max(grew, added) <= TARGET_GROWTH else 'MISS'}"
        )
    out.append("")
    out.append("### Details (seconds: median / min / max over the rounds)\n")
    detail_rows: list[list[str]] = []

    def add(name: str, values: list[float]) -> None:
        if values:
            detail_rows.append(
                [
                    name,
                    f"{common.median(values):.3f}",
                    f"{min(values):.3f}",
                    f"{max(values):.3f}",
                ]
            )

    add("python -c pass (interpreter start)", base["py_start"])
    add("python -c 'import git_snapshot.store.archiver'", base["py_import"])
    add("baseline walk, in-process", base["walk_in"])
    add("baseline walk, subprocess", base["walk_sub"])
    for tool in bench.tools:
        for phase in ("first", "second", "third", "restore"):
            add(f"{tool.name}: {phase}", s[tool.slug][phase])
    out.append(common.markdown_table(["measurement", "median", "min", "max"], detail_rows))
    out.append("")
    out.append(f"Entries walked: {int(common.median(base['entries'])):,}.")
    for line in bench.checks:
        out.append(f"- restore check, {line}")
    for tool in bench.tools:
        if tool.failed:
            out.append(f"- {tool.name} failed and was dropped: {tool.failed}")
    if profile:
        out.append("\n### cProfile: one in-process second snapshot of the unchanged tree\n")
        out.append("```")
        out.append(profile.strip())
        out.append("```")
    return "\n".join(out)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--files", type=int, default=50_000, help="files in the tree (50000)")
    p.add_argument("--rounds", type=int, default=5, help="rounds; medians are reported (5)")
    p.add_argument("--seed", type=int, default=1, help="seed of the tree and the changes (1)")
    p.add_argument("--no-peers", action="store_true", help="skip tar, restic and borg")
    p.add_argument(
        "--install-peers",
        action="store_true",
        help="apt-get install restic and borgbackup if missing (root only)",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of one in-process second snapshot",
    )
    return common.parse_args(p, argv, ["files", "rounds"])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    start = time.perf_counter()
    with common.scratch_dir("gsnap-bench-", args.base_dir, args.keep) as base:
        bench = Bench(args, base)
        tree = bench.run()
        profile = bench.profile() if args.profile else ""
        print(
            report(bench, tree, time.perf_counter() - start, profile, [sys.executable, *sys.argv])
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
