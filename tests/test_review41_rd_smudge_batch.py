"""Review of fixD (session 41, 44a7b09): what git writes back for a converted file, asked of
many files at once (gitextra.smudged: one ``cat-file -z --batch --filters``, whose header gives
the size before conversion, so its contents are cut by a marker, not by that size).

Files under `filter=strip text eol=crlf` (the clean filter drops SECRET lines; CRLF on disk,
LF in git): those on disk as git wrote them are given back, those holding a SECRET line are
named, whatever their names (a '-', a leading blank, which git's batch reading strips, a
tab, a trailing blank, bytes that are not UTF-8) and wherever they fall in the
batch. A forced switch rewrites them all.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from converthelpers import crlf_then_branch_b
from converthelpers import forced_to_b
from hookhelpers import install
from hookhelpers import named_lost

NAMES = [
    b"a.txt",
    b"-dash.txt",
    b" lead.txt",
    b"tab\tin.txt",
    b"trail.txt ",
    b"caf\xe9.txt",
    b"d/deep.txt",
    b"e.txt",
    b"z.txt",
]
LOSSY = {b"-dash.txt", b" lead.txt", b"tab\tin.txt", b"caf\xe9.txt", b"z.txt"}


def _file(repo: Path, name: bytes) -> Path:
    return Path(os.fsdecode(os.path.join(os.fsencode(repo), name)))


def test_what_git_writes_back_is_asked_of_each_file_by_its_own_name(repo: Path) -> None:
    git(repo, "config", "filter.strip.clean", "sed '/^SECRET/d'")
    git(repo, "config", "filter.strip.smudge", "cat")
    (repo / ".gitattributes").write_bytes(b"*.txt* filter=strip text eol=crlf\n")
    (repo / "d").mkdir()
    for i, name in enumerate(NAMES):
        _file(repo, name).write_bytes(b"one\n" * (i + 1))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c1")
    for name in NAMES:
        _file(repo, name).unlink()
    git(repo, "checkout", "-q", "--", ".")  # CRLF on disk, as git writes it
    git(repo, "checkout", "-q", "-b", "B")
    for name in NAMES:
        _file(repo, name).write_bytes(b"theirs\n")
    git(repo, "commit", "-q", "-am", "c2")
    git(repo, "checkout", "-q", "main")
    assert git(repo, "status", "--porcelain").out == ""
    install(repo)
    for name in LOSSY:
        f = _file(repo, name)
        f.write_bytes(f.read_bytes() + b"SECRET=hunter2\r\n")
    gs(repo, "-m", "before")
    ran = git(repo, "checkout", "-q", "-f", "B")
    assert all(_file(repo, n).read_bytes() == b"theirs\r\n" for n in NAMES)
    assert sorted(named_lost(repo)) == sorted(os.fsdecode(n) for n in LOSSY), ran.err
    (entry,) = json.loads(gs(repo, "losses", "--json").out)
    assert {x["status"] for x in entry["lost"]} == {"filtered"}
    assert ran.err.count("whose bytes git's filter or end-of-line conversion does not give back")
    gs(repo, "undo")
    for i, name in enumerate(NAMES):
        want = b"one\r\n" * (i + 1) + (b"SECRET=hunter2\r\n" if name in LOSSY else b"")
        assert _file(repo, name).read_bytes() == (want if name in LOSSY else b"theirs\r\n")


def test_a_filter_that_stops_git_midway_leaves_only_its_file_unanswered(repo: Path) -> None:
    """A required smudge filter failing on b.txt stops the batch there: the files after it
    are still answered (one process each), b.txt and an object git lacks are not."""
    from git_snapshot import gitextra
    from git_snapshot import gitrepo

    git(
        repo,
        "config",
        "filter.up.smudge",
        "sh -c 'case \"$1\" in b.txt) exit 1;; esac; tr a-z A-Z' sh %f",
    )
    git(repo, "config", "filter.up.required", "true")
    (repo / ".gitattributes").write_bytes(b"*.txt filter=up\n")
    for name in ("a.txt", "b.txt", "c.txt"):
        (repo / name).write_bytes(name.encode() + b"\n")
    git(repo, "-c", "filter.up.clean=cat", "add", ".")
    oids = {n: git(repo, "rev-parse", f":{n}").out.strip() for n in ("a.txt", "b.txt", "c.txt")}
    absent = "0123456789abcdef" * 2 + "01234567"
    asked = [(n.encode(), o) for n, o in oids.items()] + [(b"d.txt", absent)]
    got = gitextra.smudged(gitrepo.find_repo(str(repo)), asked)
    assert got == {(b"a.txt", oids["a.txt"]): b"A.TXT\n", (b"c.txt", oids["c.txt"]): b"C.TXT\n"}


@pytest.mark.parametrize("how", ["reset", "checkoutf"])
@pytest.mark.parametrize("attrs", [b"*.txt text eol=lf\n", b"*.txt text\n"])
def test_a_file_clean_under_the_attributes_the_operation_changed_is_not_named(
    repo: Path, how: str, attrs: bytes
) -> None:
    """red41R1 finding 4 where the operation changes the attribute rather than removing it
    (a branch that normalizes line ends): a.txt, CRLF on disk as git writes it under main's
    eol=crlf, is under B's attributes a file git writes back as LF: it was named 'whose
    bytes git's filter or end-of-line conversion does not give back' (44a7b09 asked the
    attributes the snapshot holds only of files not already called so)."""
    crlf_then_branch_b(repo)
    (repo / ".gitattributes").write_bytes(attrs)
    (repo / "a.txt").write_bytes(b"one\ntwo\nthree\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c2")
    git(repo, "checkout", "-q", "main")
    (repo / "a.txt").unlink()
    git(repo, "checkout", "-q", "--", "a.txt")
    assert (repo / "a.txt").read_bytes() == b"one\r\ntwo\r\n"
    install(repo)
    gs(repo, "-m", "clean")
    ran = forced_to_b(repo, how)
    assert (repo / "a.txt").read_bytes() == b"one\ntwo\nthree\n"
    assert not ran.reports, ran.err
    assert json.loads(gs(repo, "losses", "--json").out) == []
