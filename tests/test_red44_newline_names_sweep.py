"""Session 44 (fixNL, the sweep after review RT43's "Hostile names"): ten files with names
git and a line-based reader get wrong (a newline, a tab, a double quote inside and leading,
a backslash, a leading dash, a byte that is not UTF-8, a leading and a trailing blank, a
trailing carriage return) go through the commands that destroy files (`checkout -f B`,
`run -- reset --hard [B]`, `run -- clean -fdx`, `run -- stash` then `stash drop`,
`checkout B -- d`), without attributes, under `* text eol=crlf` and under `* text=auto`:
the loss reports name the same files as for ten plain names (by their place in the list),
and undo gives their bytes back. Before the fix, under `eol=crlf` the name with a newline
was missed by `checkout -f B`, `checkout B -- d` and the stash (gitextra.check_attr,
clean_ids, clean_path_ids and gitoverlay.written_otherwise left it out).

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import committed_repo
from hookhelpers import commit
from hookhelpers import install
from hookhelpers import write

HOSTILE = [
    b"a\nb.txt",
    b"t\tx.txt",
    b'q"x.txt',
    b"b\\s.txt",
    b"-dash.txt",
    b"n\xff.txt",
    b" lead.txt",
    b"cr.txt\r",
    b'"quote.txt',
    b"trail.txt ",
]
PLAIN = [b"p%d.txt" % i for i in range(len(HOSTILE))]


def edit(i: int) -> bytes:
    return b"edit\r\n" if i % 2 else b"edit\n"


def _named(repo: Path, attributes: bytes, how: str, names: list[bytes]) -> list[str]:
    """d/NAME committed for each of *names* (LF and CRLF in turn; under u/ untracked for
    clean), branch B made, each edited and saved; *how* run: the lost entries of the loss
    reports, a file by its place in *names*; undo gives each named file's edit back."""
    if attributes:
        commit(repo, ".gitattributes", attributes)
    for i, n in enumerate(names):
        commit(repo, os.fsdecode(b"d/" + n), b"one\r\n" if i % 2 else b"one\n")
    git(repo, "branch", "B")
    install(repo)
    paths = [os.fsencode(b"u/" if how == "clean" else b"d/") + n for n in names]
    return edited_and_named(repo, how, paths)


def edited_and_named(repo: Path, how: str, paths: list[bytes], folder: bytes = b"d") -> list[str]:
    """Each of *paths* (committed, branch B made) edited and saved; *how* run (checkoutfiles:
    `checkout B -- FOLDER`): the lost entries of the loss reports, a file by its place in
    *paths*; undo gives each named file's edit back."""
    for i, p in enumerate(paths):
        write(repo / os.fsdecode(p), edit(i))
    gs(repo, "create", "-m", "before")
    if how == "checkoutf":
        git(repo, "checkout", "-f", "B")
    elif how == "checkoutfiles":
        git(repo, "checkout", "B", "--", os.fsdecode(folder))
    elif how == "reset":
        gs(repo, "run", "--", "git", "reset", "--hard")
    elif how == "resetB":
        gs(repo, "run", "--", "git", "reset", "--hard", "B")
    elif how == "clean":
        gs(repo, "run", "--", "git", "clean", "-fdx")
    else:
        gs(repo, "run", "--", "git", "stash")
        gs(repo, "run", "--", "git", "stash", "drop")
    place = {p: str(i) for i, p in enumerate(paths)}
    lost = [os.fsencode(x["path"]) for e in json.loads(gs(repo, "losses", "--json").out)
            for x in e["lost"]]  # fmt: skip
    named = sorted(place.get(p, repr(p)) for p in lost)
    if how != "stash":  # (undo there gives the stash entry back)
        gs(repo, "undo")
        for i, p in enumerate(paths):
            if str(i) in named:
                assert (repo / os.fsdecode(p)).read_bytes() == edit(i), p
    return named


@pytest.mark.parametrize("attributes", [b"", b"* text eol=crlf\n", b"* text=auto\n"])
@pytest.mark.parametrize("how", ["checkoutf", "checkoutfiles", "reset", "resetB", "clean", "stash"])
def test_hostile_names_are_named_as_plain_ones(tmp_path: Path, attributes: bytes, how: str) -> None:
    plain = _named(committed_repo(tmp_path / "plain"), attributes, how, PLAIN)
    hostile = _named(committed_repo(tmp_path / "hostile"), attributes, how, HOSTILE)
    assert plain, how
    assert hostile == plain
