"""The watch worker computes find's deltas after its snapshots (store/history.warm_deltas), so
that a first ``find`` on a long history computes nothing: a real daemon, real inotify."""

from __future__ import annotations

import json
import os
import select
import sys
import threading
import time
from pathlib import Path

import pytest
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import make_repo
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (a fixture)

from git_snapshot.store import Store
from git_snapshot.store import deltas
from git_snapshot.store import rebuild
from git_snapshot.store.history import find
from git_snapshot.watch import take


def test_after_a_watch_snapshot_find_has_every_delta_cached(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    (repo / "src" / "new.txt").write_text("written while watched\n")
    wait_for(lambda: watch_snaps(repo), what="a watch snapshot")
    with Store() as store:
        snaps = store.snapshots(watch_snaps(repo)[0].source)
        pairs = [(a.root if a else b"", s.root) for a, s in zip([None, *snaps], snaps)]
        wait_for(
            lambda: all(deltas.cached(store, a, b) for a, b in pairs if a != b),
            what=f"the worker to cache the deltas of {len(snaps)} snapshots",
        )
        calls: list[tuple[int, int]] = []
        runs = find(
            store, snaps, lambda p, e: e.name == b"new.txt", progress=lambda *a: calls.append(a)
        )
        assert calls == []  # nothing computed: every delta was there
        assert [r.snapshots[-1].id for r in runs] == [snaps[-1].id]


def test_the_next_job_does_not_wait_for_finds_deltas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a new watch snapshot the worker has find's deltas computed (on L ~0.25 s of CPU
    each, up to 20): it computed them itself, so a hook's preparation sent meanwhile waited
    for all of them (one logged at 10.6 s). Now a process of their own does, killed when
    the next job comes."""
    monkeypatch.setattr(take, "take", lambda w: {"id": 1, "new": True, "created": 0, "files": 0})
    monkeypatch.setattr(take, "prepare", lambda w, upto=None: {"prepared": None, "why": "test"})
    held = threading.Event()  # (the old code's way: in the worker, held until the test ends)
    monkeypatch.setattr(take, "warm_deltas", lambda w: held.wait(60))
    began = tmp_path / "began"
    slow = f"import os, time; open({str(began)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    monkeypatch.setattr(take, "DELTAS_ARGV", [sys.executable, "-c", slow], raising=False)
    r, w = os.pipe()
    ar, aw = os.pipe()
    inp, answers = os.fdopen(r, "r"), os.fdopen(aw, "w")
    jobs, got = os.fdopen(w, "w"), os.fdopen(ar, "r")
    monkeypatch.setattr(sys, "stdin", inp)  # the worker's pipes from the daemon
    monkeypatch.setattr(sys, "stdout", answers)
    worker = threading.Thread(target=take.serve, daemon=True)
    worker.start()
    try:
        jobs.write(f"{tmp_path}\n")  # a watch snapshot: new
        jobs.flush()
        assert json.loads(got.readline())["new"] is True
        deadline = time.monotonic() + 60  # (only a failing test waits it out)
        while not began.exists() or not began.read_text():  # the deltas' process runs
            assert time.monotonic() < deadline, "no process computes the deltas"
            time.sleep(0.01)
        pid = int(began.read_text())
        jobs.write(json.dumps({"prepare": str(tmp_path)}) + "\n")  # a hook's preparation
        jobs.flush()
        # the deltas' process sleeps 60 s: 30 s is a loaded machine's answer, never theirs
        ready, _, _ = select.select([got], [], [], 30.0)
        assert ready, "the preparation waited for find's deltas"
        assert json.loads(got.readline()) == {"prepared": None, "why": "test"}
        with pytest.raises(ProcessLookupError):  # killed and reaped before the job ran
            os.kill(pid, 0)
    finally:
        held.set()
        jobs.close()
        worker.join(15)
        rebuild.keep_trees(False)
        for f in (got, inp, answers):
            f.close()
    assert not worker.is_alive()
