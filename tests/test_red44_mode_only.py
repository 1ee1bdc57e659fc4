"""RED44 F8.4: a file whose bytes git wrote back as they were, with another mode (an ignored
`x.env` 755; branch b tracks the same bytes 644): `git switch b` said "destroyed 1 ignored
file: x.env (an earlier version ...)", as if its content went; only the exec bit did. Now the
report says what happened: "x.env (mode 755 -> 644, bytes unchanged)" ("bytes as saved" when
the snapshot was not taken right before the command). The same bytes and mode: no report.

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import env_tracked_on_b
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import write

SAME = b"same env\n"


@pytest.fixture
def tracked_on_b(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*.env ignored on main; branch b tracks x.env (SAME, 644); the hooks installed."""
    put_venv_on_path(monkeypatch)  # the report's command is run as printed
    return env_tracked_on_b(repo, SAME)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_mode_alone_lost_is_named_as_a_mode(tracked_on_b: Path) -> None:
    repo = tracked_on_b
    write(repo / "x.env", SAME, 0o755)
    gs(repo, "-m", "before")
    ran = git(repo, "switch", "-q", "b")
    (report,) = ran.reports
    assert report.names == "x.env (mode 755 -> 644, bytes as saved)", ran.err
    assert _mode(repo / "x.env") == 0o644
    restore(repo, report)  # the printed command gives the mode back
    assert (repo / "x.env").read_bytes() == SAME and _mode(repo / "x.env") == 0o755


def test_under_run_the_snapshot_is_of_right_before_bytes_unchanged(tracked_on_b: Path) -> None:
    repo = tracked_on_b
    write(repo / "x.env", SAME, 0o755)
    ran = gs(repo, "run", "--", "git", "switch", "-q", "b")
    (report,) = ran.reports
    assert report.names == "x.env (mode 755 -> 644, bytes unchanged)", ran.err


def test_other_bytes_are_still_named_plainly(tracked_on_b: Path) -> None:
    repo = tracked_on_b
    write(repo / "x.env", b"SECRET\n", 0o755)
    gs(repo, "-m", "before")
    (report,) = git(repo, "switch", "-q", "b").reports
    assert report.names == "x.env", report


def test_the_same_bytes_and_mode_are_no_loss(tracked_on_b: Path) -> None:
    repo = tracked_on_b
    write(repo / "x.env", SAME, 0o644)
    gs(repo, "-m", "before")
    ran = git(repo, "switch", "-q", "b")
    assert ran.reports == [] and " destroyed " not in ran.err, ran.err
