"""RED32 B7: ``log FOLDER`` said "changed" where only a file's mtime changed, or files went from
untracked to tracked (``git add`` + commit): its folder's tree key covers those, while ``diff``
and ``log`` of each file compare kind, content and mode. A folder's versions are now compared
by what it holds as diff compares it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from clihelpers import git
from clihelpers import gs


def _statuses(repo: Path, path: str) -> list[tuple[int, str]]:
    rows = json.loads(gs(repo, "log", path, "--json").out)
    return [(r["snapshot"] if "snapshot" in r else r["id"], r["status"]) for r in rows]


def test_mtime_and_tracking_alone_are_no_change(repo: Path) -> None:
    (repo / "k" / "sub").mkdir(parents=True)
    (repo / "k" / "l").write_text("same\n")
    (repo / "k" / "sub" / "m").write_text("m\n")
    gs(repo)
    os.utime(repo / "k" / "l", ns=(0, 978307200_000_000_000))
    os.utime(repo / "k" / "sub" / "m", ns=(0, 978307200_000_000_000))
    gs(repo)
    git(repo, "add", "k")
    git(repo, "commit", "-qm", "add")
    gs(repo)
    assert "no changes" in gs(repo, "diff", "1", "3", "--", "k").out
    assert [s for _, s in _statuses(repo, "k")] == ["appeared"]
    assert [s for _, s in _statuses(repo, "k/sub")] == ["appeared"]

    (repo / "k" / "sub" / "m").write_text("changed\n")
    gs(repo)  # 4: a real change below
    assert _statuses(repo, "k") == [(1, "appeared"), (4, "changed")]
    (repo / "k" / "l").chmod(0o755)
    gs(repo)  # 5: a mode, as diff shows it
    assert _statuses(repo, "k")[-1] == (5, "changed")
    (repo / "k" / "new").mkdir()
    gs(repo)  # 6: an empty folder appears in it
    assert _statuses(repo, "k")[-1] == (6, "changed")
