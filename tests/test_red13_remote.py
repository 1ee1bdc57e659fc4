"""Red team (session 15, RED13): remotes against kills, a damaged local cache, a hostile
remote and a full disk. Real CLI, file:// remotes (the S3 ones: tests/test_remote_s3.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelpers import gs
from conftest import init_repo


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def kept_docs(kind: str) -> list[Path]:
    """The remote documents the cache keeps (of *kind*: index, snapshots)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path(os.environ["HOME"]) / ".cache")
    return sorted(base.glob(f"git-snapshot/remotes/*/docs/{kind}/*.json"))


def pushed(tmp_path: Path, n: int) -> Path:
    """A repository with *n* snapshots (each a file of its own), pushed to remote r."""
    repo = init_repo(tmp_path / "proj")
    for i in range(n):  # each snapshot in a pack of its own, needing no other
        for old in repo.glob("f*"):
            old.unlink()
        (repo / f"f{i}").write_bytes(os.urandom(50_000))
        gs(repo, "-m", f"s{i}")
    gs(repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    gs(repo, "push")
    return repo


@pytest.mark.slow
@pytest.mark.parametrize("damage", [None, b"", b'{"record": '])
def test_a_damaged_cached_document_never_makes_prune_delete_a_live_pack(
    tmp_path: Path, damage: bytes | None
) -> None:
    repo = pushed(tmp_path, 2)
    gs(repo, "list", "--remote", "r")  # the cache's index holds both
    docs = kept_docs("snapshots")
    assert len(docs) == 2, docs
    if damage is not None:
        docs[0].write_bytes(damage)  # a crash after the cache's non-durable write, a bad disk
    packs = sorted(os.listdir(tmp_path / "remote" / "packs"))
    gs(repo, "remote", "prune", "r")
    assert sorted(os.listdir(tmp_path / "remote" / "packs")) == packs
    assert "ok: remote r: 2 snapshots" in gs(repo, "verify", "--remote", "r", "--read-data")
    ids = [s["id"] for s in json.loads(gs(repo, "list", "--remote", "r", "--json"))]
    assert ids == [1, 2]


LOCK_AND_DIE = """
import os, signal, sys
from git_snapshot.store.remote import config, repo
remote = repo.Remote(config.get("r"))
with remote.lock(exclusive=sys.argv[1] == "prune"):
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
@pytest.mark.parametrize("what", ["prune", "push"])
def test_a_lock_left_by_a_killed_process_on_this_machine_blocks_nothing(
    tmp_path: Path, what: str
) -> None:
    repo = pushed(tmp_path, 1)
    died = subprocess.run([sys.executable, "-c", LOCK_AND_DIE, what], capture_output=True)
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert len(os.listdir(tmp_path / "remote" / "locks")) == 1  # its lock stays
    (repo / "g").write_text("more\n")
    gs(repo, "-m", "after")
    t0 = time.monotonic()
    assert "pushed 1 snapshot(s)" in gs(repo, "push")  # not 'busy' after 30 s of waiting
    gs(repo, "remote", "prune", "r")  # a dead push's lock neither
    assert time.monotonic() - t0 < 20
    assert os.listdir(tmp_path / "remote" / "locks") == []  # prune deleted the dead lock
