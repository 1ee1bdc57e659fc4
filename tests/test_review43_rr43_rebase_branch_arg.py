"""Review of da5a3b3 (session 43, RR43): a rebase's post-rewrite gets lostfrom._switch_kept's
plain-switch rule with ORIG_HEAD as "the commit it left". `git rebase UP BRANCH` run from
another branch does not leave ORIG_HEAD (BRANCH): its checkout of UP starts from the HEAD it
was run at, whose worktree may hold an ignored file at a path BRANCH tracks. git writes over
it there (an ignored file), and the rule took the path for a file holding BRANCH's version:
the edit, in no snapshot (left out), was gone and no line said so (named "not saved" before
da5a3b3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import put_venv_on_path
from hookhelpers import write


def test_a_rebase_run_from_another_branch_names_the_ignored_file_its_checkout_overwrote(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    write(repo / ".gitignore", b"gen.txt\n")
    git(repo, "add", ".gitignore")
    commit(repo, "a.txt", b"base\n")
    commit(repo, "v/t.txt", b"tracked\n")
    commit(repo, "v/gen.txt", b"one\n", force=True)  # (ignored, tracked all the same)
    git(repo, "config", "snapshot.exclude", "/v/")
    install(repo)
    git(repo, "checkout", "-q", "-b", "up")
    commit(repo, "v/gen.txt", b"two\n")
    git(repo, "checkout", "-q", "-b", "mine", "main")
    commit(repo, "b.txt", b"b\n")
    git(repo, "checkout", "-q", "main")
    git(repo, "rm", "-q", "v/gen.txt")
    git(repo, "commit", "-qm", "no gen")
    write(repo / "v" / "gen.txt", b"mine, ignored, in no snapshot\n")
    assert git(repo, "status", "--porcelain", "--ignored", "--", "v").out == "!! v/gen.txt\n"
    ran = git(repo, "rebase", "-q", "up", "mine")  # (from main: ORIG_HEAD is mine)
    assert (repo / "v" / "gen.txt").read_bytes() == b"two\n"  # its checkout of up wrote it
    assert any("not saved: v" in ln for ln in ran.said), ran.said
