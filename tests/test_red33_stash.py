"""RED33 A3: `git snapshot run -- git stash clear` of three entries printed three restore
commands (`--to ../stash-0`, `../stash-1`, `../stash-2`), one command's report; `git snapshot
undo` wrote only the last entry's folder, then refused as "already undone": the other two were
never brought back. DESIGN: undo restores what the latest report named; one command, one undo.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


@pytest.fixture
def stashed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"a\n")
    commit(repo, "b.txt", b"b\n")
    install(repo)
    write(repo / "a.txt", b"a\nE1\n")
    git(repo, "stash", "push", "-q", "-m", "first")
    write(repo / "b.txt", b"b\nE2\n")
    git(repo, "stash", "push", "-q", "-m", "second")
    write(repo / "n.txt", b"new\n")
    git(repo, "stash", "push", "-q", "-u", "-m", "third")
    return repo


def test_undo_of_a_stash_clear_brings_back_every_entry(stashed: Path) -> None:
    r = stashed
    ran = gs(r, "run", "--", "git", "stash", "clear")
    assert len([ln for ln in ran.ours if "dropped stash@{" in ln]) == 3, ran.err
    undo = gs(r, "undo")
    assert "from snapshots " in undo.out, undo.out
    side = r.parent
    assert (side / "stash-0" / "n.txt").read_bytes() == b"new\n"
    assert (side / "stash-1" / "b.txt").read_bytes() == b"b\nE2\n"
    assert (side / "stash-2" / "a.txt").read_bytes() == b"a\nE1\n"
    # every entry listed as undone, and a second undo names every folder it wrote
    assert all(i.get("undone") for i in json.loads(gs(r, "losses", "--json").out))
    line = gs(r, "undo", rc=1).ours[-1]
    assert "already undone" in line, line
    for name in ("stash-0", "stash-1", "stash-2"):
        assert name in line, line


def test_two_drops_are_two_commands(stashed: Path) -> None:
    """Each `run` is its own moment: undo puts back the latest drop only."""
    r = stashed
    gs(r, "run", "--", "git", "stash", "drop")
    gs(r, "run", "--", "git", "stash", "drop")
    undo = gs(r, "undo")
    assert "from snapshot " in undo.out, undo.out
    # (both printed --to ../stash-0: nothing was there yet) the second drop's entry alone
    out = r.parent / "stash-0"
    assert (out / "b.txt").read_bytes() == b"b\nE2\n" and not (out / "n.txt").exists()
