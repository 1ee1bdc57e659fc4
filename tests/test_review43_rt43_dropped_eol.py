"""Review RT43 of fixT (12a2e17): gitwrote._git_dropped now also names a staged new file that
`checkout -f` deleted whose snapshot bytes git stored converted (CRLF under an eol rule, a
clean filter, working-tree-encoding): _staged_converted.

- Cost: under `* text=auto` alone (no filter, ident or working-tree-encoding in any
  attribute file) an untracked file the user deleted, whose bytes with LF for CRLF are no
  staged blob, made the hook run a `check-attr` of its own (_filtering): the hooks now run
  the same git commands with and without such a file.
- Guards of the variants 12a2e17 did not test (each named since 12a2e17, not before):
  `core.eol=crlf` with a bare `text` attribute, working-tree-encoding=UTF-16, a file of
  empty CRLF lines (its LF form exactly half its size: the edge of the size window), and
  hostile names (a leading '-', a leading blank, a byte that is not UTF-8).

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import write
from test_red43_eol_hooks_dropped import GONE_CHECK
from test_red43_eol_hooks_dropped import _processes
from test_red43_eol_hooks_dropped import _repo

MINE_CRLF = b"mine, not staged\r\n"  # d/mine.txt: CRLF, of another text than d/new.txt


def _names(r: Path) -> list[bytes]:
    (entry,) = json.loads(gs(r, "losses", "--json").out)
    return sorted(os.fsencode(x["path"]) for x in entry["lost"])


def test_text_auto_a_file_the_user_deleted_starts_no_git_process(tmp_path: Path) -> None:
    """`* text=auto`: no attribute file names a filter, ident or working-tree-encoding, so
    no file can be stored filtered: no check-attr for the file the user deleted (only the
    fixed set of the check of files gone since, red44 F5b)."""
    rule = b"* text=auto\n"
    plain = _processes(_repo(committed_repo(tmp_path / "a"), rule), tmp_path / "ta", None)
    mine = _processes(_repo(committed_repo(tmp_path / "b"), rule), tmp_path / "tb", MINE_CRLF)
    more, fewer = Counter(mine) - Counter(plain), Counter(plain) - Counter(mine)
    assert more == GONE_CHECK and not fewer, (more, fewer)  # (counted: some run in parallel)


def _dropped(r: Path, name: bytes, data: bytes) -> None:
    """*name* (under d/) written as *data*, saved untracked, `git add`ed, then deleted by
    `checkout -f`: named, and undo gives its bytes back."""
    path = Path(os.fsdecode(b"d/" + name))
    write(r / path, data)
    write(r / "d" / "keep.txt", b"edit\r\n")
    gs(r, "create", "-m", "before")
    git(r, "add", "--", str(path))
    ran = git(r, "checkout", "-f")
    assert not (r / path).exists()
    assert _names(r) == sorted([b"d/keep.txt", b"d/" + name]), ran.err
    gs(r, "undo")
    assert (r / path).read_bytes() == data


def test_core_eol_crlf_with_a_text_attribute(repo: Path) -> None:
    git(repo, "config", "core.eol", "crlf")
    _dropped(_repo(repo, b"*.txt text\n"), b"new.txt", b"new\r\nline\r\n")


def test_working_tree_encoding_utf16(repo: Path) -> None:
    r = _repo(repo, b"new.txt working-tree-encoding=UTF-16\n")
    _dropped(r, b"new.txt", "new text\n".encode("utf-16"))


def test_empty_crlf_lines_twice_the_size_of_their_blob(repo: Path) -> None:
    _dropped(_repo(repo, b"*.txt text eol=crlf\n"), b"new.txt", b"\r\n" * 40)


@pytest.mark.parametrize("name", [b"-n x.txt", b" lead.txt", b"n\xff.txt"])
def test_hostile_names(repo: Path, name: bytes) -> None:
    _dropped(_repo(repo, b"*.txt text eol=crlf\n"), name, b"new\r\n")
