"""identity._read_id asks git once per state of the repository's config file: a command's
several Repo objects (resolve_repo's, current_repo's, a report's) each asked, a git process
each. A write since (an id given during the command, a repository made anew at the same
path) is seen at once; a config file written in the last RACY_NS is always asked again."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from clihelpers import git
from conftest import committed_repo

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot.store import Store


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The real local_values, each call noted (the git processes _read_id runs)."""
    calls: list[str] = []
    real = gitrepo.local_values

    def local_values(repo: gitrepo.Repo, key: str) -> list[str]:
        calls.append(key)
        return real(repo, key)

    monkeypatch.setattr(gitrepo, "local_values", local_values)
    return calls


def _settled() -> None:
    time.sleep(identity.RACY_NS / 1e9 + 0.02)  # the config file is no longer racy


def _why(repo: Path) -> str:
    st = (repo / ".git" / "config").stat()
    return f"{st!r} now={time.time_ns()} racy={identity.RACY_NS} read={identity._READ!r}"


def test_the_id_is_asked_of_git_once_while_the_config_is_unchanged(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "config", "--local", "snapshot.repoId", "abc")
    _settled()
    calls = _counting(monkeypatch)
    # each a Repo of its own, as a command's resolve_repo and current_repo find it
    ids = [identity._read_id(gitrepo.find_repo(str(repo))) for _ in range(3)]
    assert ids == ["abc"] * 3
    assert len(calls) == 1, _why(repo)


def test_an_id_written_meanwhile_is_read(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _settled()
    calls = _counting(monkeypatch)
    assert identity._read_id(gitrepo.find_repo(str(repo))) is None
    assert identity._read_id(gitrepo.find_repo(str(repo))) is None
    assert len(calls) == 1, _why(repo)
    # another process (a hook in a linked worktree) gives the repository its id
    git(repo, "config", "--local", "--add", "snapshot.repoId", "written-later")
    assert identity._read_id(gitrepo.find_repo(str(repo))) == "written-later"


def test_an_id_this_process_assigns_is_the_one_read_after(repo: Path) -> None:
    _settled()
    r = gitrepo.find_repo(str(repo))
    assert identity._read_id(r) is None
    with Store() as store:
        key = identity.source(store, r)  # _assign writes it
    got = identity._read_id(gitrepo.find_repo(str(repo)))
    assert got is not None and key.endswith("#" + got)


def test_a_repository_made_anew_at_the_same_path_has_its_own_id(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    committed_repo(path)
    git(path, "config", "--local", "snapshot.repoId", "old")
    _settled()
    assert identity._read_id(gitrepo.find_repo(str(path))) == "old"
    shutil.rmtree(path)
    committed_repo(path)
    git(path, "config", "--local", "snapshot.repoId", "new")
    assert identity._read_id(gitrepo.find_repo(str(path))) == "new"
    _settled()
    assert identity._read_id(gitrepo.find_repo(str(path))) == "new"


def test_a_config_written_just_now_is_asked_again(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within RACY_NS of a write, the file's stat may not change at a second write (the file
    system's clock ticks coarser): git is asked each time."""
    git(repo, "config", "--local", "snapshot.repoId", "abc")
    monkeypatch.setattr(identity, "RACY_NS", 10**12)  # every file counts as just written
    calls = _counting(monkeypatch)
    for _ in range(2):
        assert identity._read_id(gitrepo.find_repo(str(repo))) == "abc"
    assert len(calls) == 2
