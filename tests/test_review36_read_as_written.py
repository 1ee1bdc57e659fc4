"""A snapshot committed while a checkout ran that read git's version of a file, after which
something changed the file's inode (not its bytes) before the post-checkout hook (RED36 A3's
rule, review 36).

findlosses._read_as_written drops a path from the loss report when a snapshot in flight holds it
as the disk does and was read before git wrote it. It took "committed before the file's
ctime" as that proof: but ctime moves with any inode change, not only git's write: a chmod
to the same mode (`chmod 600 .env` run again), a hard link made or removed (a backup tool's
`cp -al`), a rename away and back, an attribute set, `touch`. Then the snapshot had read
git's version after git wrote it, the user's .env (saved in snapshot 1) was destroyed, and
the report said nothing at all (was: "restore 1 .env" without the inode change). The proof
is now the snapshot's own entry: the version it read was written before the git command
began (its mtime, as the snapshot read it; git's write is later), and its walk began after
the command did (so that version was the one the command found).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from test_red35_hook_race import THEIRS
from test_red35_hook_race import _check_report
from test_red35_hook_race import _repo
from test_red35_hook_race import _saved_edit
from test_red35_hook_race import held_checkout
from test_red35_hook_race import released


def _same_mode(env: Path) -> None:
    os.chmod(env, os.stat(env).st_mode & 0o7777)


def _link_and_unlink(env: Path) -> None:
    os.link(env, env.with_name("backup-link"))
    os.unlink(env.with_name("backup-link"))


def _away_and_back(env: Path) -> None:
    os.rename(env, env.with_name(".env.tmp"))
    os.rename(env.with_name(".env.tmp"), env)


def _touch(env: Path) -> None:
    os.utime(env)


@pytest.mark.parametrize("change", [_same_mode, _link_and_unlink, _away_and_back, _touch])
def test_an_inode_change_after_a_snapshot_read_git_s_version_hides_no_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: object
) -> None:
    put_venv_on_path(monkeypatch)
    r = _repo(tmp_path)
    install(r)
    saved = _saved_edit(r)  # the user's newest .env, in snapshot `saved`
    # held: .env written, zz.txt being smudged
    checkout, hold = held_checkout(r, tmp_path, monkeypatch, "zz.txt", "-q", "B")
    assert (r / ".env").read_text() == THEIRS
    gs(r, "create")  # reads B's .env (git's), committed before post-checkout begins
    assert callable(change)
    change(r / ".env")  # the inode changes, not the bytes: its ctime is later than the snapshot
    err = released(checkout, hold)
    _check_report(r, err, saved)  # (was: no report, nothing for undo)
