"""The reliability campaign: each scenario of docs/RELIABILITY.md as a function that runs the
real command line in a sandbox (its own HOME, git config and store) and returns what it
measured. tests/test_reliability.py runs them with CI-sized counts and asserts that nothing
was lost; bench/reliability.py runs them with larger counts and writes docs/RELIABILITY.md.

Everything goes through the CLI (``python -m git_snapshot``) so the campaign keeps working
while the store's internals change; only the hostile records need the store API (Crafter).
"""

from __future__ import annotations

import importlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import AbstractContextManager
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from clihelpers import Ran
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import invariant
from hypothesis.stateful import precondition
from hypothesis.stateful import rule
from hypothesis.stateful import run_state_machine_as_test
from storehelpers import Seen
from storehelpers import diff
from storehelpers import scan

CLI = (sys.executable, "-m", "git_snapshot")
# the syscalls that change something on disk (openat counts only when it may create or write)
WRITE_SYSCALLS = (
    "write",
    "pwrite64",
    "rename",
    "renameat",
    "renameat2",
    "unlink",
    "unlinkat",
    "fsync",
    "fdatasync",
    "ftruncate",
    "mkdir",
    "openat",
)
TEMP_MARK = b".gsnap-"  # the tool's own temp files (worktree and store)
Tree = dict[bytes, Seen]


# -- the sandbox ---------------------------------------------------------------------------------


class Sandbox:
    """A HOME, a git config and a store of its own; runs the CLI and git there."""

    def __init__(self, root: Path, store: Path | None = None) -> None:
        self.root = root
        self.store = store if store is not None else root / "store"
        home = root / "home"
        home.mkdir(parents=True, exist_ok=True)
        gitconfig = home / ".gitconfig"
        gitconfig.write_text(
            "[user]\n\tname = Test\n\temail = test@example.invalid\n"
            "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
            "[maintenance]\n\tauto = false\n"  # (as tests/conftest.py's)
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            HOME=str(home),
            XDG_DATA_HOME=str(home / "data"),
            XDG_CACHE_HOME=str(home / "cache"),
            GIT_SNAPSHOT_STORE=str(self.store),
            GIT_SNAPSHOT_ALLOW_EPHEMERAL="1",  # the sandbox may live on a tmpfs
            GIT_CONFIG_GLOBAL=str(gitconfig),
            GIT_CONFIG_NOSYSTEM="1",
        )
        self.env = env
        self.commands = 0
        self._n = 0

    def run(self, cwd: Path, *args: str, prefix: Sequence[str] = (), timeout: float = 300) -> Ran:
        """Run the CLI (behind *prefix*, e.g. strace) in *cwd*; never raises on failure."""
        self.commands += 1
        res = subprocess.run(
            [*prefix, *CLI, *args],
            cwd=cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        return Ran(
            res.returncode,
            res.stdout.decode("utf-8", "surrogateescape"),
            res.stderr.decode("utf-8", "surrogateescape"),
        )

    def git(self, cwd: Path, *args: str) -> str:
        res = subprocess.run(
            ["git", *args], cwd=cwd, env=self.env, capture_output=True, text=True, check=False
        )
        if res.returncode != 0:
            raise AssertionError(f"git {' '.join(args)}: {res.stderr}")
        return res.stdout

    def new_repo(self, name: str, files: int = 20, seed: int = 0) -> Path:
        """A repository with *files* files (some committed, some not) and one commit."""
        path = self.root / name
        path.mkdir(parents=True)
        self.git(path, "init", "-q")
        populate(path, random.Random(seed), files)
        self.git(path, "add", "-A")
        self.git(path, "commit", "-q", "-m", "init")
        (path / "untracked.txt").write_bytes(b"not in git\n")
        (path / ".gitignore").write_bytes(b"*.log\n")
        (path / "ignored.log").write_bytes(b"ignored by git, kept by us\n")
        return path

    def fresh_dir(self, label: str) -> Path:
        self._n += 1
        path = self.root / "out" / f"{label}-{self._n}"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    # -- reading the store through the CLI --

    def listed(self, cwd: Path) -> list[int] | None:
        ran = self.run(cwd, "list", "--json")
        if ran.rc != 0:
            return None
        return [int(s["id"]) for s in json.loads(ran.out or "[]")]

    def create(self, cwd: Path) -> int | None:
        ran = self.run(cwd, "create", "--json")
        return int(json.loads(ran.out)["id"]) if ran.rc == 0 else None

    def restore_to(self, cwd: Path, sid: int, *paths: str) -> tuple[Ran, Path]:
        target = self.fresh_dir(f"r{sid}")
        return self.run(cwd, "restore", str(sid), "--to", str(target), *paths), target


def populate(root: Path, rnd: random.Random, files: int) -> None:
    """Files of assorted sizes in nested dirs, an executable, a symlink, an empty dir."""
    for i in range(files):
        d = root / f"d{i % 4}" / (f"e{i % 3}" if i % 2 else "")
        d.mkdir(parents=True, exist_ok=True)
        size = rnd.choice([0, 10, 300, 5000, 40000])
        (d / f"f{i}.txt").write_bytes(rnd.randbytes(size))
    (root / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    (root / "link").symlink_to("d0/f0.txt")
    (root / "empty").mkdir()


def churn(root: Path, rnd: random.Random, tag: str) -> None:
    """Edit, add and delete a few files (never inside .git)."""
    files = sorted(p for p in root.rglob("*.txt") if ".git" not in p.parts and p.is_file())
    for p in rnd.sample(files, max(1, len(files) // 3)):
        p.write_bytes(rnd.randbytes(rnd.choice([1, 200, 9000])))
    if len(files) > 3:
        files[rnd.randrange(len(files))].unlink(missing_ok=True)
    (root / f"new-{tag}.txt").write_bytes(rnd.randbytes(3000) + tag.encode())


def worktree_tree(root: Path) -> Tree:
    """What a snapshot of *root* must hold: everything but .git and the tool's temp files."""
    return {
        k: v
        for k, v in scan(root).items()
        if k != b".git" and not k.startswith(b".git/") and TEMP_MARK not in k
    }


def leftovers(root: Path) -> list[bytes]:
    """The tool's temp files left in a worktree (outside .git)."""
    return [k for k in scan(root, mtimes=False) if TEMP_MARK in k and not k.startswith(b".git/")]


def crashed(ran: Ran) -> bool:
    return "Traceback" in ran.err or "internal error" in ran.err or ran.rc < 0


def one_line(ran: Ran) -> str:
    lines = (ran.err + ran.out).strip().splitlines()
    return lines[-1][:160] if lines else "(nothing)"


def repair_available(sb: Sandbox) -> bool:
    return sb.run(sb.root, "repair", "--help").rc == 0


@dataclass
class Checks:
    """A running tally: each check counts; a failed one keeps a line saying what went wrong."""

    count: int = 0
    lost: int = 0
    problems: list[str] = field(default_factory=list)

    def expect(self, ok: bool, what: str) -> bool:
        self.count += 1
        if not ok:
            self.problems.append(what)
        return ok

    def exact(
        self, sb: Sandbox, cwd: Path, sid: int, tree: Tree, label: str, lose: bool = True
    ) -> bool:
        """Snapshot *sid* restores (into a fresh dir) to exactly *tree*; counts a loss if not
        (when *lose*: a snapshot taken only to check a round trip held nobody's data)."""
        ran, target = sb.restore_to(cwd, sid)
        got = scan(target) if target.exists() else {}
        shutil.rmtree(target, ignore_errors=True)
        bad = diff(tree, got)
        ok = self.expect(
            ran.rc == 0 and not bad,
            f"{label}: snapshot {sid} rc={ran.rc} {one_line(ran)} {bad[:3]}",
        )
        if not ok and lose:
            self.lost += 1
        return ok

    def clean_verify(self, sb: Sandbox, cwd: Path, label: str) -> None:
        ran = sb.run(cwd, "verify", "--read-data")
        self.expect(ran.rc == 0 and not crashed(ran), f"{label}: verify: {one_line(ran)}")

    def round_trip(self, sb: Sandbox, cwd: Path, label: str) -> None:
        """A new snapshot of *cwd* restores exactly; no temp file of ours is left in it."""
        tree = worktree_tree(cwd)
        sid = sb.create(cwd)
        if self.expect(sid is not None, f"{label}: the next snapshot failed"):
            assert sid is not None
            self.exact(sb, cwd, sid, tree, f"{label}: next snapshot", lose=False)
        self.expect(not leftovers(cwd), f"{label}: temp files left in worktree {leftovers(cwd)}")


@dataclass
class Result:
    """One scenario's figures, checks and problems (a row of docs/RELIABILITY.md)."""

    name: str
    how: str
    figures: str
    checks: Checks
    details: list[str] = field(default_factory=list)  # markdown lines for the per-kind part
    skipped: str = ""  # why the scenario could not run here

    @property
    def ok(self) -> bool:
        return not self.checks.problems and self.checks.lost == 0


# -- 1. SIGKILL at every write syscall ------------------------------------------------------------

KILLED = (-9, 128 + 9)


@dataclass
class KillSetup:
    cwd: Path
    argv: list[str]
    expected: dict[int, Tree]  # snapshots before the command, and what each holds
    required: set[int]  # must still be listed afterwards
    pending: Tree | None  # what a snapshot the command itself takes must hold


def _setup_kill(sb: Sandbox, command: str) -> KillSetup:
    rnd = random.Random(7)
    repo = sb.new_repo("repo", files=24, seed=7)
    expected: dict[int, Tree] = {}
    rounds = 4 if command == "prune" else 2
    for r in range(rounds):
        tree = worktree_tree(repo)
        sid = sb.create(repo)
        assert sid is not None, "setup snapshot failed"
        expected[sid] = tree
        churn(repo, rnd, f"setup{r}")
    if command == "snapshot":
        return KillSetup(repo, ["create"], expected, set(expected), worktree_tree(repo))
    if command == "restore":  # in place: a pre-restore snapshot first, then the files
        return KillSetup(repo, ["restore", "1"], expected, set(expected), worktree_tree(repo))
    if command == "prune":
        return KillSetup(repo, ["prune", "--keep-last", "1"], expected, {max(expected)}, None)
    for name in os.listdir(sb.store):  # repair rebuilds a lost index from the packs
        if name.startswith("index.sqlite"):
            os.unlink(sb.store / name)
    return KillSetup(repo, ["repair"], expected, set(expected), None)


def write_points(trace: str) -> list[tuple[str, int]]:
    """(syscall, n-th call of that syscall) for each call in an strace log that may write."""
    seen: dict[str, int] = {}
    points = []
    for line in trace.splitlines():
        m = re.match(r"(\w+)\(", line)
        if not m:
            continue
        name = m.group(1)
        seen[name] = seen.get(name, 0) + 1
        if name == "openat" and "O_RDONLY" in line and "O_CREAT" not in line:
            continue  # a read-only open writes nothing: a kill there equals one just before
        points.append((name, seen[name]))
    return points


def sample(items: Sequence[tuple[str, int]], most: int | None) -> list[tuple[str, int]]:
    """*most* items spread evenly over *items* (all of them when *most* is None or larger)."""
    if most is None or len(items) <= most:
        return list(items)
    if most <= 1:
        return [items[len(items) // 2]]
    return [items[round(i * (len(items) - 1) / (most - 1))] for i in range(most)]


def strace_prefix(log: Path, syscall: str | None = None, nth: int = 0) -> list[str]:
    """strace on the main thread only (no -f): the store is written by the CLI's own process,
    and following git children would kill them instead (their calls count separately)."""
    if syscall is None:
        return ["strace", "-qq", "-o", str(log), "-e", "trace=" + ",".join(WRITE_SYSCALLS)]
    return [
        *("strace", "-qq", "-o", str(log), "-e", f"trace={syscall}"),
        *("-e", f"inject={syscall}:signal=KILL:when={nth}"),
    ]


def kill_campaign(base: Path, command: str, most: int | None) -> Result:
    """Kill *command* at each (or *most* evenly sampled) of its write syscalls; after each,
    check every earlier snapshot, the killed one (whole or absent), verify, and a round trip."""
    verb = "create" if command == "snapshot" else command
    how = f"`strace -e inject=SYSCALL:signal=KILL:when=N` on `git snapshot {verb}`"
    sb = Sandbox(base / command)
    checks = Checks()
    if command == "repair" and not repair_available(sb):
        return Result(command, how, "not yet available", checks, skipped="not yet available")
    setup = _setup_kill(sb, command)
    template = sb.root / "template"
    shutil.copytree(setup.cwd, template / "repo", symlinks=True)
    shutil.copytree(sb.store, template / "store", symlinks=True)

    def reset() -> None:
        for what in ("repo", "store"):
            shutil.rmtree(sb.root / what)
            shutil.copytree(template / what, sb.root / what, symlinks=True)

    log = sb.root / "trace"
    ran = sb.run(setup.cwd, *setup.argv, prefix=strace_prefix(log))
    checks.expect(ran.rc == 0, f"{command} under strace failed: {one_line(ran)}")
    points = write_points(log.read_text())
    chosen = sample(points, most)
    kills = 0
    for syscall, nth in chosen:
        reset()
        where = f"{command} killed at {syscall} #{nth}"
        ran = sb.run(setup.cwd, *setup.argv, prefix=strace_prefix(log, syscall, nth))
        if ran.rc in KILLED:
            kills += 1
        else:
            checks.expect(ran.rc == 0 and not crashed(ran), f"{where}: not killed: {one_line(ran)}")
        _after_kill(sb, setup, command, where, checks)
    figures = (
        f"{kills} kills x {len(chosen)} of {len(points)} write syscalls"
        f"{' (every one)' if len(chosen) == len(points) else ' (evenly sampled)'}"
    )
    return Result(command, how, figures, checks)


def _after_kill(sb: Sandbox, setup: KillSetup, command: str, where: str, checks: Checks) -> None:
    cwd = setup.cwd
    if command == "repair":
        ran = sb.run(cwd, "repair")
        checks.expect(ran.rc == 0, f"{where}: repair again: {one_line(ran)}")
    ids = sb.listed(cwd)
    if not checks.expect(ids is not None, f"{where}: list failed"):
        checks.lost += len(setup.required)
        return
    assert ids is not None
    for sid in sorted(setup.required - set(ids)):
        checks.expect(False, f"{where}: snapshot {sid} is no longer listed")
        checks.lost += 1
    new = [i for i in ids if i not in setup.expected]
    checks.expect(len(new) <= (1 if setup.pending is not None else 0), f"{where}: unexpected {new}")
    for sid in ids:
        tree = setup.expected.get(sid, setup.pending)
        if tree is not None:
            checks.exact(sb, cwd, sid, tree, where)
    checks.clean_verify(sb, cwd, where)
    checks.round_trip(sb, cwd, where)


# -- 2. eight processes over linked worktrees, with a prune loop ----------------------------------


def concurrency(base: Path, procs: int, rounds: int) -> Result:
    sb = Sandbox(base / "concurrency")
    checks = Checks()
    main = sb.new_repo("main", files=10, seed=3)
    trees = [main] + [sb.root / f"wt{i}" for i in range(1, procs)]
    for wt in trees[1:]:
        sb.git(main, "worktree", "add", "-q", "--detach", str(wt))
    taken: dict[int, tuple[Path, Tree]] = {}
    failed: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    prunes = [0]
    keep = procs * rounds // 2  # prune forgets about half of what the processes take

    def snapshots(i: int, wt: Path) -> None:
        rnd = random.Random(i)
        for r in range(rounds):
            (wt / "counter").write_bytes(f"{i} {r}\n".encode())
            (wt / f"w{i}-{r}.bin").write_bytes(rnd.randbytes(rnd.choice([10, 5000, 70000])))
            tree = worktree_tree(wt)
            ran = sb.run(wt, "create", "--json")
            with lock:
                if ran.rc != 0:
                    failed.append(f"create in {wt.name}: {one_line(ran)}")
                    continue
                sid = int(json.loads(ran.out)["id"])
                if sid in taken:
                    failed.append(f"id {sid} given twice")
                taken[sid] = (wt, tree)

    def prune_loop() -> None:
        while not stop.is_set() or prunes[0] < 2:
            ran = sb.run(main, "prune", "--keep-last", str(keep))
            prunes[0] += 1
            if ran.rc != 0:
                with lock:
                    failed.append(f"prune: {one_line(ran)}")

    workers = [threading.Thread(target=snapshots, args=(i, wt)) for i, wt in enumerate(trees)]
    pruner = threading.Thread(target=prune_loop)
    pruner.start()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    pruner.join()
    for f in failed:
        checks.expect(False, f)
    checks.count += procs * rounds + prunes[0] - len(failed)
    listed = 0
    for wt in trees:
        ids = sb.listed(wt) or []
        listed += len(ids)
        for sid in ids:
            if checks.expect(sid in taken and taken[sid][0] == wt, f"{wt.name}: unknown {sid}"):
                checks.exact(sb, wt, sid, taken[sid][1], f"{wt.name}")
    checks.clean_verify(sb, main, "after the concurrent run")
    figures = (
        f"{procs} processes x {rounds} snapshots ({len(taken)} taken) over {procs} worktrees, "
        f"{prunes[0]} concurrent prunes, {len(failed)} failed commands, "
        f"{listed} kept snapshots restored"
    )
    how = "threads each running `git snapshot create` in its own `git worktree add` worktree"
    how += "; `prune --keep-last N/2` in a loop meanwhile"
    return Result("concurrency", how, figures, checks)


# -- 3. damage of every kind ----------------------------------------------------------------------

DAMAGE_KINDS = (
    "flip a byte in a pack",
    "truncate a pack",
    "delete a pack",
    "delete index.sqlite",
    "garble index.sqlite",
    "older index.sqlite, newer files cache",
    "delete a cache file",
    "a directory in tmp/",
)


@dataclass
class DamageOutcome:
    kind: str
    said: str  # what verify said (its last line)
    checks: Checks
    notes: list[str] = field(default_factory=list)


def _packs(store: Path) -> list[Path]:
    return sorted((store / "packs").glob("*.pack"), key=lambda p: (p.stat().st_mtime_ns, p.name))


def damage(base: Path, kind: str) -> DamageOutcome:
    """Two snapshots (the second adding files in packs of its own), then *kind* of damage."""
    sb = Sandbox(base / re.sub(r"\W+", "-", kind))
    checks = Checks()
    repo = sb.new_repo("repo", files=12, seed=11)
    first = worktree_tree(repo)
    s1 = sb.create(repo)
    old_index = sb.root / "index-after-1"
    shutil.copy2(sb.store / "index.sqlite", old_index)
    added = [f"added{i}.bin" for i in range(4)]
    for name in added:
        (repo / name).write_bytes(random.Random(name).randbytes(20000))
    second = worktree_tree(repo)
    s2 = sb.create(repo)
    assert s1 is not None and s2 is not None, "setup snapshots failed"
    before = _packs(sb.store)
    newest = before[-1]
    index_kind = "index" in kind
    if kind == "flip a byte in a pack":
        data = bytearray(newest.read_bytes())
        data[len(data) // 2] ^= 0x55
        newest.write_bytes(bytes(data))
    elif kind == "truncate a pack":
        os.truncate(newest, newest.stat().st_size // 2)
    elif kind == "delete a pack":
        newest.unlink()
    elif kind == "delete index.sqlite":
        for name in os.listdir(sb.store):
            if name.startswith("index.sqlite"):
                os.unlink(sb.store / name)
    elif kind == "garble index.sqlite":
        with open(sb.store / "index.sqlite", "r+b") as f:
            f.write(random.Random(1).randbytes(4096))
    elif kind == "older index.sqlite, newer files cache":
        (repo / "added0.bin").unlink()  # a third snapshot that reuses what the cache names
        shutil.copy2(old_index, sb.store / "index.sqlite")
    elif kind == "delete a cache file":
        for p in (sb.store / "cache").iterdir():
            p.unlink()
    elif kind == "a directory in tmp/":
        (sb.store / "tmp" / "left-by-a-killed-hook").mkdir()
        (sb.store / "tmp" / "left-by-a-killed-hook" / "x").write_bytes(b"x")
    else:
        raise ValueError(kind)
    out = DamageOutcome(kind, "", checks)
    pack_kind = "pack" in kind
    harmless = kind in ("delete a cache file", "a directory in tmp/")

    ran = sb.run(repo, "verify", "--read-data")
    out.said = one_line(ran)
    checks.expect(not crashed(ran), f"{kind}: verify crashed: {one_line(ran)}")
    if harmless or kind == "older index.sqlite, newer files cache":  # self-consistent
        checks.expect(ran.rc == 0, f"{kind}: verify: {out.said}")
    else:
        checks.expect(ran.rc == 1, f"{kind}: verify exited {ran.rc}: {out.said}")
    if pack_kind:  # the damaged files, or the pack (when it held the trees: "." and below)
        named = [n for n in [*added, newest.name] if n in ran.out + ran.err]
        checks.expect(bool(named), f"{kind}: verify names neither {added} nor the pack")
    if kind in ("delete index.sqlite", "garble index.sqlite"):  # never taken for empty
        for argv in (["list"], ["verify"], ["prune", "--keep-last", "1"]):
            ran = sb.run(repo, *argv)
            checks.expect(
                ran.rc == 1 and "repair" in ran.err and not crashed(ran),
                f"{kind}: `{' '.join(argv)}` exited {ran.rc}, must name repair: {one_line(ran)}",
            )
    if index_kind:
        ran = sb.run(repo, "prune", "--keep-last", "1")
        gone = [p.name for p in before if not p.exists()]
        checks.expect(not gone, f"{kind}: prune deleted packs {gone}: {one_line(ran)}")
    if repair_available(sb) and not harmless:
        ran = sb.run(repo, "repair")
        out.notes.append(f"repair: rc {ran.rc}, {one_line(ran)}")
        checks.expect(ran.rc in (0, 1) and not crashed(ran), f"{kind}: repair: {one_line(ran)}")
    elif not harmless:
        out.notes.append("repair: not yet available")
    # intact data: the first snapshot never touched the damaged pack
    checks.exact(sb, repo, s1, first, f"{kind}: intact snapshot")
    if kind == "flip a byte in a pack":  # a file's data: the rest is written, exit 1
        ran, target = sb.restore_to(repo, s2)
        got = scan(target) if target.exists() else {}
        named = [n for n in added if n in ran.out + ran.err]
        rest = {k: v for k, v in second.items() if k.decode() not in named}
        gotrest = {k: v for k, v in got.items() if k.decode() not in named}
        checks.expect(
            ran.rc == 1 and bool(named) and not crashed(ran),
            f"{kind}: restore of the damaged snapshot rc={ran.rc}, named {named}: {one_line(ran)}",
        )
        checks.expect(not diff(rest, gotrest), f"{kind}: intact files not all restored")
    elif pack_kind:  # the trees were in that pack: a clear refusal
        ran, _ = sb.restore_to(repo, s2)
        checks.expect(ran.rc == 1 and not crashed(ran), f"{kind}: restore: {one_line(ran)}")
    elif not harmless:
        checks.exact(sb, repo, s2, second, f"{kind}: after repair")
    checks.round_trip(sb, repo, kind)  # the next snapshot heals: it stores the content afresh
    checks.clean_verify(sb, repo, f"{kind}: after the next snapshot")
    return out


def damage_all(base: Path) -> tuple[Result, list[DamageOutcome]]:
    outcomes = [damage(base, kind) for kind in DAMAGE_KINDS]
    total = Checks()
    details = ["| damage | verify said | then | checks | problems |", "|---|---|---|---|---|"]
    for o in outcomes:
        total.count += o.checks.count
        total.lost += o.checks.lost
        total.problems += o.checks.problems
        notes = "; ".join(o.notes) or "-"
        problems = "<br>".join(_md(p) for p in o.checks.problems) or "none"
        details.append(
            f"| {o.kind} | {_md(o.said)} | {_md(notes)} | {o.checks.count} | {problems} |"
        )
    how = "seeded damage to a store with two snapshots; verify, repair, restore, next snapshot"
    figures = f"{len(outcomes)} damage kinds, {total.count} checks"
    return Result("damage", how, figures, total, details), outcomes


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- 4. hostile records ---------------------------------------------------------------------------

HOSTILE_CASES = (
    "name ..",
    "name .",
    "name with /",
    "empty name",
    "name with NUL",
    ".git/hooks/x",
    "top-level .git file",
    "symlink escape then dir",
    "symlink named .git",
    "huge size",
    "duplicate names",
)


def hostile(base: Path) -> Result:
    """Crafted trees restored in place, with --to, and exported: refused or skipped, nothing
    written outside the target or into .git."""
    from storehelpers import Crafter

    from git_snapshot.store import Store
    from git_snapshot.store.objects import FILE
    from git_snapshot.store.objects import Entry

    sb = Sandbox(base / "hostile")
    checks = Checks()
    repo = sb.new_repo("repo", files=4, seed=5)
    outside = sb.root / "outside"
    outside.mkdir()
    (outside / "sentinel").write_bytes(b"keep me")
    assert sb.create(repo) is not None
    source = json.loads(sb.run(repo, "list", "--json").out)[0]["repo"]
    evil_hook = b"#!/bin/sh\ntouch " + os.fsencode(outside) + b"/pwned\n"
    planted: dict[str, int] = {}
    with Store(sb.store) as store:
        c = Crafter(store)
        fine = c.file(b"zz-fine", b"fine")

        def plant(case: str, entries: list[Entry]) -> None:
            planted[case] = c.commit(source, entries).id

        plant("name ..", [c.file(b"..", b"evil"), fine])
        plant("name .", [c.file(b".", b"evil"), fine])
        plant("name with /", [c.file(b"../outside/sentinel", b"evil"), fine])
        plant("empty name", [c.file(b"", b"evil"), fine])
        plant("name with NUL", [c.file(b"x\0y", b"evil"), fine])
        plant(".git/hooks/x", [c.dir(b".git", [c.dir(b"hooks", [c.file(b"x", evil_hook, 0o755)])])])
        plant("top-level .git file", [c.file(b".git", b"gitdir: " + os.fsencode(outside)), fine])
        plant(
            "symlink escape then dir",
            [c.link(b"a", os.fsencode(outside)), c.dir(b"a", [c.file(b"sentinel", b"evil")])],
        )
        plant(
            "symlink named .git",
            [c.link(b"a", os.fsencode(outside)), c.file(b"a/sentinel", b"evil")],
        )
        huge = Entry(b"huge", FILE, 0o644, 10**18, 1 << 62, c.blob(b"small"))
        plant("huge size", [huge, fine])
        plant("duplicate names", [c.file(b"a", b"1"), c.file(b"a", b"2")])
    git_before = scan(repo / ".git", mtimes=False)
    for case in HOSTILE_CASES:
        sid = str(planted[case])
        arena = sb.fresh_dir("arena")
        arena.mkdir()
        target = arena / "target"
        ran = sb.run(repo, "restore", sid, "--to", str(target))
        checks.expect(
            ran.rc in (0, 1) and not crashed(ran), f"{case}: restore --to: {one_line(ran)}"
        )
        written = scan(arena, mtimes=False)
        bad = [k for k in written if not k.startswith(b"target") or b"/.git" in k]
        checks.expect(not bad, f"{case}: restore --to wrote {bad[:3]}")
        ran = sb.run(repo, "restore", sid)  # in place: must never write into .git
        checks.expect(ran.rc in (0, 1) and not crashed(ran), f"{case}: restore: {one_line(ran)}")
        tar = arena / "out.tar"
        ran = sb.run(repo, "export", sid, str(tar))
        checks.expect(ran.rc in (0, 1) and not crashed(ran), f"{case}: export: {one_line(ran)}")
        if ran.rc == 0:
            with tarfile.open(tar) as t:
                names = t.getnames()
            unsafe = [n for n in names if _unsafe_member(n)]
            checks.expect(not unsafe, f"{case}: export holds {unsafe}")
        checks.expect(
            (outside / "sentinel").read_bytes() == b"keep me" and not (outside / "pwned").exists(),
            f"{case}: something outside was written",
        )
        checks.expect(
            sorted(os.listdir(outside)) == ["sentinel"], f"{case}: outside holds new files"
        )
    git_after = scan(repo / ".git", mtimes=False)
    hooks = [k for k in git_after if k.startswith(b"hooks/") and k not in git_before]
    checks.expect(not hooks, f"something was planted in .git: {hooks}")
    checks.expect(git_after.get(b"hooks/x") is None, "a hook was planted in .git/hooks")
    how = "records crafted with tests/storehelpers.py Crafter; `restore --to`, `restore`, `export`"
    figures = f"{len(HOSTILE_CASES)} hostile records x 3 commands, {checks.count} checks"
    return Result("hostile records", how, figures, checks)


def _unsafe_member(name: str) -> bool:
    parts = name.split("/")
    return name.startswith("/") or ".." in parts or ".git" in parts or "\0" in name


# -- 6. full disk ---------------------------------------------------------------------------------


def loop_mount_problem() -> str:
    """Why a loop-mounted file system cannot be had here ('' when it can)."""
    if os.geteuid() != 0:
        return "not root: cannot loop-mount a small file system"
    for tool in ("mkfs.ext4", "mount", "umount"):
        if shutil.which(tool) is None:
            return f"{tool} is missing"
    return ""


@contextmanager
def small_fs(where: Path, size_mib: int = 24) -> Iterator[Path]:
    """A loop-mounted ext4 file system of *mib* MiB at *where*/mnt (root only)."""
    image, mnt = where / "disk.img", where / "mnt"
    mnt.mkdir(parents=True)
    with open(image, "wb") as f:
        f.truncate(size_mib << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mnt)], check=True, capture_output=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False, capture_output=True)
        image.unlink(missing_ok=True)


def fill(mnt: Path) -> Path:
    """Fill *mnt* to 100 % (as root: the reserved blocks too). Returns the filler."""
    filler = mnt / "filler"
    chunk = b"\0" * (1 << 20)
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    f.write(chunk[:size])
            except OSError:
                pass
    k = 0
    try:  # and the inodes
        while True:
            (mnt / f"i{k}").touch()
            k += 1
    except OSError:
        pass
    return filler


def full_disk(base: Path) -> Result:
    how = "store on a loop-mounted ext4 image filled to 100 %; worktree and restores elsewhere"
    checks = Checks()
    problem = loop_mount_problem()
    if problem:
        return Result("full disk", how, "skipped", checks, skipped=problem)
    base.mkdir(parents=True, exist_ok=True)
    said: list[str] = []
    try:
        fill_fs: Callable[[Path], Path] = fill
        mount_fs: Callable[[Path], AbstractContextManager[Path]] = small_fs
        try:  # tests/fullfs.py (the full-disk tests' helper) when it is there
            fullfs = importlib.import_module("fullfs")
            fill_fs, mount_fs = fullfs.fill, fullfs.small_fs
        except ImportError:
            pass
        with mount_fs(base) as mnt:
            _full_disk_checks(base, mnt, fill_fs, checks, said)
    except subprocess.CalledProcessError as e:
        err = e.stderr.decode(errors="replace").strip().splitlines()
        return Result("full disk", how, "skipped", checks, skipped=f"mount: {err[-1:]}")
    except BaseException as e:  # fullfs skips (pytest's Skipped) where it cannot mount
        if type(e).__name__ != "Skipped":
            raise
        return Result("full disk", how, "skipped", checks, skipped=str(e))
    figures = f"{checks.count} checks: snapshot, list, show, diff, verify, restore, export, prune"
    return Result("full disk", how, figures, checks, details=said)


def _full_disk_checks(
    base: Path, mnt: Path, fill_fs: Callable[[Path], Path], checks: Checks, said: list[str]
) -> None:
    sb = Sandbox(base / "fullsb", store=mnt / "store")
    repo = sb.new_repo("repo", files=10, seed=13)
    first = worktree_tree(repo)
    s1 = sb.create(repo)
    assert s1 is not None, "setup snapshot failed"
    churn(repo, random.Random(2), "second")
    second = worktree_tree(repo)
    s2 = sb.create(repo)
    assert s2 is not None, "setup snapshot failed"
    filler = fill_fs(mnt)
    (repo / "new-on-full-disk.bin").write_bytes(os.urandom(1 << 20))
    ran = sb.run(repo, "create")
    lines = [ln for ln in ran.err.splitlines() if ln.strip()]
    checks.expect(
        ran.rc == 1 and len(lines) == 1 and not crashed(ran),
        f"snapshot on a full disk: rc={ran.rc}, {len(lines)} lines: {one_line(ran)}",
    )
    said.append(f"- `create` on the full disk (exit {ran.rc}): {one_line(ran)}")
    for argv in (
        ["list"],
        ["show", str(s1)],
        ["diff", str(s1)],
        ["verify", "--read-data"],
        ["restore", str(s1), "--to", str(sb.fresh_dir("full"))],
        ["export", str(s1), str(sb.fresh_dir("full")) + ".tar"],
    ):
        ran = sb.run(repo, *argv)
        checks.expect(
            ran.rc == 0 and not crashed(ran), f"`{argv[0]}` on a full disk: {one_line(ran)}"
        )
    checks.exact(sb, repo, s1, first, "on a full disk")
    # prune frees what it can; with not one block free it cannot even record what it forgets:
    # then one line naming the disk, and the store stays intact
    ran = sb.run(repo, "prune", "--keep-last", "1")
    lines = [ln for ln in ran.err.splitlines() if ln.strip()]
    checks.expect(
        (ran.rc == 0 or (ran.rc == 1 and len(lines) == 1)) and not crashed(ran),
        f"prune on a full disk: {one_line(ran)}",
    )
    said.append(f"- `prune --keep-last 1` on the full disk (exit {ran.rc}): {one_line(ran)}")
    filler.unlink()
    for p in mnt.glob("i*"):
        p.unlink()
    checks.exact(sb, repo, s2, second, "after the disk was freed")
    checks.clean_verify(sb, repo, "after the disk was freed")
    checks.round_trip(sb, repo, "after the disk was freed")


# -- 5. a stateful model: snapshot, modify, damage, repair, prune, restore, kill ------------------


def named_paths(ran: Ran, tree: Tree) -> set[bytes]:
    """The paths of *tree* that a command's output names (as a whole word, e.g. 'PATH:'); all
    of them when it names the snapshot's root ('DAMAGED .:', its top folder unreadable)."""
    text = ran.out + "\n" + ran.err
    if re.search(r"^DAMAGED \.:", text, re.M):
        return set(tree)
    return {
        k
        for k in tree
        if re.search(
            r"(?:^|[\s'\"])" + re.escape(k.decode(errors="replace")) + r"(?:[:\s'\"]|$)", text
        )
    }


def _below(paths: set[bytes], key: bytes) -> bool:
    return any(key == p or key.startswith(p + b"/") for p in paths)


class ModelMachine(RuleBasedStateMachine):
    """Random sequences of operations against an in-memory model of what each snapshot holds.
    Set ``base`` (where sandboxes go) and ``with_damage`` before running."""

    base: Path = Path("/nonexistent")
    with_damage = True
    stats: dict[str, int] = {}  # noqa: RUF012 (one tally shared by every example)
    checks = Checks()

    def __init__(self) -> None:
        super().__init__()
        self.sb = Sandbox(Path(tempfile.mkdtemp(dir=self.base)))
        self.wt = self.sb.new_repo("wt", files=8, seed=len(self.stats))
        self.model: dict[int, Tree] = {}
        self.tainted: set[int] = set()  # held when a pack was damaged: may name damaged paths
        self.rnd = random.Random(0)
        self.has_repair = repair_available(self.sb)

    def _tally(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    def _expect(self, ok: bool, what: str) -> None:
        self.checks.expect(ok, what)
        assert ok, what

    @rule(
        op=st.sampled_from(["add", "edit", "delete", "mkdir", "symlink", "chmod"]),
        n=st.integers(0, 99),
    )
    def modify(self, op: str, n: int) -> None:
        mine = [p for p in self.wt.rglob("*") if ".git" not in p.relative_to(self.wt).parts]
        files = sorted(p for p in mine if p.is_file() and not p.is_symlink())
        dirs = [self.wt, *sorted(p for p in mine if p.is_dir() and not p.is_symlink())]
        where = dirs[n % len(dirs)]
        if op == "add" or not files:
            (where / f"n{n}-{len(self.stats)}.dat").write_bytes(self.rnd.randbytes(n * 97))
        elif op == "edit":
            files[n % len(files)].write_bytes(self.rnd.randbytes(n * 131 + 1))
        elif op == "delete":
            files[n % len(files)].unlink()
        elif op == "mkdir":
            (where / f"sub{n}").mkdir(exist_ok=True)
        elif op == "symlink":
            link = where / f"ln{n}"
            if not os.path.lexists(link):
                link.symlink_to(files[n % len(files)].name if n % 2 else "/nowhere")
        else:
            files[n % len(files)].chmod(0o600 + (n % 2) * 0o155)
        self._tally("modify")

    @rule()
    def snapshot(self) -> None:
        tree = worktree_tree(self.wt)
        sid = self.sb.create(self.wt)
        self._expect(sid is not None and sid not in self.model, f"snapshot gave {sid}")
        assert sid is not None
        self.model[sid] = tree
        self._tally("snapshot")

    @precondition(lambda self: self.with_damage and self.model)
    @rule(n=st.integers(0, 10**6))
    def damage(self, n: int) -> None:
        packs = _packs(self.sb.store)
        if not packs:
            return
        pack = packs[n % len(packs)]
        data = bytearray(pack.read_bytes())
        data[n % len(data)] ^= 0xFF
        pack.write_bytes(bytes(data))
        self.tainted |= set(self.model)
        ran = self.sb.run(self.wt, "verify", "--read-data")  # finds it, so the next heals
        self._expect(ran.rc in (0, 1) and not crashed(ran), f"verify: {one_line(ran)}")
        self._tally("damage")

    @precondition(lambda self: self.has_repair)
    @rule()
    def repair(self) -> None:
        ran = self.sb.run(self.wt, "repair")
        self._expect(ran.rc in (0, 1) and not crashed(ran), f"repair: {one_line(ran)}")
        ids = self.sb.listed(self.wt)
        self._expect(ids is not None, "list after repair failed")
        assert ids is not None
        for sid in set(self.model) - set(ids):
            self._expect(sid in self.tainted, f"repair dropped intact snapshot {sid}")
            del self.model[sid]
        self._tally("repair")

    @precondition(lambda self: self.model)
    @rule(keep=st.integers(1, 4))
    def prune(self, keep: int) -> None:
        ran = self.sb.run(self.wt, "prune", "--keep-last", str(keep))
        self._expect(ran.rc == 0 or (bool(self.tainted) and ran.rc == 1), f"prune: {one_line(ran)}")
        ids = self.sb.listed(self.wt) or []
        self._expect(max(self.model) in ids, "prune dropped the newest snapshot")
        for sid in set(self.model) - set(ids):
            del self.model[sid]
        self._tally("prune")

    @precondition(lambda self: self.model)
    @rule(n=st.integers(0, 10**6), whole=st.booleans())
    def restore(self, n: int, whole: bool) -> None:
        sid = sorted(self.model)[n % len(self.model)]
        tree = self.model[sid]
        paths = sorted(tree)
        path = b"" if whole or not paths else paths[n % len(paths)]
        ran, target = self.sb.restore_to(self.wt, sid, *([path.decode()] if path else []))
        got = scan(target) if target.exists() else {}
        shutil.rmtree(target, ignore_errors=True)
        want = {k: v for k, v in tree.items() if not path or _below({path}, k)}
        if path:  # the parents of a chosen path are made, not restored: compare below it
            got = {k: v for k, v in got.items() if _below({path}, k)}
        self._judge(sid, ran, want, got)
        self._tally("restore")

    def _judge(self, sid: int, ran: Ran, want: Tree, got: Tree) -> None:
        """Exact, or (for a tainted snapshot) exit 1 naming damaged paths, the rest exact."""
        self._expect(not crashed(ran), f"restore {sid}: {one_line(ran)}")
        if ran.rc == 1 and sid in self.tainted:
            named = named_paths(ran, want)
            self._expect(bool(named), f"restore {sid} exited 1 naming nothing: {one_line(ran)}")
            want = {k: v for k, v in want.items() if not _below(named, k)}
            got = {k: v for k, v in got.items() if not _below(named, k)}
            rc_ok = True
        else:
            rc_ok = ran.rc == 0
        bad = diff(want, got)
        if bad:
            self.checks.lost += 1  # a snapshot that does not give back what it held
        self._expect(rc_ok and not bad, f"restore {sid} rc={ran.rc} {one_line(ran)} {bad[:3]}")

    @rule(how=st.sampled_from(["inject", "timer"]), n=st.integers(1, 120))
    def kill(self, how: str, n: int) -> None:
        tree = worktree_tree(self.wt)
        if how == "inject":
            syscall = ("write", "pwrite64", "rename", "fsync", "fdatasync", "openat")[n % 6]
            log = self.sb.root / "trace"
            self.sb.run(self.wt, "create", prefix=strace_prefix(log, syscall, n // 6 + 1))
        else:
            proc = subprocess.Popen(
                [*CLI, "create"],
                cwd=self.wt,
                env=self.sb.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(n / 300)
            proc.kill()
            proc.wait()
        ids = self.sb.listed(self.wt)
        self._expect(ids is not None, "list after a kill failed")
        assert ids is not None
        new = [i for i in ids if i not in self.model]
        self._expect(len(new) <= 1, f"a killed snapshot left {new}")
        for sid in new:
            self.model[sid] = tree
            self.restore(sorted(self.model).index(sid), True)
        self._tally("kill")

    @invariant()
    def listed_is_the_model(self) -> None:
        ids = self.sb.listed(self.wt)
        self._expect(
            ids is not None and set(ids) == set(self.model),
            f"listed {ids}, model {sorted(self.model)}",
        )

    def teardown(self) -> None:
        try:
            for sid, tree in sorted(self.model.items()):
                ran, target = self.sb.restore_to(self.wt, sid)
                got = scan(target) if target.exists() else {}
                self._judge(sid, ran, tree, got)
            if not self.tainted:
                self.checks.clean_verify(self.sb, self.wt, "stateful teardown")
                assert not self.checks.problems, self.checks.problems
        finally:
            shutil.rmtree(self.sb.root, ignore_errors=True)


def stateful(base: Path, examples: int, steps: int, with_damage: bool = True) -> Result:
    """Run ModelMachine for *examples* sequences of up to *steps* rules (no shrinking: each
    step runs real commands; a failure is reported with the steps that led to it)."""
    base.mkdir(parents=True, exist_ok=True)
    ModelMachine.base = base
    ModelMachine.with_damage = with_damage
    ModelMachine.stats = {}
    ModelMachine.checks = Checks()
    failure = ""
    try:
        run_state_machine_as_test(
            ModelMachine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                print_blob=False,
            ),
        )
    except Exception as e:  # the machine's own checks (hypothesis may wrap them: a kill
        # point can move between a run and its replay); anything else is a crash: raise
        inner = getattr(e, "exceptions", None)
        err = inner[0] if inner else e
        if not isinstance(err, AssertionError):
            raise
        failure = str(err).splitlines()[0][:300] if str(err) else repr(err)
    checks = ModelMachine.checks
    if failure and not checks.problems:
        checks.problems.append(failure)
    ops = ", ".join(f"{v} {k}" for k, v in sorted(ModelMachine.stats.items()))
    name = "stateful model" + ("" if with_damage else " (no damage)")
    how = "hypothesis RuleBasedStateMachine against an in-memory model of every snapshot"
    figures = f"{examples} sequences x up to {steps} steps: {ops}; {checks.count} checks"
    return Result(name, how, figures, checks)
