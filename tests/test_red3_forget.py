"""Red team (session 9): a snapshot that a loss report names is the copy its printed restore
command (and ``undo``) brings back. ``forget`` of it says so, before (``--dry-run``) and
after, in one warning line (it still forgets: DESIGN's ``forget ID``); a manual ``prune``
keeps it within the retention window, saying so, as automatic retention does."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import gs


def _lose(repo: Path) -> int:
    (repo / ".gitignore").write_text("*.env\n")
    (repo / "x.env").write_bytes(b"SECRET\n")
    ran = gs(repo, "run", "--", "rm", "x.env")
    (rep,) = ran.reports
    return rep.snap


def test_forget_of_a_snapshot_a_loss_report_names_says_so(repo: Path) -> None:
    n = _lose(repo)
    gs(repo, "create")
    dry = gs(repo, "forget", "--dry-run", str(n))
    assert len(dry.err_lines) == 1, dry.err
    assert f"snapshot {n}" in dry.err and "rm x.env" in dry.err and "would no" in dry.err
    ran = gs(repo, "forget", str(n))
    assert len(ran.err_lines) == 1, ran.err
    assert f"snapshot {n}" in ran.err and "x.env" in ran.err and "will no longer" in ran.err
    assert n not in [s["id"] for s in json.loads(gs(repo, "list", "--json"))]


def test_forget_of_an_unnamed_snapshot_needs_no_force(repo: Path) -> None:
    gs(repo, "create")
    gs(repo, "create")
    assert gs(repo, "forget", "1").err == ""


def test_prune_keeps_a_snapshot_a_loss_report_names_and_says_so(repo: Path) -> None:
    n = _lose(repo)
    for _ in range(3):
        (repo / "f").write_text(f"{_}\n")
        gs(repo, "create")
    dry = gs(repo, "prune", "--keep-last", "1", "--dry-run")
    assert "loss reports name" in dry and f"{n}" in dry, dry
    ran = gs(repo, "prune", "--keep-last", "1")
    assert "loss reports name" in ran, ran
    ids = [s["id"] for s in json.loads(gs(repo, "list", "--json"))]
    assert n in ids and len(ids) == 2, ids
    gs(repo, "undo")
    assert (repo / "x.env").read_bytes() == b"SECRET\n"
