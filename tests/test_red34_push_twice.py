"""RED34 B3 (finding 3): two ``git snapshot push`` at once from one machine's store (two
terminals, two worktrees, or ``snapshot.autoPush``'s background push racing a manual one)
failed about half the time with "the snapshot index .../index.sqlite cannot be used (UNIQUE
constraint failed: packs.name); ... git snapshot repair": both entered the same pack in the
remote's cache index (under ~/.cache), and the store they blamed was fine. The auto-push
recorded it as the remote's error and backed off. Pushes through one cache now take turns:
both succeed, the second finds what the first sent."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


def _env(a: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **a, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def _start(a: dict[str, str], repo: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [f"{VENV_BIN}/git-snapshot", "push", *args],
        cwd=repo,
        env=_env(a),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _new_files(repo: Path, round_: int) -> None:
    for i in range(8):
        (repo / f"f{round_}.{i}").write_bytes(os.urandom(3000 + 997 * i))


def test_two_pushes_at_once_from_one_store_both_succeed(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    on(a, repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    for round_ in range(5):
        _new_files(repo, round_)
        on(a, repo, "-m", f"r{round_}")
        procs = [_start(a, repo, "r") for _ in range(2)]
        outs: list[tuple[str, str, int]] = []
        for p in procs:
            got_out, got_err = p.communicate(timeout=120)
            outs.append((got_out.decode(), got_err.decode(), p.returncode))
        for out, err, rc in outs:
            lines = err.splitlines()  # at most: that it waits for the other
            assert rc == 0 and all("waiting for another push" in x for x in lines), (out, err)
        pushed = [int(out.split()[1]) for out, _, _ in outs]
        assert sorted(pushed) == [0, 1], outs  # one sent it, the other found it there
    on(a, repo, "verify", "--remote", "r", "--read-data")
    assert "5 already there" in on(a, repo, "push", "r").out


def test_a_manual_push_beside_the_auto_push_records_no_error(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    on(a, repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    for round_ in range(4):
        _new_files(repo, round_)
        on(a, repo, "-m", f"r{round_}")
        auto = _start(a, repo, "--auto", "r")
        manual = on(a, repo, "push", "r")
        assert "pushed" in manual.out, manual.out
        auto.communicate(timeout=120)  # (its pipes read and closed)
        assert auto.returncode == 0
        state = on(a, repo, "remote", "list").out
        assert "failed" not in state and "error" not in state, state
