"""A file an amend dropped from its commit, then overwritten by `git checkout -f B`, is named
when the earlier snapshot was taken while HEAD was at the commit amended away (review40 RF1).

lostfrom._revs counted the earlier snapshot's HEAD as giving its files back: that commit, which
only HEAD's reflog holds once amended away, hid the loss (no report at all). It now counts
as every commit HEAD was at since the snapshot does (losses._committed_since: a ref reaches
it, or HEAD reached it after the snapshot's HEAD), and as it did while an operation was
stopped when the snapshot was taken (a rebase's own commit, rewritten since: RED30). The
control: the snapshot's HEAD a branch still holds gives its files back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path


def _committed_and_saved(repo: Path) -> Path:
    """*repo*, hooked: branch other tracks cfg.txt ("theirs"); on main cfg.txt ("my config
    v2") committed, then a snapshot (its HEAD: that commit)."""
    commit(repo, "m.py", b"base\n")
    git(repo, "checkout", "-q", "-b", "other")
    commit(repo, "cfg.txt", b"theirs\n")
    git(repo, "checkout", "-q", "main")
    install(repo)
    (repo / "cfg.txt").write_bytes(b"my config v2\n")
    (repo / "m.py").write_bytes(b"m v2\n")  # (the commit keeps a change once cfg.txt is out)
    git(repo, "add", "cfg.txt", "m.py")
    git(repo, "commit", "-qm", "add cfg")
    gs(repo, "-m", "after the commit")
    return repo


def test_a_file_only_the_snapshots_amended_away_head_holds_is_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    r = _committed_and_saved(repo)
    git(r, "rm", "-q", "--cached", "cfg.txt")
    git(r, "commit", "-q", "--amend", "--no-edit")
    assert git(r, "status", "--short").out == "?? cfg.txt\n"
    ran = git(r, "checkout", "-f", "other")
    assert (r / "cfg.txt").read_bytes() == b"theirs\n"
    assert "cfg.txt" in ran.err, ran.err
    assert named_lost(r) == ["cfg.txt"]


def test_a_file_the_snapshots_head_holds_on_a_branch_is_not_named(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    r = _committed_and_saved(repo)
    git(r, "branch", "keep")
    git(r, "rm", "-q", "--cached", "cfg.txt")
    git(r, "commit", "-q", "--amend", "--no-edit")
    ran = git(r, "checkout", "-f", "other")
    assert "cfg.txt" not in ran.err, ran.err
    assert named_lost(r) == []
