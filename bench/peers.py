#!/usr/bin/env python3
"""Time git-snapshot against tar+zstd, restic, borg and a shadow git index on the same trees,
in the same run, with the floors (walk, find, git status, read, hash, compress) next to them.

Not a test: it writes a markdown report (docs/BENCHMARKS.md by default). See bench/README.md.

    .venv/bin/python bench/peers.py [--trees S,M,L] [--rounds N] [--out FILE] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

import common
import trees
from common import log

try:
    from git_snapshot.store.walker import RACY_NS
except ImportError:  # pragma: no cover - renamed; the files cache's 2 s
    RACY_NS = 2_000_000_000

CHANGE_FRACTION = 0.01
NEW_FILES = 10
# the 1 % snapshot also into this many copies of git-snapshot's store, its median kept: one
# run moves by 10-20 % between runs on the shared cores (session 18: the same code against
# itself gave 1.04x and 1.19x of the target's ratio with three runs a round)
STEP_COPIES = 4
ZSTD = "zstd -3 -T0"  # tar's compressor, both ways (tar adds -d to extract)
WARM_ALL = 1 << 40  # read every file when warming
OPS = ("first", "unchanged", "changed", "restore")
OP_NAMES = {
    "first": "first snapshot (s)",
    "unchanged": "unchanged snapshot (s)",
    "changed": "1% edited + 10 new (s)",
    "restore": "full restore (s)",
    "store": "store after 3 snapshots (MB)",
    "rss": "peak RSS (MB)",
}
MB = 1e6

# The floors: one Python child per measurement, so they pay an interpreter start as the
# git-snapshot CLI does. Top-level .git is skipped, as a snapshot skips it.
FLOOR_SRC = """\
import hashlib, os, sys
mode, root = sys.argv[1], os.fsencode(sys.argv[2])
files = []
def walk(path):
    with os.scandir(path) as it:
        for e in it:
            st = e.stat(follow_symlinks=False)
            if e.is_dir(follow_symlinks=False):
                if not (path == root and e.name == b".git"):
                    walk(e.path)
            elif e.is_file(follow_symlinks=False):
                files.append((e.path, st.st_size))
if mode in ("list", "listz"):
    with open(sys.argv[3], "rb") as f:
        files = [(os.path.join(root, p), 0) for p in f.read().splitlines()]
else:
    walk(root)
if mode == "walk":
    print(len(files))
    sys.exit(0)
hashing = mode in ("hash", "zstd1", "zstd2", "listz")
c = None
if mode in ("zstd1", "zstd2", "listz"):
    import zstandard
    c = zstandard.ZstdCompressor(level=3)
def work(part):
    total = 0
    for p, _ in part:
        with open(p, "rb") as f:
            data = f.read()
        if hashing:
            hashlib.sha256(data).digest()
        if c is not None:
            c.compress(data)
        total += len(data)
    return total
if mode == "zstd2":  # two processes, the files shared out by size
    files.sort(key=lambda x: -x[1])
    parts, loads = ([], []), [0, 0]
    for item in files:
        i = 0 if loads[0] <= loads[1] else 1
        parts[i].append(item)
        loads[i] += item[1]
    pid = os.fork()
    if pid == 0:
        work(parts[1])
        os._exit(0)
    n = work(parts[0])
    os.waitpid(pid, 0)
else:
    n = work(files)
print(n)
"""

FLOORS = {
    "walk": "Python scandir+lstat walk",
    "find": "find . -printf ''",
    "status": "git status --ignored --porcelain",
    "read": "read every byte (Python)",
    "hash": "read + sha256",
    "zstd1": "read + sha256 + zstd-3, 1 process",
    "zstd2": "read + sha256 + zstd-3, 2 processes",
}


# -- running ---------------------------------------------------------------------------------


@dataclass
class Ran:
    seconds: float
    rss: int  # peak resident set size in bytes (the child and the children it waited for)
    out: str


class Failed(RuntimeError):
    pass


class Runner:
    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        # GNU time, when there is one, measures the peak RSS from a small parent: a child
        # forked from this Python process starts with its high-water mark (about 30 MB).
        self.time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else ""
        self.rss_file = os.path.join(tmp, "rss")

    def __call__(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Ran:
        """Run *cmd*; its wall time and peak RSS (os.wait4's rusage: the child and the
        descendants it waited for, so `git snapshot` counts the git-snapshot process)."""
        with (
            tempfile.TemporaryFile(dir=self.tmp) as out,
            tempfile.TemporaryFile(dir=self.tmp) as err,
        ):
            argv = list(cmd)
            if self.time:
                argv = [self.time, "-q", "-f", "%M", "-o", self.rss_file, *argv]
            start = time.perf_counter()
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            text = out.read().decode(errors="replace")
            if proc.returncode != 0:
                tail = (text + err.read().decode(errors="replace")).strip()[-1500:]
                where = f" (in {cwd})" if cwd else ""
                raise Failed(f"{shlex.join(cmd)}{where} exited {proc.returncode}: {tail}")
        rss = usage.ru_maxrss
        if self.time:
            with open(self.rss_file, encoding="utf-8") as f:
                rss = int(f.read().split()[-1])
        return Ran(elapsed, rss * 1024, text)


def chain(*runs: Ran) -> Ran:
    """Several commands as one measurement: times add up, the peak is the highest."""
    return Ran(sum(r.seconds for r in runs), max(r.rss for r in runs), runs[-1].out)


# -- the tools -------------------------------------------------------------------------------


class Tool:
    """One way of keeping snapshots of the tree. prepare() is untimed (a fresh store per
    round); snapshot() and restore() return what they ran."""

    name = ""
    key = ""
    exe = ""
    package = ""
    version_cmd: tuple[str, ...] = ()
    exact_modes = True  # restores every permission bit (git: only the executable bit)

    def __init__(self, run: Runner, tree: trees.Tree, env: dict[str, str]) -> None:
        self.run = run
        self.tree = tree
        self.env = env
        self.workdir = ""
        self.failed = ""

    def prepare(self, workdir: str) -> None:
        self.workdir = workdir
        os.makedirs(workdir)

    def snapshot(self, label: str) -> Ran:
        raise NotImplementedError

    def restore(self, target: str) -> Ran:
        raise NotImplementedError

    def store(self) -> list[str]:
        return [self.workdir]


class GitSnapshot(Tool):
    name = "git-snapshot"
    key = "gs"
    exe = "git-snapshot"
    version_cmd = ("git", "snapshot", "--version")

    def prepare(self, workdir: str) -> None:
        super().prepare(workdir)
        self.env = dict(self.env, GIT_SNAPSHOT_STORE=os.path.join(workdir, "store"))
        self.last = ""

    def snapshot(self, label: str) -> Ran:
        import json

        ran = self.run(["git", "snapshot", "--json", "-m", label], self.tree.root, self.env)
        self.last = str(json.loads(ran.out)["id"])
        return ran

    def snapshot_in(self, store: str, label: str) -> Ran:
        """The same snapshot into another store (a copy of this one), leaving this one and
        the ID a restore uses alone."""
        env = dict(self.env, GIT_SNAPSHOT_STORE=store)
        return self.run(["git", "snapshot", "--json", "-m", label], self.tree.root, env)

    def restore(self, target: str) -> Ran:
        os.makedirs(target)
        cmd = ["git", "snapshot", "restore", self.last, "--to", target]
        return self.run(cmd, self.tree.root, self.env)

    def store(self) -> list[str]:
        return [os.path.join(self.workdir, "store")]


class Tar(Tool):
    name = "tar+zstd"
    key = "tar"
    exe = "tar"
    package = "tar zstd"
    version_cmd = ("tar", "--version")

    def prepare(self, workdir: str) -> None:
        super().prepare(workdir)
        self.archives: list[str] = []

    def _create(self, label: str, *extra: str) -> Ran:
        archive = os.path.join(self.workdir, label + ".tar.zst")
        self.archives.append(archive)
        cmd = ["tar", "-I", ZSTD, *extra, "--exclude=./.git", "-cf", archive, "-C", self.tree.root]
        return self.run([*cmd, "."], None, self.env)

    def snapshot(self, label: str) -> Ran:
        return self._create(label)

    def restore(self, target: str) -> Ran:
        os.makedirs(target)
        return self.run(["tar", "-I", ZSTD, "-xf", self.archives[-1], "-C", target], None, self.env)


class TarIncremental(Tar):
    name = "tar+zstd incremental"
    key = "tarinc"

    def snapshot(self, label: str) -> Ran:
        return self._create(label, "--listed-incremental=" + os.path.join(self.workdir, "snar"))

    def restore(self, target: str) -> Ran:
        os.makedirs(target)
        runs = [  # level 0, then every increment in order
            self.run(
                ["tar", "-I", ZSTD, "--listed-incremental=/dev/null", "-xf", a, "-C", target],
                None,
                self.env,
            )
            for a in self.archives
        ]
        return chain(*runs)


class Restic(Tool):
    name = "restic"
    key = "restic"
    exe = "restic"
    package = "restic"
    version_cmd = ("restic", "version")

    def prepare(self, workdir: str) -> None:
        super().prepare(workdir)
        self.env = dict(
            self.env,
            RESTIC_CACHE_DIR=os.path.join(workdir, "cache"),
            RESTIC_PASSWORD="git-snapshot-bench",  # restic always encrypts
            RESTIC_REPOSITORY=os.path.join(workdir, "repo"),
        )
        self.run(["restic", "-q", "init"], None, self.env)

    def snapshot(self, label: str) -> Ran:
        excl = "--exclude=" + os.path.join(self.tree.root, ".git")
        cmd = ["restic", "-q", "backup", "--host", "bench", "--tag", label, excl, "."]
        return self.run(cmd, self.tree.root, self.env)

    def restore(self, target: str) -> Ran:
        return self.run(["restic", "-q", "restore", "latest", "--target", target], None, self.env)

    def store(self) -> list[str]:
        return [os.path.join(self.workdir, "repo")]


class Borg(Tool):
    name = "borg"
    key = "borg"
    exe = "borg"
    package = "borgbackup"
    version_cmd = ("borg", "--version")

    def prepare(self, workdir: str) -> None:
        super().prepare(workdir)
        self.env = dict(
            self.env,
            BORG_BASE_DIR=os.path.join(workdir, "home"),  # cache, config, security dirs
            BORG_REPO=os.path.join(workdir, "repo"),
            BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK="yes",
            BORG_RELOCATED_REPO_ACCESS_IS_OK="yes",
        )
        self.run(["borg", "init", "--encryption=none"], None, self.env)
        self.last = ""

    def snapshot(self, label: str) -> Ran:
        self.last = "::" + label
        cmd = ["borg", "create", "--compression", "lz4", "--exclude", "./.git", self.last, "."]
        return self.run(cmd, self.tree.root, self.env)

    def restore(self, target: str) -> Ran:
        os.makedirs(target)
        return self.run(["borg", "extract", self.last], target, self.env)

    def store(self) -> list[str]:
        return [os.path.join(self.workdir, "repo")]


class ShadowGit(Tool):
    """A second git directory whose index covers the whole worktree (ignored files too)."""

    name = "shadow git index"
    key = "shadow"
    exe = "git"
    package = "git"
    version_cmd = ("git", "--version")
    exact_modes = False

    def prepare(self, workdir: str) -> None:
        super().prepare(workdir)
        self.gitdir = os.path.join(workdir, "shadow.git")
        self.run(["git", "init", "-q", "--bare", self.gitdir], None, self.env)
        self.last = ""

    def _git(self, *args: str, cwd: str | None = None, env: dict[str, str] | None = None) -> Ran:
        return self.run(["git", "--git-dir", self.gitdir, *args], cwd, env or self.env)

    def snapshot(self, label: str) -> Ran:
        add = self._git("--work-tree=.", "add", "-A", "-f", cwd=self.tree.root)
        tree = self._git("write-tree")
        parent = ["-p", self.last] if self.last else []
        commit = self._git("commit-tree", tree.out.strip(), *parent, "-m", label)
        self.last = commit.out.strip()
        ref = self._git("update-ref", "refs/heads/snapshots", self.last)
        return chain(add, tree, commit, ref)

    def restore(self, target: str) -> Ran:
        os.makedirs(target)
        env = dict(self.env, GIT_INDEX_FILE=os.path.join(self.workdir, "restore.index"))
        read = self._git("read-tree", self.last, env=env)
        out = self._git("--work-tree", target, "checkout-index", "-a", env=env)
        os.unlink(env["GIT_INDEX_FILE"])
        return chain(read, out)


TOOLS: list[type[Tool]] = [GitSnapshot, Tar, TarIncremental, Restic, Borg, ShadowGit]


# -- checking a restore ----------------------------------------------------------------------


def _entries(root: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == root:
            dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root)] = path
    return out


def _same_bytes(a: str, b: str) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def compare(src: str, dst: str, exact_modes: bool) -> tuple[int, list[str]]:
    """Every entry of *src* (top-level .git left out) must be in *dst* with the same type,
    bytes, symlink target and permission bits (with exact_modes False: the executable bit);
    nothing more may be in *dst*. Returns (entries compared, problems)."""
    a, b = _entries(src), _entries(dst)
    problems = [f"missing: {p}" for p in sorted(a.keys() - b.keys())]
    problems += [f"extra: {p}" for p in sorted(b.keys() - a.keys())]
    for rel in sorted(a.keys() & b.keys()):
        sa, sb = os.lstat(a[rel]), os.lstat(b[rel])
        if stat.S_IFMT(sa.st_mode) != stat.S_IFMT(sb.st_mode):
            problems.append(f"type differs: {rel}")
        elif stat.S_ISLNK(sa.st_mode):
            if os.readlink(a[rel]) != os.readlink(b[rel]):
                problems.append(f"symlink target differs: {rel}")
        elif stat.S_ISREG(sa.st_mode):
            mask = 0o777 if exact_modes else 0o100
            if (sa.st_mode & mask) != (sb.st_mode & mask):
                problems.append(f"mode differs: {rel} {sa.st_mode:o} {sb.st_mode:o}")
            if sa.st_size != sb.st_size or not _same_bytes(a[rel], b[rel]):
                problems.append(f"bytes differ: {rel}")
    return len(a), problems


# -- the run ---------------------------------------------------------------------------------

Samples = dict[str, dict[str, list[float]]]  # tool or floor key -> measurement -> per round


class TreeBench:
    def __init__(
        self, args: argparse.Namespace, base: str, name: str, env: dict[str, str], run: Runner
    ) -> None:
        self.args = args
        self.name = name
        self.dir = os.path.join(base, name)
        self.env = env
        self.run = run
        self.samples: Samples = defaultdict(lambda: defaultdict(list))
        self.checks: list[str] = []
        self.bad = False
        self.last_write = 0.0
        self.tree = trees.Tree("", name)
        self.tools: list[Tool] = []
        self.described = ""

    def generate(self, available: list[type[Tool]]) -> None:
        log(f"tree {self.name}: generating in {self.dir}/tree ...")
        start = time.perf_counter()
        self.tree = trees.make(os.path.join(self.dir, "tree"), self.name, self.args.seed, self.env)
        self.last_write = time.time()
        self.described = self.tree.describe()
        log(f"tree {self.name}: {self.described} in {time.perf_counter() - start:.0f} s")
        self.tools = [cls(self.run, self.tree, self.env) for cls in available]

    def settle(self) -> None:
        if not self.args.quick:  # --quick only checks that everything runs and restores
            common.settle(self.last_write, RACY_NS)

    def warm(self, *extra: str) -> None:
        common.warm([self.tree.root, *extra], WARM_ALL)

    def each(self, number: int, what: str, fn: Callable[[Tool], None]) -> None:
        n = len(self.tools)
        for tool in self.tools[number % n :] + self.tools[: number % n]:
            if tool.failed:
                continue
            try:
                fn(tool)
            except Failed as exc:
                tool.failed = f"{what}: {exc}"
                log(f"{tool.name} failed, dropped from tree {self.name}: {exc}")

    def floor(self, key: str, ran: Ran) -> None:
        self.samples["floor"][key].append(ran.seconds)

    def floors(self, number: int, again: Callable[[], float] | None = None) -> list[float]:
        """The floors, interleaved with the unchanged snapshots of the same round; *again*
        (git-snapshot's unchanged snapshot) is timed next to each run of the walk: its
        times."""
        root = self.tree.root
        py = [sys.executable, "-c", FLOOR_SRC]
        cmds: dict[str, tuple[list[str], str | None]] = {
            "walk": ([*py, "walk", root], None),
            "find": (["find", ".", "-printf", ""], root),
            "status": (["git", "status", "--ignored", "--porcelain"], root),
            "read": ([*py, "read", root], None),
            "hash": ([*py, "hash", root], None),
            "zstd1": ([*py, "zstd1", root], None),
            "zstd2": ([*py, "zstd2", root], None),
        }
        keys = list(cmds)
        walks: list[float] = []  # the walk, the floor of an unchanged snapshot: its median of 3
        agains: list[float] = []
        for key in ["walk", *keys[number % len(keys) :], *keys[: number % len(keys)], "walk"]:
            cmd, cwd = cmds[key]
            self.warm()
            ran = self.run(cmd, cwd, self.env)
            if key == "walk":
                walks.append(ran.seconds)
                if again is not None:
                    agains.append(again())
            else:
                self.floor(key, ran)
        self.samples["floor"]["walk"].append(common.median(walks))
        return agains

    def store_copies(self, gs: GitSnapshot, rdir: str) -> list[str]:
        """STEP_COPIES copies of git-snapshot's store (its files cache included), untimed."""
        (store,) = gs.store()
        copies = [os.path.join(rdir, f"gs-store-{i}") for i in range(STEP_COPIES)]
        for copy in copies:
            shutil.copytree(store, copy, symlinks=True)
        return copies

    def changed_in(self, gs: GitSnapshot, copy: str) -> list[float]:
        """The time of the 1 % snapshot into *copy*; none if it failed (the run in the
        measured store says why, or took its time)."""
        self.warm(copy)
        try:
            return [gs.snapshot_in(copy, "s3").seconds]
        except Failed as exc:
            log(f"{gs.name}: the 1 % snapshot into a copy of its store failed: {exc}")
            return []

    def round(self, number: int) -> None:
        rounds = self.args.rounds
        rdir = os.path.join(self.dir, f"round{number}")
        os.makedirs(rdir)
        self.settle()
        tag = f"{self.name} round {number + 1}/{rounds}"
        self.each(number, "prepare", lambda t: t.prepare(os.path.join(rdir, t.key)))
        peaks: dict[str, int] = defaultdict(int)

        def timed(t: Tool, op: str, fn: Callable[[], Ran]) -> None:
            self.warm(*t.store())
            ran = fn()
            self.samples[t.key][op].append(ran.seconds)
            peaks[t.key] = max(peaks[t.key], ran.rss)

        log(f"{tag}: first snapshots")
        self.each(number, "first snapshot", lambda t: timed(t, "first", lambda: t.snapshot("s1")))
        log(f"{tag}: unchanged snapshots and floors")
        self.each(
            number, "unchanged snapshot", lambda t: timed(t, "unchanged", lambda: t.snapshot("s2"))
        )
        # git-snapshot's unchanged snapshot, the base of two targets, also next to each run of
        # the walk (its floor): its median of 3, as the walk's. One run of it waits for a core
        # as long as the machine makes it (the split walk needs both: docs/ARCHITECTURE.md)
        gs = next((t for t in self.tools if t.key == GitSnapshot.key and not t.failed), None)

        def again() -> float:
            assert gs is not None
            self.warm(*gs.store())
            return gs.snapshot("s2").seconds

        more = self.floors(number, again if gs is not None else None)
        if gs is not None and more and self.samples[gs.key]["unchanged"]:
            times = self.samples[gs.key]["unchanged"]
            times[-1] = common.median([times[-1], *more])
        changed = trees.edit(self.tree, CHANGE_FRACTION, NEW_FILES, self.args.seed, f"r{number}")
        self.last_write = time.time()
        listing = os.path.join(rdir, "changed.list")
        with open(listing, "wb") as f:
            f.write(b"\n".join(os.fsencode(p) for p in changed))
        self.settle()
        log(f"{tag}: {len(changed)} files edited or new, third snapshots")
        self.warm()
        py = [sys.executable, "-c", FLOOR_SRC]
        self.floor("readchanged", self.run([*py, "list", self.tree.root, listing], None, self.env))
        # what any store of these files must do beyond reading them (not in the target's
        # base): the step's added time against it says how much is per-folder work
        stored = self.run([*py, "listz", self.tree.root, listing], None, self.env)
        self.floor("storechanged", stored)
        # git-snapshot's 1 % snapshot, the numerator of a target, also into STEP_COPIES copies
        # of its store as it was after the second snapshot (half timed before the tools' runs,
        # half after), the same fresh change each time, and its median kept; the store itself
        # gets one third snapshot, as every tool's
        gsx = gs if isinstance(gs, GitSnapshot) and not gs.failed else None
        copies = self.store_copies(gsx, rdir) if gsx is not None else []
        half = len(copies) // 2
        steps: list[float] = []
        for copy in copies[:half]:
            if gsx is not None and not gsx.failed:
                steps += self.changed_in(gsx, copy)
        self.each(number, "1% changed", lambda t: timed(t, "changed", lambda: t.snapshot("s3")))
        for copy in copies[half:]:
            if gsx is not None and not gsx.failed:
                steps += self.changed_in(gsx, copy)
        for copy in copies:
            common.remove(copy)
        if gsx is not None and steps and not gsx.failed and self.samples[gsx.key]["changed"]:
            times = self.samples[gsx.key]["changed"]
            times[-1] = common.median([times[-1], *steps])

        def size(t: Tool) -> None:
            self.samples[t.key]["store"].append(sum(common.disk_usage(p) for p in t.store()))

        self.each(number, "store size", size)
        log(f"{tag}: restores")

        def restore(t: Tool) -> None:
            target = os.path.join(rdir, "restore-" + t.key)
            timed(t, "restore", lambda: t.restore(target))
            entries, problems = compare(self.tree.root, target, t.exact_modes)
            ok = "byte-exact: ok" if not problems else "MISMATCH: " + "; ".join(problems[:5])
            if problems:
                self.bad = True
            self.checks.append(f"round {number + 1}, {t.name}: {entries:,} entries {ok}")
            common.remove(target)

        self.each(number, "restore", restore)
        for key, peak in peaks.items():
            self.samples[key]["rss"].append(peak)
        common.remove(rdir)


def tool_version(cmd: Sequence[str], env: dict[str, str]) -> str:
    proc = subprocess.run(list(cmd), env=env, capture_output=True, check=False, timeout=60)
    text = (proc.stdout or proc.stderr).decode(errors="replace").strip()
    return text.splitlines()[0] if text else "unknown"


def available_tools(install: bool, env: dict[str, str]) -> tuple[list[type[Tool]], dict[str, str]]:
    missing = sorted(
        {cls.package for cls in TOOLS if cls.package and shutil.which(cls.exe) is None}
    )
    if missing and install and os.geteuid() == 0 and shutil.which("apt-get"):
        log(f"installing {' '.join(missing)} with apt-get ...")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], env=env, check=False)
    tools: list[type[Tool]] = []
    versions: dict[str, str] = {}
    for cls in TOOLS:
        if shutil.which(cls.exe, path=env["PATH"]) is None:
            versions[cls.name] = "not installed"
            log(f"{cls.name}: not installed, skipped (apt-get install -y {cls.package})")
            continue
        tools.append(cls)
        versions[cls.name] = tool_version(cls.version_cmd, env)
    if shutil.which("zstd") is None:
        tools = [t for t in tools if not issubclass(t, Tar)]
        versions[Tar.name] = versions[TarIncremental.name] = "not installed (zstd missing)"
    else:
        versions["zstd"] = tool_version(["zstd", "--version"], env)
    return tools, versions


KEEP_MARK = "<!-- below: what other scripts write (bench/bench_remote.py); peers.py keeps it -->"


def kept_sections(path: str) -> str:
    """What follows KEEP_MARK in the existing report: other scripts' sections survive a re-run."""
    try:
        with open(path, encoding="utf-8") as f:
            old = f.read()
    except OSError:
        return ""
    at = old.find(KEEP_MARK)
    return "" if at < 0 else "\n\n" + old[at:].rstrip("\n")


def make_env(base: str, quick: bool) -> dict[str, str]:
    drop = ("GIT_", "BORG_", "RESTIC_", "PYTHONPATH")
    keep = ("GIT_SNAPSHOT_PURE_PYTHON",)  # the twin measured on purpose, as the header says
    env = {k: v for k, v in os.environ.items() if k in keep or not k.startswith(drop)}
    home = os.path.join(base, "home")
    os.makedirs(home)
    gitconfig = os.path.join(home, ".gitconfig")
    with open(gitconfig, "w", encoding="utf-8") as f:
        f.write(
            "[user]\n\tname = Bench\n\temail = bench@example.invalid\n"
            "[init]\n\tdefaultBranch = main\n[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n"
        )
    env.update(
        HOME=home,
        XDG_DATA_HOME=os.path.join(home, "data"),
        XDG_CACHE_HOME=os.path.join(home, "cache"),
        XDG_CONFIG_HOME=os.path.join(home, "config"),
        GIT_CONFIG_GLOBAL=gitconfig,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_SNAPSHOT_ALLOW_EPHEMERAL="1",
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
    )
    if not quick:  # the warm-up fills it; --quick has no warm-up and uses the usual bytecode
        common.run_from_bytecode(env, os.path.join(base, "pycache"))
    return env


def warm_up(base: str, env: dict[str, str], run: Runner, tools: list[type[Tool]]) -> None:
    """Untimed: one whole cycle of every tool on a tiny tree (fills the children's bytecode
    cache, loads the binaries)."""
    d = os.path.join(base, "warmup")
    tree = trees.Tree(os.path.join(d, "tree"), "warmup")
    os.makedirs(tree.root)
    run(["git", "init", "-q"], tree.root, env)
    with open(os.path.join(tree.root, "a.txt"), "w") as f:
        f.write("warm-up\n")
    tree.files.append("a.txt")
    run(["git", "add", "-A"], tree.root, env)
    run(["git", "commit", "-q", "-m", "w"], tree.root, env)
    for cls in tools:
        tool = cls(run, tree, env)
        tool.prepare(os.path.join(d, cls.key))
        tool.snapshot("w")
        tool.restore(os.path.join(d, "restore-" + cls.key))
    run([sys.executable, "-c", FLOOR_SRC, "zstd2", tree.root], None, env)
    common.remove(d)


# -- the report ------------------------------------------------------------------------------


def per_round_ratio(a: list[float], b: list[float]) -> float | None:
    pairs = [x / y for x, y in zip(a, b) if y > 0]
    return common.median(pairs) if pairs else None


def cell(values: list[float], op: str) -> str:
    if not values:
        return "—"
    m = common.median(values)
    if op in ("store", "rss"):
        return f"{m / MB:,.1f}"
    return f"{m:.3f}" if m < 10 else f"{m:.2f}"


@dataclass
class Target:
    what: str
    measured: float | None
    limit: float
    unit: str  # "x" or " MB"
    applies: bool = True

    def row(self) -> list[str]:
        if self.measured is None:
            return [self.what, "—", f"<= {self.limit:g}{self.unit}", "n/a"]
        got = f"{self.measured:.2f}x" if self.unit == "x" else f"{self.measured:,.1f}{self.unit}"
        verdict = ("PASS" if self.measured <= self.limit else "FAIL") if self.applies else "n/a"
        return [self.what, got, f"<= {self.limit:g}{self.unit}", verdict]


def targets(tb: TreeBench) -> list[Target]:
    s = tb.samples
    gs, tar, restic, floor = s["gs"], s["tar"], s["restic"], s["floor"]
    base = [u + r for u, r in zip(gs["unchanged"], floor["readchanged"])]
    store = common.median(gs["store"]) / MB if gs["store"] else None
    rss = common.median(gs["rss"]) / MB if gs["rss"] else None
    on_m = tb.name == "M"
    return [
        Target("first snapshot / tar+zstd", per_round_ratio(gs["first"], tar["first"]), 1.2, "x"),
        Target("first snapshot / restic", per_round_ratio(gs["first"], restic["first"]), 0.5, "x"),
        Target(
            "unchanged snapshot / Python walk",
            per_round_ratio(gs["unchanged"], floor["walk"]),
            1.3,
            "x",
        ),
        Target(
            "1% changed / (unchanged + read of the changed files)",
            per_round_ratio(gs["changed"], base),
            1.15,
            "x",
        ),
        Target("full restore / tar+zstd", per_round_ratio(gs["restore"], tar["restore"]), 1.5, "x"),
        Target(
            "full restore / restic", per_round_ratio(gs["restore"], restic["restore"]), 0.5, "x"
        ),
        Target(
            "store after 3 snapshots" + ("" if on_m else " (target set for M)"),
            store,
            130,
            " MB",
            on_m,
        ),
        Target(
            "peak RSS" + ("" if tb.name == "L" else " (target set for L; shown for reference)"),
            rss,
            150,
            " MB",
            tb.name == "L",
        ),
    ]


def step_rows(tb: TreeBench) -> list[list[str]]:
    """The 1 % target's ratio for every tool, each against its own unchanged snapshot: what
    the ratio asks of a tool depends on how fast that tool's unchanged snapshot is."""
    s = tb.samples
    rows = []
    for t in tb.tools:
        ran = s[t.key]
        if not ran["changed"] or not ran["unchanged"]:
            continue
        base = [u + r for u, r in zip(ran["unchanged"], s["floor"]["readchanged"])]
        ratio = per_round_ratio(ran["changed"], base)
        added = common.median([c - u for c, u in zip(ran["changed"], ran["unchanged"])])
        rows.append(
            [
                t.name,
                cell(ran["unchanged"], "unchanged"),
                cell(ran["changed"], "changed"),
                f"{added:+.3f}",
                f"{ratio:.2f}x" if ratio is not None else "—",
            ]
        )
    return rows


def tree_report(tb: TreeBench, versions: dict[str, str]) -> list[str]:
    s = tb.samples
    out = [f"## Tree {tb.name}\n", f"{tb.described} at the start (seed {tb.args.seed}).\n"]
    header = ["", *[cls.name for cls in TOOLS]]
    present = {t.key: t for t in tb.tools}

    def value(cls: type[Tool], op: str) -> str:
        if cls.key not in present:
            return versions.get(cls.name, "not installed")
        t = present[cls.key]
        got = cell(s[cls.key][op], op)
        return got + (" (failed)" if t.failed and got == "—" else "")

    rows = [[OP_NAMES[op], *[value(cls, op) for cls in TOOLS]] for op in (*OPS, "store", "rss")]
    out += [common.markdown_table(header, rows), ""]
    out.append(
        "git-snapshot / peer (median of the per-round ratios; below 1 = git-snapshot ahead):\n"
    )
    peers = [cls for cls in TOOLS if cls is not GitSnapshot]
    ratio_rows = []
    for op in (*OPS, "store", "rss"):
        row = [OP_NAMES[op].rsplit(" (", 1)[0]]
        for cls in peers:
            r = per_round_ratio(s["gs"][op], s[cls.key][op]) if cls.key in present else None
            row.append(f"{r:.2f}x" if r is not None else "—")
        ratio_rows.append(row)
    out += [common.markdown_table(["git-snapshot / ...", *[c.name for c in peers]], ratio_rows), ""]
    out.append("Floors (seconds; a fresh process each, median / min / max):\n")
    frows = []
    names = dict(
        FLOORS,
        readchanged="read the files edited or added before the third snapshot",
        storechanged="read + sha256 + zstd-3 of those files, 1 process",
    )
    for key, label in names.items():
        v = s["floor"][key]
        if v:
            frows.append([label, f"{common.median(v):.3f}", f"{min(v):.3f}", f"{max(v):.3f}"])
    out += [common.markdown_table(["floor", "median", "min", "max"], frows), ""]
    out.append("Targets of issue 10 (git-snapshot):\n")
    out += [
        common.markdown_table(
            ["target", "measured", "limit", "result"], [t.row() for t in targets(tb)]
        ),
        "",
    ]
    out.append(
        "The 1% target applied to every tool (its 1% snapshot / (its own unchanged snapshot"
        " + the read of the changed files); seconds):\n"
    )
    head = ["tool", "unchanged", "1% edited + 10 new", "added", "ratio (limit 1.15x)"]
    out += [common.markdown_table(head, step_rows(tb)), ""]
    out.append("Spread (seconds: median / min / max over the rounds):\n")
    drows = []
    for t in tb.tools:
        for op in OPS:
            v = s[t.key][op]
            if v:
                drows.append(
                    [t.name, op, f"{common.median(v):.3f}", f"{min(v):.3f}", f"{max(v):.3f}"]
                )
    out += [common.markdown_table(["tool", "operation", "median", "min", "max"], drows), ""]
    out.append("Restore checks (every restore of every tool, against the tree it came from):\n")
    out += [f"- {c}" for c in tb.checks]
    out += [f"- {t.name} FAILED and was dropped: {t.failed}" for t in tb.tools if t.failed]
    out.append("")
    return out


def report(
    benches: list[TreeBench],
    versions: dict[str, str],
    argv: list[str],
    load_before: str,
    elapsed: float,
    base: str,
    partial: str = "",
) -> str:
    args = benches[0].args
    cmd = shlex.join([".venv/bin/python", "bench/peers.py", *argv])
    uname = os.uname()
    out = [
        "# Benchmarks: git-snapshot and its peers\n",
        "Written by `bench/peers.py`; regenerate with:\n",
        f"```sh\n{cmd}\n```\n",
        *([f"**Partial: the run stopped after {partial}.**\n"] if partial else []),
        f"- machine: {common.nproc()} CPUs available ({os.cpu_count()} online), "
        f"{common.cpu_model()}, {common.mem_total()} RAM, {uname.sysname} {uname.release}",
        f"- load average (1, 5, 15 min): {load_before} before, {common.load_average()} after; "
        "other work on the machine slows every column and widens the spread",
        f"- python: {common.python_version()}",
        f"- {common.speedups()}",
        f"- git-snapshot {common.package_version('git-snapshot')} "
        f"(zstandard {common.package_version('zstandard')})",
    ]
    out += [f"- {name}: {v}" for name, v in versions.items()]
    out += [
        f"- rounds: {args.rounds}; every figure is the median over the rounds; total run "
        f"{elapsed / 60:.1f} min",
        f"- trees, stores, repositories, caches and restore targets on "
        f"{common.fs_type(base)} ({os.path.dirname(base)})",
        "",
        "How it runs:",
        "",
        "- Each round gives every tool a fresh store, then runs phase by phase, every tool "
        "once per phase, the order rotated each round: first snapshot; unchanged snapshot "
        "(with the floors); then 1% of the files get a line appended and 10 new files are "
        "added, and each tool takes a third snapshot; store size; full restore into a new "
        "empty directory, compared entry by entry with the tree (bytes, type, symlink target, "
        "permission bits; git only keeps the executable bit).",
        "- The floors: each a fresh Python (or `find`, `git`) process, once per round; the walk, "
        "the floor of an unchanged snapshot, three times per round (before, among and after "
        "the other floors), its median taken: one run of it moved by 40 % between two runs of "
        "this benchmark while the snapshot did not. git-snapshot's unchanged snapshot too: "
        "once in the phase, then right after each of the walk's three runs, the median of the "
        "four taken (a split walk needs both cores; one run of it moved by 1.6x between "
        "two runs of this benchmark, all of it waiting for a core). Its 1% snapshot too: the "
        f"same fresh change also snapshotted into {STEP_COPIES} copies of its store as it was "
        "after the second snapshot (copied untimed, half run before the tools' and half "
        f"after), the median of the {STEP_COPIES + 1} taken; the store measured keeps exactly "
        "three snapshots.",
        "- Warmed before every timed command: the tree (every entry lstat()ed, every file "
        "read whole) and the tool's store or repository (read whole). After the tree changes "
        f"the run waits {RACY_NS / 1e9:g} s so no file is racy for a files cache.",
        "- git-snapshot: the `git snapshot --json` CLI in the repository (end to end, as a "
        "hook runs it: interpreter start, git calls), store in `GIT_SNAPSHOT_STORE` on tmpfs "
        "with `GIT_SNAPSHOT_ALLOW_EPHEMERAL=1`; restore `git snapshot restore ID --to DIR`.",
        f"- tar+zstd: `tar -I '{ZSTD}' --exclude=./.git -cf X.tar.zst -C TREE .`, a full "
        "archive each time; incremental: the same with `--listed-incremental=SNAR`, restore "
        "extracts every level in order.",
        "- restic: `restic backup --host bench --exclude TREE/.git .` (repository format 2, "
        "compression auto; restic always encrypts: a fixed `RESTIC_PASSWORD`), its cache in "
        "`RESTIC_CACHE_DIR` on tmpfs (not counted in the store size); `restic restore latest`.",
        "- borg: `borg init --encryption=none`; `borg create --compression lz4 --exclude "
        "./.git ::NAME .`; `borg extract`; its cache and security dirs in `BORG_BASE_DIR` "
        "(not counted).",
        "- shadow git index: `git --git-dir=SHADOW --work-tree=. add -A -f`, `write-tree`, "
        "`commit-tree`, `update-ref` (loose objects, zlib); restore `read-tree` into a "
        "separate index, then `checkout-index -a` into the empty directory.",
        "- Store size: allocated blocks (like `du`) of the store, archives or repository "
        "after the third snapshot. Peak RSS: the command's `ru_maxrss` (the largest of it "
        "and the children it waited for), highest over the round's commands; "
        + (
            "measured by `/usr/bin/time -f %M`."
            if os.access("/usr/bin/time", os.X_OK)
            else "from `os.wait4` (no /usr/bin/time: the figures include the ~30 MB of "
            "the harness's Python that the child was forked from)."
        ),
        "- Floors: a fresh `python -c` each (interpreter start included, like the CLI), top "
        "level `.git` skipped; 2 processes: fork, the files shared out by size.",
        "",
    ]
    for tb in benches:
        out += tree_report(tb, versions)
    return "\n".join(out)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--trees", default="S,M", help="which trees, from S, M, L (S,M)")
    p.add_argument("--rounds", type=int, default=5, help="rounds; medians are reported (5)")
    p.add_argument("--seed", type=int, default=1, help="seed of the trees and the edits (1)")
    p.add_argument("--out", default="docs/BENCHMARKS.md", help="the report (docs/BENCHMARKS.md)")
    p.add_argument("--quick", action="store_true", help="a tiny tree, 1 round (for the test)")
    p.add_argument(
        "--install-peers",
        action="store_true",
        help="apt-get install restic and borgbackup when missing (root only)",
    )
    p.add_argument(
        "--tools",
        help="only these tools, comma-separated names as in the tables (default: every one)",
    )
    args = common.parse_args(p, argv, ["rounds"])
    known = {cls.name for cls in TOOLS}
    args.tool_names = None
    if args.tools:
        args.tool_names = {t.strip() for t in args.tools.split(",") if t.strip()}
        args.tool_names.add(GitSnapshot.name)
        if not args.tool_names <= known:
            p.error(f"--tools: a comma-separated list of {', '.join(sorted(known))}")
    if args.quick:
        args.trees, args.rounds = "quick", 1
    names = [t.strip() for t in args.trees.split(",") if t.strip()]
    if not names or any(n not in trees.SIZES for n in names):
        p.error(f"--trees: a comma-separated list of {', '.join(k for k in trees.SIZES)}")
    args.tree_names = names
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    os.umask(0o022)
    start = time.perf_counter()
    load_before = common.load_average()
    with common.scratch_dir("gsnap-peers-", args.base_dir, args.keep) as base:
        env = make_env(base, args.quick)
        tools, versions = available_tools(args.install_peers, env)
        if args.tool_names is not None:
            for cls in tools:
                if cls.name not in args.tool_names:
                    versions[cls.name] = "not run (--tools)"
            tools = [cls for cls in tools if cls.name in args.tool_names]
        run = Runner(base)
        if not args.quick:  # the test only checks that everything runs
            log("warm-up ...")
            warm_up(base, env, run, tools)
        benches: list[TreeBench] = []

        def write(partial: str) -> None:
            elapsed = time.perf_counter() - start
            text = report(benches, versions, argv, load_before, elapsed, base, partial)
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
            text += kept_sections(args.out)
            with open(args.out, "w", encoding="utf-8") as f:
                f.write(text + "\n")

        for name in args.tree_names:
            tb = TreeBench(args, base, name, env, run)
            tb.generate(tools)
            benches.append(tb)
            for number in range(args.rounds):
                tb.round(number)
                if number + 1 < args.rounds or name != args.tree_names[-1]:
                    # an interrupted run still leaves what it measured
                    write(f"tree {name}: {number + 1} of {args.rounds} rounds")
            common.remove(tb.dir)
        write("")
    log(f"wrote {args.out}")
    if any(tb.bad for tb in benches):
        log("some restore did not match its tree: see the restore checks")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
