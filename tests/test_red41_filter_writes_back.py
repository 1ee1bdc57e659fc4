"""Red team (session 41, red41R1 findings 1, 2, 4 and 5): git's view of a file is not its bytes.

1. A clean filter that drops content (nbstripout's shape: clean drops the SECRET lines,
   smudge is `cat`): "git's clean filter turns the snapshot's bytes into a blob git has" was
   taken for "git gives these bytes back", so `reset --hard`, `checkout -f`, `checkout --`
   lost the SECRET line with no report; and after `git add` (git status clean) a plain
   `git checkout B` wrote over it silently, the switch's check dropping the path because "a
   plain switch refuses to write over an edit".
5. The same with `core.autocrlf=input`: CRLF bytes git stores as LF; `reset --hard` writes
   LF back; no report.
2. With core.fsmonitor (a hook that missed the edit's event), a plain `checkout B` or a
   fast-forward `merge B` writes over an edit: git did not look at the file.
4. A file clean under main's `.gitattributes` (eol=crlf) was reported destroyed when the
   operation removed the attribute: the conversion was asked under the attributes after it.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import Ran
from clihelpers import git
from clihelpers import gs
from converthelpers import crlf_then_branch_b
from converthelpers import forced_to_b
from hookhelpers import install
from hookhelpers import named_lost

SECRET = b"line\nSECRET=hunter2\n"


def _b_changes(repo: Path, rel: str, ours: bytes, theirs: bytes) -> None:
    """*rel* (*ours*), with all else in the worktree, committed on main (c1); branch B
    changes *rel* to *theirs* (c2); main checked out."""
    (repo / rel).write_bytes(ours)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c1")
    git(repo, "checkout", "-q", "-b", "B")
    (repo / rel).write_bytes(theirs)
    git(repo, "commit", "-q", "-am", "c2")
    git(repo, "checkout", "-q", "main")


def _fsmonitor_to_miss(repo: Path, tmp_path: Path) -> None:
    """core.fsmonitor set to a hook (fsmonitor-watchman's shape) that will miss the next
    event."""
    hook = tmp_path / "fsm.sh"
    hook.write_bytes(b'#!/bin/sh\nprintf "tok\\0"\n')
    hook.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(hook))
    git(repo, "status", "--porcelain")
    git(repo, "status", "--porcelain")


def _lossy_filter(repo: Path) -> None:
    """*repo* with a.txt ("line") under a clean filter that drops SECRET lines, branch B
    changing it; on main, hooked, a.txt holds a SECRET line, which snapshot 'before' saves."""
    git(repo, "config", "filter.strip.clean", "sed '/^SECRET/d'")
    git(repo, "config", "filter.strip.smudge", "cat")
    (repo / ".gitattributes").write_bytes(b"*.txt filter=strip\n")
    _b_changes(repo, "a.txt", b"line\n", b"line\nmore\n")
    install(repo)
    (repo / "a.txt").write_bytes(SECRET)
    assert git(repo, "status", "--porcelain").out == " M a.txt\n"
    gs(repo, "-m", "before")


def _named(ran: Ran, repo: Path) -> list[str]:
    return [n for r in ran.reports for n in r.names.split(", ")] or named_lost(repo)


@pytest.mark.parametrize("how", ["reset", "checkoutf", "dashdash", "plain"])
def test_what_a_lossy_clean_filter_drops_is_named(repo: Path, how: str) -> None:
    _lossy_filter(repo)
    if how == "reset":
        ran = gs(repo, "run", "--", "git", "reset", "-q", "--hard", "B")
    elif how == "checkoutf":
        ran = git(repo, "checkout", "-q", "-f", "B")
    elif how == "dashdash":
        ran = git(repo, "checkout", "-q", "--", "a.txt")
    else:  # nbstripout's everyday case: git add, git status clean, a plain switch
        git(repo, "add", "a.txt")
        assert git(repo, "status", "--porcelain").out == ""
        ran = git(repo, "checkout", "-q", "B")
    assert b"SECRET" not in (repo / "a.txt").read_bytes()  # git wrote its version
    assert "a.txt" in _named(ran, repo), ran.err
    (rep,) = [r for r in ran.reports if "a.txt" in r.names.split(", ")]
    assert "git's filter" in rep.kinds, rep
    gs(repo, *rep.command[2:])
    assert (repo / "a.txt").read_bytes() == SECRET


def test_a_clean_file_under_a_lossy_filter_is_not_named(repo: Path) -> None:
    """What git wrote (no SECRET line) and a forced switch wrote over is git's to give back."""
    _lossy_filter(repo)
    (repo / "a.txt").write_bytes(b"line\n")
    gs(repo, "-m", "clean")
    ran = gs(repo, "run", "--", "git", "reset", "-q", "--hard", "B")
    assert not ran.reports, ran.err
    git(repo, "checkout", "-q", "-f", "main")
    ran = git(repo, "checkout", "-q", "-f", "B")
    assert not ran.reports, ran.err


def test_crlf_bytes_git_writes_back_as_lf_are_named(repo: Path) -> None:
    git(repo, "config", "core.autocrlf", "input")
    (repo / "a.txt").write_bytes(b"one\ntwo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c1")
    install(repo)
    (repo / "a.txt").write_bytes(b"one\r\ntwo\r\n")  # a Windows tool rewrote it
    ran = gs(repo, "run", "--", "git", "reset", "-q", "--hard")
    assert (repo / "a.txt").read_bytes() == b"one\ntwo\n"
    (rep,) = ran.reports
    assert rep.names == "a.txt", ran.err
    gs(repo, *rep.command[2:])
    assert (repo / "a.txt").read_bytes() == b"one\r\ntwo\r\n"


def _fsmonitor_missed_the_edit(repo: Path, tmp_path: Path) -> None:
    (repo / "k.txt").write_bytes(b"k\n")
    _b_changes(repo, "a.txt", b"base\n", b"theirs\n")
    install(repo)
    _fsmonitor_to_miss(repo, tmp_path)
    (repo / "a.txt").write_bytes(b"MYEDIT\n")
    gs(repo, "-m", "before")


@pytest.mark.parametrize("how", ["checkout", "merge"])
def test_an_edit_fsmonitor_hid_from_a_plain_switch_is_named(
    repo: Path, tmp_path: Path, how: str
) -> None:
    _fsmonitor_missed_the_edit(repo, tmp_path)
    ran = git(repo, how, "-q", "B")
    assert (repo / "a.txt").read_bytes() == b"theirs\n"  # git wrote over the edit
    (rep,) = ran.reports
    assert rep.names == "a.txt", ran.err
    gs(repo, *rep.command[2:])
    assert (repo / "a.txt").read_bytes() == b"MYEDIT\n"


def test_fsmonitor_a_plain_switch_over_a_committed_edit_is_no_loss(
    repo: Path, tmp_path: Path
) -> None:
    """With fsmonitor set, an edit the snapshot holds that the user committed since (HEAD
    moved since the snapshot) is still not named: the switch wrote over a committed file."""
    _fsmonitor_missed_the_edit(repo, tmp_path)
    (repo / "a.txt").write_bytes(b"MYEDIT2\n")  # in no snapshot, then committed
    git(repo, "-c", "core.fsmonitor=false", "commit", "-q", "-am", "mine")
    ran = git(repo, "checkout", "-q", "B")
    assert not ran.reports, ran.err


@pytest.mark.parametrize("how", ["reset", "checkoutf"])
def test_a_file_clean_under_the_attributes_the_operation_removed_is_not_named(
    repo: Path, how: str
) -> None:
    crlf_then_branch_b(repo)
    git(repo, "rm", "-q", ".gitattributes")
    (repo / "a.txt").write_bytes(b"one\ntwo\nthree\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "c2")
    git(repo, "checkout", "-q", "main")
    assert git(repo, "status", "--porcelain").out == ""
    install(repo)
    gs(repo, "-m", "clean")
    ran = forced_to_b(repo, how)
    assert not ran.reports, ran.err
    assert json.loads(gs(repo, "losses", "--json").out) == []


def test_an_unsaved_edit_fsmonitor_hid_from_a_plain_switch_is_said(
    repo: Path, tmp_path: Path
) -> None:
    """The same for a file no snapshot holds (snapshot.exclude): its 'not saved' line, which
    a plain switch went without (git refuses to write over an edit, unless it did not look)."""
    _b_changes(repo, "settings.ini", b"committed\n", b"the branch's\n")
    git(repo, "config", "snapshot.exclude", "settings.ini")
    install(repo)
    _fsmonitor_to_miss(repo, tmp_path)
    (repo / "settings.ini").write_bytes(b"my uncommitted edit\n")
    gs(repo, "-m", "before")
    ran = git(repo, "checkout", "-q", "B")
    assert (repo / "settings.ini").read_bytes() == b"the branch's\n"  # git wrote over it
    assert any("not saved: settings.ini" in ln for ln in ran.said), ran.said
