"""Red team (session 10): a remote pack that fails its authentication (truncated or altered
on the remote) made ``git snapshot pull`` an internal error, after the packs downloaded before
it were put in ``packs/`` with no index rows (in a new store every command then asked for a
repair), and no snapshot was pulled. Now every snapshot whose packs open is pulled, each
damaged pack and each snapshot not pulled is named, and pull exits 1; the store verifies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from conftest import init_repo
from remotehelpers import machine
from remotehelpers import on


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def test_a_damaged_remote_pack_costs_only_the_snapshots_that_need_it(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "proj")
    (repo / "a.bin").write_bytes(os.urandom(200_000))
    gs(repo, "-m", "one")
    url = f"file://{tmp_path}/remote"
    gs(repo, "remote", "add", "r", url)
    gs(repo, "push")
    packs = tmp_path / "remote" / "packs"
    first = set(packs.iterdir())
    (repo / "b.bin").write_bytes(os.urandom(200_000))
    gs(repo, "-m", "two")
    gs(repo, "push")
    second = max(set(packs.iterdir()) - first, key=lambda p: p.stat().st_size)
    os.truncate(second, second.stat().st_size // 2)  # the remote's copy of snapshot 2's data

    other = machine(tmp_path, "laptop2")
    key = Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    on(other, tmp_path, "remote", "add", "r", url, "--key", str(key))
    ran = on(other, tmp_path, "pull", "r", rc=1)
    assert f"DAMAGED remote object packs/{second.name}" in ran.out, ran.out
    assert "not pulled: proj:2" in ran.out and "pulled 1 snapshot(s)" in ran.out, ran.out
    assert len(ran.err_lines) == 1 and "damaged" in ran.err, ran.err
    listed = on(other, tmp_path, "list", "--all")
    assert "one" in listed and "two" not in listed, listed
    assert "ok" in on(other, tmp_path, "verify", "--read-data")
    restored = tmp_path / "back"
    on(other, tmp_path, "restore", "--repo", "proj", "1", "--to", str(restored))
    assert (restored / "a.bin").read_bytes() == (repo / "a.bin").read_bytes()
