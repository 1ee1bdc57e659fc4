"""Review RF1 (session 44) of fixF1 (red44 F1: snapshot numbers are per store).

- undo in a store the user moved to (a fresh one, the old kept: GIT_SNAPSHOT_STORE set
  elsewhere, or a new default) refused, naming the old store's report of last week, which
  this store's hooks never saw: undo after a `reset --hard` lost its advice; and once the
  user undid the other store's report as told, undo here sent them back to it again.
- a held line whose `-C` path holds a space and a quote, or a tab (``"$(printf ...)"``), was
  printed by another store's command without --this-store (the pattern missed the word).
- the new messages printed a store's path as Python text (``\\udcff`` for a byte 0xff, a
  control character as it is), not as the one shell word the other messages print.
- the record of stores: a FIFO there hung every hook; two stores noted at once lost one.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import put_venv_on_path
from test_red44_two_stores import env_repo

from git_snapshot import lossrecord
from git_snapshot import output
from git_snapshot import whichstore
from git_snapshot.gitrepo import find_repo


def _two(tmp_path: Path, a: Path, name: str | bytes = "repo") -> Path:
    """red44's two_stores.sh: store B (GIT_SNAPSHOT_STORE) holds snapshots 1-4 of x.env's
    OLD value, store A 1-3 of its CURRENT one, A's the latest."""
    repo = env_repo(tmp_path, name)
    (repo / "x.env").write_text("OLD value\n")
    for m in ("one", "two", "three", "four"):
        gs(repo, "create", "-m", m)
    (repo / "x.env").write_text("CURRENT SECRET\n")
    for m in ("one", "two", "three"):
        gs(repo, "create", "-m", m, GIT_SNAPSHOT_STORE=str(a))
    return repo


def test_undo_in_a_store_moved_to_does_not_send_to_the_old_stores_report(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    old = tmp_path / "old-store"
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(old))  # all of last week
    repo = env_repo(tmp_path)
    (repo / "x.env").write_text("last week's secret\n")
    gs(repo, "create")
    git(repo, "merge", "-q", "--no-edit", "b")  # reported there
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    # the user moves to a new store (the old one kept); its hooks take snapshots, no report
    monkeypatch.setenv("GIT_SNAPSHOT_STORE", str(store_dir))
    (repo / "a.txt").write_text("edit\n")
    gs(repo, "create")
    git(repo, "reset", "-q", "--hard")  # no hook: the case undo's advice is for
    res = gs(repo, "undo", rc=None)
    assert res.rc != 0
    assert str(old) not in res.err, res.err
    assert "no loss report to undo" in res.err, res.err
    # in the old store, its report is undone as before
    gs(repo, "undo", "--dry-run", GIT_SNAPSHOT_STORE=str(old))


def test_undo_after_the_other_stores_report_was_undone_there_is_not_sent_back(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    a = tmp_path / "storeA"
    repo = _two(tmp_path, a)
    git(repo, "merge", "-q", "--no-edit", "b", GIT_SNAPSHOT_STORE=str(a))
    first = gs(repo, "undo", rc=None)
    assert first.rc != 0 and str(a) in first.err, first.err  # (fixF1: sent to A)
    gs(repo, "undo", GIT_SNAPSHOT_STORE=str(a))  # as told
    assert (repo / "x.env").read_text() == "CURRENT SECRET\n"
    again = gs(repo, "undo", rc=None)  # B has no report: A's is undone, nothing to send to
    assert again.rc != 0
    assert "git snapshot undo;" not in again.err, again.err
    assert "no loss report to undo" in again.err, again.err


@pytest.mark.parametrize("name", ["re po'q", "re po\tq"], ids=["quote-space", "printf"])
def test_a_held_line_whose_worktree_path_is_quoted_gets_its_store_and_this_store(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str | bytes
) -> None:
    put_venv_on_path(monkeypatch)
    a = tmp_path / "storeA"
    repo = _two(tmp_path, a, name)
    git(repo, "merge", "-q", "--no-edit", "b", GIT_SNAPSHOT_STORE=str(a))
    here = output.shell_quote(os.fsencode(repo))
    line = (
        "git-snapshot: 5 files under notes/ were deleted at 12:00; saved in snapshot 3; "
        f"restore with: git snapshot -C {here} restore 3 x.env"
    )
    lossrecord.hold(find_repo(str(repo)), [line], store=str(a))
    (said,) = [ln for ln in gs(repo, "list").err.splitlines() if "restore with: " in ln]
    cmd = said.split("restore with: ", 1)[1]
    assert cmd == (
        f"GIT_SNAPSHOT_STORE={shlex.quote(str(a))} git snapshot -C {here} "
        "restore --this-store 3 x.env"
    ), said
    ran = subprocess.run(["sh", "-c", cmd], capture_output=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert (repo / "x.env").read_text() == "CURRENT SECRET\n"


def test_the_refusals_name_a_store_as_the_one_shell_word_that_gives_it_back(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    a = Path(os.fsdecode(os.fsencode(tmp_path) + b"/st A\xff\x1b[2J"))
    repo = _two(tmp_path, a)
    git(repo, "merge", "-q", "--no-edit", "b", GIT_SNAPSHOT_STORE=str(a))
    shown = output.display(os.fsencode(a))
    for args in (["restore", "3", "x.env"], ["undo"]):
        res = gs(repo, *args, rc=None)
        assert res.rc != 0
        assert "\x1b" not in res.err and "\\udc" not in res.err, res.err
        assert f"into {shown}," in res.err or f"in store {shown}," in res.err, res.err
    assert (repo / "x.env").read_text() == "TRACKED on b\n"


def test_a_fifo_in_place_of_the_record_does_not_hang_a_hook(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    repo = env_repo(tmp_path)
    (repo / ".git" / whichstore.FILE).unlink()
    os.mkfifo(repo / ".git" / whichstore.FILE)
    (repo / "a.txt").write_text("edit\n")
    try:
        ran = subprocess.run(
            ["git", "checkout", "-q", "-b", "x"],
            cwd=repo,
            capture_output=True,
            timeout=60,
            check=False,
        )
    finally:  # a hook still waiting on the FIFO reads its end and goes on
        with contextlib.suppress(OSError):
            os.close(os.open(repo / ".git" / whichstore.FILE, os.O_WRONLY | os.O_NONBLOCK))
    assert ran.returncode == 0, ran.stderr
    assert gs(repo, "list").out.count("post-checkout") == 2  # (switch -c b, checkout -b x)


_NOTE = """
import os, sys, time
from git_snapshot import whichstore
common, store, go = sys.argv[1:]
while not os.path.exists(go):
    time.sleep(0.001)
whichstore.note(common, store)
"""


def test_stores_noted_at_the_same_moment_are_all_kept(tmp_path: Path) -> None:
    """Hooks of several stores noting theirs at once (each its first snapshot there): each
    read the record before the others wrote, and the last rename won alone."""
    for turn in range(6):
        common = tmp_path / f"common{turn}"
        common.mkdir()
        go = tmp_path / f"go{turn}"
        names = [str(tmp_path / f"store{turn}-{i}") for i in range(6)]
        procs = [
            subprocess.Popen([sys.executable, "-c", _NOTE, str(common), n, str(go)]) for n in names
        ]
        go.touch()
        assert all(p.wait(timeout=60) == 0 for p in procs)
        kept = whichstore.stores(str(common))
        assert sorted(kept) == sorted(names), kept


def test_restore_newest_takes_no_number_and_is_not_refused(
    tmp_path: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`restore --newest PATH` names no snapshot: the newest of this store holding PATH
    (what undo's advice after a `reset --hard` prints). fixF1 refused it as a bare number
    that another store also has ("snapshot 4 is this store's ..."), when that store had
    taken the worktree's latest snapshot."""
    put_venv_on_path(monkeypatch)
    a = tmp_path / "storeA"
    repo = _two(tmp_path, a)
    for m in ("four", "five"):  # A took the latest snapshot, and has a snapshot 4 too
        gs(repo, "create", "-m", m, GIT_SNAPSHOT_STORE=str(a))
    (repo / "x.env").write_text("gone\n")
    res = gs(repo, "restore", "--newest", "x.env")
    assert "--this-store" not in res.err, res.err
    assert (repo / "x.env").read_text() == "OLD value\n"  # this store's newest
