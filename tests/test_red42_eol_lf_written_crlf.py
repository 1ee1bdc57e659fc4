"""Session 42 (fixL 1; review41 RD "the symmetric eol miss"): under `eol=crlf`, a file the
user wrote with LF line endings is, byte for byte, the blob git stores. `_given` matched the
snapshot's raw bytes against that blob and took the file as git's to give back, but git
writes the blob back as CRLF: `reset --hard`, `checkout -f`, `checkout -- a.txt` and a
plain switch after `git add` (git cleans LF to its blob: the file is unchanged to it)
replaced the LF bytes with no report, though the snapshot holds them.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import named_lost

LF = b"one\ntwo\n"


def _lf_under_crlf(
    repo: Path, attributes: bytes = b"*.txt text eol=crlf\n", first: bool = False
) -> None:
    """*repo* with a.txt under *attributes*, branch B changing it; on main, hooked (*first*:
    and a first snapshot taken, which writes snapshot.repoId into .git/config), a.txt
    rewritten with LF line ends (a Linux tool), which snapshot 'before' saves."""
    (repo / ".gitattributes").write_bytes(attributes)
    (repo / "a.txt").write_bytes(LF)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c1")
    git(repo, "checkout", "-q", "-b", "B")
    (repo / "a.txt").write_bytes(b"one\ntwo\nthree\n")
    git(repo, "commit", "-q", "-am", "c2")
    git(repo, "checkout", "-q", "-f", "main")
    install(repo)
    if first:
        gs(repo, "-m", "first")
    (repo / "a.txt").write_bytes(LF)
    gs(repo, "-m", "before")


def _named(ran: Ran, repo: Path) -> list[str]:
    return [n for r in ran.reports for n in r.names.split(", ")] or named_lost(repo)


@pytest.mark.parametrize("how", ["reset", "checkoutf", "dashdash", "plain"])
def test_lf_bytes_git_writes_back_as_crlf_are_named(repo: Path, how: str) -> None:
    _lf_under_crlf(repo)
    if how == "reset":
        ran = gs(repo, "run", "--", "git", "reset", "-q", "--hard")
    elif how == "checkoutf":
        ran = git(repo, "checkout", "-q", "-f", "B")
    elif how == "dashdash":
        ran = git(repo, "checkout", "-q", "--", "a.txt")
    else:  # after `git add`, git status is clean: git takes the LF file for its blob and
        git(repo, "add", "a.txt")  # switches over it
        assert git(repo, "status", "--porcelain").out == ""
        ran = git(repo, "checkout", "-q", "B")
    assert b"\r\n" in (repo / "a.txt").read_bytes()  # git wrote CRLF
    assert "a.txt" in _named(ran, repo), ran.err
    (rep,) = [r for r in ran.reports if "a.txt" in r.names.split(", ")]
    assert "end-of-line" in rep.kinds, rep
    gs(repo, *rep.command[2:])
    assert (repo / "a.txt").read_bytes() == LF


def test_crlf_bytes_as_git_wrote_them_are_not_named(repo: Path) -> None:
    """The file as git writes it (CRLF), written over by `reset --hard B`: git's."""
    _lf_under_crlf(repo)
    git(repo, "checkout", "-q", "-f", "main")
    assert (repo / "a.txt").read_bytes() == b"one\r\ntwo\r\n"
    gs(repo, "-m", "clean")
    ran = gs(repo, "run", "--", "git", "reset", "-q", "--hard", "B")
    assert not ran.reports, ran.err
    ran = git(repo, "checkout", "-q", "-f", "main")
    assert not ran.reports, ran.err


@pytest.mark.parametrize("attributes", [b"* text=auto\n", b"*.txt text eol=lf\n"])
def test_lf_bytes_git_writes_back_as_lf_are_not_named(repo: Path, attributes: bytes) -> None:
    """Attributes under which git writes the blob as it stores it: the LF file is git's."""
    _lf_under_crlf(repo, attributes)
    ran = git(repo, "checkout", "-q", "-f", "B")
    assert not ran.reports, ran.err
    assert not named_lost(repo)


@pytest.mark.parametrize("setting", ["core.eol", "core.autocrlf"])
def test_lf_bytes_a_crlf_setting_writes_back_as_crlf_are_named(repo: Path, setting: str) -> None:
    """No crlf in any attribute file: `text` with core.eol=crlf (which the hook's remembered
    config must carry), or core.autocrlf=true, writes CRLF just the same. (The tool wrote LF
    after the config was last written: older, git wrote it under the config before:
    test_review42_rl42_crlf_rule_after.)"""
    git(repo, "config", setting, "crlf" if setting == "core.eol" else "true")
    _lf_under_crlf(repo, b"*.txt text\n", first=True)
    ran = gs(repo, "run", "--", "git", "reset", "-q", "--hard")
    assert (repo / "a.txt").read_bytes() == b"one\r\ntwo\r\n"
    (rep,) = ran.reports
    assert rep.names == "a.txt", ran.err
    gs(repo, *rep.command[2:])
    assert (repo / "a.txt").read_bytes() == LF
