"""Red team (session 8): the watcher attacked as a user would. Each test failed on the code
before its fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import settled
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot import gitrepo
from git_snapshot import losses
from git_snapshot import lossrecord
from git_snapshot import worktree
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import retention
from git_snapshot.watch import bursts


def _repo(tmp_path: Path) -> Path:
    return Path(os.path.realpath(committed_repo(tmp_path / "wt")))


def test_thinning_keeps_the_snapshot_a_loss_entry_names(tmp_path: Path, store_dir: Path) -> None:
    """A burst loss entry names the watch snapshot before an rm -rf; the daemon's next watch
    snapshot (seconds later, the same 10-minute bucket) no longer holds the files. An hour
    later thinning kept only the newest of that bucket: the named snapshot, the only copy of
    the lost files, was forgotten and the printed restore command failed."""
    r = _repo(tmp_path)
    notes = r / "notes"
    notes.mkdir()
    (notes / "plan.md").write_bytes(b"the only copy\n")
    repo = gitrepo.find_repo(str(r))
    with Store() as store:
        held = worktree.take(store, repo, trigger="watch").snapshot
        shutil.rmtree(notes)
        after = worktree.take(store, repo, trigger="watch").snapshot
        assert after.id != held.id
        now = time.time()
        burst = bursts.Burst(
            (str(notes / "plan.md"), str(notes)),
            now,
            now,
            {str(notes / "plan.md"): bursts.DELETE, str(notes): bursts.DELETE_DIR},
        )
        entry = bursts.record(store, str(r), burst, held)
        assert entry is not None and entry["snapshot"] == held.id
        source = held.source
        # two hours later, nothing else happened (a hook or the daemon applies retention)
        gone = retention.forget_auto(
            store, retention.Policy(keep_within=14 * 86400.0), [source], now=now + 7200
        )
        assert held.id not in [s.id for s in gone]
        assert held.id in [s.id for s in store.snapshots(source)]
    assert [e["snapshot"] for e in json.loads(gs(r, "losses", "--json"))] == [held.id]
    gs(r, "restore", str(held.id), "notes")
    assert (notes / "plan.md").read_bytes() == b"the only copy\n"
    assert losses  # (the module the entry went through)


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_an_edit_not_yet_saved_then_rm_rf_is_not_reported_as_saved(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """An edit, then rm -rf within the quiet period: the watch snapshot before holds only the
    earlier version. The entry said 'saved in snapshot N' (exact) for the edited file; it must
    say an earlier version is there and later edits were not saved."""
    config(burstFiles=50, burstSeconds=1)
    repo = make_repo(tmp_path)
    data = repo / "data"
    data.mkdir()
    (data / "kept.txt").write_text("never edited\n")
    (data / "edited.txt").write_text("v1\n")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    snaps = wait_for(
        lambda: [s for s in watch_snaps(repo) if "data/edited.txt" in paths_in(s)],
        what="a watch snapshot holding data/",
    )
    last = settled(watcher, repo)  # the last one before the edit
    assert last.id >= snaps[-1].id
    with open(data / "edited.txt", "a") as f:
        f.write("v2: an edit no snapshot holds\n")
    shutil.rmtree(data)
    entries = wait_for(lambda: json.loads(gs(repo, "losses", "--json")), what="the loss entry")
    (entry,) = entries
    assert entry["snapshot"] == last.id
    assert sorted(x["path"] for x in entry["lost"]) == ["data/edited.txt", "data/kept.txt"]
    assert entry["exact"] is False


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_a_worktree_removed_with_unsaved_files_is_reported_in_another(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """git worktree remove --force of a linked worktree holding untracked files made after the
    last git command: the watch snapshot held them, but the burst was 'not recorded' (no such
    directory) and nothing ever said so. The entry now goes to the main worktree's log, its
    line is printed there once, and its restore command, pasted, writes the files back."""
    config(burstFiles=50, burstSeconds=1)
    main = make_repo(tmp_path)
    linked = Path(os.path.realpath(tmp_path)) / "linked"
    git(main, "worktree", "add", "-q", str(linked), "-b", "side")
    add(store_dir, linked)
    watcher.start()
    watcher.watching(linked)
    (linked / "wip.txt").write_bytes(b"work in progress\n")
    (linked / "notes").mkdir()
    (linked / "notes" / "n.bin").write_bytes(bytes(range(256)) * 8)
    snaps = wait_for(
        lambda: [s for s in watch_snaps(linked) if "notes/n.bin" in paths_in(s)],
        what="a watch snapshot of the linked worktree",
    )
    last = settled(watcher, linked)
    assert last.id >= snaps[-1].id
    git(main, "worktree", "remove", "--force", str(linked))
    assert not linked.exists()
    unseen = main / ".git" / lossrecord.UNSEEN  # the line, for the next command here
    # its text, not the file: lossrecord.hold creates the file, then writes (read between the
    # two, it was empty under load)
    (line,) = wait_for(
        lambda: (
            unseen.exists()
            and [x for x in unseen.read_text().splitlines() if not x.startswith(lossrecord.MARK)]
        ),
        what="the loss line held in the main worktree",
    )
    (entry,) = json.loads(gs(main, "losses", "--json"))
    assert entry["snapshot"] == last.id
    assert entry["removed_worktree"] == str(linked)
    assert sorted(x["path"] for x in entry["lost"]) == ["notes/n.bin", "wip.txt"]
    assert str(linked) in line
    cmd = line.split("restore with: ", 1)[1]
    res = subprocess.run(
        cmd.replace("git snapshot", str(VENV_BIN / "git-snapshot"), 1),
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert (linked / "wip.txt").read_bytes() == b"work in progress\n"
    assert (linked / "notes" / "n.bin").read_bytes() == bytes(range(256)) * 8


def _read(store: Store, snap_root: bytes, rel: bytes) -> bytes:
    for path, entry in store.walk(snap_root):
        if path == rel:
            return b"".join(store.stream_blob(entry.ref)) if entry.size else b""
    raise AssertionError(f"{rel!r} not in the snapshot")


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_an_edit_saved_then_rm_rf_is_one_entry_against_the_newest(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """Edit a file, the watcher saves it, then rm -rf its folder a few seconds later (within
    snapshot.burstSeconds of the edit): the edit was fed to the burst as an overwrite, and the
    burst was split into two entries, the first naming the snapshot before the edit (the old
    version) for files that were deleted, not overwritten: two lines printed, one of them
    pointing at the wrong version."""
    config(burstFiles=50, burstSeconds=5)
    repo = make_repo(tmp_path)
    data = repo / "data"
    data.mkdir()
    (data / "a.txt").write_text("v1\n")
    (data / "b.txt").write_text("untouched\n")
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    wait_for(
        lambda: [s for s in watch_snaps(repo) if "data/a.txt" in paths_in(s)],
        what="a watch snapshot holding data/",
    )
    settled(watcher, repo)
    (data / "a.txt").write_text("v2, saved by the watcher\n")

    def holds_v2() -> list[Snapshot]:
        with Store() as store:
            return [
                s
                for s in store.snapshots()
                if s.trigger == "watch"
                and s.worktree == str(repo)
                and _read(store, s.root, b"data/a.txt") == b"v2, saved by the watcher\n"
            ]

    (saved,) = wait_for(holds_v2, what="the watch snapshot of the edit")
    shutil.rmtree(data)
    unseen = repo / ".git" / lossrecord.UNSEEN
    wait_for(unseen.exists, what="the loss line")
    time.sleep(2.0)  # a second entry, if any, is recorded with the first
    entries = json.loads(gs(repo, "losses", "--json"))
    assert [e["snapshot"] for e in entries] == [saved.id]
    assert sorted(x["path"] for x in entries[0]["lost"]) == ["data/a.txt", "data/b.txt"]


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_a_worktree_moved_away_and_back_is_watched_again(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """mv repo repo.old && mv repo.old repo: the daemon saw the folder gone, dropped it from
    the registry, and never watched it again: files made after that were in no snapshot until
    some git command's hook registered it again, and 'watch status' no longer listed it."""
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    away = repo.with_name("wt.old")
    repo.rename(away)
    wait_for(lambda: not watcher.tree(repo), what="the moved worktree to be dropped")
    away.rename(repo)
    watcher.watching(repo)
    (repo / "after.txt").write_text("made after the move back\n")
    wait_for(
        lambda: any("after.txt" in paths_in(s) for s in watch_snaps(repo)),
        what="a watch snapshot holding after.txt",
    )


def test_a_deleted_folder_is_reported_whole_when_events_were_lost(
    tmp_path: Path, store_dir: Path
) -> None:
    """rm -rf of a 69k-entry folder overflowed the inotify queue: the burst held the 13k
    events read before the overflow, and the entry said '12,142 files under big2/ were
    deleted' while 60,000 were. A folder that no longer exists is lost whole."""
    r = _repo(tmp_path)
    for a in range(3):
        for b in range(4):
            d = r / "big" / f"p{a}" / f"q{b}"
            d.mkdir(parents=True)
            for i in range(5):
                (d / f"f{i}.js").write_text(f"{a}{b}{i}\n")
    repo = gitrepo.find_repo(str(r))
    with Store() as store:
        held = worktree.take(store, repo, trigger="watch").snapshot
        shutil.rmtree(r / "big")
        # only the first events were read before the overflow: two files of one folder
        seen = [str(r / "big" / "p0" / "q0" / "f0.js"), str(r / "big" / "p0" / "q0" / "f1.js")]
        now = time.time()
        burst = bursts.Burst(tuple(seen), now, now, dict.fromkeys(seen, bursts.DELETE))
        entry = bursts.record(store, str(r), burst, held)
    assert entry is not None
    assert len(entry["lost"]) == 3 * 4 * 5
    assert entry["restore"] == ["big"]
