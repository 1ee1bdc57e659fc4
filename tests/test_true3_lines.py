"""Printed lines that said something untrue (session 15, TRUE3)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from test_red11_unreadable_pack import eio_on
from test_red11_unreadable_pack import two_packs

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import lossrecord
from git_snapshot import worktree
from git_snapshot.commands.repair import cmd_repair
from git_snapshot.store import Store
from git_snapshot.store import repair as repair_mod
from git_snapshot.watch import bursts
from git_snapshot.watch import take as take_mod
from git_snapshot.watch.bursts import BurstDetector

PATH = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def test_install_service_says_hooks_start_the_watcher_only_when_they_do(tmp_path: Path) -> None:
    """`watch --install-service` printed "(any hook also starts it)" with GIT_SNAPSHOT_WATCH=0
    (hooks start nothing then) and with snapshot.watch false (nothing of it is watched)."""
    off = gs(tmp_path, "watch", "--install-service", GIT_SNAPSHOT_WATCH="0")
    assert "any hook also starts it" not in off
    assert "hooks do not start it while GIT_SNAPSHOT_WATCH=0 is set" in off, off
    on = gs(tmp_path, "watch", "--install-service", GIT_SNAPSHOT_WATCH="1")
    assert "any git command with a hook also starts it when it is not running" in on, on
    assert "snapshot.watch is false" not in on
    git(tmp_path, "config", "--global", "snapshot.watch", "false")
    unwatched = gs(tmp_path, "watch", "--install-service", GIT_SNAPSHOT_WATCH="1")
    assert "git config snapshot.watch is false here: it watches no worktree" in unwatched
    assert os.environ["GIT_SNAPSHOT_WATCH"] == "0"  # (the suite's: no daemon left behind)


def test_a_forced_switch_over_a_never_edited_excluded_file_claims_no_lost_edit(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`checkout -f B` rewrites a file left out by snapshot.exclude whose committed version B
    changes, edited or not (git writes the worktree before any hook runs: no hook can tell).
    The line said "any uncommitted edit is lost" for a file that held none."""
    put_venv_on_path(monkeypatch)
    commit(repo, "big.bin", b"v1\n")
    git(repo, "config", "snapshot.exclude", "big.bin")
    install(repo)
    side_commit(repo, "side", {"big.bin": b"v2\n"})
    gs(repo, "create")
    ran = git(repo, "checkout", "-q", "-f", "side")  # big.bin never edited
    assert (repo / "big.bin").read_bytes() == b"v2\n"
    (line,) = [ln for ln in ran.said if "not saved: big.bin" in ln]
    assert "any uncommitted edit is lost" not in line, line
    assert line.endswith(
        "excluded by snapshot.exclude; git wrote its committed version over it: "
        "if it held an uncommitted edit, that edit is lost"
    ), line


def test_repair_says_a_pack_it_could_not_read_is_not_damaged_nor_lost(
    store_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A pack the disk would not read (EIO: no fault that can be had here short of a failing
    disk, so scan_pack raises it for that pack) was 'damaged pack X: read up to the damage',
    its snapshot's files had 'no intact copy left', and the last line said some data had
    none: the pack is whole, gc keeps it, and a repair once it reads enters it again."""
    second, _ = two_packs(store_dir, tmp_path)
    with monkeypatch.context() as failing:
        failing.setattr(repair_mod, "scan_pack", eio_on(second))
        assert cmd_repair() == 1
    said = capsys.readouterr()
    assert f"could not read pack {second} now (Input/output error)" in said.out, said.out
    assert "damaged pack" not in said.out and "no intact copy" not in said.out + said.err
    assert "could not be read (above)" in said.err and "run git snapshot repair again" in said.err
    assert cmd_repair() == 0  # it reads again: nothing was lost
    with Store(store_dir) as store:
        assert [s.id for s in store.snapshots("s")] == [1, 2]


def test_a_repository_deleted_and_made_again_at_its_path_reports_what_went_there(
    tmp_path: Path,
) -> None:
    """rm -rf of a watched worktree, then git init (or clone) at the same path: the burst was
    reported nowhere (session 14 kept it out of the new repository's log, whose 'restore N'
    names its own N). It goes there now, naming the old repository's snapshot by the ID that
    reaches it (name#tag:N, valid whatever is added to the store later); the printed
    command, pasted, and undo each write the lost files back into the new worktree."""
    old = init_repo(tmp_path / "proj")
    (old / "a.txt").write_text("tracked\n")
    git(old, "add", ".")
    git(old, "commit", "-q", "-m", "one")
    (old / ".env").write_text("SECRET=1\n")  # untracked: in no commit anywhere
    (old / "notes").mkdir()
    for i in range(3):
        (old / "notes" / f"n{i}.txt").write_text(f"note {i}\n")
    with Store() as store:
        snap = worktree.take(store, gitrepo.find_repo(str(old)), trigger="watch").snapshot
        d = BurstDetector(threshold_files=3)
        paths = [str(p) for p in sorted(old.rglob("*")) if ".git" not in p.parts]
        shutil.rmtree(old)
        for i, p in enumerate(paths):
            d.feed(100.0 + i * 0.001, p, bursts.DELETE)
        new = init_repo(tmp_path / "proj")  # the same path, a new repository
        (new / "a.txt").write_text("tracked\n")
        git(new, "add", ".")
        git(new, "commit", "-q", "-m", "again")
        (burst,) = d.take(200.0)
        assert bursts.record(store, str(new), burst, snap) is not None
    ran = gs(new, "list")  # any command here prints the line once
    (line,) = [ln for ln in ran.err.splitlines() if "deleted" in ln]
    assert f"of the repository that was at {new}" in line, line
    (entry,) = json.loads(gs(new, "losses", "--json").out)
    label = entry["repo"]
    assert label == f"proj#{snap.source.rpartition('#')[2][:6]}", entry
    assert f"saved in snapshot {label}:{snap.id};" in line, line
    assert sorted(x["path"] for x in entry["lost"]) == [
        ".env",
        "notes/n0.txt",
        "notes/n1.txt",
        "notes/n2.txt",
    ]
    gs(new, "create")  # the new repository's own snapshot 1: another one of that number
    with Store() as store:  # a second repository called proj: the plain name is ambiguous
        worktree.take(
            store, gitrepo.find_repo(str(init_repo(tmp_path / "b" / "proj"))), trigger="manual"
        )
    assert f"{label}:{snap.id}" in gs(new, "losses").out
    cmd = line.partition("restore with: ")[2]
    pasted = subprocess.run(
        cmd,
        shell=True,
        check=True,
        cwd=tmp_path,
        env={**os.environ, "PATH": PATH},
        capture_output=True,
        text=True,
    )
    # two snapshots of two repositories, each named as restore takes it in this worktree
    assert f"from snapshot {label}:{snap.id} into {new} " in pasted.stdout, pasted.stdout
    assert "what was there before is in snapshot 2" in pasted.stdout, pasted.stdout
    assert (new / ".env").read_text() == "SECRET=1\n"
    assert (new / "notes" / "n2.txt").read_text() == "note 2\n"
    shutil.rmtree(new / "notes")
    (new / ".env").unlink()
    gs(new, "undo")
    assert (new / ".env").read_text() == "SECRET=1\n"
    assert sorted(p.name for p in (new / "notes").iterdir()) == ["n0.txt", "n1.txt", "n2.txt"]


def test_a_burst_says_maybe_older_only_of_the_file_edited_after_the_snapshot(
    repo: Path,
) -> None:
    """An rm -rf of a folder holding a file edited after the watcher's last snapshot began
    and one never edited: the line said of both "an earlier version ... is in snapshot N",
    though N holds the unedited one as it was. Now N is named as holding them, and only the
    edited file is said to have edits that may be in no snapshot."""
    data = repo / "data"
    data.mkdir()
    (data / "kept.txt").write_text("never edited\n")
    (data / "edited.txt").write_text("v1\n")
    with Store() as store:
        snap = worktree.take(store, gitrepo.find_repo(str(repo)), trigger="watch").snapshot
        with open(data / "edited.txt", "a") as f:
            f.write("v2, after the snapshot began\n")
        d = BurstDetector()
        shutil.rmtree(data)
        d.feed(100.0, str(data / "edited.txt"), bursts.EDITED)
        d.feed(100.001, str(data / "kept.txt"), bursts.DELETE)
        d.feed(100.002, str(data), bursts.DELETE_DIR)
        (burst,) = d.take(200.0)
        entry = bursts.record(store, str(repo), burst, snap)
    assert entry is not None and entry["exact"] is False
    assert entry["maybe_older"] == ["data/edited.txt"]
    (line,) = lossrecord.take_unseen(gitrepo.find_repo(str(repo)))
    assert f"saved in snapshot {snap.id}; of data/edited.txt, an earlier version, saved " in line
    assert f"before that, is in snapshot {snap.id}; later edits, if any, were not saved" in line
    assert "(an earlier version of data/edited.txt)" in gs(repo, "losses").out


def test_a_worktree_cloned_again_at_its_path_is_not_another_worktree_of_the_old_one(
    tmp_path: Path,
) -> None:
    """rm -rf of a watched worktree, then git clone at the same path: the daemon found the
    worktree gone, looked for another worktree of its repository to report in, and took the
    new clone (same common dir path) for one: the entry went there as a removed worktree's,
    its "restore 1 --to" naming the clone's snapshot 1, and `losses` said "1 (forgotten
    since)" (seen in the newcomer pass). The clone is another repository."""
    old = init_repo(tmp_path / "proj")
    (old / "a.txt").write_text("tracked\n")
    git(old, "add", ".")
    git(old, "commit", "-q", "-m", "one")
    with Store() as store:
        snap = worktree.take(store, gitrepo.find_repo(str(old)), trigger="watch").snapshot
        assert bursts._home(store, snap) is not None  # (its own main worktree)
        shutil.rmtree(old)
        new = init_repo(tmp_path / "proj")
        worktree.take(store, gitrepo.find_repo(str(new)), trigger="watch")  # its own id
        assert bursts._home(store, snap) is None


def test_watch_status_says_1_folder_not_1_folders() -> None:
    from git_snapshot.commands.watch import _worktree_line

    w = {
        "path": "/w",
        "state": "watching",
        "watches": 2,
        "polling_dirs": 0,
        "overflows": 0,
        "failed_watches": 0,
        "whole_trees": [{"path": "/w/build", "dirs": 1}],
        "big_trees": [{"path": "/w/node_modules", "dirs": 1, "scanned": True}],
    }
    line = _worktree_line(w)
    assert "build/: watched whole, 1 folder;" in line and "1 folders" not in line, line
    assert "node_modules/: one watch, 1 folder scanned" in line, line


def test_the_daemon_records_a_burst_of_a_worktree_cloned_again_at_its_path(
    tmp_path: Path,
) -> None:
    """rm -rf proj && git clone URL proj with the watcher on (the newcomer pass): the
    worker looked for the snapshot before the burst among the NEW repository's (none yet;
    and it gave the clone an id doing so): 'a burst of 7 changes, no snapshot before it', so
    nothing was recorded anywhere. The daemon's own path, record_bursts, is run here."""
    origin = init_repo(tmp_path / "origin")
    (origin / "a.txt").write_text("tracked\n")
    git(origin, "add", ".")
    git(origin, "commit", "-q", "-m", "one")
    proj = tmp_path / "proj"
    git(tmp_path, "clone", "-q", str(origin), str(proj))
    (proj / ".env").write_text("KEY=abc\n")
    with Store() as store:
        snap = worktree.take(store, gitrepo.find_repo(str(proj)), trigger="watch").snapshot
    paths = [str(proj / ".env"), str(proj / "a.txt")]
    shutil.rmtree(proj)
    git(tmp_path, "clone", "-q", str(origin), str(proj))
    item = {"paths": paths, "started": snap.created + 1, "ended": snap.created + 1.1}
    item["kinds"] = {p: bursts.DELETE for p in paths}
    done = take_mod.record_bursts(str(proj), [item])
    assert done["log"] == [f"a burst of 2 changes: recorded against snapshot {snap.id}"], done
    (entry,) = json.loads(gs(proj, "losses", "--json").out)
    assert [x["path"] for x in entry["lost"]] == [".env"]  # a.txt: the clone has it
    assert entry["repo"].startswith("proj#") and entry["available"] is True


def test_install_and_doctor_say_the_watcher_is_off_with_git_snapshot_watch_0(repo: Path) -> None:
    """README: `install` starts the watcher. With GIT_SNAPSHOT_WATCH=0 it printed nothing
    about it, and doctor said 'hooks do not start it' without saying that it does not watch
    this worktree."""
    ran = gs(repo, "install", GIT_SNAPSHOT_WATCH="0")
    assert (
        "watcher: not started, this worktree not registered (GIT_SNAPSHOT_WATCH=0); "
        "git snapshot watch add . does both" in ran.out
    ), ran.out
    said = gs(repo, "doctor", GIT_SNAPSHOT_WATCH="0").out
    assert "does not watch this worktree: hooks neither register nor start it" in said, said


def test_restore_of_a_replaced_repositorys_snapshot_says_what_is_true(tmp_path: Path) -> None:
    """In a repository made at the path of a deleted one, `restore OLD:1 PATH` said the
    snapshot 'was taken in the worktree /x/proj, which no longer exists, not in this one
    (/x/proj)': the folder exists, and it is this very path."""
    old = init_repo(tmp_path / "proj")
    (old / ".env").write_text("SECRET=1\n")
    with Store() as store:
        snap = worktree.take(store, gitrepo.find_repo(str(old)), trigger="manual").snapshot
    label = identity.tagged(snap.source)
    shutil.rmtree(old)
    new = init_repo(tmp_path / "proj")
    ran = gs(new, "restore", f"{label}:{snap.id}", ".env", rc=1)
    assert "which no longer exists" not in ran.err and "not in this one" not in ran.err, ran.err
    assert "of a repository that no longer exists" in ran.err, ran.err
    assert "(this worktree, at that path now, is another repository's)" in ran.err, ran.err
    assert "--to DIR, or into this worktree with --here" in ran.err
