"""RED40 D9.1: `git snapshot undo` after a command git ran no hook for refused in one line of
548 characters (plus one per changed path): what was not undone and why, how to find what
the command with no hook took, and the command that puts the report's versions back all
the same. The same content now comes as four short lines, in that order.

Real git, the plain hooks installed as a user installs them (RED38 B1's scenario).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import write
from test_red38_undo_stale import HINT
from test_red38_undo_stale import NEW
from test_red38_undo_stale import WIP
from test_red38_undo_stale import _merged
from test_red38_undo_stale import _snapshot

SHORT = 200  # characters: a line a terminal of 100 columns shows in two rows


def test_the_undo_refusal_is_a_few_short_lines(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = _merged(repo, monkeypatch)
    write(r / ".env", NEW)
    _snapshot(r, "morning")
    write(r / "app.js", WIP)
    _snapshot(r, "noon")
    git(r, "reset", "-q", "--hard")  # no hook: no report
    lines = gs(r, "undo", rc=1).err_lines
    assert lines[0].startswith("git-snapshot: .env changed since"), lines
    why, find, newest, then = lines[-4:]
    assert why.startswith("git-snapshot: not undone: the latest loss report (git merge"), why
    assert "2 snapshots were taken since" in why, why
    assert HINT[0] in find and HINT[1] in newest, (find, newest)
    assert then.startswith("git-snapshot: to put that report's versions back all the same"), then
    assert ": git snapshot restore " in then and then.endswith(" .env"), then
    assert all(len(line) <= SHORT for line in lines), lines
