"""Session 43 (fixQ; review RL42's open gap, fixL's note item 1): `undo`'s "changed since the
report" check (commands/undo_since) took a version whose raw bytes are a blob git has for
git's own, as the hooks' loss check did before 12ee5c9. Under `eol=crlf` a file a tool
rewrote with LF line ends is git's blob byte for byte, but git writes that blob back as CRLF:
the LF version is no version git gives back. A `reset --hard` (no hook, no report) over it
after a snapshot saved it, or the LF file on disk itself, was "no change since the report",
and `undo` wrote the older report's version over the path without a word of it (RED38 B1's
shape).

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import side_commit
from hookhelpers import write

OLD = b"OLD_SECRET=1\n"  # the user's ignored .env, which the merge wrote over (reported)
SHARED = b"SHARED=1\n"  # the branch's committed .env: git's blob, LF
CHANGED = "git-snapshot: .env changed since"


def _reported(repo: Path, attributes: bytes = b".env text eol=crlf\n") -> Path:
    """.env ignored and held; `git merge other` (other tracks .env) wrote over it: one loss
    report, not undone; git wrote .env as *attributes* make it write SHARED."""
    commit(repo, ".gitattributes", attributes)
    commit(repo, ".gitignore", b".env\n")
    side_commit(repo, "other", {".env": SHARED})
    install(repo)
    write(repo / ".env", OLD)
    ran = git(repo, "merge", "-q", "other")
    (rep,) = ran.reports
    assert rep.names == ".env", ran.err
    return repo


def _snapshot(repo: Path, msg: str) -> int:
    return int(json.loads(gs(repo, "create", "-m", msg, "--json").out)["id"])


def test_lf_bytes_a_reset_wrote_back_as_crlf_since_the_report_stop_the_undo(repo: Path) -> None:
    r = _reported(repo)
    assert (r / ".env").read_bytes() == b"SHARED=1\r\n"
    write(r / ".env", SHARED)  # a tool (dos2unix) rewrites it with LF: git's blob's bytes
    since = _snapshot(r, "since")
    git(r, "reset", "-q", "--hard")  # no hook: CRLF written over the LF version
    assert (r / ".env").read_bytes() == b"SHARED=1\r\n"
    ran = gs(r, "undo", rc=1)
    assert (r / ".env").read_bytes() == b"SHARED=1\r\n", ran.err  # nothing written over
    (line,) = [ln for ln in ran.err_lines if ln.startswith(CHANGED)]
    assert f"snapshot {since}, taken since, holds a later version" in line, line


def test_lf_bytes_on_disk_since_the_report_stop_the_undo(repo: Path) -> None:
    """No snapshot since: the LF file on disk is not what git writes, so not git's."""
    r = _reported(repo)
    write(r / ".env", SHARED)
    ran = gs(r, "undo", rc=1)
    assert (r / ".env").read_bytes() == SHARED, ran.err
    (line,) = [ln for ln in ran.err_lines if ln.startswith(CHANGED)]
    assert "written on disk" in line, line


@pytest.mark.parametrize("attributes", [b".env text eol=lf\n", b"* text=auto\n"])
def test_lf_bytes_git_writes_as_they_are_do_not_stop_the_undo(
    repo: Path, attributes: bytes
) -> None:
    """Guard: where git writes the blob as it stores it, the LF file (rewritten since, and
    saved since) is git's version: undo puts the report's back."""
    r = _reported(repo, attributes)
    assert (r / ".env").read_bytes() == SHARED
    write(r / ".env", SHARED)
    _snapshot(r, "since")
    git(r, "reset", "-q", "--hard")
    gs(r, "undo")
    assert (r / ".env").read_bytes() == OLD


def test_crlf_bytes_git_wrote_and_a_snapshot_holds_do_not_stop_the_undo(repo: Path) -> None:
    """Guard: git's CRLF version, saved since and written again by a reset, is git's."""
    r = _reported(repo)
    _snapshot(r, "since")
    (r / ".env").unlink()
    git(r, "reset", "-q", "--hard")
    assert (r / ".env").read_bytes() == b"SHARED=1\r\n"
    gs(r, "undo")
    assert (r / ".env").read_bytes() == OLD
