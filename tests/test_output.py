"""Progress bars on a terminal (a real pty): with a total and ETA where one is known, a rate,
nothing in a pipe, and never the progress library on the hook path."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from ptyhelpers import run_tty
from test_cli_helpers import write

FILES = 300


@pytest.fixture
def big(repo: Path) -> Path:
    """FILES files beside README, in a few folders."""
    for i in range(FILES):
        write(repo / f"d{i % 7}" / f"f{i}.txt", f"{i}\n" * 50)
    return repo


def _bars(shown: bytes, what: str) -> list[str]:
    """The states of the progress bar named *what* the terminal was shown."""
    text = shown.decode("utf-8", "replace")
    return [s for s in re.split(r"[\r\n]", text) if s.startswith(f"{what}:")]


def test_snapshot_progress_files_bytes_and_rate(big: Path) -> None:
    ran = run_tty(big, "-m", "first", stdout=False)
    assert ran.rc == 0, ran
    bars = _bars(ran.tty, "snapshot")
    assert bars, ran.tty
    assert all(" files" in b and "B/s" in b for b in bars), bars  # files, bytes, their rate
    assert not any(re.search(r"\d+/\d+", b) for b in bars)  # a first snapshot: no total yet
    assert b"snapshot 1:" in ran.out


def test_snapshot_progress_expects_the_previous_file_count(big: Path) -> None:
    gs(big, "-m", "first")
    write(big / "new.txt", "x\n")
    ran = run_tty(big, "-m", "second", stdout=False)
    bars = _bars(ran.tty, "snapshot")
    totals = {int(m[1]) for b in bars for m in [re.search(r"\d+/(\d+)", b)] if m}
    assert totals and max(totals) >= FILES + 1, bars  # the first snapshot's count, or more
    assert any("%" in b for b in bars)


def test_restore_progress_has_its_total_and_an_eta(big: Path, tmp_path: Path) -> None:
    gs(big, "-m", "all")
    ran = run_tty(big, "restore", "latest", "--to", str(tmp_path / "out"), stdout=False)
    assert ran.rc == 0, ran
    bars = _bars(ran.tty, "restore")
    assert bars, ran.tty
    totals = {m[1] for b in bars for m in [re.search(r"\d+/(\d+) ", b)] if m}
    assert totals == {str(FILES + 1)}, bars  # every file of the snapshot, README too
    assert all(re.search(r"\[\d\d:\d\d<(\d\d:\d\d|\?)", b) for b in bars), bars  # elapsed<ETA

    # a selection: its own total
    ran = run_tty(big, "restore", "latest", "d3", "--to", str(tmp_path / "d3"), stdout=False)
    totals = {m[1] for b in _bars(ran.tty, "restore") for m in [re.search(r"\d+/(\d+) ", b)] if m}
    assert totals == {str(len(range(3, FILES, 7)))}


def test_verify_progress_counts_objects_of_a_known_total(big: Path) -> None:
    gs(big, "-m", "all")
    ran = run_tty(big, "verify", stdout=False)
    assert ran.rc == 0, ran
    bars = _bars(ran.tty, "verify")
    assert bars and all(" objects" in b for b in bars), ran.tty
    objects = int(re.search(rb"ok: \d+ snapshots, (\d+) objects", ran.out)[1])  # type: ignore[index]
    totals = {int(m[1]) for b in bars for m in [re.search(r"\d+/(\d+) ", b)] if m}
    assert totals == {objects}


def test_the_bar_is_cleared_and_the_summary_stays(big: Path) -> None:
    ran = run_tty(big, "-m", "first")  # stdout and stderr both the terminal
    last_line = ran.tty.decode().replace("\r\n", "\n").split("\r")[-1]
    assert last_line.strip().startswith("snapshot 1:"), ran.tty[-300:]


@pytest.mark.parametrize("args", [["-m", "x"], ["verify"], ["restore", "latest", "--to", "OUT"]])
def test_nothing_in_a_pipe(big: Path, tmp_path: Path, args: list[str]) -> None:
    gs(big, "-m", "first")
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    ran = run_tty(big, *args, stdout=False, stderr=False)
    assert ran.rc == 0
    assert ran.err == b""
    assert ran.tty == b""


def test_the_hook_never_imports_the_progress_library(repo: Path) -> None:
    """Even with a terminal watching (a person's checkout), a hook run imports no tqdm."""
    gs(repo, "install")
    head = git(repo, "rev-parse", "HEAD").strip()
    env = {"PYTHONPROFILEIMPORTTIME": "1"}  # -X importtime of the child, on the terminal
    ran = run_tty(repo, "hook", "post-checkout", head, head, "1", stdout=False, env=env)
    assert ran.rc == 0
    assert b"import time:" in ran.tty and b"git_snapshot.hooks" in ran.tty
    assert b"tqdm" not in ran.tty
    # and an interactive command does import it when it shows a bar
    ran = run_tty(repo, "verify", stdout=False, env=env)
    assert b"| tqdm" in ran.tty or b"verify:" not in ran.tty


def test_progress_library_imports_only_on_a_terminal(big: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "git_snapshot", "-m", "x"],
        cwd=big,
        capture_output=True,
        check=True,
    )
    assert b"tqdm" not in out.stderr
