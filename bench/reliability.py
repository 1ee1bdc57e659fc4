"""The reliability campaign: runs every scenario of tests/reliabilityhelpers.py and writes
docs/RELIABILITY.md from what it measured (the same scenarios CI runs, with larger counts).

    .venv/bin/python bench/reliability.py            # full counts (every write syscall)
    .venv/bin/python bench/reliability.py --quick    # the counts CI uses
    .venv/bin/python bench/reliability.py --kills 40 --sequences 15   # in between
    .venv/bin/python bench/reliability.py --only damage --out -   # one scenario, to stdout

Exit status 1 when any scenario lost data or failed a check (the doc says which).
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from reliabilityhelpers import Result  # noqa: E402
from reliabilityhelpers import concurrency  # noqa: E402
from reliabilityhelpers import damage_all  # noqa: E402
from reliabilityhelpers import full_disk  # noqa: E402
from reliabilityhelpers import hostile  # noqa: E402
from reliabilityhelpers import kill_campaign  # noqa: E402
from reliabilityhelpers import stateful  # noqa: E402

DOC = HERE.parent / "docs" / "RELIABILITY.md"
# (quick, full) counts; None means every write syscall
KILLS: dict[str, tuple[int | None, int | None]] = {
    "snapshot": (10, None),
    "restore": (10, None),
    "prune": (8, None),
    "repair": (8, None),
}
CONCURRENCY = ((8, 4), (8, 25))  # (processes, snapshots each)
STATEFUL = ((6, 10), (40, 20))  # (sequences, steps)


def scenarios(args: argparse.Namespace) -> dict[str, Callable[[Path], list[Result]]]:
    q = 0 if args.quick else 1
    procs, rounds = CONCURRENCY[q]
    examples, steps = STATEFUL[q]
    examples = args.sequences or examples
    steps = args.steps or steps

    def kills(command: str) -> Callable[[Path], list[Result]]:
        most = args.kills if args.kills is not None else KILLS[command][q]
        return lambda base: [kill_campaign(base, command, most or None)]

    out = {f"kill-{c}": kills(c) for c in KILLS}
    out["concurrency"] = lambda base: [concurrency(base, procs, rounds)]
    out["damage"] = lambda base: [damage_all(base)[0]]
    out["hostile"] = lambda base: [hostile(base)]
    out["stateful"] = lambda base: [stateful(base / "st", examples, steps, with_damage=True)]
    out["full-disk"] = lambda base: [full_disk(base)]
    return out


def render(results: list[tuple[Result, float]], command: str) -> str:
    today = datetime.date.today().isoformat()
    lines = [
        "# Reliability",
        "",
        "What git-snapshot was put through, and what it lost. Every figure below was measured",
        f"by the run that wrote this file, on {today}, with:",
        "",
        f"    {command}",
        "",
        "CI runs the same scenarios with the `--quick` counts (tests/test_reliability.py, marked",
        "slow). Everything goes through the command line in a sandbox of its own (HOME, git",
        "config, store). *Lost* counts committed snapshots that were no longer listed or did not",
        "restore byte for byte (content, mode, mtime, symlink target) afterwards.",
        "",
        "| scenario | how it is produced | figures | lost | problems | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r, secs in results:
        if r.skipped:
            lost, problems = "-", f"skipped: {r.skipped}"
        else:
            lost = str(r.checks.lost)
            problems = "<br>".join(_md(p[:240]) for p in r.checks.problems[:5]) or "none"
            if len(r.checks.problems) > 5:
                problems += f"<br>... {len(r.checks.problems) - 5} more"
        lines.append(f"| {r.name} | {r.how} | {r.figures} | {lost} | {problems} | {secs:.0f} |")
    lines += [
        "",
        "After every kill: every snapshot listed before is still listed (prune may forget only",
        "what its policy drops; the newest stays) and restores byte-exact; the killed command's",
        "own snapshot (snapshot, or restore's pre-restore snapshot) is whole or absent;",
        "`verify --read-data` exits 0 (unreferenced packs allowed); a new snapshot of the",
        "worktree restores exactly and no temp file of ours is left in it. Kills come from",
        "strace's fault injection on the CLI's main thread (`-e inject=SYSCALL:signal=KILL:when=N`",
        "for the N-th call of each write syscall: write, pwrite64, rename*, unlink*, fsync,",
        "fdatasync, ftruncate, mkdir, and openat when it may create or write).",
    ]
    for r, _ in results:
        if r.details:
            lines += ["", f"## {r.name}: details", "", *r.details]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the counts CI uses")
    ap.add_argument("--kills", type=int, help="kills per command (0: every write syscall)")
    ap.add_argument("--sequences", type=int, help="stateful model: sequences")
    ap.add_argument("--steps", type=int, help="stateful model: steps per sequence")
    ap.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    ap.add_argument("--out", default=str(DOC), help="where to write the doc ('-': stdout)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    # the sandboxes live in a temp dir: the documented opt-in (the hostile records scenario
    # opens the store in this process too)
    os.environ["GIT_SNAPSHOT_ALLOW_EPHEMERAL"] = "1"
    table = scenarios(args)
    chosen = args.only or list(table)
    unknown = [c for c in chosen if c not in table]
    if unknown:
        ap.error(f"unknown scenario {unknown}; known: {', '.join(table)}")
    base = Path(tempfile.mkdtemp(prefix="gsnap-reliability-"))
    results: list[tuple[Result, float]] = []
    try:
        for name in chosen:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            t0 = time.monotonic()
            for r in table[name](base / name):
                results.append((r, time.monotonic() - t0))
                state = "skipped" if r.skipped else ("ok" if r.ok else "FAILED")
                print(f"  {name}: {state}: {r.figures}", file=sys.stderr, flush=True)
                for p in r.checks.problems[:10]:
                    print(f"    {p}", file=sys.stderr)
    finally:
        if args.keep:
            print(f"kept {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)
    command = "python bench/reliability.py " + shlex.join(argv)
    text = render(results, command.strip())
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0 if all(r.ok or r.skipped for r, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
