"""RED40 D1 (finding 9.11): ``git snapshot install`` with the watcher off (GIT_SNAPSHOT_WATCH=0,
as every test runs, or snapshot.watch false) took no snapshot, and the watcher, which takes
one as it begins to watch, never came: the first ``git checkout`` over an ignored .env then
lost it, and no report named it. Now install takes the first snapshot of a worktree that has
none when no watcher will, in one line; a worktree with snapshots gets none more."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import side_commit
from hookhelpers import write


def _with_env(tmp_path: Path) -> Path:
    r = committed_repo(tmp_path / "r")
    write(r / ".gitignore", b".env\n")
    git(r, "add", ".gitignore")
    git(r, "commit", "-q", "-m", "ignore")
    side_commit(r, "tracks", {".env": b"TRACKED=1\n"})
    write(r / ".env", b"SECRET=precious\n")
    return r


def test_install_takes_the_first_snapshot_the_checkout_report_names(tmp_path: Path) -> None:
    r = _with_env(tmp_path)
    out = gs(r, "install").out
    first = [line for line in out.splitlines() if line.startswith("first snapshot")]
    assert len(first) == 1, out
    assert first[0].startswith("first snapshot 1: "), out
    ran = git(r, "checkout", "-q", "tracks")
    (report,) = ran.reports
    assert report.names == ".env" and report.snap == 1, ran.err
    gs(r, *report.command[2:], "--to", str(tmp_path / "back"))
    assert (tmp_path / "back" / ".env").read_bytes() == b"SECRET=precious\n"


def test_no_second_one_and_none_where_snapshots_exist(tmp_path: Path) -> None:
    r = _with_env(tmp_path)
    gs(r, "install")
    again = gs(r, "install").out
    assert "first snapshot" not in again, again
    assert [s["trigger"] for s in json.loads(gs(r, "list", "--json").out)] == ["install"]


def test_snapshot_watch_false_also_gets_one(tmp_path: Path) -> None:
    r = _with_env(tmp_path)
    git(r, "config", "snapshot.watch", "false")
    out = gs(r, "install", GIT_SNAPSHOT_WATCH="1").out
    assert "watcher: off for this worktree" in out, out
    assert "first snapshot 1: " in out, out


def test_a_clean_checkout_gets_none(tmp_path: Path) -> None:
    # (git gives back all of it: a snapshot would hold nothing more)
    r = committed_repo(tmp_path / "r")
    assert "first snapshot" not in gs(r, "install").out
    assert gs(r, "list", "--json").out.strip() == "[]"
