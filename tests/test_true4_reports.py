"""Loss reports and printed lines that said something untrue (session 16, TRUE4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import wait_for
from test_watch_daemon import wait_held
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot import lossrecord
from git_snapshot.store import Store
from git_snapshot.watch import bursts


def _topic_and_main(repo: Path) -> None:
    """topic: c1 (y), c2 (x, and gen.out, ignored, added with -f), c3 (y) on init; main:
    one commit (z) on init."""
    (repo / "x").write_text("base\n")
    (repo / "y").write_text("base\n")
    (repo / ".gitignore").write_text("gen.out\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    git(repo, "checkout", "-q", "-b", "topic")
    for name, text in (("y", "c1\n"), ("x", "c2\n"), ("y", "c3\n")):
        (repo / name).write_text(text)
        if text == "c2\n":
            (repo / "gen.out").write_text("committed\n")
            git(repo, "add", "-f", "gen.out")
        git(repo, "commit", "-q", "-a", "-m", text.strip())
    git(repo, "checkout", "-q", "main")
    (repo / "z").write_text("up\n")
    git(repo, "add", "z")
    git(repo, "commit", "-q", "-m", "up")
    git(repo, "checkout", "-q", "topic")


def test_a_snapshot_taken_while_a_rebase_stopped_names_no_committed_version_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebase stopped at an `edit` (or a conflict) long enough for the watcher's snapshot
    (3 s: here a `git snapshot create`): `rebase --continue`'s post-rewrite compared that
    mid-rebase snapshot with the result, and the versions of the rebase's own commits it
    held (C1' here, which HEAD was at, not ORIG_HEAD nor HEAD) were "destroyed uncommitted
    edits": 'git rebase destroyed 2 files with uncommitted edits: x, y'. Nothing of them was
    lost; the ignored file written during the stop, which c2 overwrote, was (and is named)."""
    put_venv_on_path(monkeypatch)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    _topic_and_main(repo)
    install(repo)
    git(repo, "rebase", "-i", "main", GIT_SEQUENCE_EDITOR="sed -i '1s/^pick/edit/'")
    assert (repo / "y").read_text() == "c1\n"  # stopped at c1'
    (repo / "gen.out").write_text("precious\n")  # ignored: git writes c2's over it
    gs(repo, "create", "-m", "during the stop")
    ran = git(repo, "rebase", "--continue")
    assert "destroyed 1 ignored file: gen.out (" in ran.err, ran.err
    (entry,) = json.loads(gs(repo, "losses", "--json").out)
    assert [x["path"] for x in entry["lost"]] == ["gen.out"]
    gs(repo, "restore", str(entry["snapshot"]), "gen.out")
    assert (repo / "gen.out").read_text() == "precious\n"


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_a_repository_deleted_whole_is_reported_and_its_command_restores_it_from_anywhere(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`rm -rf proj` of a whole repository, with the watcher on, never cloned again: the
    worker's bursts.record found no repository at the path and no other worktree, returned
    None ("nowhere to report it"; daemon.log: "a burst of 23 changes: nothing lost"), and
    nothing but `watch status` said anything. Now `git snapshot losses` run where no
    repository is lists it, the next hook of any other repository says it once, and the
    printed restore command, pasted in another directory, writes every file back."""
    put_venv_on_path(monkeypatch)
    config(burstFiles=10, burstSeconds=1)
    repo = make_repo(tmp_path, "proj")
    (repo / "data").mkdir()
    for i in range(12):
        (repo / "data" / f"d{i}.csv").write_text(f"{i}\n")
    (repo / "notes.log").write_bytes(b"ignored, precious\n")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    wait_for(
        lambda: any("notes.log" in paths_in(s) for s in watch_snaps(repo)),
        what="a watch snapshot holding everything",
    )
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    git(other, "commit", "-q", "--allow-empty", "-m", "x")
    install(other)
    gone_before = gs(tmp_path, "losses", rc=1)
    assert "not a git repository" in gone_before.err
    subprocess.run(["rm", "-rf", str(repo)], check=True)
    listed = wait_for(
        lambda: (ran := gs(tmp_path, "losses", rc=None)).rc == 0 and ran,
        timeout=30,
        what="the loss report of the deleted repository",
    )
    assert str(repo) in listed.out and "data/ (12 files)" in listed.out, listed
    (entry,) = json.loads(gs(tmp_path, "losses", "--json").out)
    assert entry["gone"] is True and entry["removed_worktree"] == str(repo)
    assert entry["available"] is True
    assert {x["path"] for x in entry["lost"]} >= {"notes.log", "src/main.py", "data/d11.csv"}
    assert "nothing lost" not in watcher.log()
    # the next hook of another repository says it, once
    wait_held(store_dir / "losses" / lossrecord.EVERYWHERE, "was deleted whole")
    first = git(other, "checkout", "-q", "-b", "b1")
    (line,) = [x for x in first.err.splitlines() if x.startswith("git-snapshot: earlier")]
    assert f"the repository {repo} was deleted whole" in line, line
    assert "git-snapshot: earlier" not in git(other, "checkout", "-q", "-b", "b2").err
    # and `losses` in any other worktree lists it after its own
    in_other = gs(other, "losses").out
    assert "repositories deleted whole" in in_other and str(repo) in in_other, in_other
    # its command, pasted as printed in another directory
    cmd = line.partition("restore with: ")[2]
    (cmd_listed,) = [
        x.removeprefix("restore with: ")
        for x in listed.out.splitlines()
        if x.startswith("restore with:")
    ]
    assert cmd == cmd_listed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(cmd, shell=True, cwd=elsewhere, check=True, capture_output=True)
    assert (repo / "notes.log").read_bytes() == b"ignored, precious\n"
    assert (repo / "data" / "d11.csv").read_text() == "11\n"
    assert (repo / "src" / "main.py").read_text() == "print(1)\n"


def test_no_loss_report_says_where_a_reset_hards_loss_is_found(repo: Path) -> None:
    """After `git reset --hard` (no hook: nothing reported) a newcomer's first look,
    `git snapshot losses`, said only "no loss reports for this worktree"; it now says why
    such a command reports nothing and how to find what it destroyed (the commands it names
    work as printed)."""
    (repo / "README").write_text("an edit\n")
    gs(repo, "create", "-m", "before")
    git(repo, "reset", "-q", "--hard")
    said = gs(repo, "losses").out
    assert "git reset --hard" in said and "git snapshot diff ID" in said, said
    assert "before" in gs(repo, "list").out
    assert "M README" in gs(repo, "diff", "1").out


def test_a_repository_deleted_whole_is_named_once_by_two_bursts(tmp_path: Path) -> None:
    """An rm -rf longer than a burst's window gives two bursts; each compared the whole
    snapshot with the gone folder and named every file again (two entries, two lines)."""
    repo = tmp_path / "proj"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.txt").write_text("a\n")
    (repo / "b.txt").write_text("b\n")
    gs(repo, "create", "-m", "before")
    with Store() as store:
        (snap,) = store.snapshots()
    subprocess.run(["rm", "-rf", str(repo)], check=True)
    now = time.time()
    with Store() as store:
        first = bursts.record(
            store, str(repo), bursts.Burst((str(repo / "a.txt"),), now, now + 1), snap
        )
        again = bursts.record(
            store, str(repo), bursts.Burst((str(repo / "b.txt"),), now + 7, now + 8), snap
        )
        assert first is not None and again is not None and again["time"] == first["time"]
        (entry,) = lossrecord.gone_reports(store)
        assert {x["path"] for x in entry["lost"]} == {"a.txt", "b.txt"}
        (line,) = lossrecord.take_everywhere(store.losses_dir)
        assert "the repository" in line and "2 files" in line


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_a_git_command_s_overwrites_are_reported_once_with_the_watcher_on(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`git checkout -- .` over 120 edited files, the watcher on: post-checkout reported
    them, then the watcher's burst of overwrites did again ("earlier, at 22:02: 120 files
    under d/ were overwritten ... saved in snapshot 2", two entries in `losses`), and
    claimed its copy exact where the hook, after the command, cannot know it is. (A burst
    recorded after the hook's report: here the burst ends when the daemon stops, after the
    checkout; with burstSeconds, a hook slower than that, on a loaded machine, still leaves
    both.)"""
    put_venv_on_path(monkeypatch)
    config(burstFiles=50, burstSeconds=600)  # the burst ends with the daemon
    repo = make_repo(tmp_path)
    (repo / "d").mkdir()
    for i in range(120):
        (repo / "d" / f"f{i}.txt").write_text(f"{i}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "files")
    for i in range(120):  # (before the watcher: no burst of their own)
        (repo / "d" / f"f{i}.txt").write_text(f"edit {i}\n")
    add(store_dir, repo)
    daemon = watcher.start()
    watcher.watching(repo)
    install(repo)  # (with the watcher running: it starts none)
    wait_for(
        lambda: any("d/f119.txt" in paths_in(s) for s in watch_snaps(repo)),
        what="a watch snapshot holding the edits",
    )
    said = git(repo, "checkout", "--", ".")  # (its hook synced: the daemon read git's writes)
    assert "destroyed 120 files with uncommitted edits" in said.err, said.err
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=60)
    # recorded (in parts when a watch snapshot committed during git's writes: a loaded
    # machine), and every part found the hook had named its files
    parts = watcher.bursts()
    assert parts and all(ln.endswith(": nothing lost") for ln in parts), watcher.log()
    entries = json.loads(gs(repo, "losses", "--json").out)
    assert [e["command"] for e in entries] == ["git checkout"], (entries, watcher.log())
    assert "git-snapshot: earlier" not in git(repo, "checkout", "-q", "-b", "next").err
