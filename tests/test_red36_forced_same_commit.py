"""A forced checkout of the commit HEAD is at, with a snapshot taken while it ran (RED36 A1).

RED35 H1 cut the snapshot a post-hook compares with at the git command's start (/proc), but
skipped that look-up for a plain post-checkout to the same commit whose own snapshot has the
tree of the newest one before it (the unchanged hook's way). `git checkout -f` is such a
checkout and writes files: a snapshot committed while it ran, after git wrote .env, holds
git's .env, has the hook's tree, and was taken for "before": the user's overwritten .env
looked unchanged, no report and nothing for `undo`.

git holds the window open as in tests/test_red35_hook_race.py: a smudge filter on zz.txt,
which git writes after .env. zz.txt is left out of snapshots (snapshot.exclude), so the
snapshot taken meanwhile (git has unlinked zz.txt to write it) has the hook's tree.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from hookhelpers import install
from hookhelpers import put_venv_on_path
from test_red35_hook_race import NEWEST
from test_red35_hook_race import _check_report
from test_red35_hook_race import _saved_edit
from test_red35_hook_race import held_checkout
from test_red35_hook_race import released

COMMITTED = "ENV as committed\n"


def _repo(tmp_path: Path) -> Path:
    """.env and zz.txt committed on main; zz.txt smudged by a filter that waits on $HOLD."""
    r = Path(os.path.realpath(init_repo(tmp_path / "w")))
    (r / ".env").write_text(COMMITTED)
    (r / "zz.txt").write_text("zz\n")  # after .env in git's order of writing
    git(r, "add", ".env", "zz.txt")
    git(r, "commit", "-q", "-m", "env")
    git(r, "config", "snapshot.exclude", "zz.txt")
    return r


def test_a_snapshot_taken_while_a_forced_checkout_of_head_ran_is_not_compared_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    r = _repo(tmp_path)
    install(r)
    saved = _saved_edit(r)  # the user's newest .env, in snapshot `saved`
    (r / "zz.txt").unlink()  # so that the forced checkout writes it again, after .env
    # held: .env written, zz.txt being smudged
    checkout, hold = held_checkout(r, tmp_path, monkeypatch, "zz.txt", "-f")
    assert (r / ".env").read_text() == COMMITTED
    gs(r, "create")  # reads git's .env: the tree the hook's snapshot will have
    err = released(checkout, hold)
    assert (r / ".env").read_text() == COMMITTED
    _check_report(r, err, saved)
    assert (r / ".env").read_text() == NEWEST
