"""RED34 (red team C, finding 4, a-c): small output issues of log, find and diff.

(a) `log` showed a mode-only change as "changed" with the size and content id of the row
    before and no mode column: nothing said what changed. Its CHANGE column now names the
    modes as diff -p's mode lines write them.
(b) A symlink's size was 0 B in `log` and `find` (text and --json), the target's length in
    `show --json` and `diff --json`. A link's size is its target's length (what lstat and
    `git ls-tree -l` give, what a snapshot records): log and find say so too; a folder's
    size stays that of its files (as list's `bytes`, DESIGN: "total size of the files").
(c) `diff --stat -p` printed only the stat (git prints the stat, a blank line, then the
    patch); `--stat` with nothing changed printed "0 files changed" where git prints nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def two(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Snapshot 1: run.sh 644, L -> target1, f "a"; snapshot 2: run.sh 755 (its mode alone),
    L -> target22, f "b"; snapshot 3: run.sh 644 with new content."""
    put_venv_on_path(monkeypatch)
    write(repo / "run.sh", b"#!/bin/sh\n", 0o644)
    os.symlink("target1", repo / "L")
    write(repo / "f", b"a\n")
    gs(repo, "-m", "one")
    (repo / "run.sh").chmod(0o755)
    (repo / "L").unlink()
    os.symlink("target22", repo / "L")
    write(repo / "f", b"b\n")
    gs(repo, "-m", "two")
    write(repo / "run.sh", b"#!/bin/sh\necho\n", 0o644)
    gs(repo, "-m", "three")
    return repo


def _rows(out: str) -> dict[str, list[str]]:
    """log's table rows by snapshot id: the columns after TRIGGER, split on 2+ spaces."""
    import re

    rows = {}
    for line in out.splitlines()[1:]:
        cols = re.split(r"\s{2,}", line.strip())
        rows[cols[0]] = cols[4:]
    return rows


def test_log_says_what_a_mode_change_changed(two: Path) -> None:
    rows = _rows(gs(two, "log", "run.sh").out)
    assert rows["1"][0] == "appeared"
    assert rows["2"][0] == "mode 100644 -> 100755", rows
    assert rows["3"][0] == "changed, mode 100755 -> 100644", rows
    # the JSON keeps its fields: status "changed", each row's mode
    got = json.loads(gs(two, "log", "run.sh", "--json"))
    assert [(v["status"], v["mode"]) for v in got] == [
        ("appeared", "0644"),
        ("changed", "0755"),
        ("changed", "0644"),
    ]


def test_log_says_what_a_folder_mode_change_changed(two: Path) -> None:
    r = two
    write(r / "d" / "x", b"x\n")
    gs(r, "-m", "d")
    (r / "d").chmod(0o700)
    gs(r, "-m", "d private")
    rows = _rows(gs(r, "log", "d").out)
    assert [row[0] for row in rows.values()] == ["appeared", "mode 040755 -> 040700"], rows


def test_a_symlinks_size_is_its_targets_length_everywhere(two: Path) -> None:
    r = two
    got = json.loads(gs(r, "log", "L", "--json"))
    assert [v["size"] for v in got] == [7, 8]
    rows = _rows(gs(r, "log", "L").out)
    assert [row[1] for row in rows.values()] == ["7 B", "8 B"], rows
    found = json.loads(gs(r, "find", "L", "--json"))
    assert sorted(x["size"] for x in found) == [7, 8], found
    assert "8 B" in gs(r, "find", "L").out
    show = json.loads(gs(r, "show", "2", "--json"))
    assert [e["size"] for e in show["entries"] if e["path"] == "L"] == [8]
    diff = json.loads(gs(r, "diff", "1", "2", "--json"))
    assert [(c["old"]["size"], c["new"]["size"]) for c in diff if c["path"] == "L"] == [(7, 8)]
    # a folder's size is its files' (as list's bytes), never its links' targets
    top = json.loads(gs(r, "log", ".", "--json"))
    listed = {s["id"]: s["bytes"] for s in json.loads(gs(r, "list", "--json"))}
    assert [v["size"] for v in top] == [listed[v["id"]] for v in top]


def test_diff_stat_and_patch_print_both_as_git_does(two: Path) -> None:
    r = two
    patch = gs(r, "diff", "1", "2", "-p").out
    for order in (["--stat", "-p"], ["-p", "--stat"]):
        out = gs(r, "diff", "1", "2", *order).out
        stat_part, sep, rest = out.partition("\n\n")
        assert sep and " 3 files changed" in stat_part and " f " in stat_part, out
        assert rest == patch, out


def test_diff_stat_with_nothing_changed_prints_nothing(two: Path) -> None:
    r = two
    assert gs(r, "diff", "3", "3", "--stat").out == ""
    assert gs(r, "diff", "3", "3", "--stat", "-p").out == ""
