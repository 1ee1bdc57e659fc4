"""`git checkout B` overwriting an ignored .env while a watch snapshot is being taken (RED34 A3).

The watch snapshot's walk read the user's newest .env before git wrote over it; the
post-checkout hook began while that snapshot was still being written (it waits its turn:
archiver._turn), and compared with the last snapshot committed before it began: the report
named the snapshot before ("an earlier version ... in snapshot 1"), whose .env is older, and
`undo` brought that one back. Snapshots committed while the hook waited, whose walk began
before it, are now compared too: a path one of them holds in a version git destroyed is
named from it.

The watch snapshot is held, deterministically, after its walk and before its record: the
daemon (in this process, as tests/test_watch_unsettled.py drives one) starts a worker that
stops there while a file says so (_HOLDING_WORKER), and the checkout is run once its hook
waits for that snapshot's turn (/proc/locks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import install
from hookhelpers import put_venv_on_path
from test_watch_burst_hook_report import _lock_waiter_under
from test_watch_daemon import add
from test_watch_daemon import in_process
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"),
    pytest.mark.slow,
]

# The daemon's worker (take.serve), whose next snapshot, once HOLD/hold exists, stops after
# its walk (archiver._unsettled_meta: the walk is over, the record not yet written, the
# worktree's turn held) until HOLD/go exists; HOLD/held says it stopped.
_HOLDING_WORKER = """
import os, sys, time
from git_snapshot.store import archiver
hold = sys.argv.pop(1)
meta = archiver._unsettled_meta
def held(walker):
    try:
        os.rename(os.path.join(hold, "hold"), os.path.join(hold, "held"))
    except FileNotFoundError:
        return meta(walker)
    while not os.path.exists(os.path.join(hold, "go")):
        time.sleep(0.01)
    return meta(walker)
archiver._unsettled_meta = held
from git_snapshot.watch import take
sys.exit(take.main(sys.argv[1:]))
"""

NEWEST = "ENV v2, the user's newest\n"


def _repo(tmp_path: Path, v1: bool) -> Path:
    """main without .env (ignored there), B tracking it; .env = v1 on main if *v1*."""
    r = Path(os.path.realpath(init_repo(tmp_path / "w")))
    (r / "a.txt").write_text("a\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "init")
    git(r, "checkout", "-q", "-b", "B")
    (r / ".env").write_text("B's env\n")
    git(r, "add", ".env")
    git(r, "commit", "-q", "-m", "B's env")
    git(r, "checkout", "-q", "main")
    (r / ".git" / "info" / "exclude").write_text(".env\n")
    if v1:
        (r / ".env").write_text("ENV v1\n")
    return r


def _first_snapshot(r: Path) -> Any:
    from git_snapshot.store import Store

    with Store() as store:
        return store.snapshots(worktree=str(r))[0]


def _answer(d: Any) -> None:
    """The worker's answer to the job sent (the daemon reads it as it would)."""
    assert d.child_tree is not None  # (a job under way)
    d.worker_ready()
    assert d.child_tree is None


def _checkout_during_watch_snapshot(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, v1: bool
) -> tuple[Path, str, int]:
    """The checkout's stderr, and the id of the watch snapshot it ran beside."""
    from git_snapshot.watch import take

    put_venv_on_path(monkeypatch)
    r = _repo(tmp_path, v1)
    install(r)
    hold = tmp_path / "hold"
    hold.mkdir()
    worker = [sys.executable, "-c", _HOLDING_WORKER, str(hold)]
    monkeypatch.setattr(take, "serve_argv", lambda: [*worker, "--serve"])
    add(store_dir, r)
    with in_process(store_dir, r) as d:
        d.maybe_snapshot(time.time())  # the snapshot watching begins with
        _answer(d)
        (r / ".env").write_text(NEWEST)

        def marked() -> object:
            d.on_events(d.src.read())
            return d.trees[str(r)].first_change

        wait_for(marked, what="the write of .env marked")
        (hold / "hold").touch()
        d.maybe_snapshot(time.time() + 600)  # due: sent now
        wait_for(lambda: (hold / "held").exists(), what="the watch snapshot held")
        checkout = subprocess.Popen(
            ["git", "checkout", "-q", "B"],
            cwd=r,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        (turn,) = (store_dir / "turns").glob("*.lock")
        wait_for(
            lambda: _lock_waiter_under(turn, checkout.pid),
            what="the hook waiting for the watch snapshot's turn",
        )
        assert (r / ".env").read_text() == "B's env\n"  # git wrote it before its hook
        (hold / "go").touch()
        _answer(d)
        _, err = checkout.communicate(timeout=120)
    assert checkout.returncode == 0, err
    # (the first is install's when .env was there to save, else the one watching began with)
    first = _first_snapshot(r)
    (*_, watch) = watch_snaps(r)
    assert first.id == 1 and first.created < watch.created
    return r, err, watch.id


def test_the_report_names_the_watch_snapshot_in_flight(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r, err, watch = _checkout_during_watch_snapshot(tmp_path, store_dir, monkeypatch, v1=True)
    assert gs(r, "cat", str(watch), ".env").out == NEWEST  # it holds the newest
    # (was: "an earlier version, saved 14s ago, is in snapshot 1 ...")
    assert f"is in snapshot {watch};" in err or f"saved in snapshot {watch};" in err, err
    assert f"restore {watch} .env" in err, err
    assert "restore 1 " not in err, err
    entries = json.loads(gs(r, "losses", "--json").out)
    assert [(e["snapshot"], [x["path"] for x in e["lost"]]) for e in entries] == [
        (watch, [".env"])
    ], entries
    gs(r, "undo")
    assert (r / ".env").read_text() == NEWEST


def test_a_file_made_after_the_last_commit_snapshot_is_named_from_it(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """.env made after snapshot 1, read by the watch snapshot in flight: saved there, not
    'not saved'."""
    r, err, watch = _checkout_during_watch_snapshot(tmp_path, store_dir, monkeypatch, v1=False)
    assert f"restore {watch} .env" in err, err
    assert "git-snapshot: not saved" not in err, err
    gs(r, "undo")
    assert (r / ".env").read_text() == NEWEST
