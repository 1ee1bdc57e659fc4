"""Red team on the walk in C (session 18): a tree as deep as PATH_MAX allows is still walked.

boundary.RECURSION_LIMIT is what lets a walk recurse ~2000 one-letter levels (PATH_MAX, 4096
bytes, stops a deeper one first). ctree.build added frames to every level (build itself, the
changed folder's loop, other()): with the limit at 8000, main stopped at ~1990 levels with
the C module and ~1580 with its twin, where the session's start walked ~2030; a worktree that
deep had no snapshot at all ('a tree deeper than this tool can walk')."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ctreehelp import native as _ctree
from test_cli_hostile import _deep
from test_cli_hostile import _remove_deep_trees  # noqa: F401 - autouse: no recursive rmtree

from git_snapshot import create_backup
from git_snapshot.store import ctree_py
from git_snapshot.store import walker

BUILDS = [pytest.param(ctree_py.build, id="twin")]
if _ctree is not None:
    BUILDS.append(pytest.param(_ctree.build, id="c"))


@pytest.mark.slow
@pytest.mark.parametrize("build", BUILDS)
def test_a_tree_as_deep_as_path_max_allows_is_snapshotted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build: object
) -> None:
    data = tmp_path / "d"
    data.mkdir()
    # as deep as the path's length allows: its bottom file's path near PATH_MAX (4096)
    depth = (4096 - len(os.fsencode(data)) - len("/f") - 16) // 2
    assert depth > 1950, depth  # (a long tmp path would not test what is meant)
    _deep(data, depth)
    monkeypatch.setattr(walker, "_build", build)
    info = create_backup("deep", data, store=tmp_path / "store")
    assert info.file_count == 1
