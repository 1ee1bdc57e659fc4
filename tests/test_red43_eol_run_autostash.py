"""Session 43 (fixQ; the brief's "check also" of review RL42's gap): `git snapshot run -- git
rebase --autostash B` under `eol=crlf`, the user's edit written with LF line ends. git's
autostash stores the edit as its blob (LF cleans to itself), and its apply writes that blob
back as CRLF: the LF version is in run's snapshot only. losses.find names it (12ee5c9), but
run's autostash rule (commands/run._not_given_back) matched the snapshot's raw bytes with
the autostash's blob, found git's apply on disk, and dropped it: no report, where the plain
hooks name it.

Real git, the hooks installed as a user installs them.
"""

from __future__ import annotations

from pathlib import Path

from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import write

MINE_LF = b"one\ntwo\nmine\n"  # the user's edit, LF line ends (a Linux tool)
MINE_CRLF = b"one\r\ntwo\r\nmine\r\n"  # the same edit as git writes it


def _hooked(repo: Path) -> Path:
    """a.txt and b.txt under `*.txt text eol=crlf`, as git writes them; B changes b.txt."""
    write(repo / ".gitattributes", b"*.txt text eol=crlf\n")
    write(repo / "a.txt", b"one\ntwo\n")
    write(repo / "b.txt", b"b\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "texts")
    git(repo, "checkout", "-q", "-b", "B")
    write(repo / "b.txt", b"b2\n")
    git(repo, "commit", "-q", "-am", "B")
    git(repo, "checkout", "-q", "-")
    (repo / "a.txt").unlink()
    git(repo, "checkout", "-q", "--", "a.txt")
    assert (repo / "a.txt").read_bytes() == b"one\r\ntwo\r\n"
    install(repo)
    return repo


def test_an_lf_edit_the_autostash_gives_back_as_crlf_is_named(repo: Path) -> None:
    r = _hooked(repo)
    write(r / "a.txt", MINE_LF)
    ran = gs(r, "run", "--", "git", "rebase", "-q", "--autostash", "B")
    assert (r / "a.txt").read_bytes() == MINE_CRLF  # git's apply wrote CRLF
    (rep,) = ran.reports
    assert rep.names == "a.txt", ran.err
    assert "end-of-line" in rep.kinds, rep
    gs(r, *rep.command[2:])
    assert (r / "a.txt").read_bytes() == MINE_LF


def test_a_crlf_edit_the_autostash_gives_back_as_it_was_is_not_named(repo: Path) -> None:
    """Guard: an edit written as git writes it (CRLF) comes back byte for byte."""
    r = _hooked(repo)
    write(r / "a.txt", MINE_CRLF)
    ran = gs(r, "run", "--", "git", "rebase", "-q", "--autostash", "B")
    assert (r / "a.txt").read_bytes() == MINE_CRLF
    assert not ran.reports, ran.err
