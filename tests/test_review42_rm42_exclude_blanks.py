"""Review RM42 (session 42) of fixM's matcher: a ``snapshot.exclude`` value ending in a blank
other than a space (a tab, a no-break space...) went to pathspec, which strips every trailing
blank (``str.rstrip``), so ``foo<TAB>`` excluded ``foo``: a file git keeps (git trims trailing
spaces only) silently left out of every snapshot. Such a value is a literal for git, and the
matcher now takes it; trailing spaces it trims as git does. The reference is git itself
(``git ls-files -o --exclude-standard`` with the patterns in .git/info/exclude)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from git_snapshot import excludes
from git_snapshot import worktree

NAMES = ["foo", "foo\t", "foo\xa0", "foo\u3000", "foo\x0b", "foo\t ", "foo ", "d/foo"]


def _git_saved(top: Path, patterns: list[str]) -> set[str]:
    (top / ".git" / "info" / "exclude").write_bytes(
        b"".join(os.fsencode(p) + b"\n" for p in patterns)
    )
    ran = subprocess.run(
        ["git", "ls-files", "-o", "--exclude-standard", "-z"],
        cwd=top,
        capture_output=True,
        check=True,
    )
    return {os.fsdecode(p) for p in ran.stdout.split(b"\0") if p}


@pytest.mark.parametrize(
    "patterns",
    [["foo\t"], ["foo\xa0"], ["foo\u3000"], ["foo\x0b"], ["foo\t "], ["foo "], ["foo  ", "x"]],
)
def test_a_trailing_blank_is_what_git_makes_of_it(tmp_path: Path, patterns: list[str]) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "d").mkdir()
    for name in NAMES:
        (tmp_path / name).write_bytes(b"")
    saved = _git_saved(tmp_path, patterns)
    assert "foo" in saved or patterns[0].rstrip(" ") == "foo"  # (the reference is sane)
    ours = worktree.excluder(tuple(patterns))
    assert ours is not None
    kept = {n for n in NAMES if not ours(os.fsencode(n), False)}
    assert kept == saved, patterns
    assert all(excludes.simple(p) for p in patterns)  # (decided with no import)


@pytest.mark.parametrize("pattern", ["foo\r", "foo\n", "foo \r", "/ "])
def test_what_a_line_end_leaves_or_an_empty_body_still_goes_to_pathspec(pattern: str) -> None:
    assert not excludes.simple(pattern)
