"""review39 RA2: a loss-log line whose snapshot number JSON reads as infinity
(``"snapshot": 1e999``, a hand edit or a damaged log) made losslog.naming an internal error
(OverflowError: int() of an infinite float; it skipped only ValueError, TypeError,
KeyError): prune, forget and the automatic retention read every log through it, and so,
since RED39 A2, does a pasted restore command whose snapshot was forgotten. A line naming no
snapshot is skipped as any unreadable one is; the report beside it still keeps its snapshot.

Real git, the hooks installed as a user installs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import Report
from clihelpers import gs
from clihelpers import run
from hookhelpers import env_lost_to_checkout
from hookhelpers import put_venv_on_path
from hookhelpers import snaps


@pytest.fixture
def reported(repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Report]:
    """A checkout wrote over the ignored .env (the report names snapshot 1); others follow;
    the loss log then gains a line whose snapshot is 1e999."""
    put_venv_on_path(monkeypatch)  # the report's command is run as printed
    report = env_lost_to_checkout(repo, later=2)
    (log,) = (store_dir / "losses").glob("*.jsonl")
    line = log.read_bytes().splitlines()[-1]
    with open(log, "ab") as f:
        f.write(line.replace(b'"snapshot": 1', b'"snapshot": 1e999', 1) + b"\n")
    assert b"1e999" in log.read_bytes()  # (setup: the field as written)
    return repo, report


def test_prune_keeps_the_reports_snapshot_over_a_line_naming_infinity(
    reported: tuple[Path, Report],
) -> None:
    repo, _ = reported
    out = gs(repo, "prune", "--keep-last", "1").out
    assert "kept 1 snapshot(s) that loss reports name" in out, out
    ids = [s["id"] for s in snaps(repo)]
    assert ids[0] == 1 and len(ids) == 2, ids  # the named one and the newest


def test_a_forgotten_snapshots_restore_command_over_a_line_naming_infinity(
    reported: tuple[Path, Report],
) -> None:
    repo, report = reported
    gs(repo, "forget", "1")
    ran = run(repo, *report.command, rc=1)
    assert "snapshot 1 was forgotten" in ran.err, ran.err
