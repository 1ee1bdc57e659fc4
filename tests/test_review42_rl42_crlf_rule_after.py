"""Review of 12ee5c9 (session 42, RL42): a file whose raw bytes are git's blob is named when
git writes that blob back as other bytes (LF bytes a tool wrote under `eol=crlf`). But git
itself wrote LF bytes before the rule that makes it write CRLF came: `git config
core.autocrlf true` after a checkout, or a committed `* text=auto eol=crlf` (git adds no
renormalising rewrite). Every reset, forced or plain switch that rewrote such a file then
named it "destroyed ... whose bytes git's filter or end-of-line conversion does not give
back", though the bytes were git's own and no edit of the user's was lost.

A file older than every rule that makes git write it otherwise (an attribute file on its way,
a config file setting autocrlf or eol, as they were when the snapshot was taken) was written
under the rules before: not named. (a.txt's time is set a minute back: git wrote it then.)

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import install


def _git_wrote_lf_then(repo: Path, rule: str) -> None:
    """a.txt committed and written by git with LF (no conversion), branch B changing it;
    a minute later, on main, *rule* makes git write CRLF from now on; hooked, snapshot
    'before' saves a.txt as git wrote it."""
    (repo / "a.txt").write_bytes(b"one\ntwo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c1")
    git(repo, "checkout", "-q", "-b", "B")
    (repo / "a.txt").write_bytes(b"one\ntwo\nthree\n")
    git(repo, "commit", "-q", "-am", "c2")
    if rule == "attributes":  # on B, then on main (below): git wrote a.txt before it
        (repo / ".gitattributes").write_bytes(b"* text=auto eol=crlf\n")
        git(repo, "add", ".gitattributes")
        git(repo, "commit", "-q", "-m", "attributes")
    git(repo, "checkout", "-q", "main")
    then = os.stat(repo / "a.txt").st_mtime - 60
    os.utime(repo / "a.txt", (then, then))  # git wrote it a minute ago
    if rule == "autocrlf":
        git(repo, "config", "core.autocrlf", "true")
    else:
        git(repo, "checkout", "-q", "B", "--", ".gitattributes")
        git(repo, "commit", "-q", "-m", "attributes")
    install(repo)
    gs(repo, "-m", "before")


@pytest.mark.parametrize("how", ["reset", "checkoutf", "plain"])
@pytest.mark.parametrize("rule", ["autocrlf", "attributes"])
def test_lf_bytes_git_wrote_before_a_crlf_rule_are_not_named(
    repo: Path, rule: str, how: str
) -> None:
    _git_wrote_lf_then(repo, rule)
    assert (repo / "a.txt").read_bytes() == b"one\ntwo\n"
    if how == "reset":
        ran = gs(repo, "run", "--", "git", "reset", "-q", "--hard", "B")
    else:
        ran = git(repo, "checkout", "-q", *(["-f"] if how == "checkoutf" else []), "B")
    assert (repo / "a.txt").read_bytes() == b"one\r\ntwo\r\nthree\r\n"
    assert not ran.reports, ran.err
    assert "a.txt" not in gs(repo, "losses").out
