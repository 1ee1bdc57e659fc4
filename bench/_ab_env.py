"""A/B of the 1 % step on the M tree: another code's src against this checkout's, interleaved.

    git archive REV src setup.py pyproject.toml README.md | tar -x -C /dev/shm/old  # the other code
    (py=$PWD/.venv/bin/python; cd /dev/shm/old && $py setup.py -q build_ext --inplace)  # its C
    .venv/bin/python bench/ab_one_percent.py --old /dev/shm/old/src --tree /dev/shm/M

The first lines say whether each code runs the C speedups (git_snapshot.store._ctree; a code
with _ctree.c runs its pure-Python twin until built as above) and warn when only one does.

Copies the tree (made by bench/trees.py, never modified); each code takes its own first and
unchanged snapshot into its own store; then, in interleaved rounds, each code's snapshot on a
fresh copy of its store (store and tree read whole first): unchanged, then after 1 % of the
files got a line appended and 10 new files were added (as peers.py changes the tree). Prints
medians of wall, CPU and page faults (user + system and minor faults of all its processes, with
git's and the files cache's thread), what the 1 % step adds, and from the split walk's trace
(GIT_SNAPSHOT_SPLIT_TRACE) each process's CPU and page faults after the fork until the walk's
end (a fault costs 3.5-4 us on the team's VM). The read of the changed files is timed as peers.py's
floor is: a fresh Python process reading them (so its interpreter start is in it).

Between the two, a snapshot after one file of the 1 % was edited ("one file"): what it adds to
the unchanged snapshot is the fixed cost of a snapshot that stores anything (its pack, the pool,
the record, the index transaction, the files cache's append); what the 1 % adds beyond it is
the cost of the changes, printed per folder written again (those holding a change and the
folders above them). In the step's rounds, "after 1 %": the unchanged snapshot of the same
tree from the store the step left (each code's step taken once more, untimed): what the files
cache the step left costs every snapshot after it (an appended one: its dead records read at
each load until the next whole write), and an unchanged snapshot interleaved with the step,
not minutes before it. --marks runs each snapshot through a wrapper that times create_snapshot's
phases (wall and the main thread's CPU: the files cache's load, the walk, the writer's flush
and finish, add_snapshot, the wait for the files cache's thread in _publish; and that thread's
own wall and CPU, "cache write": after the walk it is the last to end, the snapshot's critical
path) and prints their medians per phase and code.

L: its copy on disk (RULES.md: one writable copy, not in /dev/shm), the stores in --dir:

    bench/ab_one_percent.py --old OLD --tree /dev/shm/L --tree-dir /work/scratch/NAME \
        --dir /dev/shm/NAME/ab --autogroup

--autogroup runs each snapshot in an autogroup of its own at nice -20 (setsid, then
/proc/self/autogroup; root only): on a machine the team loads, the scheduler then gives it
most of both cores and its wall time repeats within ~10 % (session 11: peers.py's 1 % ratio on
M under load 10 came out 1.10x that way, against 1.24x on a quiet machine at session 10).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time

import common

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--old", required=True, help="the other code's src folder")
common.add_ab_arguments(ap, "/dev/shm/gsnap-ab", 6, "snapshot")
ap.add_argument("--marks", action="store_true", help="time create_snapshot's phases too")
args = ap.parse_args()
here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODES = {"old": os.path.abspath(args.old), "new": os.path.abspath(args.new or f"{here}/src")}
BASE = args.dir
TREES = os.path.join(args.tree_dir, "gsnap-ab-tree") if args.tree_dir else BASE
TREE = f"{TREES}/M"
EXE = os.path.join(os.path.dirname(sys.executable), "git-snapshot")
R = args.rounds

env0 = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
env0.pop("PYTHONDONTWRITEBYTECODE", None)
env0.update(GIT_SNAPSHOT_ALLOW_EPHEMERAL="1", GIT_SNAPSHOT_WATCH="0", HOME=f"{BASE}/home")


def env(code: str, store: str) -> dict[str, str]:
    return dict(
        env0,
        PYTHONPATH=CODES[code],
        GIT_SNAPSHOT_STORE=store,
        PYTHONPYCACHEPREFIX=f"{BASE}/pyc-{code}",
        **(dict(x.split("=",1) for x in os.environ.get("AB_NEW_ENV","").split()) if code == "new" else {}),
    )


print("\n".join(common.codes_speedups({c: env(c, BASE) for c in CODES})), flush=True)

TRACE = f"{BASE}/split.trace"
MARKS_OUT = f"{BASE}/marks.json"
# --marks: the snapshot in a wrapper that times create_snapshot's phases (the functions one of
# the two codes lacks are left out) and writes {phase: [wall ms, thread CPU ms]} to argv[1]
MARKS = """
import json, sys, time
from git_snapshot.store import archiver, filescache, index, packs
marks = {}
def wrap(owner, attr, name):
    f = getattr(owner, attr, None)
    if f is None:
        return
    def timed(*a, **k):
        w, c = time.perf_counter(), time.thread_time()
        try:
            return f(*a, **k)
        finally:
            m = marks.setdefault(name, [0.0, 0.0])
            m[0] += (time.perf_counter() - w) * 1000
            m[1] += (time.thread_time() - c) * 1000
    setattr(owner, attr, timed)
for owner, attr, name in (
    (filescache, "load", "cache load"), (archiver, "_walk", "walk"),
    (packs.PackWriter, "flush", "flush"), (packs.PackWriter, "finish", "finish"),
    (index.Index, "add_snapshot", "add_snapshot"), (archiver, "_publish", "cache publish"),
    (filescache, "update", "cache write"), (archiver, "create_snapshot", "create_snapshot"),
):
    wrap(owner, attr, name)
from git_snapshot.hookmain import main
out, sys.argv = sys.argv[1], ["git-snapshot", *sys.argv[2:]]
try:
    main()
finally:
    with open(out, "w") as f:
        json.dump(marks, f)
"""


def run(code: str, store: str, trace: bool = False) -> tuple[float, float, int]:
    """The snapshot's wall time, the CPU (user + system) and minor page faults of all its
    processes (git's too, and the files cache's thread after the walk, which the split
    walk's trace does not see)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    e = env(code, store)
    if trace:
        e["GIT_SNAPSHOT_SPLIT_TRACE"] = TRACE
    cmd = [EXE, "--json"]
    if args.marks:
        cmd = [sys.executable, "-c", MARKS, MARKS_OUT, "--json"]
    cmd = common.in_autogroup(cmd, args.autogroup)  # its own session, nice -20 (--autogroup)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=TREE, env=e, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_minflt - before.ru_minflt


def split_usage() -> list[float]:
    """From the trace of the last run: the parent's and the child's CPU (ms) and their minor
    page faults after the fork; [] when the walk was not split."""
    try:
        with open(TRACE) as f:
            lines = [line.split() for line in f]
        os.unlink(TRACE)
    except OSError:
        return []
    fields: dict[str, dict[str, float]] = {}
    for p in lines:
        if len(p) > 3 and (p[0], p[1]) in (("P", "forked"), ("P", "usage"), ("C", "end")):
            kv = dict(x.split("=", 1) for x in p[3:] if "=" in x)
            fields[p[0] + p[1]] = {k: float(kv[k]) for k in ("run", "minflt") if k in kv}
    try:
        fork, parent, child = fields["Pforked"], fields["Pusage"], fields["Cend"]
        return [
            parent["run"] - fork["run"],
            child["run"],
            parent["minflt"] - fork["minflt"],
            child["minflt"],
        ]
    except KeyError:
        return []


def warm(path: str) -> None:
    for d, _, fs in os.walk(path):
        for f in fs:
            with open(os.path.join(d, f), "rb") as fh:
                while fh.read(1 << 20):
                    pass


def read_marks() -> dict[str, list[float]]:
    try:
        with open(MARKS_OUT) as f:
            got: dict[str, list[float]] = json.load(f)
        os.unlink(MARKS_OUT)
        return got
    except (OSError, ValueError):
        return {}


def print_marks(name: str, code: str, runs: list[dict[str, list[float]]]) -> None:
    """Each phase's medians over *runs* (a phase a run lacks counts 0 there)."""
    phases = list(dict.fromkeys(k for r in runs for k in r))
    cells = []
    for k in phases:
        wall = statistics.median(r.get(k, [0.0, 0.0])[0] for r in runs)
        cpu = statistics.median(r.get(k, [0.0, 0.0])[1] for r in runs)
        cells.append(f"{k} {wall:.1f}/{cpu:.1f}")
    print(f"{'':10} {code} marks (wall/CPU ms): " + ", ".join(cells), flush=True)


def phase(name: str, after: bool = False) -> dict[str, dict[str, float]]:
    """*name*'s rounds, each code's snapshot on a fresh copy of its store; with *after*, each
    round also runs "after 1 %" (the unchanged snapshot on the same tree, from the store the
    step left), interleaved with it: the step and an unchanged snapshot in the same minutes."""
    names = {name: "st", "after 1 %": "after"} if after else {name: "st"}
    runs = [(n, c) for n in names for c in CODES]
    out: dict[tuple[str, str], tuple[list[float], list[float], list[int]]] = {
        k: ([], [], []) for k in runs
    }
    split: dict[tuple[str, str], list[list[float]]] = {k: [] for k in runs}
    marks: dict[tuple[str, str], list[dict[str, list[float]]]] = {k: [] for k in runs}
    for i in range(R):
        for n, c in runs if i % 2 == 0 else runs[::-1]:
            s = f"{BASE}/run"
            shutil.rmtree(s, ignore_errors=True)
            subprocess.run(["cp", "-a", f"{BASE}/{names[n]}-{c}", s], check=True)
            warm(s)
            warm(TREE)
            w, cpu, faults = run(c, s, trace=True)
            out[n, c][0].append(w)
            out[n, c][1].append(cpu)
            out[n, c][2].append(faults)
            if got := split_usage():
                split[n, c].append(got)
            if args.marks:
                marks[n, c].append(read_marks())
    for n, c in runs:
        usage = ""
        if split[n, c]:
            pr, cr, pf, cf = (statistics.median(x) for x in zip(*split[n, c]))
            usage = (
                f"; after the fork parent {pr:.0f} + child {cr:.0f} ms CPU, "
                f"{pf:.0f} + {cf:.0f} page faults"
            )
        walls, cpus, faults_ = out[n, c]
        print(
            f"{n:10} {c}: wall {statistics.median(walls) * 1000:7.1f} ms "
            f"(min {min(walls) * 1000:.0f} max {max(walls) * 1000:.0f}), "
            f"CPU {statistics.median(cpus) * 1000:7.1f} ms, "
            f"{statistics.median(faults_):.0f} page faults{usage}",
            flush=True,
        )
        if marks[n, c]:
            print_marks(n, c, marks[n, c])
    return {n: {c: statistics.median(out[n, c][0]) for c in CODES} for n in names}


shutil.rmtree(BASE, ignore_errors=True)
shutil.rmtree(TREES, ignore_errors=True)
os.makedirs(f"{BASE}/home")
os.makedirs(TREES, exist_ok=True)
subprocess.run(["cp", "-a", args.tree, TREE], check=True)
subprocess.run(["chmod", "-R", "u+w", TREE], check=True)
# The copy's every ctime is now: a store whose first snapshot comes within the walk's racy
# window (walker.RACY_NS, 2 s) trusts no record then and rewrites its files cache at the
# second, the other code's (made seconds later) spills it at the first. The two caches then
# lie differently in memory: the unchanged snapshot's child took ~1,730 page faults on the
# first code's store against ~2,230 on the second's whatever the code (M, three runs).
time.sleep(2.5)
for c in CODES:
    for _ in range(2):
        run(c, f"{BASE}/st-{c}")
time.sleep(2)
unch = phase("unchanged")["unchanged"]
files: list[str] = []
for d, dirs, fs in os.walk(TREE):
    if d == TREE:
        dirs.remove(".git")
    files += [os.path.join(d, f) for f in fs if not os.path.islink(os.path.join(d, f))]
files.sort()
rng = random.Random(1)
changed = rng.sample(files, round(len(files) * 0.01))
# one file of them first: the fixed cost of a snapshot that stores something
with open(changed[0], "ab") as out:
    out.write(b"// changed: ab\n")
time.sleep(2)
one = phase("one file")["one file"]
for p in changed[1:]:
    with open(p, "ab") as out:
        out.write(b"// changed: ab\n")
os.makedirs(f"{TREE}/src/new", exist_ok=True)
for i in range(10):
    with open(f"{TREE}/src/new/ab-{i}.js", "wb") as out:
        out.write(b"x" * 3000 + b"\n")
changed += [f"{TREE}/src/new/ab-{i}.js" for i in range(10)]
time.sleep(2)
# the floor as peers.py times it: a fresh Python process reads the changed files
listing = f"{BASE}/changed.list"
with open(listing, "wb") as out:
    out.write(b"\n".join(os.fsencode(p) for p in changed))
READ = (
    "import sys\nfor p in open(sys.argv[1], 'rb').read().split(b'\\n'):\n    open(p, 'rb').read()\n"
)
reads = []
for _ in range(5):
    t0 = time.perf_counter()
    read_cmd = [sys.executable, "-c", READ, listing]
    subprocess.run(common.in_autogroup(read_cmd, args.autogroup), check=True)
    reads.append(time.perf_counter() - t0)
read = statistics.median(reads)
print(f"{len(changed)} files edited or new; a Python process reading them {read * 1000:.1f} ms")
# "after 1 %", interleaved with the step: the unchanged snapshot of the same tree, from the
# store the step leaves (each code's step once more, untimed, into a copy of its store). It
# is what every snapshot after the step pays for the files cache the step left (appended
# records: dead bytes read at each load until the next whole write), and an unchanged
# snapshot taken in the same minutes as the step
for c in CODES:
    shutil.rmtree(f"{BASE}/after-{c}", ignore_errors=True)
    subprocess.run(["cp", "-a", f"{BASE}/st-{c}", f"{BASE}/after-{c}"], check=True)
    run(c, f"{BASE}/after-{c}")
both = phase("1 %", after=True)
chg, after = both["1 %"], both["after 1 %"]
holding = {os.path.dirname(p) for p in changed}
above = set(holding)
for d in holding:
    while d != TREE:
        d = os.path.dirname(d)
        above.add(d)
for c in CODES:
    print(
        f"{c}: 1 % / (unchanged + read) = {chg[c] / (unch[c] + read):.2f}x; "
        f"adds {1000 * (chg[c] - unch[c]):.0f} ms: storing one file "
        f"{1000 * (one[c] - unch[c]):.0f} ms (the fixed cost), the rest "
        f"{1000 * (chg[c] - one[c]):.0f} ms ({1e6 * (chg[c] - one[c]) / len(above):.0f} us "
        f"per folder written again: {len(holding)} hold a change, {len(above)} with those "
        "above them)"
    )
    print(
        f"{c}: against the unchanged snapshot after it, in the same rounds: 1 % / (after 1 % + "
        f"read) = {chg[c] / (after[c] + read):.2f}x; after 1 % {1000 * after[c]:.0f} ms, "
        f"{1000 * (after[c] - unch[c]):+.0f} ms against the unchanged one before the step"
    )
shutil.rmtree(BASE, ignore_errors=True)
shutil.rmtree(TREES, ignore_errors=True)
