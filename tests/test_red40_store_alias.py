"""RED40 C1: the home folder reached by two paths (a bind mount: /home bind-mounted from
/data/home, an automounted home, a container's mount), a dotfiles repository at $HOME with
the default store in it, git working at one path and HOME naming the other.

The walk and restore knew the store by device and inode, but the checks that compared paths
only did not: ``run -- git clean -fdx`` got no ``-e`` for the store and deleted every
snapshot, ``doctor`` said "outside this worktree" and the first snapshot gave no warning.
``location.inside`` now answers by device and inode, for every caller."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs

from git_snapshot.store import location


def _mount_bind(source: Path, target: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(
        ["mount", "--bind", str(source), str(target)], capture_output=True, check=False
    )
    return done.returncode == 0


@pytest.fixture
def aliased(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """(real, alias): a dotfiles repository at *real*, the same folder bind-mounted at
    *alias*, HOME set to *alias* and the default store used (conftest's variables unset; the
    real home is never reached, and git-snapshot runs only as a subprocess)."""
    real, alias = tmp_path / "real", tmp_path / "alias"
    real.mkdir()
    alias.mkdir()
    if not _mount_bind(real, alias):
        pytest.skip("needs a bind mount (root)")
    try:
        monkeypatch.setenv("HOME", str(alias))
        monkeypatch.delenv("GIT_SNAPSHOT_STORE")
        monkeypatch.delenv("XDG_DATA_HOME")
        git(real, "init", "-q")
        (real / ".gitignore").write_text("*\n!.gitignore\n!.bashrc\n")
        (real / ".bashrc").write_text("alias ll=ls\n")
        git(real, "add", "-f", ".gitignore", ".bashrc")
        git(real, "commit", "-q", "-m", "dotfiles")
        (real / ".env").write_text("SECRET=1\n")
        yield real, alias
    finally:
        subprocess.run(["umount", str(alias)], check=False)


def _store(home: Path) -> Path:
    return home / ".local" / "share" / "git-snapshot"


def test_inside_knows_the_store_reached_by_another_path(aliased: tuple[Path, Path]) -> None:
    real, alias = aliased
    _store(real).mkdir(parents=True)
    assert location.inside(str(_store(alias)), str(real))
    assert location.inside(str(_store(real)), str(alias))
    assert location.in_worktree(str(_store(alias)), str(real)) == ".local/share/git-snapshot"
    # not made yet (created on first use): its nearest folder that exists decides
    assert location.in_worktree(str(alias / "new" / "store"), str(real)) == "new/store"
    # the worktree's .git is never snapshotted: a store in it is not "inside"
    assert not location.inside(str(alias / ".git" / "store"), str(real))
    assert not location.inside(str(real.parent / "elsewhere"), str(real))


def test_first_snapshot_and_doctor_say_the_store_is_inside(aliased: tuple[Path, Path]) -> None:
    real, _ = aliased
    first = gs(real, "-m", "first")
    assert "is inside this worktree" in first.err, first.err
    doctor = gs(real, "doctor", rc=None)
    (line,) = [ln for ln in doctor.out.splitlines() if ln.startswith("store:")]
    assert "inside this worktree" in line and "outside this worktree" not in line, line


def test_run_git_clean_keeps_the_store_reached_by_another_path(
    aliased: tuple[Path, Path],
) -> None:
    real, _ = aliased
    gs(real, "-m", "before")
    ran = gs(real, "run", "--", "git", "clean", "-fdxq")
    assert (_store(real) / "index.sqlite").exists(), ran.err
    assert not (real / ".env").exists()
    assert "-e /.local/share/git-snapshot/" in ran.err, ran.err
    assert "deleted the snapshot store" not in ran.err, ran.err
    gs(real, "restore", "2", ".env")
    assert (real / ".env").read_text() == "SECRET=1\n"


def test_run_git_clean_dash_x_upper_refuses_for_the_store_reached_by_another_path(
    aliased: tuple[Path, Path],
) -> None:
    """The worktree ignores everything ("*"), the store with it: -X would delete it whole."""
    real, _ = aliased
    gs(real, "-m", "before")
    ran = gs(real, "run", "--", "git", "clean", "-fdXq", rc=None)
    assert ran.rc != 0 and "refusing to run git clean -X" in ran.err, ran.err
    assert (_store(real) / "index.sqlite").exists() and (real / ".env").exists()


def test_the_watcher_keeps_out_the_store_reached_by_another_path(
    aliased: tuple[Path, Path],
) -> None:
    """The daemon watches no folder of the store (its writes are no worktree change)."""
    from test_idle_scans import FakeSource

    from git_snapshot.watch.config import WatchConfig
    from git_snapshot.watch.watchset import Budget
    from git_snapshot.watch.watchset import WatchSet

    real, alias = aliased
    _store(real).mkdir(parents=True)
    (_store(real) / "packs").mkdir()
    ws = WatchSet(str(real), str(_store(alias)), Budget(FakeSource(), 1000), WatchConfig())
    assert ws._skip(str(_store(real))) and ws._skip(str(_store(real) / "packs"))
    assert not ws._skip(str(real / ".local" / "share"))
