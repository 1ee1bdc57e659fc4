"""A count of one file reads "1 file" wherever a snapshot is summed up (create, show, forget,
the hook's line); USER met "1 files" in session 13."""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs

from git_snapshot import output


def test_one_file_is_named_in_the_singular(repo: Path) -> None:
    assert gs(repo, "create").out.startswith("snapshot 1: 1 file, ")  # README alone
    assert "\n1 file, " in "\n" + gs(repo, "show", "1").out
    assert gs(repo, "forget", "1", "--dry-run").out.rstrip().endswith(", 1 file)")
    (repo / "b").write_text("b\n")
    assert gs(repo, "create").out.startswith("snapshot 2: 2 files, ")
    assert output.files(0) == "0 files" and output.files(1) == "1 file"
