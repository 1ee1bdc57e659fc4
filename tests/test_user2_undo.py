"""`git snapshot undo` run a second time on the same loss report (session 14, USER2).

It restored the same paths again from the same snapshot, writing over whatever the user had
done since the first undo (kept only in a new pre-restore snapshot, and said nowhere)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture(autouse=True)
def _on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    put_venv_on_path(monkeypatch)  # the printed commands are pasted into sh


def _lost_edit(r: Path) -> None:
    commit(r, "a.txt", b"committed a\n")
    write(r / "a.txt", b"edit a\n")
    gs(r, "run", "--", "git", "checkout", "--", "a.txt")
    assert (r / "a.txt").read_bytes() == b"committed a\n"


def test_a_second_undo_keeps_what_was_written_since_and_says_how_to_go_back(repo: Path) -> None:
    r = repo
    _lost_edit(r)
    gs(r, "undo", "--dry-run")  # not an undo
    gs(r, "undo")
    assert (r / "a.txt").read_bytes() == b"edit a\n"
    write(r / "a.txt", b"later edit\n")
    ran = gs(r, "undo", rc=1)
    assert (r / "a.txt").read_bytes() == b"later edit\n"  # the old code wrote "edit a" over it
    (line,) = ran.err_lines
    assert "already undone" in line, line
    # the command it prints, pasted as printed, puts back what the first undo wrote over
    cmd = line.split("to put that back: git snapshot restore", 1)[1].rstrip(")")
    subprocess.run(["sh", "-c", "git snapshot restore" + cmd], cwd=r, check=True)
    assert (r / "a.txt").read_bytes() == b"committed a\n"
    assert gs(r, "undo", "--dry-run", rc=1).err_lines == [line]
    (item,) = json.loads(gs(r, "losses", "--json").out)
    assert item["undone"] and item["undone"] in line, (item, line)
    # a new report is undone as usual
    write(r / "a.txt", b"second edit\n")
    gs(r, "run", "--", "git", "checkout", "--", "a.txt")
    gs(r, "undo")
    assert (r / "a.txt").read_bytes() == b"second edit\n"


def test_a_second_undo_from_a_subfolder_prints_paths_from_there(repo: Path) -> None:
    r = repo
    commit(r, "sub/b.txt", b"committed b\n")
    write(r / "sub" / "b.txt", b"edit b\n")
    gs(r, "run", "--", "git", "checkout", "--", "sub/b.txt")
    gs(r / "sub", "undo")
    (line,) = gs(r / "sub", "undo", rc=1).err_lines
    words = shlex.split(line.split("to put that back: git snapshot restore", 1)[1].rstrip(")"))
    assert words[1:] == ["b.txt"], line
    subprocess.run(["git", "snapshot", "restore", *words], cwd=r / "sub", check=True)
    assert (r / "sub" / "b.txt").read_bytes() == b"committed b\n"


def test_a_second_undo_never_names_a_forgotten_snapshot(repo: Path) -> None:
    r = repo
    _lost_edit(r)
    gs(r, "undo")
    pre = max(s["id"] for s in json.loads(gs(r, "list", "--json").out))
    gs(r, "forget", str(pre))
    (line,) = gs(r, "undo", rc=1).err_lines
    assert "already undone" in line and f"snapshot {pre}, forgotten since" in line, line
    assert "to put that back" not in line and f"restore {pre}" not in line, line


def test_a_second_undo_of_a_deletion_prints_no_restore_command_that_fails(repo: Path) -> None:
    """The first undo created the deleted file: the pre-restore snapshot does not hold it, and
    'git snapshot restore P notes.txt' failed when pasted ('notes.txt is not in snapshot P')."""
    r = repo
    write(r / "notes.txt", b"mine\n")
    gs(r, "run", "--", "rm", "notes.txt")
    gs(r, "undo")
    assert (r / "notes.txt").read_bytes() == b"mine\n"
    (line,) = gs(r, "undo", rc=1).err_lines
    assert "already undone" in line and "it created notes.txt (not in snapshot" in line, line
    assert not re.search(r"git snapshot restore \d", line), line  # (--newest PATH: a hint)
