"""RED33 A2: `git switch --orphan` runs post-checkout with an all-zero new HEAD (a branch with
no commit yet). The hook's loss check asked git for the paths between the old commit and
"0000000...", which git refuses: a raw `git diff-tree ... fatal: bad object` line after every
orphan switch once a snapshot existed, and with `--discard-changes` (git writes the empty
tree: every tracked file is deleted, edits and staged new files with them) nothing named
what it destroyed.
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
def hooked(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    (repo / ".gitignore").write_text("*.ini\n")
    git(repo, "add", ".gitignore")
    commit(repo, "a.txt", b"a\n")
    commit(repo, "d/c.txt", b"c\n")
    install(repo)
    gs(repo, "-m", "first")
    return repo


def test_a_clean_orphan_switch_says_no_more_than_its_snapshot(hooked: Path) -> None:
    r = hooked
    ran = git(r, "switch", "--orphan", "o")
    assert not (r / "a.txt").exists()  # git wrote the empty tree: the commit holds them
    assert len(ran.ours) == 1 and "(post-checkout)" in ran.ours[0], ran.err
    assert not ran.reports


def test_a_discarding_orphan_switch_names_the_edit_and_the_staged_file(hooked: Path) -> None:
    r = hooked
    write(r / "a.txt", b"a\nMY PRECIOUS EDIT\n")
    write(r / "s.txt", b"staged, never committed\n")
    git(r, "add", "s.txt")
    write(r / "u.txt", b"untracked\n")
    write(r / "i.ini", b"ignored\n")
    saved = gs(r, "-m", "edits").out.split()[1].rstrip(":")
    ran = git(r, "switch", "--discard-changes", "--orphan", "o2")
    assert not (r / "a.txt").exists() and not (r / "s.txt").exists()
    assert (r / "u.txt").exists() and (r / "i.ini").exists()  # git keeps what it does not track
    assert "could not check" not in ran.err and "bad object" not in ran.err, ran.err
    (rep,) = ran.reports
    assert rep.what == "git switch" and rep.names == "a.txt, s.txt", ran.err
    assert str(rep.snap) == saved
    (item,) = json.loads(gs(r, "losses", "--json").out)
    assert sorted(x["path"] for x in item["lost"]) == ["a.txt", "s.txt"]
    gs(r, "undo")
    assert (r / "a.txt").read_bytes() == b"a\nMY PRECIOUS EDIT\n"
    assert (r / "s.txt").read_bytes() == b"staged, never committed\n"
