"""fixM (session 42): ``git_snapshot.excludes.matcher``, the import-free matcher of the common
``snapshot.exclude`` patterns, answers as pathspec's GitIgnoreSpec did for them (the
excluder's answer before; folders given with a trailing '/'), and as git itself does
(``git check-ignore --no-index`` with the patterns in .git/info/exclude).

Where pathspec and git differ, the matcher is git's: ``?`` matches one byte as git's
wildmatch does (pathspec: one character, so ``?.txt`` excluded ``é.txt``, which git keeps),
and a name at any depth is found below a folder whose name holds a newline (pathspec's
``(?:.+/)?`` stops at one). The comparison with pathspec therefore uses ASCII names without
a newline; git's uses both.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot import excludes
from git_snapshot import worktree
from git_snapshot.errors import UserError

# what a path's names are made of: the pattern characters a name may hold literally too
NAME = "ab.*?[]!\\# -"


def _name(alphabet: str) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=1, max_size=4).filter(lambda s: s not in (".", ".."))


def _paths(alphabet: str) -> st.SearchStrategy[tuple[str, bool]]:
    """A path from the top (1 to 4 names) and whether it is a folder."""
    return st.tuples(st.lists(_name(alphabet), min_size=1, max_size=4).map("/".join), st.booleans())


@st.composite
def _simple(draw: st.DrawFn, alphabet: str = "ab.*? -") -> str:
    """A pattern of the class the matcher decides: names of literals, '*' and '?' (no '**'),
    a leading and a trailing '/' or not."""
    segs = draw(st.lists(_name(alphabet).filter(lambda s: "**" not in s), min_size=1, max_size=3))
    head = draw(st.sampled_from(["", "/"]))
    tail = draw(st.sampled_from(["", "/"]))
    pattern = head + "/".join(segs) + tail
    if pattern.startswith("#") or pattern != pattern.rstrip():
        pattern = "a" + pattern.rstrip() + "a"  # (a comment is not a pattern; see _blanks)
    return pattern.replace("**", "*a*")


def _lines(patterns: list[str]) -> list[str]:
    """The lines as worktree.excluder gives them to a matcher."""
    return [worktree._inside(p) for p in patterns if p.strip() and not p.startswith("#")]


@settings(max_examples=1500)
@given(st.lists(_simple(), min_size=1, max_size=4), st.lists(_paths(NAME), min_size=1, max_size=8))
def test_the_matcher_answers_as_pathspec_for_the_simple_patterns(
    patterns: list[str], paths: list[tuple[str, bool]]
) -> None:
    lines = _lines(patterns)
    assert all(excludes.simple(p) for p in lines), lines
    ours = excludes.matcher(lines)
    theirs = excludes.pathspec_matcher(lines)
    for path, is_dir in paths:
        rel = path.encode()
        assert ours(rel, is_dir) == theirs(rel, is_dir), (lines, path, is_dir)


@settings(max_examples=1500)
@given(
    st.lists(st.text("ab*?/[]!\\# .", min_size=1, max_size=8), min_size=1, max_size=3),
    st.lists(_paths("ab.*?[]!\\#"), min_size=1, max_size=8),
)
def test_any_pattern_the_matcher_takes_it_answers_as_pathspec(
    patterns: list[str], paths: list[tuple[str, bool]]
) -> None:
    """Arbitrary lines: what simple() accepts is decided as pathspec decides it, and what
    it refuses goes to pathspec whole."""
    lines = _lines(patterns)
    if not lines:
        return
    try:
        theirs = excludes.pathspec_matcher(lines)
    except UserError:  # a pattern pathspec rejects: one the matcher never takes
        assert not all(excludes.simple(p) for p in lines)
        with pytest.raises(UserError):
            worktree.excluder(tuple(patterns))
        return
    ours = worktree.excluder(tuple(patterns))
    assert ours is not None
    for path, is_dir in paths:
        rel = path.encode()
        assert ours(rel, is_dir) == theirs(rel, is_dir), (lines, path, is_dir)


@pytest.mark.parametrize(
    "pattern",
    ["/.venv/", "node_modules/", "*.log", "build", "/dist", "a/b/", "a/*.txt", "*", "*/", "/*",
     "?", "x/**", "x/**/", " lead", "a b/c", "é*", "in/#x", "x ", "x\t"],
)  # fmt: skip
def test_the_common_patterns_are_the_matchers(pattern: str) -> None:
    assert all(excludes.simple(p) for p in _lines([pattern]))


@pytest.mark.parametrize(
    "pattern",
    ["**/x", "a/**/b", "[ab]", "\\#x", "!x", "a!b", "x\r", "/", "/ ", "//x", "a//b", "x//"],
)
def test_the_others_are_pathspecs(pattern: str) -> None:
    assert not all(excludes.simple(p) for p in _lines([pattern]))


def _git_ignored(patterns: list[str], paths: list[tuple[str, bool]]) -> set[str]:
    """What ``git check-ignore --no-index`` says is ignored with *patterns* in info/exclude,
    each path made on disk first (a file or a folder, as said)."""
    with tempfile.TemporaryDirectory(prefix="fixm42-") as top:
        subprocess.run(["git", "init", "-q", top], check=True)
        with open(os.path.join(top, ".git", "info", "exclude"), "wb") as f:
            f.write(b"".join(os.fsencode(p) + b"\n" for p in patterns))
        for path, is_dir in paths:
            full = Path(top, path)
            if is_dir:
                full.mkdir(parents=True, exist_ok=True)
            else:
                full.parent.mkdir(parents=True, exist_ok=True)
                full.write_bytes(b"")
        ran = subprocess.run(
            ["git", "check-ignore", "--no-index", "--stdin", "-z"],
            cwd=top,
            input=b"".join(os.fsencode(p) + b"\0" for p, _ in paths),
            capture_output=True,
            check=False,
        )
        assert ran.returncode in (0, 1), ran.stderr
        return {os.fsdecode(p) for p in ran.stdout.split(b"\0") if p}


def _consistent(paths: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """*paths* without the ones that cannot stand on disk beside the earlier ones (a file
    where a folder is, a path below a file), each once."""
    kinds: dict[str, bool] = {}
    out = []
    for path, is_dir in paths:
        names = path.split("/")
        above = ["/".join(names[:i]) for i in range(1, len(names))]
        if any(not kinds.get(a, True) for a in above) or kinds.get(path, is_dir) != is_dir:
            continue
        if not is_dir and any(k.startswith(path + "/") for k in kinds):
            continue
        if path in kinds:
            continue
        for a in above:
            kinds[a] = True
        kinds[path] = is_dir
        out.append((path, is_dir))
    return out


CASES = [  # a path ending in '/' is a folder
    (["/.venv/"], [".venv/", ".venv/lib/x.py", "a/.venv/", "v"]),
    (["node_modules/"], ["node_modules", "w/node_modules/", "w/node_modules/p"]),
    (["*.log", "build"], ["x.log", "a/b.log/", "a/b.log/c", "build", "a/build/x", "x.log.1"]),
    (["/dist", "a/b/"], ["dist", "q/dist", "a/b/", "a/b/c", "q/a/b/"]),
    (["a/*.txt", "tmp-?"], ["a/x.txt", "a/c/x.txt", "a/.txt", "tmp-1", "tmp-12"]),
    (["x/**", "*/"], ["x/", "x/f", "y/f", "y/", "f"]),
    (["?.txt", "/d?/"], ["é.txt", "a.txt", "dé/", "dé/x", "de/"]),
    (["*"], ["x\ny/b/f", "\nf"]),
    (["b"], ["x\ny/b/f", "x\ny/c"]),
]


@pytest.mark.parametrize(("patterns", "names"), CASES)
def test_the_matcher_answers_as_git(patterns: list[str], names: list[str]) -> None:
    paths = [(n.removesuffix("/"), n.endswith("/")) for n in names]
    ours = worktree.excluder(tuple(patterns))
    assert ours is not None
    got = {p for p, is_dir in paths if ours(os.fsencode(p), is_dir)}
    assert got == _git_ignored(patterns, paths)


@settings(max_examples=150)
@given(
    st.lists(_simple("ab.*?é"), min_size=1, max_size=3),
    st.lists(_paths("ab.*?é\n"), min_size=1, max_size=8),
)
def test_the_matcher_answers_as_git_for_generated_cases(
    patterns: list[str], paths: list[tuple[str, bool]]
) -> None:
    paths = _consistent(paths)
    ours = excludes.matcher(_lines(patterns))
    got = {p for p, is_dir in paths if ours(os.fsencode(p), is_dir)}
    assert got == _git_ignored(patterns, paths), (patterns, paths)
