"""gitextra's lookups of many paths: git 2.39 matches every index or tree entry against every
pathspec, so past gitextra.PATHSPECS paths one listing of everything is asked and the
caller keeps what it wanted (a report of 5,000 edited files under `run -- git reset --hard`
spent 1.25 s in one ls-files). Each lookup gives the same answer both ways, on names git's
pathspecs treat specially, and asks git no pathspec at all past the limit."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git

from git_snapshot import gitextra
from git_snapshot import gitoverlay
from git_snapshot.commands import run
from git_snapshot.gitrepo import find_repo

NAMES = [
    b"a.txt",
    b"-x",
    b"--cached",
    b"*.txt",
    b":(glob)q",
    b"sp ace",
    b"tab\there",
    b"caf\xc3\xa9",
    b"raw\xff",
    b"d",
    b"d.txt",
    b"dd/x",
    b"dir/one",
    b"dir/sub/two",
    b"dir/sub/-three",
    b"dir2/x",
    b"exe",
    b"link",
]
# what callers ask: files, folders, a folder with a '/', names that are not there
ASKED = [*NAMES, b"dir", b"dir/", b"dir/sub", b"dir/su", b"missing", b"dir/nothing/", b"ex"]
ASKED += [b"dir/nested", b"dir/nested/n"]


@pytest.fixture
def many(tmp_path: Path) -> Path:
    root = tmp_path / "r"
    git(tmp_path, "init", "-q", str(root))
    for name in NAMES:
        path = os.path.join(os.fsencode(root), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if name == b"link":
            os.symlink(b"a.txt", path)
        else:
            with open(path, "wb") as f:
                f.write(name + b"\n")
    os.chmod(root / "exe", 0o755)
    git(root / "dir", "init", "-q", "nested")  # a gitlink: no blob of any version
    (root / "dir" / "nested" / "n").write_bytes(b"n\n")
    git(root / "dir" / "nested", "add", "n")
    git(root / "dir" / "nested", "commit", "-qm", "n")
    git(root, "-c", "advice.addEmbeddedRepo=false", "add", "-A")
    git(root, "commit", "-qm", "one")
    # the worktree and the index then differ from the commit here and there
    (root / "a.txt").write_bytes(b"edited\n")
    with open(os.path.join(os.fsencode(root), b"dir/sub/two"), "ab") as f:
        f.write(b"more\n")
    git(root, "add", "dir/sub/two")
    with open(os.path.join(os.fsencode(root), b"-x"), "ab") as f:
        f.write(b"unstaged\n")
    os.chmod(root / "d.txt", 0o755)
    return root


def _both(monkeypatch: pytest.MonkeyPatch, fn, *args):  # type: ignore[no-untyped-def]
    """fn's answer with pathspecs, and with one listing of everything (no pathspec)."""
    with monkeypatch.context() as m:
        m.setattr(gitextra, "PATHSPECS", 10_000)
        m.setattr(gitextra, "STATUS_PATHSPECS", 10_000)
        m.setattr(gitextra._pathspec_batches, "__defaults__", (10_000,))
        narrow = fn(*args)
    with monkeypatch.context() as m:
        m.setattr(gitextra, "PATHSPECS", 0)
        m.setattr(gitextra, "STATUS_PATHSPECS", 0)
        m.setattr(gitextra._pathspec_batches, "__defaults__", (0,))
        wide = fn(*args)
    return narrow, wide


def test_each_lookup_answers_the_same_both_ways(
    many: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = find_repo(str(many))
    head = git(many, "rev-parse", "HEAD").out.strip()
    cases: list[tuple[Any, ...]] = [
        (gitextra.index_paths, repo, ASKED),
        (gitextra.unstaged_paths, repo, ASKED),
        (gitextra.tree_entries, repo, head, ASKED),
        (gitextra._index_blobs, repo, ASKED),
        (gitextra.blob_ids, repo, [head, "HEAD", "nosuchrev"], ASKED),
        (gitextra._rev_blobs, repo, [head, "nosuchrev"], ASKED),
        (gitoverlay._index_entries, repo, ASKED),
        (run._held_in, repo, head, ASKED),
    ]
    for fn, *args in cases:
        narrow, wide = _both(monkeypatch, fn, *args)
        if isinstance(narrow, list):
            narrow, wide = sorted(narrow), sorted(wide)
        assert narrow == wide, fn.__name__
        assert narrow, fn.__name__  # (each finds something: the comparison is not empty)
    held = gitextra.tree_entries(repo, head, NAMES)
    wanted = {p: (oid, mode) for p, (mode, oid) in held.items()}
    wanted[b"d.txt"] = (wanted[b"d.txt"][0], 0o100755)  # a mode no version holds
    narrow, wide = _both(monkeypatch, gitextra.holds_with_mode, repo, [head], wanted)
    assert narrow == wide == set(wanted) - {b"d.txt"}


def test_at_or_below_is_gits_literal_pathspec() -> None:
    listed = [b"d", b"d.txt", b"dd/x", b"dir/one", b"dir/sub/two", b"dir2/x", b"dir/sub"]
    specs = [b"d", b"dir/", b"dir/su", b"dir/sub/two/", b""]
    assert gitextra._at_or_below(listed, specs) == [b"d", b"dir/one", b"dir/sub/two", b"dir/sub"]


def test_many_paths_ask_one_listing(many: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past PATHSPECS paths, every lookup runs git with no pathspec after '--'."""
    asked: list[tuple[str, ...]] = []
    real = gitextra.run_git  # type: ignore[attr-defined]

    def spy(cwd: str, *args: str, **kw):  # type: ignore[no-untyped-def]
        asked.append(args)
        return real(cwd, *args, **kw)

    monkeypatch.setattr(gitextra, "run_git", spy)
    repo = find_repo(str(many))
    paths = [b"f%03d" % i for i in range(gitextra.STATUS_PATHSPECS + 1)] + NAMES
    gitextra.index_paths(repo, paths)
    gitextra.unstaged_paths(repo, paths)
    gitextra.tree_entries(repo, "HEAD", paths)
    gitextra.blob_ids(repo, ["HEAD"], paths)
    assert asked and all(a[-1] == "--" for a in asked if "--" in a), asked
    assert not any("cat-file" in a for a in asked)
