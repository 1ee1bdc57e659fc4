"""RED39 A2 (finding 3): prune keeps a snapshot a loss report names and said how to drop it
anyway: "git snapshot forget --force ID", an option forget does not have (a usage error,
exit 2). The advice is a command that works as pasted: ``forget ID`` drops a named snapshot
(with a warning that the report's restore command will no longer work).

Real git, the hooks installed as a user installs them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import env_lost_to_checkout
from hookhelpers import put_venv_on_path
from hookhelpers import snaps


@pytest.fixture
def named(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A loss report names snapshot 1 (a checkout wrote over the ignored .env); 2-4 follow."""
    put_venv_on_path(monkeypatch)  # the advice is pasted into sh
    env_lost_to_checkout(repo, later=3)
    return repo


def test_the_advice_to_drop_a_kept_snapshot_works_as_pasted(named: Path) -> None:
    out = gs(named, "prune", "--keep-last", "1").out
    (line,) = [ln for ln in out.splitlines() if "loss reports name" in ln]
    assert "drop one with: " in line, line
    advice = line.split("drop one with: ", 1)[1].rstrip(")")
    assert advice.startswith("git snapshot forget ") and advice.endswith(" ID"), line
    ran = subprocess.run(
        ["sh", "-c", advice[: -len("ID")] + "1"], cwd=named, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    assert "loss report names" in ran.stderr, ran.stderr  # forget's own warning
    assert 1 not in [s["id"] for s in snaps(named)]
