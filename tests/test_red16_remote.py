"""Red team (session 17, RED16): session 16's remote changes against kills and hostile
records. Real CLI, file:// remotes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import gs
from test_red13_remote import pushed


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def cache_store() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path(os.environ["HOME"]) / ".cache")
    (found,) = base.glob("git-snapshot/remotes/*/store")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("left", ["no index", "an empty index", "a damaged index"])
def test_a_cache_rebuild_killed_after_its_index_went_leaves_the_remote_usable(
    tmp_path: Path, left: str
) -> None:
    """The cache's sync rebuilds its index when the remote lost something: it removes the
    index, removes the packs no kept document names, makes a new index and enters the
    rest. Killed after the index went (or with the new one still empty), the cache held
    fetched packs and no index listing them: every --remote command and push refused it
    as a lost index, naming 'git snapshot repair' (which repairs the local store). A cache
    index that does not read is made again from the kept documents too."""
    repo = pushed(tmp_path, 2)
    gs(repo, "cat", "--remote", "r", "1", "f0")  # a read fetches a pack into the cache
    store = cache_store()
    assert list((store / "packs").glob("*.pack"))
    index = store / "index.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    if left == "an empty index":
        import sqlite3

        sqlite3.connect(index).close()  # made, nothing entered yet
    elif left == "a damaged index":
        index.write_bytes(b"not a database" * 100)  # a bad disk
    listed = json.loads(gs(repo, "list", "--remote", "r", "--json"))
    assert [s["id"] for s in listed] == [1, 2]
    (repo / "g").write_text("more\n")
    gs(repo, "-m", "after")
    assert "pushed 1 snapshot(s)" in gs(repo, "push")
    assert "ok: remote r: 3 snapshots" in gs(repo, "verify", "--remote", "r", "--read-data")


INTERLEAVE = """
import subprocess, sys
from git_snapshot import gitrepo, worktree
from git_snapshot.store import Store
from git_snapshot.store.index import Index

reserve = Index.reserve_seq

def reserve_then_pull(self, source, path):
    seq = reserve(self, source, path)
    # a pull of this repository's own snapshots runs while this snapshot is on its way
    subprocess.run(["git", "snapshot", "pull", "r"], check=True)
    return seq

Index.reserve_seq = reserve_then_pull
with Store() as store:
    res = worktree.take(store, gitrepo.find_repo("."), trigger="manual")
print(res.snapshot.id)
"""


@pytest.mark.slow
def test_a_pull_beside_a_snapshot_of_the_same_repository_takes_no_number_it_reserved(
    tmp_path: Path,
) -> None:
    """A store lost and pulled back from the remote while the repository's hooks run: pull
    gave a remote snapshot its number when no snapshot row had it, but a snapshot on its way
    had reserved that number (its record carries it): whichever committed second failed on
    the index's unique (repository, number)."""
    import subprocess
    import sys

    from clihelpers import VENV_BIN

    repo = pushed(tmp_path, 2)
    new_store = tmp_path / "store2"
    new_store.mkdir()
    env = {
        **os.environ,
        "GIT_SNAPSHOT_STORE": str(new_store),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
    }
    gs(
        repo,
        "remote",
        "add",
        "r",
        f"file://{tmp_path}/remote",
        "--key",
        str(Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"),
        GIT_SNAPSHOT_STORE=str(new_store),
        rc=None,
    )
    ran = subprocess.run(
        [sys.executable, "-c", INTERLEAVE], cwd=repo, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    listed = json.loads(gs(repo, "list", "--json", GIT_SNAPSHOT_STORE=str(new_store)))
    assert sorted(s["id"] for s in listed) == [1, 2, 3], listed
    assert "ok" in gs(repo, "verify", "--read-data", GIT_SNAPSHOT_STORE=str(new_store))


@pytest.mark.slow
def test_repair_after_a_pull_killed_before_its_rows_brings_every_pulled_snapshot(
    tmp_path: Path,
) -> None:
    """repair after each kill: a first pull killed with its packs in place and no row; repair
    rebuilds from them (the pulled packs hold the snapshots' records) and the next pull has
    nothing left to do."""
    from remotehelpers import on
    from test_red13_remote import pull_killed_before_rows

    pushed(tmp_path, 3)
    other = pull_killed_before_rows(tmp_path)
    assert "3 snapshot(s)" in on(other, tmp_path, "repair").out
    assert "ok" in on(other, tmp_path, "verify", "--read-data")
    assert "pulled 0 snapshot(s)" in on(other, tmp_path, "pull", "r").out
    listed = json.loads(on(other, tmp_path, "list", "--all", "--json"))
    assert sorted(s["id"] for s in listed) == [1, 2, 3]
