"""The watcher's burst loss entries (watch/bursts.py) against DESIGN "Loss reports": the
restore command they print brings back what was lost and nothing else."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs

from git_snapshot import gitrepo
from git_snapshot import losses
from git_snapshot import lossrecord
from git_snapshot import lossreport
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.watch import bursts
from git_snapshot.watch.bursts import BurstDetector


def _paste(cmd: str, cwd: Path) -> None:
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    res = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr


def test_a_burst_of_appends_restores_only_the_files_it_names(repo: Path) -> None:
    """The lead's case, smaller: a tool appends to every file; 200 are ignored (build output:
    no alarm), 20 tracked, of which 2 held uncommitted edits (lost: git has the others).
    The restore command names those 2, not their folder: pasted, `restore N src/` also put
    back the snapshot's version of the 18 other files the tool had just written."""
    (repo / ".gitignore").write_text("node_modules/\n")
    src = repo / "src"
    src.mkdir()
    for i in range(20):
        (src / f"f{i:02}.js").write_text(f"v {i}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "src")
    for i in range(2):
        (src / f"f{i:02}.js").write_text(f"edited {i}\n")
    for i in range(200):
        pkg = repo / "node_modules" / f"p{i % 10}"
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / f"m{i}.js").write_text(f"m {i}\n")
    g = gitrepo.find_repo(str(repo))
    with Store() as store:
        snap = worktree.take(store, g, trigger="watch").snapshot
        d = BurstDetector()
        files = sorted([*(repo / "node_modules").rglob("*.js"), *src.glob("*.js")])
        for i, p in enumerate(files):
            with open(p, "a") as f:
                f.write("appended\n")
            d.feed(100.0 + i * 0.001, str(p), bursts.OVERWRITE)
        (burst,) = d.take(200.0)
        entry = bursts.record(store, str(repo), burst, snap)
    assert entry is not None
    assert sorted(x["path"] for x in entry["lost"]) == ["src/f00.js", "src/f01.js"]
    assert entry["restore"] == ["src/f00.js", "src/f01.js"]
    (line,) = lossrecord.take_unseen(g)
    m = re.search(r"restore with: (git snapshot .*)$", line)
    assert m, line
    _paste(m.group(1), repo)
    assert (src / "f00.js").read_text() == "edited 0\n"
    assert (src / "f01.js").read_text() == "edited 1\n"
    assert (src / "f05.js").read_text() == "v 5\nappended\n"  # the tool's write stays


def test_restore_paths_names_a_wholly_lost_folder_once(repo: Path) -> None:
    (repo / "pk" / "a").mkdir(parents=True)
    (repo / "pk" / "a" / "x").write_text("x\n")
    (repo / "pk" / "a" / "y").write_text("y\n")
    (repo / "pk" / "keep").write_text("k\n")
    (repo / "lone").write_text("l\n")
    g = gitrepo.find_repo(str(repo))
    with Store() as store:
        snap = worktree.take(store, g, trigger="manual").snapshot
        gone = [losses.Loss(p, "untracked", "deleted") for p in (b"pk/a/x", b"pk/a/y", b"lone")]
        assert lossreport.restore_paths(store, snap.root, gone) == [b"lone", b"pk/a"]
        every = [*gone, losses.Loss(b"pk/keep", "untracked", "deleted")]
        assert lossreport.restore_paths(store, snap.root, every) == [b"lone", b"pk"]


def test_a_burst_under_a_scanned_tree_says_the_copy_may_be_older(
    repo: Path, store_dir: Path
) -> None:
    """With the watch budget spent, a big ignored tree is covered by stat scans: an edit in
    place there is seen only by the deep scan (30 min), so the snapshot before an rm -rf may
    hold an earlier version. The entry said "saved in snapshot N" (exact) all the same."""
    (repo / ".gitignore").write_text("node_modules/\n")
    mods = repo / "node_modules"
    for i in range(120):
        (mods / f"p{i % 4}").mkdir(parents=True, exist_ok=True)
        (mods / f"p{i % 4}" / f"f{i}.js").write_text(f"module {i}\n")
    g = gitrepo.find_repo(str(repo))
    with Store() as store:
        snap = worktree.take(store, g, trigger="watch").snapshot
    status = {
        "worktrees": [
            {
                "path": str(repo),
                "big_trees": [{"path": str(mods), "dirs": 5, "scanned": True}],
                "whole_trees": [],
            }
        ]
    }
    (store_dir / "watch").mkdir(exist_ok=True)
    (store_dir / "watch" / "status.json").write_text(json.dumps(status))
    (mods / "p1" / "f1.js").write_text("edited in place, never snapshotted\n")
    d = BurstDetector()
    paths = [str(p) for p in sorted(mods.rglob("*"), reverse=True)]
    shutil.rmtree(mods)
    for i, p in enumerate([*paths, str(mods)]):
        d.feed(100.0 + i * 0.001, p, bursts.DELETE)
    d.feed(100.2, str(mods), bursts.DELETE_DIR)
    (burst,) = d.take(200.0)
    with Store() as store:
        entry = bursts.record(store, str(repo), burst, snap)
    assert entry is not None and entry["exact"] is False
    (line,) = lossrecord.take_unseen(g)
    assert "an earlier version, saved " in line and f"is in snapshot {snap.id}" in line
    assert "(an earlier version)" in gs(repo, "losses").out
