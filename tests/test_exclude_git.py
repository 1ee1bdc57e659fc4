"""snapshot.exclude is matched exactly as git matches .gitignore lines: each case below is
checked against real ``git ls-files --others --ignored`` (the files git would ignore)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs

from git_snapshot import worktree
from git_snapshot.errors import UserError

FILES = [
    "a.log",
    "keep.log",
    "logs/x.log",
    "logs/keep.log",
    "logs/sub/deep.txt",
    "#notes",
    "sub/#notes",
    "file ",
    "file",
    "sub/file ",
    "build/out.o",
    "src/build/gen.c",
    "src/main.c",
    "docs/a.txt",
    "docs/sub/b.txt",
    "root.txt",
    "sub/root.txt",
    "a.c",
    "b.c",
    "xy.c",
    "foo/bar/baz.txt",
    "foo/baz.txt",
    "bar",
    "sub/bar/x",
    "node_modules/pkg/index.js",
    "sub/node_modules/m.js",
    "!important",
    "space dir/f.txt",
    ".env",
    ".env.example",
]

# One case per entry: the lines of snapshot.exclude (several for the '!' cases).
CASES = [
    ["*.log"],
    ["*.log", "!keep.log"],
    ["\\#notes"],
    ["file\\ "],
    ["build/"],
    ["/root.txt"],
    ["docs/*.txt"],
    ["docs/**/*.txt"],
    ["[ab].c"],
    ["[!a].c"],
    ["?.c"],
    ["**/node_modules"],
    ["foo/**/baz.txt"],
    ["logs/**", "!logs/keep.log"],
    ["\\!important"],
    [".env*", "!.env.example"],
    ["space dir/"],
    ["bar/"],
    ["src/", "!src/main.c"],  # no re-include below an excluded directory, as in git
]


def _tree(root: Path) -> None:
    for rel in FILES:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)


def _git_ignores(root: Path, lines: list[str]) -> set[str]:
    """What git ignores with *lines* as its only exclude rules."""
    rules = root.parent / f"rules-{abs(hash(tuple(lines)))}"
    rules.write_text("".join(line + "\n" for line in lines))
    out = git(root, "ls-files", "-z", "--others", "--ignored", f"--exclude-from={rules}").out
    return {p for p in out.split("\0") if p}


def _we_exclude(root: Path, lines: list[str]) -> set[str]:
    """What a snapshot leaves out, walking as the archiver does: an excluded directory is
    never entered."""
    exclude = worktree.excluder(tuple(lines))
    assert exclude is not None
    out = set()
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        prefix = "" if rel_dir == "." else rel_dir + "/"
        if prefix == "":
            dirs.remove(".git")
        for d in list(dirs):
            if exclude(os.fsencode(prefix + d), True):
                dirs.remove(d)
                out |= {f for f in FILES if f.startswith(prefix + d + "/")}
        out |= {prefix + f for f in files if exclude(os.fsencode(prefix + f), False)}
    return out


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exclude") / "wt"
    root.mkdir()
    git(root, "init", "-q")
    _tree(root)
    return root


@pytest.mark.parametrize("lines", CASES, ids=["|".join(c) for c in CASES])
def test_exclude_matches_git(tree: Path, lines: list[str]) -> None:
    expected = _git_ignores(tree, lines)
    assert expected, f"the case {lines} must exclude something"
    assert _we_exclude(tree, lines) == expected


def test_bad_pattern_is_a_user_error() -> None:
    assert worktree.excluder(("", "  ", "# a comment")) is None
    with pytest.raises(UserError, match=r"snapshot\.exclude"):
        worktree.excluder(("[z-a]",))


def test_snapshot_honours_negated_exclude(repo: Path) -> None:
    """End to end through git config: '!' brings a file back into the snapshot."""
    (repo / "a.log").write_text("a")
    (repo / "keep.log").write_text("k")
    git(repo, "config", "--add", "snapshot.exclude", "*.log")
    git(repo, "config", "--add", "snapshot.exclude", "!keep.log")
    gs(repo)
    paths = {e["path"] for e in json.loads(gs(repo, "show", "latest", "--json").out)["entries"]}
    assert "keep.log" in paths and "a.log" not in paths
