"""Session 44 (review RT43, "Hostile names"): a path holding a newline was never asked of git
(gitextra.check_attr and clean_ids left it out: "--stdin cannot take it", though
``check-attr -z --stdin`` takes any name and ``hash-object --stdin --path=NAME`` is one
process per name anyway). So a CRLF file named ``a\\nb.txt`` under ``* text eol=crlf``,
saved untracked, ``git add``ed (git stores LF) and deleted by ``git checkout -f`` as a staged
new file, was missing from the hook's loss report, while ``ab.txt`` was named.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import write


def _repo(repo: Path, attributes: bytes) -> Path:
    commit(repo, ".gitattributes", attributes)
    commit(repo, "d/keep.txt", b"k\r\n")
    install(repo)
    return repo


def _names(r: Path) -> list[bytes]:
    (entry,) = json.loads(gs(r, "losses", "--json").out)
    return sorted(os.fsencode(x["path"]) for x in entry["lost"])


def _dropped(r: Path, name: bytes, data: bytes) -> None:
    """d/NAME written as *data*, saved untracked, `git add`ed, then deleted by `checkout -f`:
    named, and undo gives its bytes back."""
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


@pytest.mark.parametrize("name", [b"a\nb.txt", b"a\n", b"\nlead.txt", b't\tq"b\\s\n\xff.txt'])
def test_a_staged_crlf_file_with_a_newline_in_its_name_is_named(repo: Path, name: bytes) -> None:
    _dropped(_repo(repo, b"* text eol=crlf\n"), name, b"new\r\nline\r\n")


def test_the_same_through_a_clean_filter(repo: Path) -> None:
    git(repo, "config", "filter.up.clean", "tr a-z A-Z")
    git(repo, "config", "filter.up.smudge", "cat")
    _dropped(_repo(repo, b"* filter=up\n"), b"new\nfile.txt", b"new text\n")
