"""RED39 B1, B5: git's autostash is applied after post-merge / post-rewrite, as a 3-way merge
onto what the pull brought in. The snapshot those hooks took wrote the autostash's blobs,
made against the OLD base, over the new tree: a version that never existed, without the
upstream change (B1) or under a name the upstream renamed away (B5). A later loss report named
it, and its restore silently reverted the upstream change (or the discard went unreported).
Every snapshot of the pull must hold what was on disk before it or what is on disk after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import clone_with_hooks
from hookhelpers import commit
from hookhelpers import put_venv_on_path
from hookhelpers import restore
from hookhelpers import saved
from hookhelpers import snaps
from hookhelpers import write

BASE = b"".join(b"%d\n" % i for i in range(1, 51))
UPSTREAM = BASE.replace(b"\n5\n", b"\n5 UPSTREAM FIX\n")
MINE = BASE.replace(b"\n45\n", b"\n45 MY EDIT\n")
BOTH = UPSTREAM.replace(b"\n45\n", b"\n45 MY EDIT\n")


@pytest.fixture
def clone(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone of the conftest repo (its "remote") with the hooks installed."""
    put_venv_on_path(monkeypatch)
    commit(repo, "app.py", BASE)
    return clone_with_hooks(repo, tmp_path / "work")


def _pull(clone: Path, mode: str, local: bool) -> list[int]:
    """``git pull MODE --autostash`` (after a local commit if *local*); the new snapshots."""
    if local:
        commit(clone, "local.txt", b"local\n")
    before = {s["id"] for s in snaps(clone)}
    git(clone, "pull", "-q", mode, "--autostash", "--no-edit")
    return [s["id"] for s in snaps(clone) if s["id"] not in before]


def _discard_and_restore(clone: Path, rel: str, lost: bytes) -> None:
    """``git checkout -- REL`` is reported; pasting its command gives back *lost* exactly,
    and nothing else the pull brought in is reverted."""
    ran = git(clone, "checkout", "--", rel)
    (rep,) = ran.reports
    assert rep.names == rel, rep
    restore(clone, rep)
    assert (clone / rel).read_bytes() == lost
    assert git(clone, "status", "--porcelain").out.split("\n")[0] == f" M {rel}"


@pytest.mark.parametrize(
    ("mode", "local"),
    [("--rebase", True), ("--rebase", False), ("--no-rebase", True), ("--no-rebase", False)],
)
def test_pull_autostash_snapshot_holds_the_merged_file(
    repo: Path, clone: Path, tmp_path: Path, mode: str, local: bool
) -> None:
    """B1: the snapshot after the pull holds the upstream fix and the edit, as the worktree."""
    commit(repo, "app.py", UPSTREAM, msg="fix")
    write(clone / "app.py", MINE)
    new = _pull(clone, mode, local)
    assert (clone / "app.py").read_bytes() == BOTH
    assert new
    for snap in new:  # before the pull, or after it: nothing in between
        assert saved(clone, snap, tmp_path)["app.py"] in (MINE, BOTH), snap
    assert saved(clone, new[-1], tmp_path)["app.py"] == BOTH
    assert "no changes between" in gs(clone, "diff", "latest").out
    _discard_and_restore(clone, "app.py", BOTH)


def test_pull_rebase_autostash_over_a_rename_follows_the_edit(
    repo: Path, clone: Path, tmp_path: Path
) -> None:
    """B5: upstream renamed app.py to helpers.py; the edit follows it on disk, and so in the
    snapshot: no app.py that never existed there; the discard of the edit is reported."""
    git(repo, "mv", "app.py", "helpers.py")
    git(repo, "commit", "-q", "-m", "rename")
    commit(repo, "y.txt", b"y\n")
    write(clone / "app.py", MINE)
    new = _pull(clone, "--rebase", True)
    assert not (clone / "app.py").exists()
    assert (clone / "helpers.py").read_bytes() == MINE
    last = saved(clone, new[-1], tmp_path)
    assert "app.py" not in last and last["helpers.py"] == MINE
    assert "no changes between" in gs(clone, "diff", "latest").out
    _discard_and_restore(clone, "helpers.py", MINE)


def test_pull_autostash_conflict_claims_no_version(repo: Path, clone: Path, tmp_path: Path) -> None:
    """Both changed the same line: git keeps the autostash in the stash list and leaves the
    conflict on disk. The snapshot after the pull must not hold the edit on the old base
    (it lacks the upstream change): it holds what the pull wrote, and nothing is reported."""
    theirs = BASE.replace(b"\n45\n", b"\n45 UPSTREAM\n")
    commit(repo, "app.py", theirs, msg="fix")
    write(clone / "app.py", MINE)
    commit(clone, "local.txt", b"local\n")
    ran = git(clone, "pull", "-q", "--rebase", "--autostash", rc=None)
    assert ran.reports == [], ran.err
    assert "stash@{0}" in git(clone, "stash", "list").out
    (post,) = [s for s in snaps(clone) if s["trigger"] == "post-rewrite"]
    assert saved(clone, post["id"], tmp_path)["app.py"] == theirs


def test_pull_autostash_runs_no_merge_driver_from_the_hook(
    repo: Path, clone: Path, tmp_path: Path
) -> None:
    """A custom merge driver is the user's program: git's apply runs it, the hook does not
    (it is made to fail there: the snapshot holds what the pull wrote, on disk then)."""
    log = tmp_path / "driver.log"
    git(clone, "config", "merge.mine.driver", f"echo ran >> {log}; cat %B > %A")
    write(clone / ".git" / "info" / "attributes", b"app.py merge=mine\n")
    commit(repo, "app.py", UPSTREAM, msg="fix")
    write(clone / "app.py", MINE)
    new = _pull(clone, "--rebase", True)
    assert log.read_text() == "ran\n"  # git's own apply, once
    assert (clone / "app.py").read_bytes() == MINE  # what the driver chose
    assert saved(clone, new[-1], tmp_path)["app.py"] == UPSTREAM
