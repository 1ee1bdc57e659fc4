"""`git snapshot show ID PATH` of a symlink counts it as the snapshot's own totals do (a
symlink is one of its files, its bytes none): it said "0 files, 0 B shown" under the row that
showed the link (RED40 A, a note beside finding 2)."""

from __future__ import annotations

import os
from pathlib import Path

from clihelpers import gs


def test_show_of_a_symlink_counts_it_as_a_file(repo: Path) -> None:
    (repo / "a.txt").write_bytes(b"hello\n")
    os.symlink("a.txt", repo / "link")
    gs(repo, "-m", "x")
    out = gs(repo, "show", "latest", "link").out
    assert "link -> a.txt" in out
    assert out.splitlines()[-1].startswith("1 file, 0 B shown;"), out
    both = gs(repo, "show", "latest", "link", "a.txt").out
    assert both.splitlines()[-1].startswith("2 files, 6 B shown;"), both
