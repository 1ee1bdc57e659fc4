"""Red team (session 30): files git stores converted (end-of-line settings, clean filters).

"Does git have this version?" was asked with the id of the file's raw bytes, which is never
git's for a file git converts: under ``*.txt text eol=crlf`` or ``core.autocrlf=true`` a
discarded edit (``git checkout -- t.txt``) went unreported (the file git wrote back did not
look like git's), and a clean file was reported destroyed after a forced checkout, a
rebase, ``run -- git reset --hard`` (its snapshot's bytes did not look like any version git
has), with a restore command that put the old branch's file back. A clean filter (git lfs)
did the same. Now such paths are asked as git would store them (``check-attr``, then
``hash-object --path``), only where git converts them."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs


def _setup(repo: Path, how: str) -> None:
    if how == "attr":
        (repo / ".gitattributes").write_text("*.txt text eol=crlf\n")
    elif how == "autocrlf":
        git(repo, "config", "core.autocrlf", "true")
    else:  # a clean filter and its smudge: git stores other bytes than the file (as lfs)
        git(repo, "config", "filter.up.clean", "tr a-z A-Z")
        git(repo, "config", "filter.up.smudge", "tr A-Z a-z")
        (repo / ".gitattributes").write_text("*.txt filter=up\n")
    (repo / "t.txt").write_bytes(b"l1\nl2\n")
    (repo / "p.md").write_text("plain\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "convert")
    (repo / "t.txt").unlink()  # written again as git checks it out (CRLF, filtered)
    git(repo, "checkout", "-q", "--", "t.txt")
    assert git(repo, "status", "--porcelain") == "", git(repo, "status")


@pytest.mark.parametrize("how", ["attr", "autocrlf", "filter"])
def test_a_discarded_edit_of_a_converted_file_is_reported(repo: Path, how: str) -> None:
    _setup(repo, how)
    gs(repo, "install")
    (repo / "t.txt").write_bytes(b"l1\r\nMY IMPORTANT EDIT\r\n")
    (repo / "p.md").write_text("my edit\n")
    gs(repo, "create")
    ran = git(repo, "checkout", "--", "t.txt", "p.md")
    (rep,) = ran.reports
    assert sorted(rep.names.split(", ")) == ["p.md", "t.txt"], ran.err
    gs(repo, *rep.command[2:])
    assert (repo / "t.txt").read_bytes() == b"l1\r\nMY IMPORTANT EDIT\r\n"


@pytest.mark.parametrize("how", ["attr", "autocrlf", "filter"])
def test_a_forced_checkout_of_a_clean_converted_tree_reports_nothing(repo: Path, how: str) -> None:
    _setup(repo, how)
    git(repo, "checkout", "-q", "-b", "B")
    (repo / "t.txt").write_bytes((repo / "t.txt").read_bytes() + b"l3\n")
    git(repo, "commit", "-q", "-am", "B")
    git(repo, "checkout", "-q", "-")
    gs(repo, "install")
    gs(repo, "create")
    assert git(repo, "status", "--porcelain") == ""
    for cmd in (["checkout", "-f", "B"], ["switch", "--discard-changes", "-"]):
        ran = git(repo, *cmd)
        assert ran.reports == [], (cmd, ran.err)
    ran = gs(repo, "run", "--", "git", "reset", "-q", "--hard", "B")
    assert "destroyed" not in ran.err, ran.err
    assert gs(repo, "losses").startswith("no loss reports"), gs(repo, "losses")


def test_the_watcher_files_no_loss_for_a_switch_of_converted_files(repo: Path) -> None:
    """A plain ``git checkout B`` rewriting many eol=crlf files was a watcher loss entry."""
    import os
    import time

    from git_snapshot import gitrepo
    from git_snapshot import worktree
    from git_snapshot.store import Store
    from git_snapshot.watch import bursts

    (repo / ".gitattributes").write_text("*.txt text eol=crlf\n")
    (repo / "lib").mkdir()
    names = [f"lib/f{i}.txt" for i in range(5)]
    for n in names:
        (repo / n).write_bytes(b"l1\nl2\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    for n in names:
        (repo / n).unlink()
    git(repo, "checkout", "-q", "--", "lib")  # as git writes them: CRLF
    git(repo, "checkout", "-q", "-b", "B")
    for n in names:
        (repo / n).write_bytes(b"l1\r\nl2\r\nl3\r\n")
    git(repo, "commit", "-q", "-am", "two")
    git(repo, "checkout", "-q", "-")
    r = os.path.realpath(repo)
    with Store() as store:
        held = worktree.take(store, gitrepo.find_repo(r), trigger="watch").snapshot
        git(repo, "checkout", "-q", "B")
        now = time.time()
        kinds = {os.path.join(r, n): bursts.OVERWRITE for n in names}
        burst = bursts.Burst(tuple(kinds), now, now + 0.1, kinds)
        assert bursts.record(store, r, burst, held) is None
