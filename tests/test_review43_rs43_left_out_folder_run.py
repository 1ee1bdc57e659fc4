"""Review RS43 of fixS (session 43): run now names a left-out path that a move of HEAD its
command made wrote at or below. An excluded folder that is not ignored, with tracked files
(data/ excluded, data/a.csv tracked), and a branch that adds data/b.csv: `run -- git checkout
main` (or a merge, a rebase onto it) said "not saved: data, excluded by snapshot.exclude",
though git writes a file there only where the user had none (it refuses to write over an
untracked file its ignore rules do not match, unless forced), and destroyed nothing. The
plain `git checkout main`'s hook says nothing (lostfrom._switch_kept).

Guards: a forced checkout over the user's own data/b.csv, and a plain one over an ignored
data/b.csv (git writes over ignored files), are still named.

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path

MINE = b"MY OWN\n"


def _repo(repo: Path, monkeypatch: pytest.MonkeyPatch, ignored: bool = False) -> None:
    """main adds data/b.csv (and changes c.txt); topic has data/a.csv only. On topic,
    hooked, data/ excluded from snapshots (*ignored*: by .gitignore too) holds the user's
    own.txt."""
    put_venv_on_path(monkeypatch)
    (repo / "a.txt").write_bytes(b"base\n")
    (repo / "data").mkdir()
    (repo / "data" / "a.csv").write_bytes(b"one\n")
    if ignored:
        (repo / ".gitignore").write_bytes(b"/data/\n")
    git(repo, "add", "-f", ".")
    git(repo, "commit", "-qm", "init")
    git(repo, "branch", "topic")
    (repo / "data" / "b.csv").write_bytes(b"from main\n")
    (repo / "c.txt").write_bytes(b"main\n")
    git(repo, "add", "-f", "data/b.csv", "c.txt")
    git(repo, "commit", "-qm", "m1")
    git(repo, "checkout", "-q", "topic")
    install(repo)
    git(repo, "config", "snapshot.exclude", "data")
    (repo / "data" / "own.txt").write_bytes(MINE)


def _not_saved(lines: list[str]) -> list[str]:
    return [ln for ln in lines if "not saved" in ln]


@pytest.mark.parametrize("how", ["checkout", "merge", "rebase"])
def test_a_new_file_a_move_under_run_adds_to_a_left_out_folder_is_not_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    _repo(repo, monkeypatch)
    words = {"checkout": ["checkout", "-q"], "merge": ["merge", "-q"], "rebase": ["rebase", "-q"]}
    ran = gs(repo, "run", "--", "git", *words[how], "main")
    assert (repo / "data" / "b.csv").read_bytes() == b"from main\n"
    assert (repo / "data" / "own.txt").read_bytes() == MINE
    assert not _not_saved(ran.said), ran.err
    assert "not saved" not in gs(repo, "losses").out


def test_a_forced_checkout_under_run_over_a_file_in_a_left_out_folder_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's own data/b.csv: `git checkout -f main` writes main's over it (a guard)."""
    _repo(repo, monkeypatch)
    (repo / "data" / "b.csv").write_bytes(MINE)
    ran = gs(repo, "run", "--", "git", "checkout", "-q", "-f", "main")
    assert (repo / "data" / "b.csv").read_bytes() == b"from main\n"
    assert [ln for ln in _not_saved(ran.said) if "data" in ln], ran.err


def test_a_checkout_under_run_over_an_ignored_file_in_a_left_out_folder_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """data/ ignored too: a plain checkout writes main's data/b.csv over the user's (a
    guard)."""
    _repo(repo, monkeypatch, ignored=True)
    (repo / "data" / "b.csv").write_bytes(MINE)
    ran = gs(repo, "run", "--", "git", "checkout", "-q", "main")
    assert (repo / "data" / "b.csv").read_bytes() == b"from main\n"
    assert [ln for ln in _not_saved(ran.said) if "data" in ln], ran.err
