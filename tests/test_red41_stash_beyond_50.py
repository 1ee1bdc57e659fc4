"""A file an older stash entry than the newest 50 holds was named destroyed, though
`git stash apply stash@{N}` gives it back (red41R2 F7).

losses.find asks every path it compares of the newest STASH_ENTRIES entries only (a lookup a
path and commit): more would cost every report. The paths about to be named lost are now
also asked of the older entries, when there are more, and only those whose version is an
object of the repository at all (one lookup each): a version in no object is in no entry.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write

from git_snapshot.gitextra import STASH_ENTRIES


@pytest.fixture
def deep(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* whose stash holds u.txt ("stashed long ago") in its oldest entry, under
    STASH_ENTRIES newer ones (made with `stash create` + `stash store`: no worktree change)."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"base\n")
    write(repo / "u.txt", b"stashed long ago\n")
    git(repo, "stash", "-q", "-u")
    for i in range(STASH_ENTRIES):
        write(repo / "a.txt", b"edit %d\n" % i)
        made = git(repo, "stash", "create", f"edit {i}").strip()
        git(repo, "stash", "store", "-m", f"edit {i}", made)
    git(repo, "checkout", "-q", "--", "a.txt")
    install(repo)
    return repo


def test_a_file_an_older_stash_entry_holds_is_not_named(deep: Path) -> None:
    r = deep
    n = STASH_ENTRIES
    git(r, "stash", "apply", "-q", f"stash@{{{n}}}")
    assert (r / "u.txt").read_bytes() == b"stashed long ago\n"
    ran = gs(r, "run", "--", "git", "clean", "-fd")
    assert not (r / "u.txt").exists()
    assert ran.reports == [], ran.said
    git(r, "stash", "apply", "-q", f"stash@{{{n}}}")  # git gives it back, as said
    assert (r / "u.txt").read_bytes() == b"stashed long ago\n"


def test_another_version_than_the_older_entry_holds_is_named(deep: Path) -> None:
    r = deep
    write(r / "u.txt", b"a newer version\n")
    git(r, "add", "u.txt")  # (the blob is an object of the repository: looked up)
    git(r, "rm", "-q", "--cached", "u.txt")
    ran = gs(r, "run", "--", "git", "clean", "-fd")
    assert not (r / "u.txt").exists()
    assert [x.names for x in ran.reports] == ["u.txt"], ran.said
