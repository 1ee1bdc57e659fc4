"""Review RS43 of fixS (session 43): fixS relaxed test_red42_rebase_left_out_stop's run case
to accept the "not saved: x.log" line from the rebase's stop or from the `--continue`. Where
it comes matters: under run, git wrote over the user's x.log before the stop, and run says
it there, once; the `--continue` (which deletes git's version) says nothing more. Plain, the
`--continue`'s report says it, once. This pins both.

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import gs
from test_red42_rebase_left_out_stop import _not_saved
from test_red42_rebase_left_out_stop import _stopped_then_continued


@pytest.mark.parametrize("under_run", [True, False], ids=["run", "plain"])
def test_the_line_is_said_once_where_the_user_s_version_was_destroyed(
    repo: Path, monkeypatch: pytest.MonkeyPatch, under_run: bool
) -> None:
    first, ran = _stopped_then_continued(repo, monkeypatch, under_run)
    at, after = (first, ran) if under_run else (ran, first)
    assert len([ln for ln in at.said if "not saved: x.log" in ln]) == 1, (first.err, ran.err)
    assert not [ln for ln in after.said if "x.log" in ln], (first.err, ran.err)
    assert len(_not_saved(repo)) == 1, gs(repo, "losses").out
