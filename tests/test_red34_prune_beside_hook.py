"""RED34 D3: a prune beside a hook's loss check.

A post-checkout hook compares the worktree with the snapshot before the checkout (B) and logs a
report naming B. A prune chooses what to forget after reading which snapshots the loss reports
name, and it read them before the hook wrote its report: it forgot B, the only copy of what the
checkout destroyed (or, forgotten and collected during the check, B's objects were gone under
the hook: "object ... is missing from the index", no report, the object marked damaged). Now
the hook holds the store's shared lock from its choice of B until its report is logged, and a
prune reads the reports again under the exclusive lock it forgets with: the report is there,
and B is kept.

The interleaving is made, not hoped for: the test holds the shared lock (as a hook's check
does) while the prune has chosen B, and the checkout's hook runs and reports then.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import snaps
from hookhelpers import write

from git_snapshot.store import Store


def _prune(cwd: Path) -> subprocess.Popen[bytes]:
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.Popen(
        ["git", "snapshot", "prune", "--keep-last", "1"],
        cwd=cwd,
        env={**os.environ, "PATH": path},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_report_written_while_prune_waits_keeps_its_snapshot(repo: Path) -> None:
    for i in range(1, 6):
        write(repo / f"f{i}.txt", f"t {i}\n".encode())
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "files")
    git(repo, "branch", "x")
    install(repo)
    wt = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "w")
    for i in range(1, 4):
        write(wt / f"f{i}.txt", f"uncommitted edit {i}\n".encode())
    b = int(json.loads(gs(wt, "create", "-m", "edits", "--json").out)["id"])
    gs(repo, "create", "-m", "main")  # the newest: --keep-last 1 chooses B
    with Store(os.environ["GIT_SNAPSHOT_STORE"]) as store, store.lock():  # a hook's check
        prune = _prune(repo)
        time.sleep(2)  # it has chosen B by now, and waits to forget it
        assert prune.poll() is None, prune.communicate()
        ran = git(wt, "checkout", "-q", "-f", "x")  # its hook reports, naming B
        assert any(f"restore {b} " in ln for ln in ran.ours), ran.err
    out, err = prune.communicate(timeout=60)
    assert prune.returncode == 0, err
    assert b in [s["id"] for s in snaps(wt)], out  # kept: the report names it
    # (B is its worktree's newest: since retention counts each worktree's apart (RED36
    # B-prune) the prune no longer chooses it, and the report's keeping is not reached here)
    (item,) = json.loads(gs(wt, "losses", "--json").out)
    assert item["snapshot"] == b and item["available"], item
    gs(wt, "undo")
    assert (wt / "f1.txt").read_bytes() == b"uncommitted edit 1\n"
