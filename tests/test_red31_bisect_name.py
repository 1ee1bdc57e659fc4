"""RED31: a report of ``git bisect start`` names ``git bisect``, not git's internal helper.
git 2.39 runs bisect as a shell script (``sh .../git-core/git-bisect``) that runs ``git
bisect--helper``; the hook's chain of git processes stopped at the shell, so the report and
``losses`` said "git bisect--helper destroyed ..."."""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from clihelpers import gs


def test_bisect_is_named_as_typed(repo: Path) -> None:
    (repo / "n").write_text("0\n")
    (repo / "cfg.local").write_text("old tracked cfg\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "c0")
    for i in range(1, 5):
        (repo / "n").write_text(f"{i}\n")
        if i == 2:  # the file untracked from here on, and ignored
            git(repo, "rm", "-q", "--cached", "cfg.local")
            (repo / ".gitignore").write_text("*.local\n")
            git(repo, "add", ".gitignore")
        git(repo, "commit", "-qam", f"c{i}")
    gs(repo, "install")
    (repo / "cfg.local").write_text("my secret cfg\n")
    gs(repo)
    ran = git(repo, "bisect", "start", "HEAD~2", "HEAD~4")  # checks out c0: cfg.local tracked
    assert "git bisect destroyed 1 ignored file: cfg.local" in ran.err, ran.err
    git(repo, "bisect", "reset")
    listed = gs(repo, "losses").out
    assert "git bisect " in listed and "bisect--helper" not in listed, listed
