"""``diff -p`` and ``diff --stat`` against ``git diff --no-index`` on the same two versions.

Lines were split by Python's str.splitlines, which also splits at a form feed (page breaks
in C and Lisp sources), a lone CR, \\x1c-\\x1e, U+0085, U+2028 and U+2029: a patch of such a
file had "\\ No newline at end of file" in its middle and lines git never shows. And --stat
counted neither a deleted line starting with "--" (SQL, Lua, Haskell comments) nor an added
one starting with "++": its diff line begins "---"/"+++", taken for the header."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import put_venv_on_path

CASES = {
    "form feed": (b"page one\n\x0cpage two\nend\n", b"page one\n\x0cpage 2\nend\n"),
    "lone CR": (b"a\rb\nc\n", b"a\rB\nc\n"),
    "separators": (b"x\x1cy\x1dz\x1e\n", b"x\x1cY\x1dz\x1e\n"),
    "unicode breaks": ("a\u2028b\u0085c\n".encode(), "a\u2028B\u0085c\n".encode()),
    "sql comments": (b"-- first\nselect 1;\n++ x\n", b"-- second\nselect 1;\n++ y\n"),
    "no final newline": (b"one\ntwo", b"one\n2\x0c"),
}


@pytest.fixture(autouse=True)
def _path(monkeypatch: pytest.MonkeyPatch) -> None:
    put_venv_on_path(monkeypatch)


def _git_diff(tmp: Path, old: bytes, new: bytes) -> tuple[list[str], tuple[int, int]]:
    """git's hunks (from the first @@) and its numstat, for *old* -> *new*."""
    (tmp / "a").write_bytes(old)
    (tmp / "b").write_bytes(new)
    patch = git(tmp, "diff", "--no-index", "-U3", "a", "b", rc=1).out
    numstat = git(tmp, "diff", "--no-index", "--numstat", "a", "b", rc=1).out.split()
    hunks = patch[patch.index("@@") :].split("\n")[:-1]
    return hunks, (int(numstat[0]), int(numstat[1]))


@pytest.mark.parametrize("case", list(CASES))
def test_a_patch_and_its_counts_are_gits(repo: Path, tmp_path: Path, case: str) -> None:
    old, new = CASES[case]
    (repo / "f.txt").write_bytes(old)
    gs(repo)
    (repo / "f.txt").write_bytes(new)
    want, counts = _git_diff(tmp_path, old, new)
    out = gs(repo, "diff", "latest", "-p", "--", "f.txt").out
    got = out[out.index("@@") :].split("\n")[:-1]
    assert got == want, (got, want)
    (stat,) = json.loads(gs(repo, "diff", "latest", "--stat", "--json", "--", "f.txt").out)
    assert (stat["added_lines"], stat["deleted_lines"]) == counts, stat
