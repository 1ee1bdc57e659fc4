"""A moved linked worktree's loss log is carried to its new place without a way to lose it.

identity._take_log removed the old log before _give_log appended its lines to the new one,
and _give_log swallowed an OSError: a full disk dropped the reports (which the retention reads
to keep what they name). And a log that could not be read made every command in the moved
worktree end in an internal error. Now the old file is renamed to a name the retention still
reads and removed only once its lines are written; one that cannot be read stays as it is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, ".gitignore", b".env\n*.log\n")
    install(repo)
    return repo


def _logs(store: str) -> dict[str, bytes]:
    d = os.path.join(store, "losses")
    return {n: Path(d, n).read_bytes() for n in os.listdir(d) if n.endswith(".jsonl")}


def test_a_log_carried_along_leaves_no_old_file(hooked: Path) -> None:
    r, store = hooked, os.environ["GIT_SNAPSHOT_STORE"]
    wt1, wt2 = r.parent / "wt1", r.parent / "wt2"
    git(r, "worktree", "add", "-q", str(wt1), "-b", "w")
    write(wt1 / "build.log", b"x\n")
    gs(wt1, "run", "--", "git", "clean", "-fdX")
    before = _logs(store)
    git(r, "worktree", "move", str(wt1), str(wt2))
    lost = json.loads(gs(wt2, "losses", "--json"))
    assert [[x["path"] for x in e["lost"]] for e in lost] == [["build.log"]]
    after = _logs(store)
    assert len(after) == len(before) and not any("moving" in n for n in after), after


def test_an_unreadable_log_is_left_and_no_command_fails(hooked: Path) -> None:
    r, store = hooked, os.environ["GIT_SNAPSHOT_STORE"]
    wt1, wt2 = r.parent / "wt1", r.parent / "wt2"
    git(r, "worktree", "add", "-q", str(wt1), "-b", "w")
    write(wt1 / "build.log", b"x\n")
    gs(wt1, "run", "--", "git", "clean", "-fdX")
    (name,) = [n for n in _logs(store) if b"build.log" in _logs(store)[n]]
    log = Path(store, "losses", name)
    log.unlink()
    log.mkdir()  # (what no read can take for a log)
    git(r, "worktree", "move", str(wt1), str(wt2))
    ran = gs(wt2, "list", "--json")
    assert json.loads(ran) and "internal error" not in ran.err
    assert log.is_dir()
