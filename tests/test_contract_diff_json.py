"""diff --json against the worktree gives each change both sides, as between two snapshots:
the worktree's side is what a snapshot taken now would record (type, mode, size, content:
the store's key of a file, a link's target)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from clihelpers import gs


def test_diff_json_against_the_worktree_gives_the_new_side(repo: Path) -> None:
    (repo / "mod.txt").write_bytes(b"old\n")
    (repo / "gone.txt").write_bytes(b"bye\n")
    (repo / "x.sh").write_bytes(b"#!/bin/sh\n")
    gs(repo, "create")
    (repo / "mod.txt").write_bytes(b"newer\n")
    (repo / "gone.txt").unlink()
    (repo / "x.sh").chmod(0o755)
    (repo / "new").mkdir()
    (repo / "new" / "f").write_bytes(b"fresh")
    os.symlink("mod.txt", repo / "link")
    got = {c["path"]: c for c in json.loads(gs(repo, "diff", "--json"))}
    key = hashlib.sha256
    assert got["mod.txt"]["status"] == "modified"
    assert got["mod.txt"]["old"]["content"] == key(b"old\n").hexdigest()
    assert got["mod.txt"]["new"] == {
        "type": "file",
        "mode": "0644",
        "size": 6,
        "content": key(b"newer\n").hexdigest(),
    }
    assert got["x.sh"]["status"] == "mode"
    assert got["x.sh"]["new"]["mode"] == "0755"
    assert got["new/f"]["new"] == {
        "type": "file",
        "mode": "0644",
        "size": 5,
        "content": key(b"fresh").hexdigest(),
    }
    assert got["new"]["new"] == {"type": "dir", "mode": "0755", "size": 0, "content": None}
    link = {"type": "symlink", "mode": "0777", "size": 7, "content": "mod.txt"}
    assert got["link"]["new"] == link
    assert "new" not in got["gone.txt"]
    # the same sides when paths are named
    some = json.loads(gs(repo, "diff", "--json", "--", "mod.txt"))
    assert some == [got["mod.txt"]]
