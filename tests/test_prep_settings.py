"""A preparation asks git for the snapshot.* settings again only when a file git reads them
from changed since (watch/take._settings), and never keeps them when a config file includes
another (a change there has no stamp)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from clihelpers import git

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.watch import dirtyset
from git_snapshot.watch import take


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = worktree.settings

    def spy(repo: Any) -> Any:
        calls.append(1)
        return real(repo)

    monkeypatch.setattr(worktree, "settings", spy)
    monkeypatch.setattr(take, "_SETTINGS", {})
    return calls


def test_settings_are_asked_again_only_when_a_config_file_changed(
    repo: Path, asked: list[int]
) -> None:
    r = gitrepo.find_repo(str(repo))
    assert take._settings(r).excludes == ()
    assert take._settings(r).excludes == ()
    assert len(asked) == 1  # the same files: git's answer holds
    git(repo, "config", "--add", "snapshot.exclude", "*.log")
    assert take._settings(r).excludes == ("*.log",)
    assert len(asked) == 2
    (repo / "README").write_text("changed\n")
    git(repo, "add", "README")  # git's index changed (in the stamp too): asked again
    assert take._settings(r).excludes == ("*.log",)
    assert len(asked) == 3


def test_settings_are_never_kept_when_a_config_file_includes_another(
    repo: Path, tmp_path: Path, asked: list[int]
) -> None:
    other = tmp_path / "other.gitconfig"
    other.write_text("[snapshot]\n\texclude = *.tmp\n")
    git(repo, "config", "include.path", str(other))
    r = gitrepo.find_repo(str(repo))
    assert take._settings(r).excludes == ("*.tmp",)
    other.write_text("[snapshot]\n\texclude = *.bak\n")  # no file of the stamp changed
    assert take._settings(r).excludes == ("*.bak",)
    assert len(asked) == 2


def test_a_config_file_replaced_with_the_same_size_and_times_is_seen(
    repo: Path, asked: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `git config` writes of the same size within one tick of the file system's clock
    (~4 ms) leave size, mtime and ctime alike; git writes a config file whole and renames it
    into place, so its inode tells them apart (RED7's find: the stamp said inode and did not
    use it, so the first answer was kept)."""
    r = gitrepo.find_repo(str(repo))
    stamped = set(dirtyset.stamp_paths(r))
    real = os.stat

    def one_tick(path: Any, *args: Any, **kwargs: Any) -> Any:
        st = real(path, *args, **kwargs)
        if path not in stamped:
            return st
        return SimpleNamespace(st_size=st.st_size, st_mtime_ns=1, st_ctime_ns=1, st_ino=st.st_ino)

    monkeypatch.setattr(os, "stat", one_tick)
    git(repo, "config", "snapshot.exclude", "*.aaa")
    assert take._settings(r).excludes == ("*.aaa",)
    git(repo, "config", "snapshot.exclude", "*.bbb")  # the same size, a new file
    assert take._settings(r).excludes == ("*.bbb",)
    assert len(asked) == 2
