"""RED38 B1: `git snapshot undo` after a command git ran no hook for.

The day something goes wrong: a plain `git reset --hard` (no hook: no report) destroys an
edit, and the user types `git snapshot undo`. The latest loss report was an older one (a
merge that overwrote an ignored `.env`, dealt with by hand); `undo` wrote that report's old
`.env` over the file edited since, said nothing of the snapshots taken since nor of the
reset's loss. Now `undo` still acts on the latest report (DESIGN.md), but where a path it
would write back changed since that report (on disk, or in a snapshot taken since) it writes
nothing: a line per such path, then one saying how to find what a command with no hook took
(`diff latest`, `restore --newest`) and the restore command that puts the report's versions
back all the same. The "already undone" refusal points to the same two commands.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import write

OLD = b"OLD_SECRET=1\n"  # the user's ignored .env, which the merge wrote over (reported)
SHARED = b"SHARED=1\n"  # the branch's committed .env
NEW = b"NEW_SECRET=2\n"  # the user's edit of it since (tracked now)
WIP = b"v2 wip\n"  # an edit of app.js, saved in a snapshot, then reset away
HINT = ("git snapshot diff latest", "git snapshot restore --newest")


@pytest.fixture
def reported(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`.env` ignored and held; `git merge other` (other tracks .env) wrote over it: one
    loss report, not undone."""
    return _merged(repo, monkeypatch)


def _merged(repo: Path, monkeypatch: pytest.MonkeyPatch, first: bytes | None = None) -> Path:
    """reported's worktree; with *first*, a snapshot of .env holding it taken before."""
    put_venv_on_path(monkeypatch)  # the printed commands are pasted into sh
    commit(repo, ".gitignore", b".env\n")
    commit(repo, "app.js", b"v1\n")
    side_commit(repo, "other", {".env": SHARED})
    install(repo)
    if first is not None:
        write(repo / ".env", first)
        _snapshot(repo, "first")
    write(repo / ".env", OLD)
    ran = git(repo, "merge", "-q", "other")
    (rep,) = ran.reports
    assert rep.names == ".env", ran.err
    assert (repo / ".env").read_bytes() == SHARED
    return repo


def _snapshot(repo: Path, msg: str) -> int:
    return int(json.loads(gs(repo, "create", "-m", msg, "--json").out)["id"])


def _the_restore_command(ran: Ran) -> list[str]:
    """The 'all the same' restore command the refusal prints, as argv."""
    line = ran.err_lines[-1]
    tail = line.split("all the same", 1)[1].split(": ", 1)[1]
    return shlex.split(tail.split(";")[0].rstrip(")"))


def test_undo_after_a_reset_with_no_hook_writes_nothing_and_says_why(reported: Path) -> None:
    r = reported
    write(r / ".env", NEW)
    morning = _snapshot(r, "morning")
    write(r / "app.js", WIP)
    _snapshot(r, "noon")
    git(r, "reset", "-q", "--hard")  # no hook: no report
    for args in (("undo", "--dry-run"), ("undo",)):
        ran = gs(r, *args, rc=1)
        assert (r / ".env").read_bytes() == SHARED, ran.err  # nothing written over
        assert (r / "app.js").read_bytes() == b"v1\n"
        lines = ran.err_lines
        (changed,) = [ln for ln in lines if ln.startswith("git-snapshot: .env changed since")]
        # the later version, where it is
        later = int(changed.split("snapshot ", 1)[1].split(",", 1)[0])
        assert later >= morning and gs(r, "cat", str(later), ".env").out == NEW.decode(), changed
        last = " ".join(lines[-4:])  # the refusal's lines (RED40 D9: one of 548 characters before)
        assert "git merge" in last and "2 snapshots were taken since" in last, last
        assert all(h in last for h in HINT), last
    # what the user lost to the reset is found as the refusal says
    gs(r, "restore", "--newest", "app.js")
    assert (r / "app.js").read_bytes() == WIP
    # and the report's versions can still be put back, as the refusal prints it
    subprocess.run(_the_restore_command(ran), cwd=r, check=True, capture_output=True)
    assert (r / ".env").read_bytes() == OLD


def test_an_edit_on_disk_since_the_report_is_not_written_over(reported: Path) -> None:
    """No snapshot since: the file on disk tells."""
    r = reported
    write(r / ".env", NEW)
    ran = gs(r, "undo", rc=1)
    assert (r / ".env").read_bytes() == NEW
    assert any(ln.startswith("git-snapshot: .env changed since") for ln in ran.err_lines), ran.err
    assert "0 snapshots" not in ran.err_lines[-1], ran.err


def test_a_restore_since_the_report_is_not_written_over(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restore writes a version with its old mtime: its pre-restore snapshot tells."""
    r = _merged(repo, monkeypatch, first=b"ANCIENT=0\n")
    gs(r, "restore", "1", ".env")
    ran = gs(r, "undo", rc=1)
    assert (r / ".env").read_bytes() == b"ANCIENT=0\n"
    (line,) = [ln for ln in ran.err_lines if ln.startswith("git-snapshot: .env changed since")]
    assert "restored from snapshot 1 since" in line, line


def test_a_chmod_since_the_report_is_no_change(repo: Path) -> None:
    """Only a new version counts, not a chmod (as a partial undo's user makes a file
    writable), of what the reported command itself wrote."""
    write(repo / "notes.txt", b"mine\n")
    gs(repo, "run", "--", "sh", "-c", "echo theirs > notes.txt")
    (repo / "notes.txt").chmod(0o600)
    gs(repo, "undo")
    assert (repo / "notes.txt").read_bytes() == b"mine\n"


def test_undo_right_after_the_report_still_puts_back(reported: Path) -> None:
    r = reported
    _snapshot(r, "unrelated")  # a snapshot since, nothing changed at .env
    write(r / "app.js", WIP)  # an edit elsewhere
    gs(r, "undo")
    assert (r / ".env").read_bytes() == OLD
    assert (r / "app.js").read_bytes() == WIP


def test_a_path_put_back_already_is_no_change(reported: Path) -> None:
    """The user pasted the report's own restore command: undo writes nothing new there."""
    r = reported
    snap = json.loads(gs(r, "losses", "--json").out)[-1]["snapshot"]
    gs(r, "restore", str(snap), ".env")
    gs(r, "undo")
    assert (r / ".env").read_bytes() == OLD


def test_already_undone_points_to_what_finds_a_loss_no_hook_saw(reported: Path) -> None:
    r = reported
    gs(r, "undo")
    git(r, "reset", "-q", "--hard")
    (line,) = gs(r, "undo", rc=1).err_lines
    assert "already undone" in line, line
    assert all(h in line for h in HINT), line
    # the hint comes before the command that gives back what the undo replaced
    assert line.index(HINT[1]) < line.index("to put that back"), line
