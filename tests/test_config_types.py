"""snapshot.* booleans and numbers read as git reads them (git config --type=bool/int): the
same answer as git for every spelling, and git's refusal, in one line, for a bad value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs

from git_snapshot import gitrepo
from git_snapshot import hooks
from git_snapshot import worktree
from git_snapshot.errors import UserError

SPELLINGS = ["yes", "on", "1", "true", "TRUE", "2", "", "no", "off", "0", "false", "1k"]


def _git_says(repo: Path, key: str, kind: str) -> str:
    return git(repo, "config", f"--type={kind}", key).strip()


@pytest.mark.parametrize("value", SPELLINGS)
def test_booleans_as_git_reads_them(repo: Path, value: str) -> None:
    r = gitrepo.find_repo(str(repo))
    git(repo, "config", "snapshot.autoPrune", value)
    git(repo, "config", "snapshot.skipCacheDirs", value)
    git(repo, "config", "snapshot.quiet", value)
    expected = _git_says(repo, "snapshot.autoPrune", "bool") == "true"
    cfg = worktree.settings(r)
    assert cfg.auto_prune is expected
    assert cfg.skip_cache_dirs is expected
    assert hooks._quiet(r) is expected
    # the famous ones: an empty value is false, a bare key (no '=') is true, 2 is true
    assert expected is (value.lower() in ("yes", "on", "1", "true", "2", "1k"))


def test_a_bare_key_is_true(repo: Path) -> None:
    with open(repo / ".git" / "config", "a") as f:
        f.write("[snapshot]\n\tquiet\n\tautoPrune = false\n")
    r = gitrepo.find_repo(str(repo))
    assert hooks._quiet(r) is True
    assert worktree.settings(r).auto_prune is False


@pytest.mark.parametrize("key", ["snapshot.autoPrune", "snapshot.skipCacheDirs"])
def test_an_invalid_boolean_is_refused_as_git_refuses_it(repo: Path, key: str) -> None:
    git(repo, "config", key, "maybe")
    assert git(repo, "config", "--type=bool", key, rc=128).rc == 128  # git refuses it too
    with pytest.raises(UserError) as caught:
        worktree.settings(gitrepo.find_repo(str(repo)))
    assert str(caught.value) == f"bad {key} 'maybe' in git config: use true or false"
    ran = gs(repo, rc=1)  # and on the command line: one line
    assert ran.err_lines == [f"git-snapshot: bad {key} 'maybe' in git config: use true or false"]


def test_numbers_as_git_reads_them(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo))
    git(repo, "config", "snapshot.keepLast", "1k")
    git(repo, "config", "snapshot.keepDaily", "7")
    cfg = worktree.settings(r)
    assert cfg.keep_last == int(_git_says(repo, "snapshot.keepLast", "int")) == 1024
    assert cfg.keep_daily == 7

    git(repo, "config", "snapshot.keepLast", "lots")
    with pytest.raises(UserError, match=r"^bad snapshot\.keepLast 'lots' in git config"):
        worktree.settings(r)
    git(repo, "config", "snapshot.keepLast", "0")
    with pytest.raises(UserError, match="1 or more"):
        worktree.settings(r)


def test_last_value_wins_across_files(repo: Path, tmp_path: Path) -> None:
    with open(os.environ["GIT_CONFIG_GLOBAL"], "a") as f:
        f.write("[snapshot]\n\tautoPrune = no\n")
    r = gitrepo.find_repo(str(repo))
    assert worktree.settings(r).auto_prune is False
    git(repo, "config", "snapshot.autoPrune", "on")  # the repository's own config wins
    assert worktree.settings(r).auto_prune is True


def test_no_git_call_when_nothing_is_set(repo: Path) -> None:
    """The hook path pays nothing for typed reads when no such key is set."""
    r = gitrepo.find_repo(str(repo))
    assert gitrepo.typed_config(r, "bool", ["snapshot.quiet"], {}) == {}
    assert gitrepo.typed_config(r, "bool", ["snapshot.quiet"], None) == {}  # asked: unset


# spellings git reads in ways worth checking: hex, octal, units, signs, spaces, case
MORE_SPELLINGS = ["Yes", "oN", "OFF", "0x1", "00", "010", "08", " 1", "+1", "-1", "1g", "yes "]


@pytest.mark.parametrize("value", SPELLINGS + MORE_SPELLINGS)
def test_plain_spellings_read_without_git_as_git_reads_them(
    repo: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usual spellings are read from config()'s answer, with no second git process; every
    other one goes to git: either way the answer (or the refusal) is git's own."""
    r = gitrepo.find_repo(str(repo))
    git(repo, "config", "snapshot.autoPrune", value)
    git(repo, "config", "snapshot.keepLast", value)
    cfg = gitrepo.config(r)
    calls: list[list[str]] = []
    real = gitrepo._run

    def counted(cwd: str, args: list[str], *a: object, **k: object) -> object:
        calls.append(args)
        return real(cwd, args, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(gitrepo, "_run", counted)
    for kind, key in (("bool", "snapshot.autoPrune"), ("int", "snapshot.keepLast")):
        calls.clear()
        said = git(repo, "config", f"--type={kind}", key, rc=None)
        try:
            got = gitrepo.typed_config(r, kind, [key], cfg)
        except UserError:
            assert said.rc != 0, (kind, value)
        else:
            assert said.rc == 0 and got == {key: said.out.strip()}, (kind, value)
        plain = value.lower() in ("yes", "on", "1", "true", "", "no", "off", "0", "false")
        if kind == "int":
            plain = value.isdigit() and (value == "0" or not value.startswith("0"))
        assert (calls == []) is plain, (kind, value, calls)
