"""RED31 C3: a lock's age was the reader's clock minus the writer's. A push from a machine
whose clock is 40 minutes behind (or a prune on one 40 minutes ahead) held a lock the prune
took for a dead process's the moment it was written: the prune deleted the pack the push had
just uploaded, and the push then published a snapshot naming it and said it succeeded. A lock
is now taken for dead only when this machine has seen it unchanged for the stale time by its
own clock (or its pid is gone on this same machine), and a push checks, before it publishes a
snapshot document, that the packs it names are still on the remote.

The skewed clock is a real second process whose time.time is moved (tests/fakes can move no
other machine's clock)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

from git_snapshot.store.remote import crypto

pytestmark = pytest.mark.slow

SCRIPT = r"""
import os, sys, time
real = time.time
skew = float(os.environ.get("SKEW_S", "0"))
time.time = lambda: real() + skew
from git_snapshot.store.remote import push as P
orig = P._push_snapshots
def held(*a, **k):
    if os.environ.get("HOLD"):
        open(os.environ["HOLD"], "w").close()
        time.sleep(float(os.environ["HOLD_S"]))
    keep = os.environ.get("KEEP_PACKS")
    if keep is not None:  # something (not a prune under lock) deletes the new packs
        packs = os.path.join(os.environ["REMOTE_DIR"], "packs")
        for name in os.listdir(packs):
            if name not in keep.split(","):
                os.unlink(os.path.join(packs, name))
    return orig(*a, **k)
P._push_snapshots = held
from git_snapshot.cli import main
sys.argv = ["git-snapshot", *sys.argv[1:]]
sys.exit(main())
"""


def _cmd(tmp_path: Path, *args: str) -> list[str]:
    script = tmp_path / "skewed.py"
    script.write_text(SCRIPT)
    return [sys.executable, str(script), *args]


def _env(m: dict[str, str], **extra: str) -> dict[str, str]:
    path = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, **m, "PATH": path, **extra}


def _two_machines(tmp_path: Path) -> tuple[Path, dict[str, str], dict[str, str], Path]:
    repo = committed_repo(tmp_path / "w")
    url = f"file://{tmp_path}/remote"
    a = machine(tmp_path, "a")
    on(a, repo, "remote", "add", "nas", url)
    on(a, repo, "-m", "first")
    on(a, repo, "push")
    (repo / "g.txt").write_text("precious new work\n")
    on(a, repo, "-m", "second")
    key = Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key"
    b = machine(tmp_path, "b")
    on(b, repo, "remote", "add", "nas", url, "--key", str(key))
    return repo, a, b, key


@pytest.mark.parametrize("skewed", ["push-behind", "prune-ahead"])
def test_a_prune_on_a_skewed_clock_does_not_delete_a_live_push_s_pack(
    tmp_path: Path, skewed: str
) -> None:
    repo, a, b, key = _two_machines(tmp_path)
    hold = tmp_path / "held"
    push_skew = "-2400" if skewed == "push-behind" else "0"
    prune_skew = "2400" if skewed == "prune-ahead" else "0"
    push = subprocess.Popen(
        _cmd(tmp_path, "push", "nas"),
        cwd=repo,
        env=_env(a, SKEW_S=push_skew, HOLD=str(hold), HOLD_S="5"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not hold.exists():
        assert push.poll() is None, push.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    prune = subprocess.run(
        _cmd(tmp_path, "remote", "prune", "nas"),
        cwd=repo,
        env=_env(b, SKEW_S=prune_skew),
        capture_output=True,
        text=True,
        timeout=120,
    )
    _out, err = push.communicate(timeout=120)
    assert push.returncode == 0, err
    assert prune.returncode == 0, prune.stderr
    assert "and 0 pack(s)" in prune.stdout, prune.stdout
    on(b, repo, "verify", "--remote", "nas", "--read-data")
    c = machine(tmp_path, "c")
    on(c, repo, "remote", "add", "nas", f"file://{tmp_path}/remote", "--key", str(key))
    dest = tmp_path / "out"
    on(c, repo, "restore", "--remote", "nas", "--repo", "w", "2", "--to", str(dest))
    assert (dest / "g.txt").read_text() == "precious new work\n"


def test_push_does_not_publish_a_snapshot_whose_pack_vanished(tmp_path: Path) -> None:
    repo, a, b, _key = _two_machines(tmp_path)
    remote = tmp_path / "remote"
    before = sorted(os.listdir(remote / "packs"))
    ran = subprocess.run(
        _cmd(tmp_path, "push", "nas"),
        cwd=repo,
        env=_env(a, KEEP_PACKS=",".join(before), REMOTE_DIR=str(remote)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 1, (ran.stdout, ran.stderr)
    assert "Traceback" not in ran.stderr
    assert "not pushed" in ran.stderr and "gone from the remote" in ran.stderr, ran.stderr
    assert len(os.listdir(remote / "snapshots")) == 1  # nothing published naming it
    on(b, repo, "verify", "--remote", "nas")
    r = on(a, repo, "push", "nas")
    assert "pushed 1 snapshot(s)" in r.out, r.out
    on(b, repo, "verify", "--remote", "nas", "--read-data")


def test_a_dead_lock_of_another_machine_goes_once_seen_unchanged_for_the_stale_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No clock of the other machine is read: its lock (dated whatever) blocks until this
    machine has seen it unchanged for STALE_S; a lock refreshed meanwhile starts again."""
    import zstandard

    from git_snapshot.errors import UserError
    from git_snapshot.store import Store
    from git_snapshot.store.remote import repo as remote_repo
    from git_snapshot.store.remote.cache import RemoteStore
    from git_snapshot.store.remote.config import RemoteConf
    from git_snapshot.store.remote.maintain import prune_remote

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    conf = RemoteConf("r", f"file://{tmp_path}/remote", str(tmp_path / "k"))
    remote = remote_repo.Remote(conf, crypto.new_secret())
    remote.init()
    name = "locks/" + "ab" * 16

    def put_lock(t: float) -> None:
        doc = {"exclusive": False, "host": "elsewhere", "pid": 4242, "time": t}
        raw = zstandard.ZstdCompressor().compress(json.dumps(doc).encode())
        remote.backend.put(name, remote.key.seal(name, raw))

    real = time.time
    put_lock(real() - 10 * 3600)  # its clock far behind: not dead for that
    with Store() as store, RemoteStore(remote, store.path) as cache:
        with pytest.raises(UserError, match=r"is busy.*pushing"):
            prune_remote(remote, cache, None, dry_run=False, wait_s=0.3)
        monkeypatch.setattr(time, "time", lambda: real() + 20 * 60)
        put_lock(real() - 10 * 3600 + 1)  # refreshed: alive
        with pytest.raises(UserError, match=r"is busy"):
            prune_remote(remote, cache, None, dry_run=False, wait_s=0.3)
        monkeypatch.setattr(time, "time", lambda: real() + 40 * 60)
        with pytest.raises(UserError, match=r"is busy"):  # 20 min unchanged only
            prune_remote(remote, cache, None, dry_run=False, wait_s=0.3)
        monkeypatch.setattr(time, "time", lambda: real() + 51 * 60)
        report = prune_remote(remote, cache, None, dry_run=False, wait_s=0.3)
        assert report.locks == 1
        assert not remote.backend.list("locks/")
