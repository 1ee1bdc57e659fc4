"""A snapshot taken while a checkout ran read a file before git wrote it, with the very
bytes git then wrote (RED36 A3).

RED35 H1 compares a post-hook with the snapshot committed before the git command began, and a
snapshot committed while it ran names a path only where it holds a version git destroyed
(findlosses._from_flight). One that read the user's .env before git wrote it, holding bytes equal
to git's, destroyed nothing: but the path fell back to the older snapshot and was named lost
with its older version ("restore 1 .env", and `undo` wrote that version over the user's).
It is read before git wrote the path when it was committed before the path's last change
(git writes a path once in a checkout): then nothing is lost there.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import side_commit
from test_red35_hook_race import THEIRS
from test_red35_hook_race import _repo
from test_red35_hook_race import held_checkout
from test_red35_hook_race import released


def test_a_snapshot_that_read_git_s_bytes_before_git_wrote_them_names_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    r = _repo(tmp_path)
    install(r)
    (r / ".env").write_text("ENV v1\n")
    gs(r, "create")  # snapshot 1: an older .env
    (r / ".env").write_text(THEIRS)  # the user's newest: the bytes B2 holds
    # written a moment before the checkout, as a person's edit is: one written within
    # COARSE_CLOCK_SLACK_S (and a clock tick) of the command's start may be git's own write,
    # and is named from snapshot 1, the safe side (CI: side_commit took only 13-20 ms)
    then = time.time() - 2
    os.utime(r / ".env", (then, then))
    side_commit(r, "B2", {".a": b"a\n"}, base="B")  # ".a": written before .env
    # held: .a being smudged, .env not written yet
    checkout, hold = held_checkout(r, tmp_path, monkeypatch, ".a", "-q", "B2")
    gs(r, "create")  # reads the user's .env (B2's bytes), committed after the checkout began
    err = released(checkout, hold)
    assert (r / ".env").read_text() == THEIRS
    assert "restore" not in err, err  # (was: "restore 1 .env", the older version)
    assert json.loads(gs(r, "losses", "--json").out) == []
