"""Helpers shared by the benchmarks: the test tree, timing, sizes, machine facts, tables, the
command line and the temporary directory.

Nothing here imports git_snapshot: the helpers must not change what is being measured.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from types import FrameType
from typing import cast

# The baseline: a plain recursive os.scandir walk that lstat()s every entry, as the archiver
# does. Kept as source text so the very same code runs in-process (exec) and in a fresh
# interpreter (python -c), which is what makes the two comparable with git-snapshot's.
WALK_SRC = """\
import os


def walk(path):
    n = 0
    with os.scandir(path) as it:
        for entry in it:
            entry.stat(follow_symlinks=False)
            n += 1
            if entry.is_dir(follow_symlinks=False):
                n += walk(entry.path)
    return n
"""
WALK_CHILD = WALK_SRC + "\nimport sys\nprint(walk(os.fsencode(sys.argv[1])))\n"


def load_walk() -> Callable[[bytes], int]:
    """The baseline walk as an in-process function (same source as the child runs)."""
    namespace: dict[str, object] = {}
    exec(compile(WALK_SRC, "<baseline walk>", "exec"), namespace)
    return cast("Callable[[bytes], int]", namespace["walk"])


# -- the test tree ---------------------------------------------------------------------------

_LETTERS = b"abcdefghijklmnopqrstuvwxyz"


@dataclass
class Tree:
    root: str
    files: list[bytes]  # absolute paths of the regular files
    dirs: int
    bytes: int
    max_depth: int


def make_tree(root: str, files: int, seed: int, max_size: int = 4096) -> Tree:
    """*files* small files (0..max_size bytes) in about files/20 nested directories.

    Deterministic for a given (files, seed). Contents look like text (words from a fixed
    vocabulary), so they compress the way source files do, and each starts with its own
    number so no two non-trivial files are the same (no free deduplication).
    """
    rng = random.Random(seed)
    broot = os.fsencode(root)
    os.makedirs(broot, exist_ok=True)
    ndirs = max(1, files // 20)
    dirs: list[bytes] = [broot]
    depth: list[int] = [0]
    for i in range(1, ndirs):
        while True:  # a random recursive tree, at most 8 levels deep
            parent = rng.randrange(len(dirs))
            if depth[parent] < 8:
                break
        d = dirs[parent] + b"/d%05d" % i
        os.mkdir(d)
        dirs.append(d)
        depth.append(depth[parent] + 1)
    vocabulary = [bytes(rng.choices(_LETTERS, k=rng.randint(2, 10))) for _ in range(2000)]
    pool = b" ".join(rng.choices(vocabulary, k=max(2000, 6 * max_size)))
    paths: list[bytes] = []
    total = 0
    for i in range(files):
        path = dirs[rng.randrange(ndirs)] + b"/f%06d.txt" % i
        size = rng.randint(0, max_size)
        start = rng.randrange(len(pool) - size)
        write_new(path, (b"%d\n" % i + pool[start : start + size])[:size])
        paths.append(path)
        total += size
    return Tree(root, paths, ndirs, total, max(depth))


def write_new(path: bytes, data: bytes) -> None:
    """Create the file *path*, which must not exist yet, holding *data* (mode 0644)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def modify_files(tree: Tree, fraction: float, seed: int, tag: str) -> int:
    """Append a line to a deterministic sample of the files (content, mtime and ctime change)."""
    rng = random.Random(seed)
    count = max(1, round(len(tree.files) * fraction))
    line = f"changed: {tag}\n".encode()
    for path in rng.sample(tree.files, count):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    return count


def count_files(root: str) -> int:
    """Regular files below *root* (to check a restore)."""
    n = 0
    with os.scandir(root) as it:
        for entry in it:
            if entry.is_dir(follow_symlinks=False):
                n += count_files(entry.path)
            elif entry.is_file(follow_symlinks=False):
                n += 1
    return n


# -- caches, sizes ---------------------------------------------------------------------------


def warm(paths: Iterable[str], read_limit: int = 0) -> None:
    """Bring *paths* into the dentry, inode and page caches right before a timed command.

    Every entry is lstat()ed; files up to *read_limit* bytes are also read whole (used for
    repositories, which a snapshot or restore reads; a tree's files are not read: a second
    snapshot must not need them, and on tmpfs they are in memory anyway).
    """
    for top in paths:
        if os.path.isdir(top):
            _warm_dir(top, read_limit)


def _warm_dir(path: str, read_limit: int) -> None:
    with os.scandir(path) as it:
        for entry in it:
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if entry.is_dir(follow_symlinks=False):
                _warm_dir(entry.path, read_limit)
            elif read_limit and st.st_size <= read_limit and entry.is_file(follow_symlinks=False):
                with open(entry.path, "rb") as f:
                    while f.read(1 << 20):
                        pass


def disk_usage(path: str) -> int:
    """Bytes on disk (allocated blocks) of everything below *path*, like ``du -s``."""
    if not os.path.exists(path):
        return 0
    st = os.lstat(path)
    total = st.st_blocks * 512
    if not os.path.isdir(path):
        return int(total)
    for dirpath, dirs, names in os.walk(path):
        for name in dirs + names:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return int(total)


def remove(path: str) -> None:
    """rm -rf (much faster than shutil.rmtree on 50,000 files)."""
    if not os.path.lexists(path):
        return
    if shutil.which("rm"):
        subprocess.run(["rm", "-rf", "--", path], check=False, stdin=subprocess.DEVNULL)
    shutil.rmtree(path, ignore_errors=True)


def fs_type(path: str) -> str:
    """File system type of the mount holding *path* (Linux), or '?'."""
    real = os.path.realpath(path)
    best, found = "", "?"
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split()
                if len(fields) < 3:
                    continue
                point = fields[1].replace("\\040", " ")
                inside = real == point or real.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= len(best):
                    best, found = point, fields[2]
    except OSError:
        pass
    return found


# -- running and timing ----------------------------------------------------------------------


class CommandFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Ran:
    seconds: float  # wall time
    out: str
    err: str


def run(cmd: Sequence[str], cwd: str | None = None, env: dict[str, str] | None = None) -> Ran:
    """Run *cmd*, its output captured, stdin from /dev/null; raises CommandFailed (with the
    tail of its output) if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(
        list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - start
    out = proc.stdout.decode(errors="replace")
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        where = f" (in {cwd})" if cwd else ""
        tail = (out + err).strip()[-2000:]
        raise CommandFailed(f"{shlex.join(cmd)}{where} exited {proc.returncode}: {tail}")
    return Ran(elapsed, out, err)


# A command run as its own session, its autogroup at nice -20 first (root only): on a machine
# others load, the scheduler then gives it a core as soon as it wants one, and walls repeat
# within ~10 % instead of doubling (STEP's method, bench/ab_one_percent.py).
AUTOGROUP = ("setsid", "sh", "-c", 'echo -20 > /proc/self/autogroup && exec "$@"', "sh")


def in_autogroup(cmd: Sequence[str], autogroup: bool = True) -> list[str]:
    """*cmd*, run in an autogroup of its own at nice -20 when *autogroup* (see AUTOGROUP)."""
    return [*AUTOGROUP, *cmd] if autogroup else list(cmd)


def settle(last_write: float, racy_ns: int) -> None:
    """Wait until no file written at *last_write* (time.time()) is 'racy' any more: the files
    cache does not trust a file changed less than *racy_ns* before a snapshot starts (nor do
    the peers quite, nor git's index, for a shorter time)."""
    wait = last_write + racy_ns / 1e9 + 0.1 - time.time()
    if wait > 0:
        time.sleep(wait)


def run_from_bytecode(env: dict[str, str], pycache: str) -> None:
    """Make the child interpreters started with *env* run from bytecode, as an installed
    package does, even where PYTHONDONTWRITEBYTECODE is set: compiling the modules anew in
    every child would charge git-snapshot for work a real install never does. The bytecode
    cache goes to *pycache* (on tmpfs, with the rest of the run)."""
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache


def tool_version(cmd: Sequence[str]) -> str:
    try:
        out = subprocess.run(
            list(cmd), capture_output=True, check=False, timeout=30, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    text = (out.stdout or out.stderr).decode(errors="replace").strip()
    return text.splitlines()[0] if text else "unknown"


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- machine facts and output ----------------------------------------------------------------


def log(msg: str) -> None:
    """Progress and warnings go to stderr: stdout holds the report alone."""
    print(msg, file=sys.stderr, flush=True)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def mem_total() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / (1 << 20):.1f} GiB"
    except (OSError, ValueError):
        pass
    return "?"


def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def python_version() -> str:
    return f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})"


def package_version(name: str) -> str:
    """The installed version of the distribution *name*, or '?'."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def speedups() -> str:
    """Whether this Python runs the C speedups (git_snapshot.store._ctree), as doctor says it:
    a report measured with the pure-Python twin says so on its first lines."""
    from git_snapshot.commands.doctor import speedups as said

    got = said()
    return f"C speedups: {got.why}" if got.native else f"C speedups: NOT IN USE, {got.why}"


# What a code's src (on PYTHONPATH) runs: an A/B of two codes must not measure C against the
# twin by accident (a `git archive` of a code with _ctree.c has no built module: see
# ab_one_percent.py's docstring for the line that builds it)
CODE_SPEEDUPS = """
try:
    from git_snapshot.store import ctree
except ImportError:
    print("none: this code predates them")
    raise SystemExit
try:
    from git_snapshot.commands.doctor import speedups
except ImportError:  # a code whose doctor did not say it yet
    print("in use" if ctree.NATIVE else "NOT IN USE: the pure-Python twin runs")
else:
    got = speedups()
    print(got.why if got.native else "NOT IN USE, " + got.why)
"""


def codes_speedups(envs: dict[str, dict[str, str]]) -> list[str]:
    """Per code (its environment: PYTHONPATH names its src), whether the C speedups run; and
    a warning line when one code runs them and another has them but runs its twin."""
    said = {}
    for code, env in envs.items():
        ran = subprocess.run(
            [sys.executable, "-c", CODE_SPEEDUPS],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        said[code] = ran.stdout.strip() or f"unknown: {ran.stderr.strip()[-300:]}"
    lines = [f"{code}: C speedups: {why}" for code, why in said.items()]
    whys = said.values()
    if any(w.startswith("in use") for w in whys) and any(w.startswith("NOT") for w in whys):
        lines.append("WARNING: one code runs the C speedups, another has them but runs its twin")
    return lines


def report_header(title: str, argv: Sequence[str], load_before: str) -> list[str]:
    """The lines a report starts with: its title, the command line, the machine, Python and
    the load average (*load_before*: load_average() when the run began)."""
    uname = os.uname()
    return [
        f"## {title}\n",
        f"- command: `{shlex.join(argv)}`",
        f"- machine: {nproc()} CPUs available ({os.cpu_count()} online), "
        f"{cpu_model()}, {mem_total()} RAM, {uname.sysname} {uname.release}",
        f"- python: {python_version()}",
        f"- {speedups()}",
        f"- load average (1, 5, 15 min): {load_before} before, "
        f"{load_average()} after (other work on the machine shows here)",
    ]


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(r) for r in rows]
    widths = [len(h) for h in header]
    for r in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, r)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    return "\n".join(lines)


# -- the command line and the temporary directory --------------------------------------------


def parse_args(
    p: argparse.ArgumentParser, argv: Sequence[str], at_least_one: Sequence[str]
) -> argparse.Namespace:
    """Add the options every benchmark has (--base-dir, --keep) to *p*, parse *argv*, and
    refuse (as argparse does: usage, exit status 2) any of the options *at_least_one* (dest
    names, like "files") below 1."""
    p.add_argument(
        "--base-dir",
        default="/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
        help="where the temporary directory goes; tmpfs recommended (/dev/shm)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = p.parse_args(argv)
    if at_least_one and min(getattr(args, name) for name in at_least_one) < 1:
        *first, last = [f"--{name}" for name in at_least_one]
        listed = f"{', '.join(first)} and {last}" if first else last
        p.error(f"{listed} must be at least 1")
    return args


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # so that scratch_dir's finally cleans up


@contextlib.contextmanager
def scratch_dir(prefix: str, parent: str, keep: bool) -> Iterator[str]:
    """A new temporary directory in *parent* for the whole run (warns when it is not on
    tmpfs); deleted on the way out, also on Ctrl-C or SIGTERM, unless *keep*."""
    signal.signal(signal.SIGTERM, _terminate)
    base = tempfile.mkdtemp(prefix=prefix, dir=parent)
    if fs_type(base) not in ("tmpfs", "ramfs"):
        log(f"warning: {base} is not on tmpfs; results will include disk I/O")
    try:
        yield base
    finally:
        if keep:
            log(f"kept {base}")
        else:
            remove(base)


def add_ab_arguments(ap: argparse.ArgumentParser, scratch: str, rounds: int, what: str) -> None:
    """The options an interleaved A/B of two codes' src takes (ab_first.py, ab_one_percent.py);
    *what*: the command each round runs, for --autogroup's help."""
    ap.add_argument("--new", help="the code to compare with it (default: this checkout's src)")
    ap.add_argument("--tree", default="/dev/shm/M", help="the tree to copy (bench/trees.py's M)")
    ap.add_argument("--dir", default=scratch, help="scratch (removed at the end)")
    ap.add_argument(
        "--tree-dir",
        help="where the tree's copy goes (default: --dir); L's on disk, its stores in --dir",
    )
    ap.add_argument("--rounds", type=int, default=rounds)
    ap.add_argument(
        "--autogroup", action="store_true", help=f"each {what} at autogroup nice -20 (root)"
    )
