"""A keyword filter whose smudge writes something new each time (`$Date$` expanded to the
time of the checkout) was named by every switch that rewrote its file: "destroyed 1 file
whose bytes git's filter or end-of-line conversion does not give back" (fixD's FILTERED
kind), though nothing the user wrote is lost: the file differed from what git writes now only
in the keyword's expansion, which the smudge filter itself writes again.

The rule (losses._regenerated, as review RK42 narrowed it): a file whose bytes git's clean
filter stores as a blob git has is given back when it differs from what git writes for that
blob now only in RCS-style keyword expansions (`$Word: ... $`, collapsed to `$Word$` in the
file's line and in git's, gives the blob's line), line for line, each with the same line
ending. Any other line the smudge rewrites (a filter that injects a secret:
tests/test_review42_rk42_keyword_rule.py), a line the clean filter drops (nbstripout's
shape) and a line ending git writes otherwise (eol, autocrlf) stay named
(tests/test_red41_filter_writes_back.py, tests/test_red42_eol_lf_written_crlf.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import named_lost
from hookhelpers import put_venv_on_path

# clean: `$Date: ... $` back to `$Date$`, and (the lossy part, used by one test) drop
# SECRET lines; smudge: `$Date$` expanded with a value no two runs share
CLEAN = b"#!/bin/sh\nsed -e 's/\\$Date[^$]*\\$/$Date$/' -e '/^SECRET/d'\n"
SMUDGE = b"#!/bin/sh\nsed -e 's/\\$Date\\$/$Date: '\"$(date +%s.%N)\"' $/'\n"


@pytest.fixture
def keyword(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """*repo* with a.txt ("$Date$", "body") under the keyword filter on main (on disk as git
    writes it: expanded), branch B changing its body; on main, hooked."""
    put_venv_on_path(monkeypatch)
    for name, text in (("clean.sh", CLEAN), ("smudge.sh", SMUDGE)):
        (tmp_path / name).write_bytes(text)
        (tmp_path / name).chmod(0o755)
    git(repo, "config", "filter.kw.clean", str(tmp_path / "clean.sh"))
    git(repo, "config", "filter.kw.smudge", str(tmp_path / "smudge.sh"))
    (repo / ".gitattributes").write_bytes(b"*.txt filter=kw\n")
    (repo / "a.txt").write_bytes(b"$Date$\nbody\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c1")
    (repo / "a.txt").unlink()
    git(repo, "checkout", "-q", "--", "a.txt")  # expanded, as git writes it
    git(repo, "checkout", "-q", "-b", "B")
    (repo / "a.txt").write_bytes(b"$Date$\nbody on B\n")
    git(repo, "commit", "-q", "-am", "c2")
    git(repo, "checkout", "-q", "main")
    install(repo)
    assert (repo / "a.txt").read_bytes().startswith(b"$Date: ")
    assert git(repo, "status", "--porcelain").out == ""
    gs(repo, "-m", "before")
    return repo


def _named(ran: Ran, repo: Path) -> list[str]:
    return [n for r in ran.reports for n in r.names.split(", ")] or named_lost(repo)


@pytest.mark.parametrize("how", ["plain", "forced", "run-reset"])
def test_a_keyword_the_smudge_writes_again_is_not_named(keyword: Path, how: str) -> None:
    r = keyword
    if how == "run-reset":
        ran = gs(r, "run", "--", "git", "reset", "-q", "--hard", "B")
    else:
        ran = git(r, "checkout", "-q", *(["-f"] if how == "forced" else []), "B")
    assert (r / "a.txt").read_bytes().endswith(b"body on B\n")
    assert "a.txt" not in _named(ran, r), ran.err
    ran = git(r, "checkout", "-q", "main")  # and back
    assert "a.txt" not in _named(ran, r), ran.err


def test_a_line_the_clean_filter_drops_beside_the_keyword_is_named(keyword: Path) -> None:
    r = keyword
    data = (r / "a.txt").read_bytes() + b"SECRET=mine\n"
    (r / "a.txt").write_bytes(data)
    gs(r, "-m", "secret")
    ran = gs(r, "run", "--", "git", "reset", "-q", "--hard", "B")
    assert "a.txt" in _named(ran, r), ran.err
    (rep,) = [x for x in ran.reports if "a.txt" in x.names.split(", ")]
    gs(r, *rep.command[2:])
    assert (r / "a.txt").read_bytes() == data


def test_a_body_line_git_writes_with_another_ending_is_named(keyword: Path) -> None:
    """The keyword line as the smudge wrote it, the body line with CRLF, which the clean
    filter keeps (git stores it, and gives it back as it is): committed, then a line ending
    git's eol conversion writes otherwise (autocrlf=input stores LF)."""
    r = keyword
    git(r, "config", "core.autocrlf", "input")
    first = (r / "a.txt").read_bytes().split(b"\n")[0]
    data = first + b"\nbody\r\n"
    (r / "a.txt").write_bytes(data)
    gs(r, "-m", "crlf")
    ran = gs(r, "run", "--", "git", "reset", "-q", "--hard", "B")
    assert "a.txt" in _named(ran, r), ran.err


def test_a_keyword_left_unexpanded_as_committed_is_not_named(keyword: Path) -> None:
    """The file holds the blob's own bytes (`$Date$`, as written before the commit, never
    checked out since): git writes it expanded, which is the smudge's again."""
    r = keyword
    (r / "a.txt").write_bytes(b"$Date$\nbody\n")
    gs(r, "-m", "unexpanded")
    ran = git(r, "checkout", "-q", "-f", "B")
    assert "a.txt" not in _named(ran, r), ran.err
