"""RED31 C4: a pack gone from the remote (a lifecycle rule, a bad disk) was never sent again:
``verify --remote`` said ``git snapshot push`` replaces it, but push returned early when no
snapshot was new ("pushed 0 ...; 1 already there", exit 0) and a missing object was not kept
for it to replace. Push now sends again every pack (and pack index) a remote snapshot names
that the remote lacks and this store holds, whether it pushed or pulled it; one it does not
hold is named (exit 1)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


def _pushed(tmp_path: Path) -> tuple[Path, dict[str, str], Path]:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    on(a, repo, "remote", "add", "nas", f"file://{tmp_path}/remote")
    (repo / "data.bin").write_bytes(os.urandom(50_000))
    on(a, repo, "-m", "first")
    on(a, repo, "push")
    return repo, a, tmp_path / "remote"


@pytest.mark.parametrize("lost", ["pack", "pack and index"])
def test_push_sends_again_a_pack_gone_from_the_remote(tmp_path: Path, lost: str) -> None:
    repo, a, remote = _pushed(tmp_path)
    (pack,) = os.listdir(remote / "packs")
    os.unlink(remote / "packs" / pack)
    if lost != "pack":
        os.unlink(remote / "index" / pack)
    r = on(a, repo, "verify", "--remote", "nas", rc=1)
    assert "push replaces 1 of them" in r.err, r.err
    r = on(a, repo, "push")
    assert "sent again 1 pack(s) missing from the remote" in r.out, r.out
    assert (remote / "packs" / pack).exists() and (remote / "index" / pack).exists()
    on(a, repo, "verify", "--remote", "nas", "--read-data")
    key = Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key"
    c = machine(tmp_path, "c")
    on(c, repo, "remote", "add", "nas", f"file://{remote}", "--key", str(key))
    dest = tmp_path / "out"
    on(c, repo, "restore", "--remote", "nas", "--repo", "w", "1", "--to", str(dest))
    assert (dest / "data.bin").read_bytes() == (repo / "data.bin").read_bytes()
    assert "already there" in on(a, repo, "push").out  # nothing left to send


def test_a_pulled_pack_is_sent_again_under_its_own_name_and_one_held_nowhere_is_named(
    tmp_path: Path,
) -> None:
    repo, a, remote = _pushed(tmp_path)
    key = Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key"
    b = machine(tmp_path, "b")
    on(b, repo, "remote", "add", "nas", f"file://{remote}", "--key", str(key))
    on(b, repo, "pull")
    (pack,) = os.listdir(remote / "packs")
    kept = tmp_path / "kept.pack"
    shutil.move(str(remote / "packs" / pack), kept)
    c = machine(tmp_path, "c")  # holds none of it
    on(c, repo, "remote", "add", "nas", f"file://{remote}", "--key", str(key))
    r = on(c, repo, "push", rc=1)
    assert f"packs/{pack}" in r.err and "missing" in r.err, r.err
    assert len(r.ours) == 1, r.err
    r = on(b, repo, "push")
    assert "sent again 1 pack(s)" in r.out, r.out
    on(c, repo, "verify", "--remote", "nas", "--read-data")
    assert "already there" in on(c, repo, "push").out
