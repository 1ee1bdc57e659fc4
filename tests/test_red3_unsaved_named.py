"""Red team (session 9): 'restore N PATH' of a path snapshot.exclude now keeps out of every
snapshot overwrites it (the user named it), but said "what was there before is in snapshot M"
for it too, and M holds no copy: the edit was gone with no word. The report now says which
paths the pre-restore snapshot could not hold, on the line, on stderr and in --json."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import git
from clihelpers import gs


def test_a_named_excluded_path_overwritten_is_said_to_be_in_no_snapshot(repo: Path) -> None:
    (repo / "data.big").write_text("v1\n")
    (repo / "notes.txt").write_text("n1\n")
    gs(repo, "create")
    git(repo, "config", "snapshot.exclude", "*.big")
    (repo / "data.big").write_text("a new edit, in no snapshot\n")
    (repo / "notes.txt").write_text("n2\n")
    ran = gs(repo, "restore", "1", "data.big", "notes.txt")
    assert (repo / "data.big").read_text() == "v1\n"  # named: overwritten, as before
    assert "except 1 path" in ran.out, ran.out
    assert len(ran.err_lines) == 1 and "data.big (excluded)" in ran.err, ran.err
    assert "no snapshot" in ran.err, ran.err
    (repo / "data.big").write_text("again\n")
    data = json.loads(gs(repo, "restore", "1", "data.big", "--json"))
    assert data["not_saved"] == [{"path": "data.big", "why": "excluded"}], data
    # notes.txt's edit is in the pre-restore snapshot: no warning for it
    assert gs(repo, "cat", str(data["pre_restore"]), "notes.txt") == "n1\n"


def test_no_warning_when_the_pre_restore_snapshot_holds_everything(repo: Path) -> None:
    (repo / "notes.txt").write_text("n1\n")
    gs(repo, "create")
    (repo / "notes.txt").write_text("n2\n")
    ran = gs(repo, "restore", "1", "notes.txt")
    assert ran.err == "" and "except" not in ran.out, ran
