"""A path one command prints works pasted into the next, from any directory of the worktree:
PATH arguments are relative to the current directory, as in git, so ``find`` prints them so
(its --json keeps paths from the worktree's top, as git's porcelain formats do)."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import gs


def _table_paths(text: str) -> list[str]:
    return [line.split()[0] for line in text.splitlines()[1:]]


def test_find_prints_paths_cat_and_log_take_in_a_subdirectory(repo: Path) -> None:
    (repo / "sub" / "deep").mkdir(parents=True)
    (repo / "sub" / "deep" / "x.txt").write_bytes(b"deep x\n")
    (repo / "top.txt").write_bytes(b"top\n")
    gs(repo, "create")
    sub = repo / "sub"
    printed = _table_paths(gs(sub, "find", "*.txt").out)
    assert printed == ["deep/x.txt", "../top.txt"]
    for path, data in zip(printed, ["deep x\n", "top\n"]):
        assert gs(sub, "cat", "latest", path).out == data
        assert "appeared" in gs(sub, "log", path).out
    # a pattern with a '/' is a path too: relative to here
    assert _table_paths(gs(sub, "find", "deep/*").out) == ["deep/x.txt"]
    assert _table_paths(gs(sub, "find", "../top*").out) == ["../top.txt"]
    # JSON: from the top, as `git status --porcelain`
    got = json.loads(gs(sub, "find", "*.txt", "--json"))
    assert [r["path"] for r in got] == ["sub/deep/x.txt", "top.txt"]
