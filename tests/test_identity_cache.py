"""identity._read_id asks git once per state of the repository's config file: a command's
several Repo objects (resolve_repo's, current_repo's, a report's) each asked, a git process
each. A write since (an id given during the command, a repository made anew at the same
path) is seen at once; a config file written in the last RACY_NS is always asked again."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from types import SimpleNamespace

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


class _WholeSeconds:
    """os as identity sees it on a file system whose clock ticks in whole seconds (ext4 with
    128-byte inodes, ext3, HFS+; FAT in two): stat's times truncated to the second."""

    def __getattr__(self, name: str) -> object:
        import os

        return getattr(os, name)

    @staticmethod
    def stat(path: str) -> SimpleNamespace:
        import os

        st = os.stat(path)
        return SimpleNamespace(
            st_dev=st.st_dev,
            st_ino=st.st_ino,
            st_size=st.st_size,
            st_mtime_ns=st.st_mtime_ns // 10**9 * 10**9,
            st_ctime_ns=st.st_ctime_ns // 10**9 * 10**9,
        )


def test_a_config_rewritten_in_the_same_second_on_a_coarse_file_system_is_read_again(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a file system with whole-second times, a config rewritten in place (a backup's or
    another clone's copied over it: the same inode, the same size) in the second the cached
    stat was taken keeps every field of that stat: the id must be asked of git again, not
    the other repository's id kept (found on a loop-mounted ext4 made with -I 128, where
    even rm -rf and git init gave the new config the old one's inode)."""
    monkeypatch.setattr(identity, "os", _WholeSeconds())
    config = repo / ".git" / "config"
    for _ in range(10):
        while time.time() % 1 > 0.3:  # (the steps below within one second)
            time.sleep(0.05)
        second = int(time.time())
        git(repo, "config", "--local", "--replace-all", "snapshot.repoId", "a" * 32)
        other = config.read_bytes().replace(b"a" * 32, b"b" * 32)
        time.sleep(identity.RACY_NS / 1e9 + 0.02)
        assert identity._read_id(gitrepo.find_repo(str(repo))) == "a" * 32
        with open(config, "r+b") as f:  # in place: the same inode
            f.write(other)
        got = identity._read_id(gitrepo.find_repo(str(repo)))
        if int(time.time()) == second:
            break
    else:
        pytest.skip("no run within one second")
    assert got == "b" * 32, _why(repo)
