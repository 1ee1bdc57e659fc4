"""Review RS45 of sm45 (red44 F6b, F8.4, F8.1): what the fixes left out.

- F6b: a tombstone's new `highest` is read by repair from the packs, which may be damaged or
  written by anyone: a number past what SQLite holds (or one the next snapshot would push
  past it) stopped the repair with an OverflowError, and the store kept no usable index.
- F8.1: the time a held line's MARK carries is read back by every command and hook there: a
  time out of range for the platform (1e300, Infinity, a 400-digit integer) crashed the
  command after it had claimed the lines, so they were never printed. And the watcher's lines
  said the time they were held (after the burst window, or a retry long after), not the time
  the files went.
- F8.4: `git snapshot losses` still listed a mode-only loss as "x.env (an earlier version)"
  (or bare "x.env" under run), as if its bytes went.

Real git, real hooks, the CLI as a user types it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import env_tracked_on_b
from hookhelpers import install
from hookhelpers import lose_index
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import snaps
from hookhelpers import snapshots_of
from hookhelpers import write

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.hooks import UNSEEN
from git_snapshot.store import Store
from git_snapshot.store.objects import FORGET
from git_snapshot.store.objects import RECORD
from git_snapshot.store.packs import PackWriter
from git_snapshot.store.records import FORMAT
from git_snapshot.store.records import encode_record
from git_snapshot.watch import bursts
from git_snapshot.watch.bursts import BurstDetector

# ----------------------------------------------------------------- F6b: a hostile `highest`


def _tombstone(store: Store, highest: object) -> None:
    """A forget's tombstone of no record whose `highest` is *highest*, as a damaged or
    hand-written pack may hold it."""
    data = json.dumps({"format": FORMAT, "forget": [], "highest": highest}).encode()
    writer = PackWriter(store.path)
    writer.add(FORGET, hashlib.sha256(data).digest(), data)
    store.index.add_packs(writer.finish())


def test_a_tombstone_naming_a_number_out_of_range_does_not_stop_a_repair(
    repo: Path, store_dir: Path
) -> None:
    snapshots_of(repo, b"v0\n", b"v1\n", b"v2\n")
    gs(repo, "forget", "3")  # (a tombstone naming 3: the next number is 4)
    with Store(os.fspath(store_dir)) as store:
        ((source, path),) = store.index.sources()
        for bad in (
            [2**63 - 1, path],  # its next number would not fit in SQLite
            [2**70, path],
            [1e300, path],
            [-5, path],
            ["9", path],
            [True, path],
            [9],
            9,
        ):
            _tombstone(store, {source: bad})
        _tombstone(store, "not an object")
        _tombstone(store, [[source, 9, path]])
    gs(repo, "prune")
    lose_index(store_dir)
    ran = gs(repo, "repair", rc=None)
    assert ran.rc == 0, ran
    assert "internal error" not in ran.err, ran
    write(repo / "x.txt", b"v4\n")
    gs(repo, "create")
    assert [int(s["id"]) for s in snaps(repo)] == [1, 2, 4]


def test_a_record_naming_a_number_out_of_range_does_not_stop_a_repair(
    repo: Path, store_dir: Path
) -> None:
    """The same number in a snapshot's record (the tombstone's came from there): the record
    is damage, named so, and the repair ends."""
    write(repo / "x.txt", b"v1\n")
    gs(repo, "create")
    with Store(os.fspath(store_dir)) as store:
        (snap,) = store.snapshots()
        path = dict(store.index.sources())[snap.source]
        snap.id = 2**63 - 1
        data = encode_record(snap, path)
        writer = PackWriter(store.path)
        writer.add(RECORD, hashlib.sha256(data).digest(), data)
        store.index.add_packs(writer.finish())
    lose_index(store_dir)
    ran = gs(repo, "repair", rc=None)
    assert "internal error" not in ran.err, ran
    write(repo / "x.txt", b"v2\n")
    gs(repo, "create")
    assert [int(s["id"]) for s in snaps(repo)] == [1, 2]


def test_a_number_repair_dropped_is_not_given_again_after_a_gc_and_a_second_repair(
    repo: Path, store_dir: Path
) -> None:
    """A snapshot whose root tree no pack holds any longer (damage) is dropped by a repair,
    its record no snapshot's after that: a gc reclaims the record, and a second lost index
    gave its number to the next snapshot (sm45 left it: no tombstone named it)."""
    write(repo / "x.txt", b"v1\n")
    gs(repo, "create")
    with Store(os.fspath(store_dir)) as store:
        (snap,) = store.snapshots()
        path = dict(store.index.sources())[snap.source]
        snap.id, snap.root = 2, hashlib.sha256(b"a root tree no pack holds").digest()
        data = encode_record(snap, path)
        writer = PackWriter(store.path)
        writer.add(RECORD, hashlib.sha256(data).digest(), data)
        store.index.add_packs(writer.finish())
    lose_index(store_dir)
    assert "2" in gs(repo, "repair", rc=None).err + gs(repo, "list").out  # (named dropped)
    gs(repo, "prune")  # the record of 2 is no snapshot's: reclaimed
    lose_index(store_dir)
    gs(repo, "repair", rc=None)
    write(repo / "x.txt", b"v3\n")
    gs(repo, "create")
    assert [int(s["id"]) for s in snaps(repo)] == [1, 3]


# ------------------------------------------------------- F8.1: a MARK time that does not read

LINE = "git-snapshot: 3 files under data/ were deleted at 12:00; restore with: ..."


@pytest.mark.parametrize("when", ["1e300", "1" + "0" * 400, "Infinity", "-1e20", "1e20"])
def test_a_held_line_whose_time_does_not_read_is_printed_without_one(repo: Path, when: str) -> None:
    unseen = Path(gitrepo.find_repo(str(repo)).git_dir) / UNSEEN
    unseen.write_text(
        f'git-snapshot-store\t{{"store": null, "snapshot": null, "time": {when}}}\n{LINE}\n'
    )
    ran = gs(repo, "list", rc=None)
    assert "internal error" not in ran.err, ran
    assert ran.rc == 0, ran
    assert f"git-snapshot: earlier: {LINE.removeprefix('git-snapshot: ')}" in ran.err.splitlines()


# --------------------------------------------- F8.1: the watcher's line, when the files went


def test_the_watchers_held_line_says_when_the_files_went_not_when_it_was_held(
    repo: Path,
) -> None:
    """The burst two days back (a watcher that recorded it late: a retry, a suspended
    laptop): the held line said today's time, which is when no file went."""
    data = repo / "data"
    data.mkdir()
    for i in range(3):
        (data / f"f{i}.txt").write_text(f"{i}\n")
    then = time.time() - 2 * 86400
    with Store() as store:
        snap = worktree.take(store, gitrepo.find_repo(str(repo)), trigger="watch").snapshot
        d = BurstDetector()
        deleted = [str(p) for p in sorted(data.iterdir())]
        shutil.rmtree(data)
        for i, p in enumerate([*deleted, str(data)]):
            d.feed(then + i * 0.001, p, "delete_dir" if p == str(data) else "delete")
        (burst,) = d.take(then + 100)
        assert bursts.record(store, str(repo), burst, snap) is not None
    err = gs(repo, "list").err
    day = time.strftime("%Y-%m-%d %H:%M", time.localtime(then))
    held = [ln for ln in err.splitlines() if ln.startswith("git-snapshot: earlier")]
    assert len(held) == 1 and held[0].startswith(f"git-snapshot: earlier, at {day}: "), err


# ------------------------------------------------- F8.4: `losses` names a mode-only loss so

SAME = b"same env\n"


@pytest.fixture
def tracked_on_b(repo: Path) -> Path:
    """*.env ignored on main; branch b tracks x.env (SAME, 644); the hooks installed."""
    return env_tracked_on_b(repo, SAME)


def _lost_column(repo: Path) -> list[str]:
    header, *rows = gs(repo, "losses").out.splitlines()
    at = header.index("LOST")
    return [row[at:] for row in rows if row.strip()]


def test_the_losses_table_names_a_mode_only_loss_as_the_hook_did(tracked_on_b: Path) -> None:
    repo = tracked_on_b
    write(repo / "x.env", SAME, 0o755)
    gs(repo, "-m", "before")
    (report,) = git(repo, "switch", "-q", "b").reports
    assert report.names == "x.env (mode 755 -> 644, bytes as saved)"
    assert _lost_column(repo) == ["x.env (mode 755 -> 644, bytes as saved) (an earlier version)"]


def test_the_losses_table_names_a_mode_only_loss_under_run(tracked_on_b: Path) -> None:
    repo = tracked_on_b
    write(repo / "x.env", SAME, 0o755)
    gs(repo, "run", "--", "git", "switch", "-q", "b")
    assert _lost_column(repo) == ["x.env (mode 755 -> 644, bytes unchanged)"]


def test_other_bytes_are_still_listed_plainly(tracked_on_b: Path) -> None:
    repo = tracked_on_b
    write(repo / "x.env", b"SECRET\n", 0o755)
    gs(repo, "run", "--", "git", "switch", "-q", "b")
    assert _lost_column(repo) == ["x.env"]


def test_a_symlink_git_overwrote_with_a_file_of_its_target_text_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same bytes, another mode, for a symlink: an ignored `x.env -> target.txt`, and
    branch b tracks x.env as a file holding "target.txt" (git's blob of the link's text).
    `git switch b` wrote the file over the link, and no report named it: git has the bytes,
    so the link was taken for given back, its mode (120000) never asked (review RS45)."""
    put_venv_on_path(monkeypatch)  # the report's command is run as printed
    commit(repo, ".gitignore", b"*.env\n")
    git(repo, "switch", "-q", "-c", "b")
    commit(repo, "x.env", b"target.txt", force=True)
    git(repo, "switch", "-q", "main")
    install(repo)
    os.symlink("target.txt", repo / "x.env")
    gs(repo, "-m", "before")
    ran = git(repo, "switch", "-q", "b")
    assert not (repo / "x.env").is_symlink()
    (report,) = ran.reports
    assert report.names == "x.env", ran.err
    restore(repo, report)
    assert os.readlink(repo / "x.env") == "target.txt"
