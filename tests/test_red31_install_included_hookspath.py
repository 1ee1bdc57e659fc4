"""RED31 E3: a core.hooksPath that wins over the repository's own config (an included file,
a worktree's config): a value install writes there would never be read, so install refuses in
one line naming where the winning value comes from, and changes nothing; uninstall never
leaves core.hooksPath naming git-snapshot's deleted folder. Real git, the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import put_venv_on_path


def _local_config(repo: Path) -> list[str]:
    """The repository's own config, but for the id its first snapshot writes there."""
    lines = git(repo, "config", "--local", "--list").out.splitlines()
    return [ln for ln in lines if not ln.startswith("snapshot.repoid=")]


@pytest.fixture
def hooks_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    put_venv_on_path(monkeypatch)
    hook = repo / ".githooks" / "post-checkout"
    hook.parent.mkdir()
    hook.write_text('#!/bin/sh\necho "user post-checkout ran" >&2\n')
    hook.chmod(0o755)
    return repo


def _include(repo: Path) -> str:
    (repo / ".gitconfig").write_text("[core]\n\thooksPath = .githooks\n")
    git(repo, "config", "--local", "include.path", "../.gitconfig")
    return "file:.git/../.gitconfig"


def _worktree_config(repo: Path) -> str:
    git(repo, "config", "extensions.worktreeConfig", "true")
    git(repo, "config", "--worktree", "core.hooksPath", ".githooks")
    return "file:.git/config.worktree"


@pytest.mark.parametrize("where", [_include, _worktree_config])
def test_install_refuses_and_changes_nothing(hooks_repo: Path, where: object) -> None:
    origin = where(hooks_repo)  # type: ignore[operator]
    before = _local_config(hooks_repo)
    ran = gs(hooks_repo, "install", rc=None)
    assert ran.rc != 0, ran
    lines = [ln for ln in ran.err.splitlines() if ln.strip()]
    assert len(lines) == 1, ran.err
    assert f"core.hooksPath = .githooks comes from {origin}" in lines[0], lines
    assert "nothing was changed" in lines[0], lines
    assert _local_config(hooks_repo) == before
    assert not (hooks_repo / ".git" / "git-snapshot").exists()
    assert git(hooks_repo, "config", "core.hooksPath").out.strip() == ".githooks"
    doc = gs(hooks_repo, "doctor", rc=1).out
    assert f"core.hooksPath = .githooks comes from {origin}" in doc, doc
    assert "husky" not in doc


def test_what_an_older_install_left_is_cleaned_up(hooks_repo: Path) -> None:
    """core.hooksPath and snapshot.hooksPathBefore both name our own folder (an older
    install run twice under an include): uninstall unsets both and removes the folder."""
    _include(hooks_repo)
    own = str(hooks_repo / ".git" / "git-snapshot" / "hooks")
    Path(own).mkdir(parents=True)
    git(hooks_repo, "config", "--local", "core.hooksPath", own)
    git(hooks_repo, "config", "--local", "snapshot.hooksPathBefore", own)
    gs(hooks_repo, "uninstall")
    assert git(hooks_repo, "config", "--local", "core.hooksPath", rc=None).rc == 1
    assert git(hooks_repo, "config", "--local", "snapshot.hooksPathBefore", rc=None).rc == 1
    assert not Path(own).exists()
    assert git(hooks_repo, "config", "core.hooksPath").out.strip() == ".githooks"


def test_a_global_value_is_still_taken_over(hooks_repo: Path, tmp_path: Path) -> None:
    """The check refuses only what wins over the local config: a global value does not."""
    git(hooks_repo, "config", "--global", "core.hooksPath", str(hooks_repo / ".githooks"))
    before = _local_config(hooks_repo)
    gs(hooks_repo, "install")
    own = str(hooks_repo / ".git" / "git-snapshot" / "hooks")
    assert git(hooks_repo, "config", "core.hooksPath").out.strip() == own
    res = git(hooks_repo, "switch", "-q", "-c", "x")
    assert "user post-checkout ran" in res.err
    gs(hooks_repo, "uninstall")
    assert _local_config(hooks_repo) == before
