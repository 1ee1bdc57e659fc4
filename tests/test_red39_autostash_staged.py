"""RED39 D (review39 RB1, "Seen, left"): a STAGED NEW file (``git add c.txt``, not in HEAD) is
held by git's autostash during ``pull --autostash`` / ``rebase --autostash``: at the hooks
it is on disk only through the overlay, and the index of the moment lacks it. The snapshots
labelled it "untracked", though git's apply puts it back staged; a following
``git checkout -f``, which deletes a staged new file, was then not reported (untracked files
are not git's to remove), while the same delete without the pull is. Every snapshot of the
operation must label it as git will once it applies the autostash: tracked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import clone_with_hooks
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import side_commit
from hookhelpers import snaps
from hookhelpers import write

NEW = b"a staged new file\n"


@pytest.fixture
def clone(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone of the conftest repo (its "remote") with the hooks installed."""
    put_venv_on_path(monkeypatch)
    commit(repo, "app.py", b"base\n")
    return clone_with_hooks(repo, tmp_path / "work")


def _kind(repo: Path, snap: int, rel: str) -> str:
    data = json.loads(gs(repo, "show", str(snap), "--json").out)
    (kind,) = [e["kind"] for e in data["entries"] if e["path"] == rel]
    return str(kind)


def _stage_new(work: Path) -> list[int]:
    """``git add c.txt`` (a new file); the ids of the snapshots there are now."""
    write(work / "c.txt", NEW)
    git(work, "add", "c.txt")
    return [s["id"] for s in snaps(work)]


def _labelled_tracked_then_checkout_f_reported(work: Path, before: list[int]) -> None:
    """c.txt is back staged; every snapshot the operation took labels it tracked; then
    ``git checkout -f BRANCH`` (which deletes a staged new file) is reported, and the
    report's restore command gives its bytes back."""
    assert git(work, "status", "--porcelain", "c.txt").out == "A  c.txt\n"
    new = [s["id"] for s in snaps(work) if s["id"] not in before]
    assert new
    for snap in new:
        assert _kind(work, snap, "c.txt") == "tracked", snap
    branch = git(work, "rev-parse", "--abbrev-ref", "HEAD").out.strip()
    ran = git(work, "checkout", "-f", "-q", branch)
    assert not (work / "c.txt").exists()
    (rep,) = ran.reports
    assert rep.names == "c.txt", rep
    restore(work, rep)
    assert (work / "c.txt").read_bytes() == NEW


@pytest.mark.parametrize(
    ("mode", "local"),
    [("--rebase", False), ("--rebase", True), ("--no-rebase", False), ("--no-rebase", True)],
)
def test_pull_autostash_keeps_a_staged_new_file_tracked(
    repo: Path, clone: Path, mode: str, local: bool
) -> None:
    commit(repo, "up.txt", b"upstream\n")
    if local:
        commit(clone, "local.txt", b"local\n")
    before = _stage_new(clone)
    git(clone, "pull", "-q", mode, "--autostash", "--no-edit")
    assert (clone / "up.txt").exists()
    _labelled_tracked_then_checkout_f_reported(clone, before)


@pytest.mark.parametrize("backend", ["--merge", "--apply"])
def test_rebase_autostash_keeps_a_staged_new_file_tracked(clone: Path, backend: str) -> None:
    """pre-rebase (the index is the stash's HEAD) and post-rewrite (the new HEAD) both."""
    side_commit(clone, "feature", {"f.txt": b"feature\n"})
    commit(clone, "local.txt", b"local\n")
    before = _stage_new(clone)
    git(clone, "rebase", "-q", backend, "--autostash", "feature")
    assert (clone / "f.txt").exists()
    _labelled_tracked_then_checkout_f_reported(clone, before)


def test_pull_autostash_a_forced_add_in_an_ignored_folder_is_tracked(
    repo: Path, clone: Path
) -> None:
    """``git add -f build/c.txt`` beside ignored build output: at the hook git lists build/
    as ignored whole (the index of the moment has nothing in it); the file is still git's."""
    write(clone / ".git" / "info" / "exclude", b"build/\n")
    commit(repo, "up.txt", b"upstream\n")
    write(clone / "build" / "junk.o", b"junk\n")
    write(clone / "build" / "c.txt", NEW)
    git(clone, "add", "-f", "build/c.txt")
    before = [s["id"] for s in snaps(clone)]
    git(clone, "pull", "-q", "--rebase", "--autostash")
    assert git(clone, "status", "--porcelain", "build").out == "A  build/c.txt\n"
    new = [s["id"] for s in snaps(clone) if s["id"] not in before]
    assert new
    for snap in new:
        assert _kind(clone, snap, "build/c.txt") == "tracked", snap
        assert _kind(clone, snap, "build/junk.o") == "ignored", snap
    ran = git(clone, "checkout", "-f", "-q", "HEAD")
    (rep,) = ran.reports
    assert rep.names == "build/c.txt", rep
    restore(clone, rep)
    assert (clone / "build" / "c.txt").read_bytes() == NEW
