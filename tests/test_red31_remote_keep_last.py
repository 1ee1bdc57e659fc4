"""RED31 C2: ``remote prune --keep-last N`` kept the N highest numbers of the cache, not the N
newest snapshots: two machines pushing one repository (a copied home), the old machine's
snapshots pushed last got the numbers above the new machine's newer one, and a prune kept
last week's and deleted today's. It now keeps the N taken last (RemoteStore.snapshots' order)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


def test_keep_last_keeps_the_newest_snapshots_not_the_highest_numbers(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "proj")
    url = f"file://{tmp_path}/remote"
    old = machine(tmp_path, "old")
    on(old, repo, "remote", "add", "r", url)
    for i in range(2):
        (repo / "notes.txt").write_text(f"old {i}\n")
        on(old, repo, "-m", f"old-{i}")
        time.sleep(0.02)
    key = Path(old["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    new = machine(tmp_path, "new")  # the same folder: same path, same repository id
    on(new, repo, "remote", "add", "r", url, "--key", str(key))
    (repo / "notes.txt").write_text("newest\n")
    on(new, repo, "-m", "newest")
    on(new, repo, "push")  # first: the old machine's two come in above it, by number
    on(old, repo, "push")
    out = on(old, repo, "remote", "prune", "r", "--keep-last", "1").out
    assert "dropped 2 snapshot(s)" in out, out
    for m in (old, new):
        listed = on(m, repo, "list", "--remote", "r", "--all").out
        assert [ln.split()[-1] for ln in listed.splitlines()[1:]] == ["newest"], listed
    assert on(new, repo, "cat", "--remote", "r", "latest", "notes.txt").out == "newest\n"
    on(old, repo, "verify", "--remote", "r", "--read-data")
    assert os.path.isdir(tmp_path / "remote" / "snapshots")
