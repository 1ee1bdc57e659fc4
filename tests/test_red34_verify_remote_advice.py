"""RED34 B1 finding 5: ``verify --remote --read-data`` on a machine with no store, for a remote
whose pack index document is missing or garbled, printed per path "(snapshot record): content
missing from the index; git snapshot repair writes it again". ``repair`` rebuilds a local
store's index and never touches a remote (there it said "no snapshot store ... nothing to
repair"). A path's line about the remote now names the remote objects listed above it, and
the summary line says what works: a push from a machine that holds them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("damage", ["gone", "garbled"])
def test_verify_remote_never_advises_a_local_repair(tmp_path: Path, damage: str) -> None:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    on(a, repo, "-m", "first")
    remote = tmp_path / "remote"
    on(a, repo, "remote", "add", "r", f"file://{remote}")
    on(a, repo, "push", "r")
    for name in os.listdir(remote / "index"):
        if damage == "gone":
            os.unlink(remote / "index" / name)
        else:
            (remote / "index" / name).write_bytes(b"GSE1" + b"\0" * 40)
    key = Path(a["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    b = machine(tmp_path, "b")
    on(b, tmp_path, "remote", "add", "r", f"file://{remote}", "--key", str(key))
    r = on(b, tmp_path, "verify", "--remote", "r", "--read-data", rc=1)
    assert "DAMAGED remote object index/" in r.out, r.out
    # its pack is read by its own headers: nothing is lost, and a pull then a push from
    # here writes the document again (RED39 F5)
    assert "DAMAGED snapshot" not in r.out, r.out
    assert "reads whole by its own headers" in r.out, r.out
    assert "repair" not in r.out + r.err, r.out + r.err
    assert "git snapshot pull r, then git snapshot push r" in r.err, r.err
    # on the machine that holds them, the advice given works
    r = on(a, repo, "verify", "--remote", "r", "--read-data", rc=1)
    assert "repair" not in r.out + r.err, r.out + r.err
    on(a, repo, "push", "r")
    on(b, tmp_path, "verify", "--remote", "r", "--read-data")
