"""RED40 C6: a store whose path is not UTF-8 (a Latin-1 user name in HOME) made every remote
command end in ``internal error: UnicodeEncodeError``: the remote's cache folder is named by a
hash of the URL and the store's path, which was encoded as UTF-8 (and so was the URL, for the
file that remembers the remote's locks). Snapshots, list and verify worked with that path;
only push, pull and --remote reads failed, so no off-machine copy was ever made. Both paths
are now hashed as the bytes they are on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow

LATIN1 = os.fsdecode(b"jos\xe9")  # 'jos\udce9': a name that is not UTF-8


def test_remote_commands_work_with_a_store_path_that_is_not_utf8(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "w")
    a = machine(tmp_path, "a")
    a["GIT_SNAPSHOT_STORE"] = str(tmp_path / LATIN1 / "store")
    remote = tmp_path / f"remote-{LATIN1}"  # the URL too
    (repo / ".env").write_text("S=1\n")
    on(a, repo, "-m", "first")
    on(a, repo, "remote", "add", "nas", str(remote))
    assert "pushed 1 snapshot(s)" in on(a, repo, "push", "nas").out
    assert "first" in on(a, repo, "list", "--remote", "nas").out
    on(a, repo, "pull", "nas")
    on(a, repo, "verify", "--remote", "nas", "--read-data")
