"""Helpers for the tests of files git converts (end-of-line, filters) (this module holds no
tests)."""

from __future__ import annotations

from pathlib import Path

from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from hookhelpers import install


def crlf_then_branch_b(repo: Path) -> None:
    """a.txt ("one", "two") committed on main under `*.txt text eol=crlf` (c1), on disk as
    git writes it (CRLF); branch B made and checked out."""
    (repo / ".gitattributes").write_bytes(b"*.txt text eol=crlf\n")
    (repo / "a.txt").write_bytes(b"one\ntwo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c1")
    (repo / "a.txt").unlink()
    git(repo, "checkout", "-q", "--", "a.txt")  # CRLF on disk, as git writes it
    git(repo, "checkout", "-q", "-b", "B")


def forced_to_b(repo: Path, how: str) -> Ran:
    """``git snapshot run -- git reset --hard B`` (*how* "reset"), else ``git checkout -f B``."""
    if how == "reset":
        return gs(repo, "run", "--", "git", "reset", "-q", "--hard", "B")
    return git(repo, "checkout", "-q", "-f", "B")


def filtered_then_b(repo: Path, saved: bytes, clean: str = "sed '/^SECRET/d'") -> None:
    """a.txt ("line") under clean filter *clean* (smudge: cat); branch B changes b.txt only;
    on main, hooked, a.txt holds *saved*, which snapshot 'before' saves."""
    git(repo, "config", "filter.strip.clean", clean)
    git(repo, "config", "filter.strip.smudge", "cat")
    (repo / ".gitattributes").write_bytes(b"*.txt filter=strip\n")
    (repo / "a.txt").write_bytes(b"line\n")
    (repo / "b.txt").write_bytes(b"b\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c1")
    git(repo, "checkout", "-q", "-b", "B")
    (repo / "b.txt").write_bytes(b"b2\n")
    git(repo, "commit", "-q", "-am", "c2")
    git(repo, "checkout", "-q", "main")
    install(repo)
    (repo / "a.txt").write_bytes(saved)
    gs(repo, "-m", "before")
