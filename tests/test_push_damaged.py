"""``push`` of a store with locally damaged data: it sent the damaged object and listed it in
the remote's index as good ("pushed 1 snapshot(s)", exit 0), so the off-machine copy was
silently bad until ``verify --remote --read-data``. Now every object is read back before its
pack's index document is written: a damaged one stays out of the remote's index, the
snapshots that need it are not pushed and are named, push exits 1, and the object is marked
damaged here so that the next snapshot stores it afresh; the push after that sends it, and the
snapshots left out with it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from conftest import committed_repo
from conftest import init_repo
from remotehelpers import machine
from remotehelpers import on
from storehelpers import entry_of
from storehelpers import flip_stored

from git_snapshot.store import Store


@pytest.fixture(autouse=True)
def _config_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def test_a_locally_damaged_object_is_not_pushed_as_good(tmp_path: Path, store_dir: Path) -> None:
    repo = init_repo(tmp_path / "proj")
    data = os.urandom(100_000)
    (repo / "a.bin").write_bytes(data)
    gs(repo, "-m", "first-push")
    with Store(store_dir) as s:
        flip_stored(store_dir, s, entry_of(s, s.snapshots()[-1], b"a.bin").ref)
    url = f"file://{tmp_path}/remote"
    gs(repo, "remote", "add", "r", url)
    ran = gs(repo, "push", rc=1)
    assert "pushed 0 snapshot(s)" in ran.out, ran.out
    assert "not pushed: proj:1" in ran.err and "damaged" in ran.err, ran.err
    assert len(ran.err_lines) == 1, ran.err

    other = machine(tmp_path, "laptop2")
    key = Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    on(other, tmp_path, "remote", "add", "r", url, "--key", str(key))
    listed = on(other, tmp_path, "list", "--all", "--remote", "r")
    assert "first-push" not in listed and "no snapshots" in listed, listed

    # marked damaged here: the next snapshot stores a.bin afresh, and that push sends it whole,
    # with snapshot 1 too (its a.bin now has an intact copy on the remote)
    gs(repo, "-m", "two")
    assert "pushed 2 snapshot(s)" in gs(repo, "push").out
    on(other, tmp_path, "pull", "r")
    assert "ok" in on(other, tmp_path, "verify", "--read-data")
    for n in ("1", "2"):
        restored = tmp_path / f"back{n}"
        on(other, tmp_path, "restore", "--repo", "proj", n, "--to", str(restored))
        assert (restored / "a.bin").read_bytes() == data


def test_a_push_of_only_a_damaged_local_pack_says_which_snapshot_and_why(tmp_path: Path) -> None:
    """A push whose every new pack fails to read here (a local pack truncated by a crash or a bad
    disk) ended in "internal error: ValueError(... truncated record ...)": the all-failed case
    re-raised the first failure, which is one line only when the remote refused. A local failure
    now names each snapshot left out and why, as when only some packs fail, and the snapshots
    the remote already holds stay listed."""
    repo = committed_repo(tmp_path / "r")
    a = machine(tmp_path, "a")
    on(a, repo, "remote", "add", "nas", f"file://{tmp_path}/remote")
    on(a, repo, "-m", "one")
    on(a, repo, "push", "nas")
    (repo / "big").write_bytes(os.urandom(300_000))
    on(a, repo, "-m", "two")
    store = Path(a["GIT_SNAPSHOT_STORE"])
    newest = max((store / "packs").glob("*.pack"), key=lambda p: p.stat().st_mtime_ns)
    os.truncate(newest, 1000)
    ran = on(a, repo, "push", "nas", rc=1)
    said = ran.out + ran.err
    assert "internal error" not in said, said
    lines = [s for s in ran.err.splitlines() if "not pushed" in s]
    assert len(lines) == 1 and "r:2" in lines[0], said
    assert newest.stem in lines[0] and "git snapshot verify" in lines[0], said
    listed = on(a, repo, "list", "--remote", "nas", "--all").out
    assert "one" in listed and "two" not in listed, listed
