"""What follows a worker's job is done after its answer, by a process of its own that the
next job kills (watch/take.housekeep, Deltas): a watch snapshot on L that committed a prepared
tree in 25 ms then held the worker 3.4 s (the files cache's retarget 2.9 s, the merge of the
index's recent rows 0.5 s) before answering, and every hook meanwhile rebuilt its changes
itself."""

from __future__ import annotations

import contextlib
import json
import os
import select
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from clihelpers import git

from git_snapshot.store import rebuild
from git_snapshot.watch import take


class Worker:
    """take.serve in a thread, its pipes the daemon's."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        r, w = os.pipe()
        ar, aw = os.pipe()
        self.inp, self.answers = os.fdopen(r, "r"), os.fdopen(aw, "w")
        self.jobs: IO[str] = os.fdopen(w, "w")
        self.got: IO[str] = os.fdopen(ar, "r")
        monkeypatch.setattr(sys, "stdin", self.inp)
        monkeypatch.setattr(sys, "stdout", self.answers)
        self.thread = threading.Thread(target=take.serve, daemon=True)
        self.thread.start()

    def ask(self, line: str, within: float) -> dict[str, object]:
        self.jobs.write(line + "\n")
        self.jobs.flush()
        ready, _, _ = select.select([self.got], [], [], within)
        assert ready, f"no answer within {within}s"
        answer: dict[str, object] = json.loads(self.got.readline())
        return answer

    def close(self) -> None:
        self.jobs.close()
        self.thread.join(15)
        rebuild.keep_trees(False)
        for f in (self.got, self.inp, self.answers):
            f.close()
        assert not self.thread.is_alive()


@contextlib.contextmanager
def worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Worker]:
    """Started in the test's body (pytest sets sys.stdout again after the fixtures)."""
    # the process that follows a job: a script saying what it was told
    said = tmp_path / "housekeep"
    script = f"import sys; open({str(said)!r}, 'a').write(' '.join(sys.argv[1:3]) + '\\n')"
    monkeypatch.setattr(take, "DELTAS_ARGV", [sys.executable, "-c", script])
    w = Worker(monkeypatch)
    try:
        yield w
    finally:
        w.close()


def _said(tmp_path: Path) -> list[str]:
    deadline = time.monotonic() + 60  # (only a failing test waits it out)
    path = tmp_path / "housekeep"
    while not path.exists() or not path.read_text().endswith("\n"):
        assert time.monotonic() < deadline, "no process followed the job"
        time.sleep(0.01)
    return path.read_text().splitlines()


def test_a_watch_snapshot_answers_before_the_cache_and_the_merge(
    repo: Path, store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    # in this process, they hold the worker until the test ends: an answer comes only if
    # the worker did not run them first (30 s: a loaded machine's answer, never theirs)
    held = threading.Event()
    monkeypatch.setattr(take, "_retarget", lambda *a: held.wait(60))
    monkeypatch.setattr(take, "_merge", lambda *a: held.wait(60))
    try:
        with worker(monkeypatch, tmp_path) as w:
            answer = w.ask(str(repo), within=30.0)
            assert answer["new"] is True
            assert _said(tmp_path) == [f"new {repo}"]
    finally:
        held.set()
