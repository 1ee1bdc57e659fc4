"""RED31 E2: forwarding mode (core.hooksPath set: a tracked .githooks, husky) writes the
absolute path of git-snapshot's own hooks folder; after the project folder is renamed or
copied that path names the old place. doctor says so (exit 1), ``install`` again points
core.hooksPath at the new place and keeps forwarding to the user's folder (never to the dead
one, never recording it as the value to put back), and ``uninstall`` gives back the user's
configuration exactly. Real git, the real CLI, a user hook that refuses every commit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import put_venv_on_path
from hookhelpers import triggers


def _local_config(repo: Path) -> list[str]:
    """The repository's own config, but for the id its first snapshot writes there."""
    lines = git(repo, "config", "--local", "--list").out.splitlines()
    return [ln for ln in lines if not ln.startswith("snapshot.repoid=")]


@pytest.fixture
def githooks(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with a tracked .githooks whose pre-commit refuses, as core.hooksPath."""
    put_venv_on_path(monkeypatch)
    hook = repo / ".githooks" / "pre-commit"
    hook.parent.mkdir()
    hook.write_text('#!/bin/sh\necho "USER pre-commit: refused" >&2\nexit 1\n')
    hook.chmod(0o755)
    git(repo, "config", "core.hooksPath", ".githooks")
    git(repo, "add", ".githooks")
    git(repo, "commit", "-q", "--no-verify", "-m", "hooks")
    return repo


def _user_hook_runs(repo: Path) -> bool:
    res = git(repo, "commit", "-q", "--allow-empty", "-m", "x", rc=None)
    return res.rc == 1 and "USER pre-commit: refused" in res.err


@pytest.mark.parametrize("how", ["moved", "copied"])
def test_moved_repository_install_again_and_uninstall(
    githooks: Path, tmp_path: Path, how: str
) -> None:
    before = _local_config(githooks)
    gs(githooks, "install")
    assert _user_hook_runs(githooks)
    there = tmp_path / "elsewhere"
    if how == "moved":
        githooks.rename(there)
    else:
        shutil.copytree(githooks, there, symlinks=True)
    old = str(githooks / ".git" / "git-snapshot" / "hooks")

    doc = gs(there, "doctor", rc=1)
    (line,) = [ln for ln in doc.out.splitlines() if "moved or copied" in ln]
    assert line.startswith(f"core.hooksPath names {old}, git-snapshot's hooks folder "), line
    assert line.endswith(": run git snapshot install"), line
    assert "husky" not in doc.out

    out = gs(there, "install").out
    assert f"core.hooksPath named {old}" in out, out
    own = str(there / ".git" / "git-snapshot" / "hooks")
    assert git(there, "config", "core.hooksPath").out.strip() == own
    assert git(there, "config", "snapshot.hooksPathBefore").out.strip() == ".githooks"
    assert _user_hook_runs(there)  # the user's hooks run again
    n = len(triggers(there))
    git(there, "switch", "-q", "-c", "b")
    assert len(triggers(there)) == n + 1  # and ours
    gs(there, "doctor")
    gs(there, "install")  # idempotent: nothing recorded twice
    assert git(there, "config", "snapshot.hooksPathBefore").out.strip() == ".githooks"

    gs(there, "uninstall")
    assert _local_config(there) == before
    assert _user_hook_runs(there)
    assert not (there / ".git" / "git-snapshot").exists()
    if how == "copied":  # the original is still installed, untouched
        assert git(githooks, "config", "core.hooksPath").out.strip() == old
        assert _user_hook_runs(githooks)


def test_uninstall_straight_after_a_move(githooks: Path, tmp_path: Path) -> None:
    before = _local_config(githooks)
    gs(githooks, "install")
    there = tmp_path / "moved"
    githooks.rename(there)
    gs(there, "uninstall")
    assert _local_config(there) == before
    assert _user_hook_runs(there)


def test_a_before_value_that_names_our_own_folder_is_never_put_back(
    githooks: Path, tmp_path: Path
) -> None:
    """What an older install left after a move: snapshot.hooksPathBefore names the dead
    folder. Uninstall does not set core.hooksPath to it (git would run no hook at all)."""
    gs(githooks, "install")
    there = tmp_path / "moved"
    githooks.rename(there)
    dead = str(githooks / ".git" / "git-snapshot" / "hooks")
    git(there, "config", "snapshot.hooksPathBefore", dead)
    out = gs(there, "uninstall").out
    assert dead in out and "lost" in out, out
    assert git(there, "config", "--local", "core.hooksPath", rc=None).rc == 1
