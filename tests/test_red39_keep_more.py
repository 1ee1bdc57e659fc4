"""RED39 A2 (finding 2): a keep option made prune forget more. ``prune --keep-last 1`` kept
the snapshot a recent loss report names (the only copy of what git destroyed), but ``prune
--keep-last 1 --keep-within 1h`` forgot it without a word: the window of loss reports whose
snapshots are kept was --keep-within's (and, in the automatic retention after a hook, a short
``snapshot.keepWithin``'s). Reports are kept for the default window (14 days) at least; a
longer --keep-within keeps them longer.

Real git, the hooks installed as a user installs them; the later commands run with a clock
two hours ahead (the report is two hours old then), in their own process only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import gs_ahead
from hookhelpers import env_lost_to_checkout
from hookhelpers import snaps
from hookhelpers import write

SECRET = b"SECRET=precious\n"
LATER = 2 * 3600.0  # how far ahead the later commands' clock is


@pytest.fixture
def named(repo: Path) -> Path:
    """A loss report names snapshot 1 as the only copy of .env (a checkout wrote over the
    ignored file); snapshots 2-4 follow."""
    env_lost_to_checkout(repo, later=3, secret=SECRET)
    return repo


def test_keep_within_never_forgets_the_reports_snapshot(named: Path) -> None:
    plain = json.loads(
        gs_ahead(named, LATER, "prune", "--keep-last", "1", "--dry-run", "--json").out
    )
    assert [s["id"] for s in plain["kept_for_losses"]] == [1], plain
    args = ("prune", "--keep-last", "1", "--keep-within", "1h")
    dry = json.loads(gs_ahead(named, LATER, *args, "--dry-run", "--json").out)
    assert [s["id"] for s in dry["kept_for_losses"]] == [1], dry
    assert 1 not in [s["id"] for s in dry["forgotten"]], dry
    out = gs_ahead(named, LATER, *args).out
    assert "kept 1 snapshot(s) that loss reports name" in out, out
    assert 1 in [s["id"] for s in snaps(named)]
    gs(named, "undo")
    assert (named / ".env").read_bytes() == SECRET


def test_a_short_keep_within_setting_keeps_the_reports_snapshot(named: Path) -> None:
    git(named, "config", "snapshot.keepLast", "1")
    git(named, "config", "snapshot.keepWithin", "1h")
    write(named / "w", b"after\n")
    gs_ahead(named, LATER, "run", "--", "true")  # a hook snapshot, then automatic retention
    ids = [s["id"] for s in snaps(named)]
    assert 1 in ids and 2 not in ids, ids  # retention ran, and kept the named one
    gs(named, "undo")
    assert (named / ".env").read_bytes() == SECRET
