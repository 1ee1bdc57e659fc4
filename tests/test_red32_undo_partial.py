"""RED32 C6: an `undo` that could not write one file (chattr +i) was recorded as done: once the
file was writable, `undo` refused as "already undone", and the command it offered put back
the other files' newer versions (it reversed the undo). Now an undo that left something
unwritten says to run undo again, a rerun puts back the rest, and once done, the command a
third undo names puts back what the first one wrote over."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import put_venv_on_path

LOGS = [f"l{i}.log" for i in range(1, 4)]


def _chattr(flag: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True, check=False)


@pytest.fixture
def frozen(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("chattr +i needs root and chattr")
    put_venv_on_path(monkeypatch)  # the printed commands are pasted into sh
    (repo / ".gitignore").write_text("*.log\n")
    for name in LOGS:
        (repo / name).write_text(f"log {name}\n")
    gs(repo)
    probe = repo.parent / "probe"
    probe.write_text("")
    made = _chattr("+i", probe)
    if made.returncode != 0:  # tmpfs, overlay...: no immutable flag
        pytest.skip(f"chattr +i: {made.stderr.strip()}")
    _chattr("-i", probe)
    # the command writes the newer logs itself (and makes l2.log unwritable): what it left,
    # which undo writes over (a file changed after the report is the user's, which undo
    # leaves alone: RED38 B1)
    newer = "; ".join(f"echo 'newer {name}' > {name}" for name in LOGS)
    gs(repo, "run", "--", "sh", "-c", f"git clean -fdxq; {newer}; chattr +i l2.log", rc=None)
    try:
        yield repo
    finally:
        _chattr("-i", repo / "l2.log")


def test_a_partial_undo_is_finished_by_running_undo_again(frozen: Path) -> None:
    r = frozen
    ran = gs(r, "undo", rc=1)
    assert "git snapshot undo" in ran.ours[-1], ran.err  # what finishes it
    assert (r / "l2.log").read_text() == "newer l2.log\n"
    (item,) = [i for i in json.loads(gs(r, "losses", "--json").out) if i.get("lost")]
    _chattr("-i", r / "l2.log")
    gs(r, "undo")  # not refused: it puts back the rest
    for name in LOGS:
        assert (r / name).read_text() == f"log {name}\n", name
    # done now: a third undo refuses, and its command gives back what the undo replaced
    line = gs(r, "undo", rc=1).ours[-1]
    assert "already undone" in line, line
    cmd = line.split("to put that back: git snapshot restore", 1)[1].split(";")[0]
    subprocess.run(["sh", "-c", "git snapshot restore" + cmd], cwd=r, check=True)
    for name in LOGS:
        assert (r / name).read_text() == f"newer {name}\n", name
    assert item["undone"]  # the partial undo is listed as one
