"""A merge still running is not a stopped one (RED35 S1).

A merge's pre-hook notes its snapshot (stopped.begin) for the case where it stops on a
conflict and no post-hook reports what it destroyed: the next hook of another git command, or
the next git-snapshot command, then does (stopped.consume). A merge that only waits (its
message in the user's editor, `git merge --no-ff --edit`) has that note too: a `git snapshot
list`, or another git command's hook, run meanwhile took it for a stopped merge's and reported
the loss, then post-merge reported it again: two entries in the loss log for one loss. The
note names the git command that wrote it (pid and start time); while that process runs, the
note is left to its own post-hook. A note whose process has ended, or whose pid now names
another process, is a stopped operation's, as before.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import install
from hookhelpers import put_venv_on_path

NEWEST = "ENV, the user's newest\n"
THEIRS = "B's env\n"
_WAITER = 'touch "$HOLD/waiting"; while [ ! -e "$HOLD/go" ]; do sleep 0.02; done; :'


def _repo(tmp_path: Path, conflict: bool = False) -> Path:
    """main (ignoring .env, which holds the user's NEWEST, saved in snapshot 1) and B, which
    tracks .env; each has a commit of its own (a merge commit: its message in the editor),
    which add m.txt each its own way if *conflict*."""
    r = Path(os.path.realpath(init_repo(tmp_path / "w")))
    (r / "a.txt").write_text("a\n")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "init")
    git(r, "checkout", "-q", "-b", "B")
    (r / ".env").write_text(THEIRS)
    if conflict:
        (r / "m.txt").write_text("B's own\n")
    git(r, "add", ".env", *(["m.txt"] if conflict else []))
    git(r, "commit", "-q", "-m", "B's env")
    git(r, "checkout", "-q", "main")
    (r / ".git" / "info" / "exclude").write_text(".env\n")
    (r / "m.txt").write_text("main's own\n")
    git(r, "add", "m.txt")
    git(r, "commit", "-q", "-m", "main's own")
    install(r)
    (r / ".env").write_text(NEWEST)
    gs(r, "create")
    return r


def _pending(r: Path) -> Path:
    return r / ".git" / "git-snapshot-pending"


def _entries(r: Path) -> list[tuple[int, tuple[str, ...]]]:
    got = json.loads(gs(r, "losses", "--json").out)
    return [(e["snapshot"], tuple(x["path"] for x in e["lost"])) for e in got]


def _held_merge(r: Path, hold: Path) -> subprocess.Popen[str]:
    """`git merge --no-ff --edit B`, waiting in its editor: the worktree merged."""
    merge = subprocess.Popen(
        ["git", "merge", "--no-ff", "--edit", "B"], cwd=r, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not (hold / "waiting").exists():
        assert merge.poll() is None, f"git ended first: {merge.communicate()}"
        assert time.monotonic() < deadline, "the editor never started"
        time.sleep(0.02)
    assert (r / ".env").read_text() == THEIRS
    return merge


# a git-snapshot command (common.repo_at), another git command's hook (post-checkout)
DURING = {
    "snapshot list": ("list",),
    "snapshot diff": ("diff",),
    "checkout -- a.txt": ("git", "checkout", "--", "a.txt"),
}


@pytest.mark.parametrize("during", DURING)
def test_a_command_run_while_a_merge_waits_for_its_message_leaves_it_to_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, during: str
) -> None:
    put_venv_on_path(monkeypatch)
    r = _repo(tmp_path)
    hold = tmp_path / "hold"
    hold.mkdir()
    monkeypatch.setenv("HOLD", str(hold))
    monkeypatch.setenv("GIT_EDITOR", _WAITER)
    merge = _held_merge(r, hold)
    assert _pending(r).exists()
    words = DURING[during]
    ran = git(r, *words[1:]) if words[0] == "git" else gs(r, *words)
    assert ".env" not in ran.err, ran.err  # the merge has not stopped: not theirs to say
    assert _pending(r).exists()
    assert _entries(r) == []
    (hold / "go").touch()
    _, err = merge.communicate(timeout=120)
    assert merge.returncode == 0, err
    assert "restore 1 .env" in err, err  # post-merge's own report
    assert not _pending(r).exists()
    assert _entries(r) == [(1, (".env",))]  # once
    assert gs(r, "list").reports == []


def test_a_stopped_merge_whose_pid_names_another_process_now_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pid reused since (here this test's own process, which started at another time) is
    no sign the merge still runs."""
    put_venv_on_path(monkeypatch)
    r = _repo(tmp_path, conflict=True)
    stopped = git(r, "merge", "-q", "B", rc=None)  # stops on m.txt: no post-merge
    assert stopped.rc != 0 and (r / ".env").read_text() == THEIRS
    note = json.loads(_pending(r).read_text())
    assert note["by"] is not None  # (written with /proc: the merge's pid and start)
    note["by"] = [os.getpid(), note["by"][1] - 3600.0]
    _pending(r).write_text(json.dumps(note))
    listed = gs(r, "list")
    (rep,) = listed.reports
    assert (rep.what, rep.names) == ("git merge", ".env")
    assert _entries(r) == [(1, (".env",))]
    assert gs(r, "list").reports == []  # once


def test_a_stopped_merge_not_reaped_yet_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A git that stopped and ended, its parent (an IDE, here this test) not having waited
    for it yet: a zombie, its pid still in /proc, runs no more."""
    put_venv_on_path(monkeypatch)
    r = _repo(tmp_path, conflict=True)
    merge = subprocess.Popen(["git", "merge", "-q", "B"], cwd=r, stderr=subprocess.DEVNULL)
    try:
        os.waitid(os.P_PID, merge.pid, os.WEXITED | os.WNOWAIT)  # ended, not reaped
        assert (r / ".env").read_text() == THEIRS
        (rep,) = gs(r, "list").reports
        assert (rep.what, rep.names) == ("git merge", ".env")
    finally:
        assert merge.wait(timeout=60) != 0
    assert _entries(r) == [(1, (".env",))]
