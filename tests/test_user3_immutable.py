"""A restore over files that cannot be written over (`chattr +i`) stopped at the first with one
line, leaving every later file unrestored (session 17, USER3). It now writes everything else,
names every file it could not write over (left as it was) and exits 1, as for damage."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs

FILES = ["a.txt", "b.txt", "c.txt", "sub/d.txt", "sub/e.txt", "same.txt"]
FROZEN = ["a.txt", "sub/d.txt", "same.txt"]


def _chattr(flag: str, paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chattr", flag, *map(str, paths)], capture_output=True, text=True, check=False
    )


@pytest.fixture
def frozen(repo: Path) -> Iterator[Path]:
    """Every file of FILES snapshotted then edited (same.txt: only its mtime), FROZEN made
    immutable; made mutable again afterwards, whatever happens."""
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("chattr +i needs root and chattr")
    for name in FILES:
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text(f"saved {name}\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "files")
    gs(repo, "create")
    for name in FILES:
        if name == "same.txt":
            os.utime(repo / name, (1_000_000, 1_000_000))
        else:
            (repo / name).write_text(f"edited {name}\n")
    paths = [repo / n for n in FROZEN]
    made = _chattr("+i", paths)
    if made.returncode != 0:  # tmpfs, overlay...: the file system has no immutable flag
        pytest.skip(f"chattr +i: {made.stderr.strip()}")
    try:
        yield repo
    finally:
        _chattr("-i", paths)


def test_a_restore_over_immutable_files_writes_the_rest_and_names_each(frozen: Path) -> None:
    r = frozen
    ran = gs(r, "restore", "latest", rc=1)
    for name in ["b.txt", "c.txt", "sub/e.txt"]:
        assert (r / name).read_text() == f"saved {name}\n", name
    for name in ["a.txt", "sub/d.txt"]:
        assert (r / name).read_text() == f"edited {name}\n", name  # as it was, never half
    assert os.stat(r / "same.txt").st_mtime == 1_000_000
    named = [line for line in ran.out.splitlines() if line.startswith("NOT WRITTEN ")]
    assert sorted(named) == [f"NOT WRITTEN {n}: Operation not permitted" for n in sorted(FROZEN)]
    (line,) = ran.err_lines
    assert "3 path(s) could not be written" in line and "chattr -i" in line, line
    assert not [p for p in os.listdir(r) if p.startswith(".git-snapshot")]  # no temp left
    # from a subfolder: as typed there; --json names them too
    ran = gs(r / "sub", "restore", "latest", ".", rc=1)
    assert "NOT WRITTEN d.txt: Operation not permitted" in ran.out.splitlines()
    got = json.loads(gs(r, "restore", "latest", "--json", rc=1).out)
    assert sorted(x["path"] for x in got["unwritable"]) == sorted(FROZEN)
    assert got["updated"] == []  # the rest was restored the first time


def test_the_api_does_not_report_success_over_immutable_files(frozen: Path) -> None:
    from git_snapshot import api
    from git_snapshot.errors import UserError
    from git_snapshot.store.restorer import Unwritable

    target = frozen.parent / "plain"
    shutil.copytree(frozen, target, ignore=shutil.ignore_patterns(".git"))
    info = api.create_backup("plain", str(target))
    (target / "b.txt").write_text("later\n")
    _chattr("+i", [target / "b.txt"])
    try:
        with pytest.raises(UserError) as caught:
            api.restore_backup("plain", info.id, str(target))
        assert isinstance(caught.value, Unwritable), caught.value
    finally:
        _chattr("-i", [target / "b.txt"])
