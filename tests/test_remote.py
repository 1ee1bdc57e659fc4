"""Remotes on a second directory (file://): the backend's conditional writes, the encryption
format, and the user's scenarios end to end with the real CLI: push, wipe the store, read and
restore on a "new machine" (another HOME and store) from the remote alone; pull; a wrong key;
damage on the remote named by verify; nothing readable leaves the machine; prune."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from remotehelpers import machine
from remotehelpers import on

from git_snapshot.store.backend import Conflict
from git_snapshot.store.backend import NotFound
from git_snapshot.store.backend_file import FileBackend
from git_snapshot.store.remote import crypto


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def key_file(env: dict[str, str] | None, name: str) -> Path:
    base = Path(env["XDG_CONFIG_HOME"]) if env else Path(os.environ["XDG_CONFIG_HOME"])
    return base / "git-snapshot" / "keys" / f"{name}.key"


def tree(root: Path) -> dict[str, tuple[str, bytes]]:
    """Every entry below *root* but .git: kind and content (or link target), mode of files."""
    out: dict[str, tuple[str, bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p).encode())
            elif p.is_dir():
                out[rel] = ("dir", b"")
            else:
                out[rel] = (oct(p.stat().st_mode & 0o777), p.read_bytes())
    return out


def make_work(repo: Path) -> None:
    (repo / ".env").write_text("API_TOKEN=hunter2-very-secret\n")
    (repo / "src").mkdir()
    (repo / "src" / "main.py").write_text("print('hi')\n" * 100)
    (repo / "run.sh").write_text("#!/bin/sh\necho run\n")
    (repo / "run.sh").chmod(0o755)
    (repo / "data.bin").write_bytes(os.urandom(300_000))
    (repo / "link").symlink_to("src/main.py")
    (repo / "empty").mkdir()


# -- the backend and the format ------------------------------------------------------------


def test_file_backend_conditional_writes(tmp_path: Path) -> None:
    b = FileBackend(f"file://{tmp_path}/r")
    assert b.put_if_absent("packs/a", b"one") is True
    assert b.put_if_absent("packs/a", b"two") is False  # never overwritten
    assert b.get("packs/a") == b"one"
    assert b.get_range("packs/a", 1, 3) == b"ne"
    etag = b.put_cas("index", b"v1", None)
    with pytest.raises(Conflict):
        b.put_cas("index", b"other", None)
    etag2 = b.put_cas("index", b"v2", etag)
    with pytest.raises(Conflict):  # a writer holding the old etag loses
        b.put_cas("index", b"v3", etag)
    assert b.get("index") == b"v2" and etag2 != etag
    assert b.list("packs/") == {"packs/a": 3}
    b.delete("packs/a")
    b.delete("packs/a")
    with pytest.raises(NotFound):
        b.get("packs/a")


def test_sealed_chunks_are_bound_to_their_name_and_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "CHUNK", 1000)
    key = crypto.Key(crypto.new_secret())
    data = os.urandom(3500)
    sealed = key.seal("packs/x", data)
    assert key.open("packs/x", sealed) == data
    assert data[:64] not in sealed
    for a, b in ((0, 3500), (999, 1001), (2500, 3500), (10, 11)):
        got = key.open_range("packs/x", lambda s, e: sealed[s:e], len(sealed), a, b)
        assert got == data[a:b]
    step = 1000 + crypto.TAG
    h = crypto.HEADER
    bad = [
        ("another name", "packs/y", sealed),
        ("truncated at a chunk boundary", "packs/x", sealed[: h + 3 * step]),
        (
            "chunks swapped",
            "packs/x",
            sealed[:h]
            + sealed[h + step : h + 2 * step]
            + sealed[h : h + step]
            + sealed[h + 2 * step :],
        ),
        ("a flipped bit", "packs/x", sealed[:100] + bytes([sealed[100] ^ 1]) + sealed[101:]),
    ]
    for why, name, blob in bad:
        with pytest.raises(crypto.Damaged):
            key.open(name, blob)
            pytest.fail(why)
    with pytest.raises(crypto.Damaged):  # another key
        crypto.Key(crypto.new_secret()).open("packs/x", sealed)


# -- end to end, file:// ------------------------------------------------------------------


@pytest.mark.slow
def test_push_then_new_machine_reads_restores_and_pulls(tmp_path: Path, store_dir: Path) -> None:
    repo = init_repo(tmp_path / "proj")
    make_work(repo)
    gs(repo, "-m", "first")
    (repo / "src" / "main.py").write_text("changed\n")
    gs(repo, "-m", "second")
    url = f"file://{tmp_path}/remote"
    added = gs(repo, "remote", "add", "backup", url)
    kf = key_file(None, "backup")
    assert oct(kf.stat().st_mode & 0o777) == "0o600"
    assert crypto.KEY_PREFIX in added and "copy" in added  # printed once, with the advice
    assert "pushed 2 snapshot(s)" in gs(repo, "push")
    assert "pushed 0 snapshot(s) and 0 pack(s)" in gs(repo, "push")  # nothing twice
    expected = tree(repo)
    listed = json.loads(gs(repo, "list", "--json"))

    # nothing readable on the remote: no plaintext, no content hash, no local pack name
    blobs = b"".join(p.read_bytes() for p in (tmp_path / "remote").rglob("*") if p.is_file())
    assert b"hunter2" not in blobs and b"print('hi')" not in blobs
    for s in listed:
        assert s["message"].encode() not in blobs
    names = " ".join(str(p) for p in (tmp_path / "remote").rglob("*"))
    for pack in os.listdir(store_dir / "packs"):
        assert pack[:32] not in names

    # the machine is gone: another HOME, an empty store, only the key file and the URL
    shutil.rmtree(store_dir)
    other = machine(tmp_path, "laptop2")
    saved_key = tmp_path / "key-copy"
    shutil.copy(kf, saved_key)
    on(other, tmp_path, "remote", "add", "backup", url, "--key", str(saved_key))
    remote_list = json.loads(on(other, tmp_path, "list", "--remote", "backup", "--all", "--json"))
    assert [s["id"] for s in remote_list] == [s["id"] for s in listed]  # the same ids
    assert [s["message"] for s in remote_list] == ["first", "second"]
    cat = on(other, tmp_path, "cat", "--remote", "backup", "--repo", "proj", "1", ".env")
    assert cat == "API_TOKEN=hunter2-very-secret\n"
    # from a repository the remote has nothing of, the error says how to reach the others
    fresh = init_repo(tmp_path / "fresh")
    lost = on(other, fresh, "cat", "--remote", "backup", "1", ".env", rc=1)
    assert "list --all" in lost.err and "--repo NAME" in lost.err
    show = on(other, tmp_path, "show", "--remote", "backup", "--repo", "proj", "2")
    assert "data.bin" in show and "ignored" not in show.splitlines()[0]
    on(
        other,
        tmp_path,
        "restore",
        "--remote",
        "backup",
        "--repo",
        "proj",
        "2",
        "--to",
        str(tmp_path / "back"),
    )
    assert tree(tmp_path / "back") == expected  # byte-exact: contents, modes, links, dirs
    # in place would first snapshot into the cache: refused, saying what to do
    refused = on(other, repo, "restore", "--remote", "backup", "2", rc=1)
    assert "--to DIR" in refused.err and "pull" in refused.err

    # pull: the snapshots become the new store's own, same numbers, restorable offline
    assert "pulled 2 snapshot(s)" in on(other, tmp_path, "pull")
    local = json.loads(on(other, tmp_path, "list", "--all", "--json"))
    assert [s["id"] for s in local] == [1, 2]
    assert "pulled 0 snapshot(s)" in on(other, tmp_path, "pull", "backup")
    shutil.rmtree(tmp_path / "remote")  # offline now
    on(other, tmp_path, "restore", "--repo", "proj", "2", "--to", str(tmp_path / "back2"))
    assert tree(tmp_path / "back2") == expected
    assert "ok" in on(other, tmp_path, "verify", "--read-data")
    # and pushing back from the second machine sends nothing it got from the remote
    on(other, tmp_path, "remote", "add", "second", f"file://{tmp_path}/remote2")
    assert "pushed 2 snapshot(s)" in on(other, tmp_path, "push", "second")


@pytest.mark.slow
def test_wrong_key_is_one_clear_error(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "proj")
    (repo / "f").write_text("x")
    gs(repo)
    url = f"file://{tmp_path}/remote"
    gs(repo, "remote", "add", "r", url)
    gs(repo, "push", "r")
    other = machine(tmp_path, "m2")
    # a second machine adding it without the key: told to bring the key
    ran = on(other, tmp_path, "remote", "add", "r", url, rc=1)
    assert len(ran.err_lines) == 1 and "--key FILE" in ran.err
    # a key file replaced by another key: one line naming the key file, never garbage
    kf = key_file(None, "r")
    kf.chmod(0o600)
    kf.write_text(crypto.key_text(crypto.new_secret()))
    for args in (["push", "r"], ["list", "--remote", "r"], ["pull", "r"]):
        ran = gs(repo, *args, rc=1)
        assert len(ran.err_lines) == 1, ran.err
        assert "wrong key for remote r" in ran.err and str(kf) in ran.err


@pytest.mark.slow
def test_verify_remote_names_a_damaged_object(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "proj")
    (repo / "a.txt").write_text("keep me\n" * 1000)
    gs(repo, "-m", "one")
    url = f"file://{tmp_path}/remote"
    gs(repo, "remote", "add", "r", url)
    gs(repo, "push")
    assert "ok: remote r: 1 snapshots" in gs(repo, "verify", "--remote", "r", "--read-data")
    pack = next((tmp_path / "remote" / "packs").iterdir())
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0x40
    pack.write_bytes(bytes(data))
    ran = gs(repo, "verify", "--remote", "r", "--read-data", rc=1)
    assert f"DAMAGED remote object packs/{pack.name}" in ran.out
    assert "authentication" in ran.out and ":1" in ran.out  # the snapshot that needs it
    assert "DAMAGED snapshot 1 of" in ran.out  # and what the damage takes away
    # the advice is true: the push replaces the pack from this store (tests/test_red14_push_
    # repair.py: the other cases)
    assert "git snapshot push replaces 1 of them from this machine's store" in ran.err
    assert "replaced 1 damaged remote object(s)" in gs(repo, "push").out
    assert "ok: remote r" in gs(repo, "verify", "--remote", "r", "--read-data")
    # structure alone (no --read-data) does not download packs: a missing one is named too
    pack.unlink()
    ran = gs(repo, "verify", "--remote", "r", rc=1)
    assert f"packs/{pack.name}: is missing" in ran.out


@pytest.mark.slow
def test_remote_prune_keeps_what_remaining_snapshots_need(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "proj")
    for i in range(3):
        (repo / f"f{i}").write_bytes(os.urandom(50_000))
        gs(repo, "-m", f"s{i}")
    gs(repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    gs(repo, "push")
    packs = set(os.listdir(tmp_path / "remote" / "packs"))
    assert len(packs) == 3
    assert "would drop 2 snapshot(s)" in gs(
        repo, "remote", "prune", "r", "--keep-last", "1", "--dry-run"
    )
    assert len(os.listdir(tmp_path / "remote" / "packs")) == 3
    gs(repo, "remote", "prune", "r", "--keep-last", "1")
    ids = [s["id"] for s in json.loads(gs(repo, "list", "--remote", "r", "--json"))]
    assert ids == [3]
    # snapshot 3 holds f0 and f1 too: every pack it needs is still there and reads back
    gs(repo, "verify", "--remote", "r", "--read-data")
    gs(repo, "restore", "--remote", "r", "3", "--to", str(tmp_path / "out"))
    assert (tmp_path / "out" / "f0").read_bytes() == (repo / "f0").read_bytes()
    # a push afterwards does not bring back the dropped snapshots, though the local store
    # still has them: a prune sticks (RED34 B6)
    assert "pushed 0 snapshot(s)" in gs(repo, "push")


@pytest.mark.slow
def test_remote_list_and_remove_keep_the_key(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "proj")
    gs(repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    rows = json.loads(gs(repo, "remote", "list", "--json"))
    assert rows[0]["name"] == "r" and rows[0]["auto_push"] == "never auto-pushed"
    gs(repo, "remote", "add", "r", f"file://{tmp_path}/x", rc=1)
    bad = gs(repo, "remote", "add", "q", "ftp://host/x", rc=1)
    assert "s3://BUCKET" in bad.err
    out = gs(repo, "remote", "remove", "r")
    assert "kept in" in out
    assert not key_file(None, "r").exists()
    assert list(key_file(None, "r").parent.glob("r.key.removed-*"))
    assert "no remotes" in gs(repo, "remote", "list")
    ran = gs(repo, "push", rc=1)
    assert "remote add" in ran.err


@pytest.mark.slow
def test_auto_push_after_hook_snapshots(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "proj")
    (repo / "a").write_text("a\n")
    git(repo, "add", "a")
    git(repo, "commit", "-qm", "a")
    gs(repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    gs(repo, "install")
    git(repo, "config", "snapshot.autoPush", "r")
    (repo / ".env").write_text("not committed\n")
    git(repo, "checkout", "-q", "-b", "other")  # post-checkout: a hook snapshot, then a push
    deadline = time.monotonic() + 60
    while not list((tmp_path / "remote" / "snapshots").glob("*")):
        assert time.monotonic() < deadline, gs(repo, "remote", "list")
        time.sleep(0.2)
    while "last pushed" not in gs(repo, "remote", "list"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    listed = json.loads(gs(repo, "list", "--remote", "r", "--json"))
    assert listed[-1]["trigger"] == "post-checkout"


def test_prune_waits_for_pushes_and_ignores_stale_locks(tmp_path: Path) -> None:
    """restic's rule: a push holds a shared lock, prune an exclusive one; a lock not
    seen unchanged for 30 minutes is a dead process's and is ignored."""
    from git_snapshot.errors import UserError
    from git_snapshot.store import Store
    from git_snapshot.store.remote import repo as remote_repo
    from git_snapshot.store.remote.cache import RemoteStore
    from git_snapshot.store.remote.config import RemoteConf
    from git_snapshot.store.remote.maintain import prune_remote

    conf = RemoteConf("r", f"file://{tmp_path}/remote", str(tmp_path / "k"))
    remote = remote_repo.Remote(conf, crypto.new_secret())
    remote.init()
    with Store() as store, RemoteStore(remote, store.path) as cache:
        with remote.lock(exclusive=False), pytest.raises(UserError, match=r"is busy.*pushing"):
            prune_remote(remote, cache, None, dry_run=False, wait_s=0.3)
        stale = remote_repo.Lock(remote, exclusive=False)
        doc = {"exclusive": False, "host": "gone", "pid": 1, "time": time.time() - 31 * 60}
        remote.backend.put(stale.name, remote.key.seal(stale.name, _zstd_json(doc)))
        # (RED31: its own time is another machine's clock, never compared with ours: dead
        # once this machine has seen it unchanged for 30 min)
        with pytest.raises(UserError, match=r"is busy"):
            prune_remote(remote, cache, None, dry_run=False, wait_s=0.3)
        real = time.time
        with pytest.MonkeyPatch.context() as m:
            m.setattr(time, "time", lambda: real() + 31 * 60)
            report = prune_remote(remote, cache, None, dry_run=False, wait_s=0.3)
        assert report.locks == 1
        assert not remote.backend.list("locks/")


def _zstd_json(doc: object) -> bytes:
    import zstandard

    return bytes(zstandard.ZstdCompressor().compress(json.dumps(doc).encode()))
