"""RED33 A7: `git snapshot run -- git stash push -p` that stashes one hunk of a file and keeps
the other said the file was destroyed: its whole version is neither in the stash (one hunk)
nor on disk (the other). Nothing is lost: the entry's change applied onto the file as it is
now (`git stash pop` once the rest is committed) is the version before the command. As for a
plain `git stash push` (the stash holds the whole file), no report. Edits the command did
discard are still named.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import gs
from clihelpers import run
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import write

LINES = b"".join(b"%d\n" % i for i in range(1, 31))
BOTH = LINES.replace(b"\n2\n", b"\nTWO\n").replace(b"\n28\n", b"\nTWENTYEIGHT\n")


@pytest.fixture
def hunks(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    commit(repo, "f", LINES)
    write(repo / "f", BOTH)
    return repo


def _stash_p(repo: Path, answers: bytes) -> str:
    args = ["git", "snapshot", "run", "--", "git", "stash", "push", "-p", "-m", "part"]
    return run(repo, *args, input=answers).err


def test_a_partly_stashed_file_is_no_loss(hunks: Path) -> None:
    r = hunks
    err = _stash_p(r, b"y\nn\n")
    assert b"TWENTYEIGHT" in (r / "f").read_bytes() and b"TWO" not in (r / "f").read_bytes()
    assert "destroyed" not in err, err
    # (git 2.39's `stash pop` refuses while f has the other hunk uncommitted: the usual way
    # is to commit that first; or apply the entry's change onto the file as it is)
    run(r, "sh", "-c", "git stash show -p | git apply")
    assert (r / "f").read_bytes() == BOTH


def test_the_whole_file_stashed_is_no_loss_either(hunks: Path) -> None:
    r = hunks
    err = _stash_p(r, b"y\ny\n")
    assert (r / "f").read_bytes() == LINES
    assert "destroyed" not in err, err


def test_an_edit_lost_beside_a_partial_stash_is_still_named(hunks: Path) -> None:
    """A second file's edit the command discarded (here: `sh -c`, a stash -p then a
    checkout of that file) is named; the partly stashed file is not."""
    r = hunks
    commit(r, "g", b"g\n")
    write(r / "f", BOTH)
    write(r / "g", b"g\nEDIT\n")
    script = "printf 'y\\nn\\n' | git stash push -q -p -- f && git checkout -q -- g"
    ran = gs(r, "run", "--", "sh", "-c", script)
    (rep,) = ran.reports
    assert rep.names == "g", ran.err
