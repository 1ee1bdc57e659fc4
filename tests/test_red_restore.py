"""Red team (restore, undo, losses, repair): a user's commands after the store changed under
a loss report. Every report is true; ``undo`` restores what the report named or says in one
line why it cannot; a snapshot number is never reused, not even after ``repair``."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs


def _lose(repo: Path, name: str, data: bytes) -> int:
    """An ignored file destroyed by a command run through ``git snapshot run``: the number
    of the snapshot the loss report names."""
    (repo / ".gitignore").write_text("*.env\n")
    (repo / name).write_bytes(data)
    ran = gs(repo, "run", "--", "rm", name)
    (rep,) = ran.reports
    return rep.snap


def _drop_index(store_dir: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        p = store_dir / f"index.sqlite{suffix}"
        if p.exists():
            os.unlink(p)


def test_undo_after_the_reports_snapshot_was_forgotten_says_so_in_one_line(repo: Path) -> None:
    n = _lose(repo, "x.env", b"SECRET\n")
    gs(repo, "create")  # another snapshot, so that the repository still has some
    gs(repo, "forget", str(n))
    ran = gs(repo, "undo", rc=1)
    assert len(ran.err_lines) == 1, ran.err
    assert "forgotten" in ran.err and f"snapshot {n}" in ran.err, ran.err
    listed = gs(repo, "losses")
    assert "forgotten" in listed, listed
    (item,) = json.loads(gs(repo, "losses", "--json"))
    assert item["available"] is False


def test_undo_never_restores_from_a_later_snapshot_that_took_the_number(
    repo: Path, store_dir: Path
) -> None:
    """forget, prune, then a lost index rebuilt by repair: the next snapshot may not take
    the forgotten number (the report names it); and undo checks it has the report's own."""
    n = _lose(repo, "x.env", b"SECRET\n")
    gs(repo, "forget", str(n))
    gs(repo, "prune")
    _drop_index(store_dir)
    gs(repo, "repair")
    (repo / "x.env").write_bytes(b"later\n")
    gs(repo, "create")
    ran = gs(repo, "undo", rc=1)
    assert (repo / "x.env").read_bytes() == b"later\n"
    assert len(ran.err_lines) == 1, ran.err
    assert "forgotten" in ran.err, ran.err


def test_repair_never_hands_out_a_forgotten_snapshots_number_again(
    repo: Path, store_dir: Path
) -> None:
    gs(repo, "create")
    gs(repo, "create")
    gs(repo, "forget", "2")  # its record and tombstone are still in the packs
    _drop_index(store_dir)
    gs(repo, "repair")
    made = gs(repo, "create")
    assert made.startswith("snapshot 3:"), made


def test_restore_never_changes_a_hard_linked_file_outside_the_worktree(
    repo: Path, tmp_path: Path
) -> None:
    """Same bytes, another mode and mtime (a pnpm store links its files into node_modules):
    the mode and mtime are restored on a copy of its own, never on the shared inode."""
    (repo / "tool.sh").write_bytes(b"#!/bin/sh\n")
    os.chmod(repo / "tool.sh", 0o644)
    gs(repo, "create")
    outside = tmp_path / "outside.sh"
    outside.write_bytes(b"#!/bin/sh\n")
    os.chmod(outside, 0o755)
    os.utime(outside, ns=(10**18, 10**18))
    os.unlink(repo / "tool.sh")
    os.link(outside, repo / "tool.sh")
    gs(repo, "restore", "1", "tool.sh")
    st = outside.stat()
    assert (st.st_mode & 0o777, st.st_mtime_ns) == (0o755, 10**18)
    assert (repo / "tool.sh").stat().st_mode & 0o777 == 0o644
    assert (repo / "tool.sh").read_bytes() == b"#!/bin/sh\n"


def test_repair_keeps_both_snapshots_that_a_damaged_index_gave_one_number(
    repo: Path, store_dir: Path
) -> None:
    """A damaged index (its sources' unique index broken) lost this repository's row: the
    next snapshot started a new row and took number 1 again. Both records are in the packs:
    repair keeps both, the later one under a new number, and says so."""
    (repo / "a").write_bytes(b"first\n")
    gs(repo, "create")
    db = sqlite3.connect(store_dir / "index.sqlite")
    with db:
        db.execute("UPDATE sources SET key = key || '-lost'")  # as the damaged page read
    db.close()
    (repo / "a").write_bytes(b"second\n")
    assert gs(repo, "create").startswith("snapshot 1:")
    _drop_index(store_dir)
    ran = gs(repo, "repair")
    assert "renumbered" in ran, ran
    held = {gs(repo, "cat", str(s["id"]), "a") for s in json.loads(gs(repo, "list", "--json"))}
    assert held == {"first\n", "second\n"}
    assert gs(repo, "cat", "1", "a") == "first\n"  # the older keeps the number reports name
    gs(repo, "repair")  # stable: a second repair brings back no third snapshot
    assert len(json.loads(gs(repo, "list", "--json"))) == 2


def test_verify_names_a_damaged_index_with_repair(repo: Path, store_dir: Path) -> None:
    """Pages of the index damaged where reads still work (here: its sources' unique index
    out of step with the table): verify must not say ok."""
    (repo / "a").write_bytes(b"first\n")
    gs(repo, "create")
    db = sqlite3.connect(store_dir / "index.sqlite")
    with db:
        db.execute("PRAGMA writable_schema = ON")
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_sources_1'"
        ).fetchone()
    db.close()
    page = 4096  # the index's page size (checked below)
    raw = bytearray((store_dir / "index.sqlite").read_bytes())
    assert int.from_bytes(raw[16:18], "big") == page
    start = (root - 1) * page
    raw[start + 8 : start + page - 8] = bytes(b ^ 0x5A for b in raw[start + 8 : start + page - 8])
    (store_dir / "index.sqlite").write_bytes(bytes(raw))
    ran = gs(repo, "verify", rc=1)
    assert "git snapshot repair" in ran.err, ran.err
    assert len(ran.err_lines) == 1, ran.err
    assert not ran.out.startswith("ok"), ran.out


def test_restoring_a_file_over_a_folder_keeps_what_no_snapshot_holds(repo: Path) -> None:
    """`sub` was a file in the snapshot and is a folder now, holding a file the pre-restore
    snapshot cannot save (snapshot.exclude): without --delete, restore deletes nothing the
    snapshot does not hold, least of all something no snapshot holds."""
    (repo / "sub").write_bytes(b"file\n")
    gs(repo, "create")
    os.unlink(repo / "sub")
    (repo / "sub").mkdir()
    (repo / "sub" / "secret.key").write_bytes(b"precious\n")
    git(repo, "config", "snapshot.exclude", "*.key")
    ran = gs(repo, "restore", "1", "sub")
    assert (repo / "sub" / "secret.key").read_bytes() == b"precious\n", ran
    assert "sub" in ran, ran


def test_the_api_restoring_a_file_over_a_folder_keeps_what_no_backup_holds(
    tmp_path: Path, store_dir: Path
) -> None:
    """restore_backup goes the CLI's way: a fifo (no backup holds one) in a folder that is a
    file in the backup stays."""
    from git_snapshot import api

    data = tmp_path / "data"
    data.mkdir()
    (data / "sub").write_bytes(b"file\n")
    made = api.create_backup("data", data, store=store_dir)
    os.unlink(data / "sub")
    (data / "sub").mkdir()
    os.mkfifo(data / "sub" / "pipe")
    from git_snapshot.store.restorer import NotAllRestored

    with pytest.raises(NotAllRestored, match="sub") as got:  # said (RED31), not only kept
        api.restore_backup("data", made.id, data, paths=["sub"], store=store_dir)
    assert got.value.report.kept == [b"sub"]
    assert (data / "sub" / "pipe").is_fifo()


def test_restore_to_a_folder_of_the_worktree_takes_a_pre_restore_snapshot(repo: Path) -> None:
    """`--to .` (or any folder of a worktree) is a restore in place by another name: what
    it overwrites must be saved first, so that it can be undone."""
    (repo / "t").write_bytes(b"old\n")
    (repo / "sub").mkdir()
    (repo / "sub" / "u").write_bytes(b"old u\n")
    gs(repo, "create")
    (repo / "t").write_bytes(b"precious edit\n")
    (repo / "sub" / "u").write_bytes(b"precious u\n")
    ran = gs(repo, "restore", "1", "t", "--to", ".")
    assert (repo / "t").read_bytes() == b"old\n"
    assert "what was there before is in snapshot 2" in ran, ran
    assert gs(repo, "cat", "2", "t") == "precious edit\n"
    gs(repo / "sub", "restore", "1", "--to", "../sub")  # the snapshot's tree into sub/
    snaps = json.loads(gs(repo, "list", "--json"))
    assert [s["trigger"] for s in snaps] == ["manual", "pre-restore", "pre-restore"]
    assert gs(repo, "cat", str(snaps[-1]["id"]), "sub/u") == "precious u\n"


def test_repair_dry_run_writes_nothing_into_the_store(repo: Path, store_dir: Path) -> None:
    """A record to write again (here: a number given twice by a damaged index): --dry-run
    says what it would do and leaves the packs as they were."""
    (repo / "a").write_bytes(b"first\n")
    gs(repo, "create")
    db = sqlite3.connect(store_dir / "index.sqlite")
    with db:
        db.execute("UPDATE sources SET key = key || '-lost'")
    db.close()
    gs(repo, "create")
    _drop_index(store_dir)
    before = sorted(os.listdir(store_dir / "packs"))
    ran = gs(repo, "repair", "--dry-run")
    assert "renumbered" in ran, ran
    assert sorted(os.listdir(store_dir / "packs")) == before


def test_undo_dry_run_changes_nothing_and_says_would(repo: Path) -> None:
    _lose(repo, "x.env", b"SECRET\n")
    ran = gs(repo, "undo", "--dry-run")
    assert ran.startswith("would undo: "), ran
    assert not (repo / "x.env").exists()
    assert len(json.loads(gs(repo, "list", "--json"))) == 1  # no pre-restore snapshot


def test_undo_of_an_entry_without_restore_paths_restores_only_the_lost_paths(
    repo: Path, store_dir: Path
) -> None:
    """A loss log line of an older version has no "restore" key: undo brings back the lost
    paths, not the whole snapshot over the worktree."""
    (repo / "kept.txt").write_bytes(b"v1\n")
    _lose(repo, "x.env", b"SECRET\n")
    (repo / "kept.txt").write_bytes(b"v2, on purpose\n")
    (log,) = (store_dir / "losses").glob("*.jsonl")
    item = json.loads(log.read_text())
    del item["restore"]
    log.write_text(json.dumps(item) + "\n")
    gs(repo, "undo")
    assert (repo / "x.env").read_bytes() == b"SECRET\n"
    assert (repo / "kept.txt").read_bytes() == b"v2, on purpose\n"


def test_naming_a_folder_never_overwrites_what_no_snapshot_holds_below_it(repo: Path) -> None:
    """sub/app.key was saved, then excluded and edited: the edit is in no snapshot. Restoring
    the folder keeps it (and says so), as a restore of everything does; naming the file
    itself overwrites it (the user asked for that one)."""
    (repo / "sub").mkdir()
    (repo / "sub" / "app.key").write_bytes(b"v1\n")
    (repo / "sub" / "other").write_bytes(b"o1\n")
    gs(repo, "create")
    git(repo, "config", "snapshot.exclude", "*.key")
    (repo / "sub" / "app.key").write_bytes(b"v2, in no snapshot\n")
    (repo / "sub" / "other").write_bytes(b"o2\n")
    ran = gs(repo, "restore", "1", "sub")
    assert (repo / "sub" / "app.key").read_bytes() == b"v2, in no snapshot\n"
    assert (repo / "sub" / "other").read_bytes() == b"o1\n"
    assert "kept 1 path(s)" in ran and "sub/app.key" in ran, ran
    gs(repo, "restore", "1", "sub/app.key")
    assert (repo / "sub" / "app.key").read_bytes() == b"v1\n"


def test_restore_to_another_snapshotted_worktree_saves_it_first(repo: Path, tmp_path: Path) -> None:
    from conftest import init_repo

    (repo / "t").write_bytes(b"from repo\n")
    gs(repo, "create")
    other = init_repo(tmp_path / "other")
    (other / "t").write_bytes(b"other's work\n")
    gs(other, "create")
    (other / "t").write_bytes(b"other's later work\n")
    ran = gs(repo, "restore", "1", "--to", str(other))
    assert (other / "t").read_bytes() == b"from repo\n"
    # run in repo: other's snapshot 2 is named as restore takes it there (session 15)
    assert "what was there before is in snapshot other:2" in ran, ran
    assert gs(repo, "cat", "other:2", "t") == "other's later work\n"
    assert gs(other, "cat", "2", "t") == "other's later work\n"


def test_an_empty_path_is_refused_not_taken_for_the_whole_tree(repo: Path) -> None:
    """`git snapshot restore 1 "$FILE"` with FILE unset must not restore everything (git
    refuses an empty pathspec too)."""
    (repo / "a").write_bytes(b"v1\n")
    gs(repo, "create")
    (repo / "a").write_bytes(b"v2\n")
    ran = gs(repo, "restore", "1", "", rc=1)
    assert len(ran.err_lines) == 1 and "empty" in ran.err, ran.err
    assert (repo / "a").read_bytes() == b"v2\n"
