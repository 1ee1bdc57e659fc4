"""RED39 F5: a remote that lost one ``index/<id>`` document (its pack intact) made
``restore --remote`` and ``verify --remote --read-data`` call every file of that pack lost,
while ``pull`` brought each back byte for byte from that very pack (read by its own headers).
The ``--remote`` cache now reads such a pack by its own headers too (once, kept): restore
writes every file, and verify names only the missing document, with the way to write it
again from a machine that does not hold the pack (pull, then push)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


def test_remote_reads_a_pack_whose_index_document_is_gone(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "proj")
    lap = machine(tmp_path, "lap")
    remote = tmp_path / "remote"
    on(lap, repo, "remote", "add", "nas", f"file://{remote}")
    (repo / "data").mkdir()
    (repo / "data" / "one").write_text("keep me\n")
    (repo / ".env").write_text("v1\n")
    on(lap, repo, "-m", "s1")
    on(lap, repo, "push", "nas")
    first = set(os.listdir(remote / "index"))
    (repo / "data" / "two").write_text("two\n")
    (repo / ".env").write_text("v2\n")
    on(lap, repo, "-m", "s2")
    on(lap, repo, "push", "nas")
    for name in first:  # the first pack's index document is lost, the pack intact
        os.unlink(remote / "index" / name)
    key = Path(lap["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "nas.key"
    new = machine(tmp_path, "new")
    on(new, tmp_path, "remote", "add", "nas", f"file://{remote}", "--key", str(key))
    out = tmp_path / "rescued"
    on(new, tmp_path, "restore", "--remote", "nas", "--repo", "proj", "2", "--to", str(out))
    assert (out / "data" / "one").read_text() == "keep me\n"
    assert (out / ".env").read_text() == "v2\n"
    r = on(new, tmp_path, "verify", "--remote", "nas", "--read-data", rc=1)
    assert "DAMAGED snapshot" not in r.out, r.out
    assert "DAMAGED remote object index/" in r.out, r.out
    assert "git snapshot pull nas" in r.out + r.err, r.out + r.err
    on(new, tmp_path, "pull", "nas", rc=1)  # (it says what it did: the note above)
    on(new, tmp_path, "push", "nas")
    on(new, tmp_path, "verify", "--remote", "nas", "--read-data")
