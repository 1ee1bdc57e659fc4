"""``verify`` and ``prune`` from the command line, and the retention that hooks apply."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from test_cli_helpers import query
from test_cli_helpers import snap_id
from test_cli_helpers import state_diff
from test_cli_helpers import tree_state
from test_cli_helpers import write

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import worktree
from git_snapshot.store import Store


def _flip_byte_of(store_dir: Path, content: bytes, at_start: bool = False) -> None:
    """Damage the stored copy of *content*: in the middle of its compressed data, or in its
    first byte (the zstd magic number, which no decompressor gets past)."""
    with Store() as store:
        loc = store.index.locate(hashlib.sha256(content).digest())
    assert loc is not None
    pack = store_dir / "packs" / loc.pack
    data = bytearray(pack.read_bytes())
    data[loc.offset + (0 if at_start else loc.length // 2)] ^= 0x55
    pack.write_bytes(bytes(data))


def _ids(repo: Path) -> list[int]:
    return [s["id"] for s in query(repo, "list")]


def test_verify_names_the_damaged_snapshot_and_path(repo: Path, store_dir: Path) -> None:
    good = write(repo / "good.txt", "fine\n").read_bytes()
    gs(repo)
    # above the group limit (store/packs.py): a frame of its own, so the damage is its alone
    damaged = write(repo / "sub" / "data.bin", os.urandom(300_000)).read_bytes()
    write(repo / "words.txt", " ".join(["alpha", "beta", "gamma"] * 5000))
    sid = snap_id(gs(repo))
    ran = gs(repo, "verify", "--read-data")
    assert ran.out.startswith("ok: 2 snapshots")

    _flip_byte_of(store_dir, damaged)
    ran = gs(repo, "verify", "--read-data", rc=1)
    (line,) = ran.out.splitlines()
    assert f"DAMAGED snapshot {sid} " in line and "sub/data.bin" in line
    assert "good.txt" not in ran.out and "snapshot 1 " not in ran.out
    assert len(ran.err_lines) == 1 and "damaged" in ran.err
    gs(repo, "verify", "1", "--read-data")  # the other snapshot is fine
    gs(repo, "verify", str(sid), "--read-data", rc=1)
    assert good == (repo / "good.txt").read_bytes()

    # damage that the decompressor notices: restore and show say so in one line
    _flip_byte_of(store_dir, (repo / "words.txt").read_bytes(), at_start=True)
    ran = gs(repo, "verify", "--read-data", rc=1)
    assert "words.txt" in ran.out and "sub/data.bin" in ran.out
    ran = gs(repo, "restore", str(sid), "words.txt", "--to", str(repo.parent / "out"), rc=1)
    assert len(ran.err_lines) == 1 and "verify --read-data" in ran.err


def test_restore_refuses_content_that_does_not_match_its_hash(
    repo: Path, store_dir: Path, tmp_path: Path
) -> None:
    damaged = write(repo / "data.bin", os.urandom(100_000)).read_bytes()
    gs(repo)
    _flip_byte_of(store_dir, damaged)
    ran = gs(repo, "restore", "1", "--to", str(tmp_path / "out"), rc=None)
    written = tmp_path / "out" / "data.bin"
    assert ran.rc == 1 and not (written.exists() and written.read_bytes() != damaged)


def test_prune_keep_last_keeps_the_newest(repo: Path, tmp_path: Path) -> None:
    for i in range(4):
        write(repo / f"f{i}.txt", os.urandom(2000).hex())
        gs(repo)
    want = tree_state(repo)
    out = gs(repo, "prune", "--keep-last", "1", "--dry-run").out
    assert "would forget 3 snapshot(s): 1, 2, 3" in out
    assert _ids(repo) == [1, 2, 3, 4]

    out = gs(repo, "prune", "--keep-last", "1").out
    assert "forgot 3 snapshot(s): 1, 2, 3" in out and "reclaimed" in out
    assert _ids(repo) == [4]
    # what is left is whole: re-hashes fine and restores byte for byte
    gs(repo, "verify", "--read-data")
    gs(repo, "restore", "4", "--to", str(tmp_path / "out"))
    assert state_diff(want, tree_state(tmp_path / "out", skip=())) == []
    # ids are never reused
    assert snap_id(gs(repo)) == 5

    ran = gs(repo, "prune", "--keep-last", "0", rc=2)
    assert len(ran.err_lines) == 1
    ran = gs(repo, "prune", "--keep-within", "soon", rc=2)
    assert len(ran.err_lines) == 1 and "7d" in ran.err


@pytest.mark.slow
def test_prune_without_options_uses_the_configured_policy(repo: Path) -> None:
    for _ in range(3):
        gs(repo)
    git(repo, "config", "snapshot.keepLast", "2")
    assert _ids(repo) == [1, 2, 3]
    gs(repo, "prune")  # keepWithin (14 days by default) still keeps all three
    assert _ids(repo) == [1, 2, 3]
    git(repo, "config", "snapshot.keepWithin", "1s")
    time.sleep(1.1)
    gs(repo, "prune")
    assert _ids(repo) == [2, 3]


def test_retention_settings_and_defaults(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo))
    assert worktree.settings(r) == worktree.Settings(
        excludes=(),
        skip_cache_dirs=True,
        keep_last=100,
        keep_within="14d",
        auto_prune=True,
    )
    git(repo, "config", "snapshot.keepLast", "3")
    git(repo, "config", "snapshot.keepWithin", "2h")
    git(repo, "config", "snapshot.autoPrune", "false")
    cfg = worktree.settings(r)
    assert (cfg.keep_last, cfg.keep_within, cfg.auto_prune) == (3, "2h", False)

    git(repo, "config", "snapshot.keepLast", "lots")
    ran = gs(repo, "run", "--", "true", rc=1)
    assert len(ran.err_lines) == 1 and "snapshot.keepLast" in ran.err


def test_apply_retention_forgets_old_snapshots_beyond_keep_last(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = gitrepo.find_repo(str(repo))
    git(repo, "config", "snapshot.keepLast", "2")
    git(repo, "config", "snapshot.keepWithin", "30m")
    with Store() as store:
        for i in range(5):
            write(repo / "f.txt", f"version {i}\n")
            worktree.take(store, r, trigger="post-checkout")
        cfg = worktree.settings(r)
        # all five are recent: keepWithin keeps them
        assert worktree.apply_retention(store, r, cfg) == 0
        now = time.time()
        with monkeypatch.context() as m:
            m.setattr(time, "time", lambda: now + 3600)  # an hour later
            off = cfg._replace(auto_prune=False)
            assert worktree.apply_retention(store, r, off) == 0
            assert worktree.apply_retention(store, r, cfg) == 3
        left = store.snapshots(identity.source(store, r))
        assert [s.id for s in left] == [4, 5]
        assert store.index.meta_get("last_gc") != ""  # and it collected the garbage
    # the kept snapshots are whole after that collection
    gs(repo, "verify", "--read-data")
    gs(repo, "restore", "4", "f.txt")
    assert (repo / "f.txt").read_text() == "version 3\n"


@pytest.mark.parametrize("command", ["verify", "repair"])
def test_verify_and_repair_refuse_a_store_that_is_not_there(
    repo: Path, tmp_path: Path, command: str
) -> None:
    # a mistyped GIT_SNAPSHOT_STORE made an empty store and verify said "ok: 0 snapshots"
    missing = tmp_path / "no-store-here"
    res = gs(repo, command, rc=1, GIT_SNAPSHOT_STORE=str(missing))
    assert res.err.strip() == (
        f"git-snapshot: no snapshot store at {missing}: nothing to {command}; "
        "set GIT_SNAPSHOT_STORE to the folder of the store"
    )
    assert not missing.exists()
