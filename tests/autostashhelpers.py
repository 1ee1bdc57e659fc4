"""Helpers for the tests of an autostash git gives back (this module holds no tests).

The shape they share: a.txt (BASE) on main, branch B changing its first line (UPSTREAM), the
user's uncommitted edit of its last (MINE); git's autostash merges the two (BOTH).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from hookhelpers import write

BASE = b"one\ntwo\nthree\nfour\nfive\n"
UPSTREAM = BASE.replace(b"one", b"ONE")
MINE = BASE.replace(b"five", b"FIVE")
BOTH = UPSTREAM.replace(b"five", b"FIVE")
SECRET = b"TOKEN=mine\n"  # the user's ignored .env
WORK = b"my new work\n"  # x.csv/inner.txt: a new file where main tracks a file x.csv


def b_changes_line_one(
    repo: Path, monkeypatch: pytest.MonkeyPatch, ignore_env: bool = True
) -> Path:
    """The venv on PATH; .gitignore (.env; unless not *ignore_env*) and a.txt (BASE)
    committed on main; branch B changes line 1 (UPSTREAM); hooks in; main checked out."""
    put_venv_on_path(monkeypatch)
    if ignore_env:
        commit(repo, ".gitignore", b".env\n")
    commit(repo, "a.txt", BASE)
    git(repo, "branch", "B")
    install(repo)
    git(repo, "checkout", "-q", "B")
    commit(repo, "a.txt", UPSTREAM, msg="upstream")
    git(repo, "checkout", "-q", "main")
    return repo


def on_b(repo: Path, rel: str, data: bytes, msg: str = "", force: bool = False) -> None:
    """Branch B commits *rel* (*data*; ``force``: past .gitignore); main checked out again."""
    git(repo, "checkout", "-q", "B")
    commit(repo, rel, data, msg=msg, force=force)
    git(repo, "checkout", "-q", "main")


def nothing_to_undo(repo: Path) -> None:
    """No report: `losses` lists none, and `undo` writes nothing (a.txt keeps both changes)."""
    assert json.loads(gs(repo, "losses", "--json").out) == []
    ran = gs(repo, "undo", rc=None)
    assert ran.rc != 0 and "no loss report to undo" in ran.err, ran
    assert (repo / "a.txt").read_bytes() == BOTH


def named(ran: Ran) -> list[str]:
    """Every path the reports *ran* printed name, sorted."""
    return sorted(n for r in ran.reports for n in r.names.split(", "))


def feat_conflicts_on_c(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The venv on PATH; x.csv and c.txt committed on main; feat and main then change c.txt
    each their way (a merge of feat stops on a conflict there); hooks in."""
    put_venv_on_path(monkeypatch)
    commit(repo, "x.csv", b"x v0\n")
    base = commit(repo, "c.txt", b"base\n")
    side_commit(repo, "feat", {"c.txt": b"theirs\n"}, base=base)
    commit(repo, "c.txt", b"ours\n")
    install(repo)
    return repo


def folder_over_file(repo: Path) -> int:
    """x.csv, a tracked file, made a folder holding a new file (WORK), saved by `git
    snapshot`; returns that snapshot's id."""
    (repo / "x.csv").unlink()
    write(repo / "x.csv" / "inner.txt", WORK)
    gs(repo, "-m", "saved before")
    return int(json.loads(gs(repo, "list", "--json").out)[-1]["id"])
