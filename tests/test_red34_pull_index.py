"""RED34 B2 (finding 2): a remote pack index document (``index/<id>``) missing or garbled made
``git snapshot pull`` an internal error (FileNotFoundError) that pulled nothing, not even the
snapshots that do not need that pack. The pack itself is intact and sealed with the remote's
key, and says what it holds (its own headers, as ``repair`` reads a local pack): pull now takes
it by that, says so in one line, and a push from that machine writes the document again. A
pack gone with its document costs only the snapshots that need it, named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


def _two_pushes(tmp_path: Path) -> tuple[Path, dict[str, str], Path, str, str]:
    """Snapshots 1 and 2 pushed one at a time: (repo, machine, remote, key file, the pack id
    only snapshot 2 needs)."""
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    remote = tmp_path / "remote"
    on(a, repo, "remote", "add", "nas", f"file://{remote}")
    (repo / "one.bin").write_bytes(os.urandom(30_000))
    on(a, repo, "-m", "first")
    on(a, repo, "push")
    before = set(os.listdir(remote / "index"))
    (repo / "two.bin").write_bytes(os.urandom(30_000))
    on(a, repo, "-m", "second")
    on(a, repo, "push")
    (second,) = set(os.listdir(remote / "index")) - before
    key = str(Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key")
    return repo, a, remote, key, second


@pytest.mark.parametrize("damage", ["gone", "garbled"])
def test_pull_takes_a_pack_whose_index_document_is_gone_by_what_it_holds(
    tmp_path: Path, damage: str
) -> None:
    repo, a, remote, key, ident = _two_pushes(tmp_path)
    doc = remote / "index" / ident
    if damage == "gone":
        doc.unlink()
    else:
        doc.write_bytes(b"\0" * doc.stat().st_size)
    b = machine(tmp_path, "b")
    on(b, tmp_path, "remote", "add", "nas", f"file://{remote}", "--key", key)
    r = on(b, tmp_path, "pull", "nas", rc=1)
    assert "internal error" not in r.err, r.err
    assert "pulled 2 snapshot(s)" in r.out, r.out
    assert len(r.err_lines) == 1 and f"index/{ident}" in r.err, r.err
    assert "push from here writes" in r.err, r.err
    on(b, tmp_path, "verify", "--read-data")
    out = tmp_path / "out"
    on(b, tmp_path, "restore", "--repo", "w", "2", "--to", str(out))
    assert (out / "two.bin").read_bytes() == (repo / "two.bin").read_bytes()
    # what the line says: a push from b puts the document back, and the remote verifies
    r = on(b, tmp_path, "push", "nas")
    assert (remote / "index" / ident).exists()
    on(a, repo, "verify", "--remote", "nas", "--read-data")
    c = machine(tmp_path, "c")
    on(c, tmp_path, "remote", "add", "nas", f"file://{remote}", "--key", key)
    assert "pulled 2 snapshot(s)" in on(c, tmp_path, "pull", "nas").out


def test_a_pack_gone_with_its_index_document_costs_only_the_snapshots_needing_it(
    tmp_path: Path,
) -> None:
    repo, a, remote, key, ident = _two_pushes(tmp_path)
    (remote / "index" / ident).unlink()
    (remote / "packs" / ident).unlink()
    b = machine(tmp_path, "b")
    on(b, tmp_path, "remote", "add", "nas", f"file://{remote}", "--key", key)
    r = on(b, tmp_path, "pull", "nas", rc=1)
    assert "internal error" not in r.err, r.err
    assert "not pulled: w:2" in r.out and "pulled 1 snapshot(s)" in r.out, r.out
    assert len(r.err_lines) == 1 and "push from a machine that holds them" in r.err, r.err
    on(b, tmp_path, "verify", "--read-data")
    on(a, repo, "push", "nas")  # a holds it: sends it again
    assert "pulled 1 snapshot(s)" in on(b, tmp_path, "pull", "nas").out


def test_pull_keeps_no_pack_that_only_a_snapshot_left_out_needs(tmp_path: Path) -> None:
    """(RED34 minor) With snapshot 1's pack damaged, snapshot 2 (which needs it too) is not
    pulled: its other pack was downloaded and kept, "pulled 0 snapshot(s) and 1 pack(s)"."""
    _repo, _a, remote, key, ident = _two_pushes(tmp_path)
    (first,) = set(os.listdir(remote / "packs")) - {ident}
    pack = remote / "packs" / first
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 1
    pack.write_bytes(bytes(data))
    b = machine(tmp_path, "b")
    on(b, tmp_path, "remote", "add", "nas", f"file://{remote}", "--key", key)
    r = on(b, tmp_path, "pull", "nas", rc=1)
    assert "pulled 0 snapshot(s) and 0 pack(s)" in r.out, r.out
    assert "not pulled: w:1" in r.out and "not pulled: w:2" in r.out, r.out
    assert not [n for n in os.listdir(Path(b["GIT_SNAPSHOT_STORE"]) / "packs")], r.out


def test_a_push_whose_copy_does_not_scan_names_it(tmp_path: Path) -> None:
    """A push writing a garbled index document again from this store's copy of the pack
    (pulled by what it held), that copy's framing damaged since: named, not an internal
    error (scan_pack's ValueError)."""
    _repo, _a, remote, key, ident = _two_pushes(tmp_path)
    doc = remote / "index" / ident
    doc.write_bytes(b"\0" * doc.stat().st_size)
    b = machine(tmp_path, "b")
    on(b, tmp_path, "remote", "add", "nas", f"file://{remote}", "--key", key)
    on(b, tmp_path, "pull", "nas", rc=1)
    copy = Path(b["GIT_SNAPSHOT_STORE"]) / "packs" / f"{ident}.pack"
    data = copy.read_bytes()
    copy.chmod(0o600)
    copy.write_bytes(b"\0" * 8 + data[8:])  # (its magic gone, its size kept)
    r = on(b, tmp_path, "push", "nas", rc=None)
    assert "internal error" not in r.err, r.err
    assert f"index/{ident}" in r.out + r.err and "does not read" in r.out + r.err, r.out + r.err
