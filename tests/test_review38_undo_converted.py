"""Review 38 (RB) of RED38 B1: `undo`'s "changed since the report" check in a repository
whose files git converts (an end-of-line attribute, core.autocrlf, a clean filter: RED30).

What a `reset --hard` wrote since the report is git's, not the user's work, and undo puts
the report's version back over it (test_red34_loss_log). The check asked whether git holds
the raw bytes on disk; with `eol=crlf` the worktree's file is never the blob's bytes, so
git's own version counted as "changed since" and undo refused to put back what the report
named, right after the loss it reports.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import write
from test_red43_eol_undo_since import OLD  # the user's .env, which the merge wrote over
from test_red43_eol_undo_since import _reported  # (the branch's .env: SHARED=1\r\n on disk)

NEW = b"NEW_SECRET=2\n"  # an edit since, which a reset --hard put git's version back over


@pytest.mark.parametrize("snapshot_since", [False, True])
def test_what_git_wrote_since_converted_is_no_change(repo: Path, snapshot_since: bool) -> None:
    _reported(repo)  # (under `.env text eol=crlf`)
    assert (repo / ".env").read_bytes() == b"SHARED=1\r\n"
    write(repo / ".env", NEW)  # (in no snapshot: the reset's loss is not undo's business)
    git(repo, "reset", "-q", "--hard")  # no hook: git's version, converted, written since
    assert (repo / ".env").read_bytes() == b"SHARED=1\r\n"
    if snapshot_since:  # and a snapshot taken since holds it
        json.loads(gs(repo, "create", "-m", "since", "--json").out)
    ran = gs(repo, "undo")
    assert (repo / ".env").read_bytes() == OLD, ran.err
