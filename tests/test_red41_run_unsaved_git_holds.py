"""`git snapshot run` named a file the snapshot left out "not saved" (lost with no copy) when
git holds it (red41R2 F4).

run's _unsaved listed every left-out path the command deleted and asked git nothing: the
untracked file `git stash -u` had just put in its new entry, and the clean committed file
`git checkout other` removed, which the branch it left still holds. A folder whose only file
was left out was also named destroyed (the snapshot holds it empty), though `git stash pop`
makes it again. What git cannot give back is still named: a clean, an older stash entry's
other version, an uncommitted edit a forced checkout discarded.
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


@pytest.fixture
def excluding(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* with a.txt and t.bin committed on main, branch `other` without t.bin, and
    `*.bin` left out of snapshots (snapshot.exclude)."""
    put_venv_on_path(monkeypatch)
    commit(repo, "a.txt", b"base\n")
    commit(repo, "t.bin", b"committed\n")
    git(repo, "checkout", "-q", "-b", "other")
    git(repo, "rm", "-q", "t.bin")
    git(repo, "commit", "-qm", "rm")
    git(repo, "checkout", "-q", "main")
    git(repo, "config", "snapshot.exclude", "*.bin")
    install(repo)
    return repo


def _unsaved(said: list[str]) -> list[str]:
    return [ln for ln in said if "not saved" in ln]


@pytest.mark.parametrize("flag", ["-u", "-a", "--include-untracked"])
def test_an_untracked_left_out_file_the_stash_took_is_not_named(excluding: Path, flag: str) -> None:
    r = excluding
    write(r / "u.bin", b"untracked, left out\n")
    ran = gs(r, "run", "--", "git", "stash", flag)
    assert not (r / "u.bin").exists()
    assert _unsaved(ran.said) == [], ran.said
    assert ran.reports == [], ran.said
    git(r, "stash", "pop", "-q")
    assert (r / "u.bin").read_bytes() == b"untracked, left out\n"


def test_a_clean_committed_left_out_file_a_checkout_removed_is_not_named(
    excluding: Path,
) -> None:
    r = excluding
    ran = gs(r, "run", "--", "git", "checkout", "-q", "other")
    assert not (r / "t.bin").exists()
    assert _unsaved(ran.said) == [], ran.said
    assert git(r, "show", "main:t.bin").out == "committed\n"


def test_a_folder_whose_only_file_the_stash_took_is_not_named(excluding: Path) -> None:
    r = excluding
    write(r / "big" / "k.bin", b"left out\n")
    ran = gs(r, "run", "--", "git", "stash", "-u")
    assert not (r / "big").exists()
    assert _unsaved(ran.said) == [], ran.said
    assert ran.reports == [], ran.said
    git(r, "stash", "pop", "-q")
    assert (r / "big" / "k.bin").read_bytes() == b"left out\n"


def test_a_left_out_file_a_clean_deleted_is_still_named(excluding: Path) -> None:
    """An older stash entry holds u.bin too, in another version: not what clean deleted."""
    r = excluding
    write(r / "u.bin", b"an older version\n")
    git(r, "stash", "-u")
    write(r / "u.bin", b"the version clean deletes\n")
    write(r / "big" / "k.bin", b"left out\n")
    ran = gs(r, "run", "--", "git", "clean", "-fdx")
    assert not (r / "u.bin").exists()
    lines = _unsaved(ran.said)
    assert any("u.bin" in ln and "excluded by snapshot.exclude" in ln for ln in lines), ran.said
    assert any("big/k.bin" in ln for ln in lines), ran.said


def test_an_uncommitted_edit_a_forced_checkout_discarded_is_still_named(
    excluding: Path,
) -> None:
    r = excluding
    write(r / "t.bin", b"my uncommitted edit\n")
    ran = gs(r, "run", "--", "git", "checkout", "-q", "-f", "other")
    assert not (r / "t.bin").exists()
    lines = [ln for ln in _unsaved(ran.said) if "t.bin" in ln]
    assert len(lines) == 1 and "excluded by snapshot.exclude" in lines[0], ran.said


def test_a_staged_new_left_out_file_the_stash_took_is_not_named(excluding: Path) -> None:
    """`git stash` removes a file added to the index only; its entry holds it."""
    r = excluding
    write(r / "n.bin", b"staged, new\n")
    git(r, "add", "n.bin")
    ran = gs(r, "run", "--", "git", "stash")
    assert not (r / "n.bin").exists()
    assert _unsaved(ran.said) == [], ran.said
