"""Red team (session 11): ``diff -p`` and ``--stat`` read a side they could not compare by
line (a file grown past 16 MiB, or one the worktree would not let them read) as empty: a
text file that grew to 17 MiB was shown with every one of its lines deleted, and an
unreadable one as emptied. Now such a side is named as not compared, and why."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import gs


def test_a_file_grown_past_the_line_limit_is_not_shown_as_emptied(repo: Path) -> None:
    (repo / "log.txt").write_text("a line of the log\n" * 1000)
    gs(repo, "create")
    with open(repo / "log.txt", "a") as f:
        f.write("more of the log\n" * (17 << 16))  # 17 MiB
    patch = gs(repo, "diff", "-p", rc=0).out
    assert "-a line of the log" not in patch, patch[:400]
    assert "Files a/log.txt and b/log.txt differ (over 16 MiB" in patch, patch[:400]
    stat = gs(repo, "diff", "--stat").out
    assert "deletion" not in stat.replace("0 deletions", ""), stat
    assert "log.txt | over 16 MiB" in stat, stat
    rows = json.loads(gs(repo, "diff", "--stat", "--json"))
    assert "not_compared" in json.dumps(rows), rows
