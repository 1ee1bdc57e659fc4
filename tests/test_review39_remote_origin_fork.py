"""review39 RF2, after RED39 F3: a remote orders one store's snapshots by their numbers (the
snapshot documents' "origin"). A store copied to a second machine (both then in use), or put
back from a backup after more snapshots were pushed, goes on from the same numbers under the
same origin: two histories whose numbers say nothing of which came later. By number, machine
A's newest work (its 2, taken last) passed for older than B's 3, and ``remote prune
--keep-last 1`` deleted it. An origin whose numbers repeat is ordered by time, as before."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import committed_repo
from remotehelpers import machine
from remotehelpers import on

pytestmark = pytest.mark.slow


def test_a_store_copied_to_two_machines_is_ordered_by_time_on_a_remote(tmp_path: Path) -> None:
    repo = committed_repo(tmp_path / "proj")
    url = f"file://{tmp_path}/remote"
    a = machine(tmp_path, "a")
    on(a, repo, "remote", "add", "nas", url)
    (repo / "notes.txt").write_text("first\n")
    on(a, repo, "-m", "first")
    on(a, repo, "push", "nas")
    b = machine(tmp_path, "b")  # the same store, copied (a new laptop, the old one in use)
    shutil.rmtree(b["GIT_SNAPSHOT_STORE"])
    shutil.copytree(a["GIT_SNAPSHOT_STORE"], b["GIT_SNAPSHOT_STORE"])
    shutil.copytree(Path(a["XDG_CONFIG_HOME"]), Path(b["XDG_CONFIG_HOME"]))
    (repo / "notes.txt").write_text("b one\n")
    on(b, repo, "-m", "b one")
    (repo / "notes.txt").write_text("b two\n")
    on(b, repo, "-m", "b two")
    on(b, repo, "push", "nas")
    (repo / "notes.txt").write_text("a newest\n")
    on(a, repo, "-m", "a newest")
    on(a, repo, "push", "nas")
    args = ("--remote", "nas", "--repo", "proj")
    assert on(a, repo, "cat", *args, "latest", "notes.txt").out == "a newest\n"
    on(a, repo, "remote", "prune", "nas", "--keep-last", "1")
    listed = on(b, repo, "list", "--remote", "nas").out
    assert "a newest" in listed and "b two" not in listed, listed
