"""RED36 B-find: `find FOLDER` split a folder whose only change was a file's mtime (a touch, a
build, a checkout) into one "version" per snapshot, each with another CONTENT id, while `log`
and `diff` said it had not changed: find's runs compared the folder's tree key, which covers
its files' mtimes. Now a folder's run goes on while what it holds is the same, as log and diff
see it (Trees.content: names, kinds, modes and contents, no mtime)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import put_venv_on_path
from hookhelpers import write


def _runs(repo: Path, pattern: str) -> list[tuple[str, list[int]]]:
    return [(r["path"], r["snapshots"]) for r in json.loads(gs(repo, "find", pattern, "--json"))]


def test_a_touched_file_does_not_split_its_folder(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    write(repo / "D" / "sub" / "x", b"x\n")
    gs(repo, "create")
    for year in (2001, 2002):
        t = (year - 1970) * 365 * 86400
        os.utime(repo / "D" / "sub" / "x", (t, t))
        gs(repo, "create")
    assert _runs(repo, "D") == [("D", [1, 2, 3])]
    assert _runs(repo, "sub") == [("D/sub", [1, 2, 3])]
    shown = gs(repo, "find", "D").out.splitlines()
    assert len(shown) == 2 and " 1-3 " in shown[1], shown
    # what the folder holds changing still ends its run, as in log
    write(repo / "D" / "sub" / "x", b"edited\n")
    gs(repo, "create")
    assert _runs(repo, "D") == [("D", [1, 2, 3]), ("D", [4])]
    log = gs(repo, "log", "D").out.splitlines()[1:]
    assert [ln.split()[0] for ln in log] == ["1", "4"], log
