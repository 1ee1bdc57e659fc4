"""Regenerate docs/PROTECTION.md: the 16 everyday loss cases and the harmless sequences, run
for real with git in each mode (plain hooks, pre-commit when installed, `git snapshot run --`).

    .venv/bin/python bench/protection.py            # writes docs/PROTECTION.md
    .venv/bin/python bench/protection.py --no-pre-commit

The same cases, with the outcome each must have, are asserted by tests/test_protection.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from protection_cases import CASES  # noqa: E402
from protection_cases import HARMLESS  # noqa: E402
from protection_cases import Case  # noqa: E402
from protection_cases import Outcome  # noqa: E402
from protection_cases import commit  # noqa: E402
from protection_cases import play  # noqa: E402
from protection_cases import prepare  # noqa: E402
from protection_cases import sh  # noqa: E402

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
# the watcher column: written after the last git command and its snapshot, so that only a
# watch snapshot can hold it
EDIT = b"EDITED after the last git command: only the watcher saw this\n"
WATCH_WAIT_S = 30.0


def _env(base: Path) -> None:
    """An isolated HOME, git config and store, and this venv's git-snapshot on PATH."""
    home = base / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = T\n\temail = t@example.invalid\n[init]\n\tdefaultBranch = main\n"
        "[advice]\n\tdetachedHead = false\n[core]\n\teditor = true\n"
    )
    os.environ.update(
        HOME=str(home),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_SNAPSHOT_STORE=str(base / "store"),
        GIT_SNAPSHOT_ALLOW_EPHEMERAL="1",
        XDG_CACHE_HOME=str(home / "cache"),
        GIT_SNAPSHOT_WATCH="0",  # no autostart by the other modes' hooks; --watcher starts it
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    (base / "store").mkdir()


def _pre_commit_config(base: Path) -> str:
    """The README's config pointing at a commit of this working tree (as the tests do)."""
    pkg = base / "pkg"
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    pkg.mkdir()
    for name in ("src", "hooks", "man"):  # man: a data file of the wheel
        shutil.copytree(ROOT / name, pkg / name, ignore=junk)
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, pkg / name)
    sh(pkg, "git", "init", "-q")
    sh(pkg, "git", "add", "-A")
    sh(pkg, "git", "commit", "-q", "-m", "pkg")
    rev = sh(pkg, "git", "rev-parse", "HEAD").stdout.strip()
    text = (ROOT / "README.md").read_text()
    m = re.search(r"```yaml\n(.*?default_install_hook_types.*?)```", text, re.S)
    assert m, "README has no pre-commit config"
    config = re.sub(r"(?m)^(\s+- repo: )\S+.*$", rf"\g<1>{pkg}", m.group(1))
    config = re.sub(r"(?m)^(\s+rev: )\S+.*$", rf"\g<1>{rev}", config)
    os.environ["PRE_COMMIT_HOME"] = str(base / "pc-cache")
    return config


def _one(base: Path, case: Case, mode: str, config: str) -> Outcome | str:
    r = base / f"{case.id}-{mode}"
    r.mkdir()
    sh(r, "git", "init", "-q")
    commit(r, ".gitignore", b".env\nbuild/\n")
    if mode == "pre-commit":
        commit(r, ".pre-commit-config.yaml", config.encode())
    commit(r, "a.txt", b"committed a\n")
    if mode == "pre-commit":
        sh(r, str(PRE_COMMIT), "install")
    else:
        sh(r, "git", "snapshot", "install")
    if mode == "watcher":
        return _watched(r, case)
    prepare(r, case)
    return play(r, case, mode)


def _snapshots(r: Path) -> list[dict[str, object]]:
    out = sh(r, "git", "snapshot", "list", "--json", check=False).stdout
    return list(json.loads(out or "[]"))


def _watched(r: Path, case: Case) -> str:
    """The case with the daemon watching: the lost path is edited after the last git command
    and its snapshot; a few seconds of quiet later the git command runs (plain hooks too)."""
    sh(r, "git", "snapshot", "watch", "add", ".")
    deadline = time.monotonic() + WATCH_WAIT_S
    while time.monotonic() < deadline:  # until the daemon watches it
        st = json.loads(sh(r, "git", "snapshot", "watch", "status", "--json").stdout)
        if any(w.get("path") == str(r) and w.get("state") == "watching" for w in st["worktrees"]):
            break
        time.sleep(0.2)
    else:
        return "**daemon did not watch**"
    prepare(r, case)
    target = r / case.lost
    target.parent.mkdir(parents=True, exist_ok=True)
    before = max([int(str(s["id"])) for s in _snapshots(r)] or [0])
    edited = time.time()
    target.write_bytes(case.lost.encode() + b": " + EDIT)
    lag = None
    while time.monotonic() < deadline + WATCH_WAIT_S:
        news = [s for s in _snapshots(r) if s["trigger"] == "watch" and int(str(s["id"])) > before]
        if news:
            lag = time.time() - edited
            break
        time.sleep(0.2)
    outcome = play(r, case, "hooks")
    if case.harmless:
        burst = [e for e in _losses(r) if str(e.get("command", "")).startswith("watcher")]
        n = outcome.reports + len(burst)
        return "no report" if n == 0 else f"**FALSE ALARM** ({n})"
    want = case.lost.encode() + b": " + EDIT
    for s in sorted(_snapshots(r), key=lambda s: -int(str(s["id"]))):
        got = sh(r, "git", "snapshot", "cat", str(s["id"]), case.lost, check=False)
        if got.returncode == 0 and got.stdout.encode() == want:
            sh(r, "git", "snapshot", "restore", str(s["id"]), case.lost, check=False)
            ok = target.exists() and target.read_bytes() == want
            trig = "watch snapshot" if s["trigger"] == "watch" else f"{s['trigger']} snapshot"
            took = f", {lag:.0f} s after the edit" if lag is not None else ""
            return f"recovered ({trig}{took})" if ok else "**restore failed**"
    return "**edit lost**"


def _losses(r: Path) -> list[dict[str, object]]:
    out = sh(r, "git", "snapshot", "losses", "--json", check=False).stdout
    return list(json.loads(out or "[]"))


def _cell(case: Case, o: Outcome | str) -> str:
    if isinstance(o, str):
        return o
    if case.harmless:
        return "no report" if o.reports == 0 else f"**FALSE ALARM** ({o.reports})"
    if o.reported:
        where = "right before" if o.exact else "earlier only"
        return f"reported, {where}" + ("" if o.recovered else ", **restore failed**")
    return "not reported" + (" (in an earlier snapshot)" if o.in_a_snapshot else "")


def _watcher_summary(rows: list[str], modes: list[str]) -> str:
    if "watcher" not in modes:
        return ""
    col = 2 + modes.index("watcher")
    cells = [r.strip("|").split("|")[col].strip() for r in rows if r.startswith("| C")]
    ok = sum(c.startswith("recovered") for c in cells)
    return (
        f"\nWith the watcher, {ok} of {len(cells)} loss cases are recoverable as of a few seconds "
        "of quiet before the loss, including an edit made after the last git command (the "
        "seconds are the time until the watch snapshot was listed, measured on a shared "
        f"machine, load average {os.getloadavg()[0]:.0f} on {os.cpu_count()} CPUs).\n"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-pre-commit", action="store_true")
    ap.add_argument("--no-watcher", action="store_true")
    ap.add_argument("--modes", help="only these modes, comma-separated (a trial run)")
    ap.add_argument(
        "--add-watcher",
        action="store_true",
        help="run only the watcher column; keep the other columns of the existing table",
    )
    ap.add_argument("--cases", help="only these case ids, comma-separated (a trial run)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "PROTECTION.md"))
    args = ap.parse_args()
    modes = ["hooks", "run"]
    if PRE_COMMIT.exists() and not args.no_pre_commit:
        modes.insert(1, "pre-commit")
    if not args.no_watcher:
        modes.append("watcher")
    if args.modes:
        modes = [m for m in modes if m in args.modes.split(",")]
    kept: dict[str, list[str]] = {}
    if args.add_watcher:
        for line in Path(args.out).read_text().splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if line.startswith("| case |"):
                modes = [m for m in cells[2:] if m != "watcher"] + ["watcher"]
            elif line.startswith("| C") or line.startswith("| H"):
                kept[cells[0]] = cells[2 : 2 + len(modes) - 1]
    with tempfile.TemporaryDirectory(prefix="protection-") as tmp:
        base = Path(tmp)
        _env(base)
        fresh = ["watcher"] if args.add_watcher else modes
        config = _pre_commit_config(base) if "pre-commit" in fresh else ""
        rows = []
        try:
            for case in CASES + HARMLESS:
                if args.cases and case.id not in args.cases.split(","):
                    continue
                cells = [
                    kept[case.id][i]
                    if args.add_watcher and m != "watcher"
                    else _cell(case, _one(base, case, m, config))
                    for i, m in enumerate(modes)
                ]
                rows.append(f"| {case.id} | {case.title} | " + " | ".join(cells) + " |")
                print(rows[-1], flush=True)
        finally:
            if "watcher" in modes:
                sh(base, "git", "snapshot", "watch", "stop", check=False)
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    partial = (
        "The watcher column was added by `bench/protection.py --add-watcher` (the other columns "
        "are kept from the previous full run).\n"
        if args.add_watcher
        else ""
    )
    head = "| case | what | " + " | ".join(modes) + " |\n|---|---|" + "---|" * len(modes)
    text = (
        f"""# What git-snapshot protects, measured

Written by `bench/protection.py` ({git}); `tests/test_protection.py` asserts the same table.
{partial}Each loss case writes a marker that only a snapshot holds, takes a snapshot (a user's last
one), then runs the git command(s) that destroy it, in each mode: the plain hooks of
`git snapshot install`, the pre-commit hooks of the README's config,
`git snapshot run -- git ...`, and the plain hooks with the watcher running.

- *reported, right before*: the report names the snapshot taken right before the command.
- *reported, earlier only*: the report names an earlier snapshot and says later edits, if
  any, were not saved (the command has no hook before it: checkout, switch, restore).
- *not reported*: no hook runs at all (clean, reset, stash drop, merge --abort); the earlier
  snapshot still holds the data, and `git snapshot run --` guards the command (for `stash
  drop`, C10, `run` snapshots the stash entry and prints `git snapshot restore N --to
  ../stash-0`, which writes the dropped stash's files there).
- Through pre-commit (no terminal here) a report is printed by the next git-snapshot command
  ("earlier, at 10:42: ..."); each hook itself prints only pre-commit's "...Passed".
- Every printed restore command was pasted and brought the marker back.
- *watcher* column: the daemon (`git snapshot watch add .`) watches the worktree and the
  plain hooks are installed. After the case's last git command and snapshot, the lost path
  is edited again (content no hook snapshot can hold); once the watcher has taken its
  snapshot (a few seconds of quiet: the time after the edit is given) the git command runs.
  *recovered*: a snapshot holds the edit, and `git snapshot restore ID PATH` brought it back.
  For H1-H7 the watcher's burst loss entries count as reports too.
- H1-H7 are harmless sequences: any report there would be a false alarm.

{head}
"""
        + "\n".join(rows)
        + "\n"
        + _watcher_summary(rows, modes)
    )
    Path(args.out).write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
