"""RED39 A2 (finding 6): the restore command a loss report printed, pasted after its snapshot
was forgotten (forget, prune, automatic retention), said only "no snapshot 1 for this
repository", as if the number were mistyped. The store knows better: a loss report named
that snapshot, and numbers are never given again. Every command that takes an ID (restore,
cat, show, ...) now says it was forgotten since that report, and what to do.

Real git, the hooks installed as a user installs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import Report
from clihelpers import gs
from clihelpers import run
from hookhelpers import env_lost_to_checkout
from hookhelpers import put_venv_on_path


@pytest.fixture
def reported(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Report]:
    """A checkout wrote over the ignored .env; the report names snapshot 1; 2 follows."""
    put_venv_on_path(monkeypatch)  # the report's command is run as printed
    return repo, env_lost_to_checkout(repo, later=1)


def test_a_reports_restore_command_says_its_snapshot_was_forgotten(
    reported: tuple[Path, Report],
) -> None:
    repo, report = reported
    gs(repo, "forget", "1")
    ran = run(repo, *report.command, rc=1)
    assert "no snapshot 1 for this repository" not in ran.err, ran.err
    (line,) = ran.ours
    assert "snapshot 1 was forgotten" in line and "git checkout" in line, line
    assert "git snapshot log" in line, line  # what to do
    assert "snapshot 1 was forgotten" in gs(repo, "cat", "1", ".env", rc=1).err
    # a number no snapshot ever had is still just not there
    assert "no snapshot 9 for this repository" in gs(repo, "cat", "9", ".env", rc=1).err


def test_also_when_the_repository_has_no_snapshot_left(reported: tuple[Path, Report]) -> None:
    repo, report = reported
    gs(repo, "forget", "1", "2")
    ran = run(repo, *report.command, rc=1)
    assert "snapshot 1 was forgotten" in ran.err, ran.err
