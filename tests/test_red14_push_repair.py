"""A remote pack damaged on the remote (a flipped byte, cut short) stayed damaged forever:
push counted its objects as there (the remote's intact index document lists them), so
``verify --remote --read-data``'s advice to push again changed nothing. Now verify records
the packs it found damaged in the remote's cache, push also compares each listed pack's size
with its index document, and push replaces each such pack this store holds (the pack it
pushed, or pulled from that remote) once every object the remote's index lists reads back
intact here; one it does not hold is named in one line (exit 1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from conftest import init_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _config_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def _key() -> str:
    return str(Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key")


def _pushed(tmp_path: Path, n: int = 1) -> tuple[Path, dict[str, bytes], Path]:
    """A repository with *n* snapshots (a pack each) pushed to a file:// remote."""
    repo = init_repo(tmp_path / "proj")
    for i in range(n):
        (repo / f"f{i}.bin").write_bytes(os.urandom(150_000))
        gs(repo, "-m", f"s{i}")
    gs(repo, "remote", "add", "r", f"file://{tmp_path}/remote")
    gs(repo, "push")
    files = {p.name: p.read_bytes() for p in repo.glob("f*.bin")}
    return repo, files, tmp_path / "remote" / "packs"


def _flip(pack: Path) -> None:
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0x40
    pack.write_bytes(bytes(data))


def _restores_whole(tmp_path: Path, n: int, files: dict[str, bytes]) -> None:
    """A new machine restores snapshot *n* from the remote alone, byte-exact."""
    other = machine(tmp_path, f"new{n}")
    on(other, tmp_path, "remote", "add", "r", f"file://{tmp_path}/remote", "--key", _key())
    out = tmp_path / f"back{n}"
    on(other, tmp_path, "restore", "--remote", "r", "--repo", "proj", str(n), "--to", str(out))
    assert {p.name: p.read_bytes() for p in out.glob("f*.bin")} == files


def test_push_replaces_a_pack_verify_found_damaged(tmp_path: Path) -> None:
    repo, files, packs = _pushed(tmp_path)
    pack = next(packs.iterdir())
    _flip(pack)
    ran = gs(repo, "verify", "--remote", "r", "--read-data", rc=1)
    assert f"DAMAGED remote object packs/{pack.name}" in ran.out
    assert "git snapshot push replaces 1 of them from this machine's store" in ran.err, ran.err
    assert len(ran.err_lines) == 1
    pushed = gs(repo, "push")
    assert "replaced 1 damaged remote object(s)" in pushed.out, pushed.out
    assert "ok: remote r" in gs(repo, "verify", "--remote", "r", "--read-data")
    assert "replaced" not in gs(repo, "push").out  # once
    _restores_whole(tmp_path, 1, files)


def test_push_replaces_a_pack_cut_short_without_verify(tmp_path: Path) -> None:
    """A size that differs from the pack's index document needs no download to be seen."""
    repo, files, packs = _pushed(tmp_path)
    pack = next(packs.iterdir())
    pack.write_bytes(pack.read_bytes()[:-1000])
    pushed = gs(repo, "push")
    assert "replaced 1 damaged remote object(s)" in pushed.out, pushed.out
    assert "ok: remote r" in gs(repo, "verify", "--remote", "r", "--read-data")
    _restores_whole(tmp_path, 1, files)


def test_a_pulled_pack_is_replaced_from_the_machine_that_pulled_it(tmp_path: Path) -> None:
    _repo, files, packs = _pushed(tmp_path)
    other = machine(tmp_path, "laptop2")
    on(other, tmp_path, "remote", "add", "r", f"file://{tmp_path}/remote", "--key", _key())
    on(other, tmp_path, "pull", "r")
    pack = next(packs.iterdir())
    _flip(pack)
    shutil_rm(Path(os.environ["GIT_SNAPSHOT_STORE"]))  # the first machine is gone
    ran = on(other, tmp_path, "verify", "--remote", "r", "--read-data", rc=1)
    assert "git snapshot push replaces 1 of them" in ran.err, ran.err
    assert "replaced 1 damaged remote object(s)" in on(other, tmp_path, "push").out
    assert "ok: remote r" in on(other, tmp_path, "verify", "--remote", "r", "--read-data")
    _restores_whole(tmp_path, 1, files)


def test_a_damaged_pack_this_store_lacks_is_named_not_replaced(tmp_path: Path) -> None:
    repo, _files, packs = _pushed(tmp_path)
    other = machine(tmp_path, "laptop2")
    on(other, tmp_path, "remote", "add", "r", f"file://{tmp_path}/remote", "--key", _key())
    pack = next(packs.iterdir())
    _flip(pack)
    ran = on(other, tmp_path, "verify", "--remote", "r", "--read-data", rc=1)
    assert "this machine's store holds none of them" in ran.err, ran.err
    pushed = on(other, tmp_path, "push", rc=1)
    assert "replaced" not in pushed.out
    assert len(pushed.err_lines) == 1, pushed.err
    assert f"not replaced: packs/{pack.name} (not in this store)" in pushed.err, pushed.err
    # the machine that holds it replaces it once its verify found it damaged (nothing else
    # reads the pack's bytes); the other machine's next push is quiet again
    assert "replaced" not in gs(repo, "push").out
    gs(repo, "verify", "--remote", "r", "--read-data", rc=1)
    assert "replaced 1 damaged remote object(s)" in gs(repo, "push").out
    assert "ok: remote r" in on(other, tmp_path, "verify", "--remote", "r", "--read-data")
    assert not on(other, tmp_path, "push").err


def test_a_pack_damaged_here_too_does_not_replace_the_remote_one(tmp_path: Path) -> None:
    """Damage is never replaced by damage: this store's copy reads back wrong as well."""
    repo, _files, packs = _pushed(tmp_path)
    pack = next(packs.iterdir())
    _flip(pack)
    gs(repo, "verify", "--remote", "r", "--read-data", rc=1)
    store = Path(os.environ["GIT_SNAPSHOT_STORE"]) / "packs"
    local = max(store.iterdir(), key=lambda p: p.stat().st_size)
    before = pack.read_bytes()
    _flip(local)
    pushed = gs(repo, "push", rc=1)
    assert "replaced" not in pushed.out
    assert "this store's copy is damaged too" in pushed.err, pushed.err
    assert pack.read_bytes() == before


def shutil_rm(path: Path) -> None:
    import shutil

    shutil.rmtree(path)


def test_a_push_to_a_full_remote_disk_leaves_no_part_behind(tmp_path: Path) -> None:
    """A file:// remote on a full disk (a NAS): each push's upload stopped part-way left its
    temp file in the remote's .tmp/ for ever, so once the user freed space there the next
    push's parts filled it again. Now a failed upload removes its part; the push says so in
    one line, and once there is room the push completes."""
    from fullfs import fill
    from fullfs import small_fs

    repo = init_repo(tmp_path / "proj")
    (repo / "big.bin").write_bytes(os.urandom(3_000_000))
    gs(repo, "-m", "one")
    with small_fs(tmp_path) as mnt:
        gs(repo, "remote", "add", "r", f"file://{mnt}/remote")
        filler = fill(mnt, leave=1_000_000)
        for _ in range(2):
            ran = gs(repo, "push", rc=1)
            assert len(ran.err_lines) == 1 and "Traceback" not in ran.err, ran.err
            assert os.listdir(mnt / "remote" / ".tmp") == []
        filler.unlink()
        assert "pushed 1 snapshot(s)" in gs(repo, "push").out
        assert "ok: remote r" in gs(repo, "verify", "--remote", "r", "--read-data")


def test_remote_prune_removes_the_parts_killed_pushes_left(tmp_path: Path) -> None:
    """A push killed while writing an object (a laptop shut during the background push)
    left its part in a file:// remote's .tmp/ for ever: prune removes those a day old."""
    repo, _files, _packs = _pushed(tmp_path)
    parts = tmp_path / "remote" / ".tmp"
    old, new = parts / "0123456789abcdef", parts / "fedcba9876543210"
    old.write_bytes(b"x" * 1000)
    new.write_bytes(b"y" * 1000)
    day = 24 * 3600 + 60
    os.utime(old, (old.stat().st_atime - day, old.stat().st_mtime - day))
    gs(repo, "remote", "prune", "r")
    assert sorted(os.listdir(parts)) == [new.name]
    assert "ok: remote r" in gs(repo, "verify", "--remote", "r", "--read-data")
