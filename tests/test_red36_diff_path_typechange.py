"""RED36 B1: ``diff A B -- P`` where P changed type (file <-> folder, link <-> folder) dropped
the old side: "A P" for a path that existed, the deleted file missing from --json, --stat
and -p. The filter kept one change per path, and a type change is two (D P, then A P)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from clihelpers import gs


def _file_then_folder(repo: Path) -> None:
    (repo / "P").write_text("precious notes\n")
    gs(repo, "-m", "file")
    (repo / "P").unlink()
    (repo / "P").mkdir()
    (repo / "P" / "in").write_text("inner\n")
    gs(repo, "-m", "folder")


def test_filtered_diff_keeps_both_sides_of_a_type_change(repo: Path) -> None:
    _file_then_folder(repo)
    whole = gs(repo, "diff", "1", "2").out.splitlines()
    assert whole[:3] == ["D P", "A P", "A P/in"], whole
    for args in (["1", "2"], ["1"]):  # two snapshots; a snapshot and the worktree
        got = gs(repo, "diff", *args, "--", "P").out.splitlines()
        assert got[:3] == ["D P", "A P", "A P/in"], (args, got)
        assert "2 added, 1 deleted" in got[-1], got
        # the same from a path given twice, or a path inside it given first
        again = gs(repo, "diff", *args, "--", "P/in", "P", "P").out.splitlines()
        assert again == got, (args, again)
    rows = json.loads(gs(repo, "diff", "1", "2", "--json", "--", "P").out)
    pairs = [(c["path"], c["status"]) for c in rows]
    assert pairs == [("P", "deleted"), ("P", "added"), ("P/in", "added")], rows
    assert "-precious notes" in gs(repo, "diff", "1", "2", "-p", "--", "P").out
    stat = gs(repo, "diff", "1", "2", "--stat", "--", "P").out
    assert "2 files changed, 1 insertion(+), 1 deletion(-)" in stat, stat


def test_folder_to_file_and_link_to_folder(repo: Path) -> None:
    os.symlink("elsewhere", repo / "P")
    gs(repo, "-m", "link")
    (repo / "P").unlink()
    (repo / "P").mkdir()
    (repo / "P" / "in").write_text("inner\n")
    gs(repo, "-m", "folder")
    shutil.rmtree(repo / "P")
    (repo / "P").write_text("a file again\n")
    gs(repo, "-m", "file")
    got = gs(repo, "diff", "1", "2", "--", "P").out.splitlines()
    assert got[:3] == ["D P", "A P", "A P/in"], got
    got = gs(repo, "diff", "2", "3", "--", "P").out.splitlines()
    assert sorted(got[:3]) == sorted(gs(repo, "diff", "2", "3").out.splitlines()[:3]), got
    assert {"D P", "A P", "D P/in"} == set(got[:3]), got
