"""Worktree snapshots (``git_snapshot.worktree``) with real git: what is left out and counted
(snapshot.exclude, CACHEDIR.TAG, FIFOs), how git's view labels entries, and linked worktrees
sharing one repository index."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from clihelpers import gs
from test_cli_helpers import query
from test_cli_helpers import snap_id
from test_cli_helpers import write

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.errors import UserError
from git_snapshot.store import Store

CACHEDIR_TAG = b"Signature: 8a477f597d28d172789f06886806bc55\n# a cache directory\n"


def _show(repo: Path, ref: str = "latest") -> dict[str, Any]:
    data: dict[str, Any] = query(repo, "show", ref)
    return data


def _paths(data: dict[str, Any]) -> set[str]:
    return {e["path"] for e in data["entries"]}


def test_snapshot_exclude_patterns_skip_and_count(repo: Path) -> None:
    git(repo, "config", "--add", "snapshot.exclude", "*.log")
    git(repo, "config", "--add", "snapshot.exclude", "build/")
    git(repo, "config", "--add", "snapshot.exclude", "/top-only.txt")
    write(repo / "a.log", "x")
    write(repo / "deep" / "b.log", "x")
    write(repo / "build" / "out.o", "x")
    write(repo / "src" / "build" / "out.o", "x")
    write(repo / "build.txt", "kept: 'build/' matches directories only")
    write(repo / "top-only.txt", "x")
    write(repo / "deep" / "top-only.txt", "kept: the pattern is anchored")
    write(repo / "keep.txt", "kept")

    gs(repo)
    data = _show(repo)
    paths = _paths(data)
    assert {"keep.txt", "build.txt", "deep/top-only.txt", "README"} <= paths
    assert not {"a.log", "deep/b.log", "build", "src/build", "top-only.txt"} & paths
    assert data["skipped"] == 5
    reasons = {p: why for p, why in data["skipped_paths"]}
    assert reasons == {
        "a.log": "excluded",
        "deep/b.log": "excluded",
        "build": "excluded",
        "src/build": "excluded",
        "top-only.txt": "excluded",
    }
    (snap,) = query(repo, "list")
    assert snap["skipped"] == 5

    r = gitrepo.find_repo(str(repo))
    assert worktree.settings(r).excludes == ("*.log", "build/", "/top-only.txt")


def test_cachedir_tag_skipped_by_default_and_kept_when_configured(repo: Path) -> None:
    write(repo / ".cache" / "CACHEDIR.TAG", CACHEDIR_TAG)
    write(repo / ".cache" / "blob", "cached")
    write(repo / "fake" / "CACHEDIR.TAG", "not the signature")
    write(repo / "fake" / "data", "kept")

    gs(repo)
    data = _show(repo)
    assert ".cache/blob" not in _paths(data) and "fake/data" in _paths(data)
    assert data["skipped"] == 1
    assert data["skipped_paths"] == [[".cache", "cache directory (CACHEDIR.TAG)"]]

    git(repo, "config", "snapshot.skipCacheDirs", "false")
    gs(repo)
    data = _show(repo)
    assert {".cache/blob", ".cache/CACHEDIR.TAG"} <= _paths(data)
    assert data["skipped"] == 0

    git(repo, "config", "snapshot.skipCacheDirs", "maybe")
    ran = gs(repo, rc=1)
    assert len(ran.err_lines) == 1 and "true or false" in ran.err


def test_fifo_skipped_and_counted_without_blocking(repo: Path) -> None:
    os.mkfifo(repo / "pipe")
    os.mkfifo(repo / "sub-pipe", 0o600)
    os.rename(repo / "sub-pipe", write(repo / "d" / "f.txt", "x").parent / "p")
    out = gs(repo).out
    assert "skipped: d/p (fifo), pipe (fifo)" in out  # (up to 3 named in the line, 9b255e6)
    data = _show(repo)
    assert sorted(map(tuple, data["skipped_paths"])) == [("d/p", "fifo"), ("pipe", "fifo")]
    assert "pipe" not in _paths(data) and "d/f.txt" in _paths(data)
    # no snapshot holds them, so not even a restore --delete removes them
    (repo / "d" / "f.txt").unlink()
    gs(repo, "restore", "1", "--delete")
    assert (repo / "d" / "f.txt").exists()
    assert stat.S_ISFIFO(os.lstat(repo / "pipe").st_mode)
    assert stat.S_ISFIFO(os.lstat(repo / "d" / "p").st_mode)


def test_linked_worktrees_share_ids_but_list_and_latest_their_own(
    repo: Path, tmp_path: Path
) -> None:
    wt = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "side", str(wt))
    write(repo / "main-only.txt", "main\n")
    write(wt / "linked-only.txt", "linked\n")

    assert snap_id(gs(repo)) == 1
    assert snap_id(gs(wt)) == 2
    assert snap_id(gs(repo)) == 3
    assert snap_id(gs(wt / "..", "-C", "linked")) == 4

    main_list = query(repo, "list")
    wt_list = query(wt, "list")
    assert [s["id"] for s in main_list] == [1, 3]
    assert [s["id"] for s in wt_list] == [2, 4]
    assert {s["worktree"] for s in wt_list} == {os.path.realpath(wt)}
    assert {s["branch"] for s in wt_list} == {"side"}
    all_ids = [s["id"] for s in query(repo, "list", "--all")]
    assert sorted(all_ids) == [1, 2, 3, 4]  # one repository in the store

    assert _show(repo)["id"] == 3 and "main-only.txt" in _paths(_show(repo))
    assert _show(wt)["id"] == 4 and "linked-only.txt" in _paths(_show(wt))
    assert "main-only.txt" not in _paths(_show(wt))
    # the linked worktree's .git file is not snapshotted, and survives a restore --delete
    assert ".git" not in _paths(_show(wt))
    (wt / "linked-only.txt").unlink()
    gs(wt, "restore", "latest", "--delete")
    assert (wt / "linked-only.txt").read_text() == "linked\n"
    assert not (wt / "main-only.txt").exists()
    assert git(wt, "rev-parse", "--abbrev-ref", "HEAD").strip() == "side"
    # a number names any snapshot of the repository, from either worktree
    assert _show(wt, "1")["worktree"] == os.path.realpath(repo)


def test_take_labels_and_meta(repo: Path) -> None:
    write(repo / ".gitignore", "ign/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore")
    write(repo / "ign" / "x", "i")
    write(repo / "u.txt", "u")
    r = gitrepo.find_repo(str(repo / "ign"))  # from a subdirectory: the whole worktree
    with Store() as store:
        res = worktree.take(store, r, trigger="manual", message="m")
        labels = {p: e.label for p, e in store.walk(res.snapshot.root)}
        again = worktree.take(store, r, trigger="post-merge", skip_if_unchanged=True)
    assert labels == {
        b".gitignore": worktree.TRACKED,
        b"README": worktree.TRACKED,
        b"ign": worktree.IGNORED,
        b"ign/x": worktree.IGNORED,
        b"u.txt": worktree.UNTRACKED,
    }
    snap = res.snapshot
    assert snap.meta["head"] == git(repo, "rev-parse", "HEAD").strip()
    assert snap.meta["branch"] == "main" and snap.meta["operation"] is None
    assert snap.worktree == os.path.realpath(repo)
    assert not again.new and again.snapshot.id == snap.id  # nothing changed: no new snapshot


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("*.log", [("a.log", False), ("d/e/a.log", False), ("x.log", True)], [("alog", False)]),
        ("build/", [("build", True), ("x/build", True)], [("build", False)]),
        ("/top", [("top", False)], [("d/top", False)]),
        ("a/*.c", [("a/x.c", False)], [("a/b/x.c", False), ("b/a/x.c", False)]),
        ("a/**/b", [("a/b", False), ("a/x/y/b", False)], [("ab", False)]),
        ("**/tmp", [("tmp", True), ("x/y/tmp", False)], [("tmpx", False)]),
        ("f?o", [("foo", False)], [("fo", False), ("f/o", False)]),
        ("[!a]x", [("bx", False)], [("ax", False), ("/x", False)]),
        ("[a!]x", [("ax", False), ("!x", False)], [("^x", False), ("bx", False)]),
        ("[]a]x", [("]x", False), ("ax", False)], [("bx", False)]),
        ("[a-c].txt", [("b.txt", False)], [("d.txt", False)]),
        ("[[&]x", [("[x", False), ("&x", False)], [("x", False)]),
    ],
)
def test_excluder_follows_gitignore_globs(
    pattern: str, matches: list[tuple[str, bool]], misses: list[tuple[str, bool]]
) -> None:
    exclude = worktree.excluder((pattern,))
    assert exclude is not None
    for path, is_dir in matches:
        assert exclude(os.fsencode(path), is_dir), (pattern, path)
    for path, is_dir in misses:
        assert not exclude(os.fsencode(path), is_dir), (pattern, path)


def test_excluder_ignores_blanks_and_comments_and_rejects_bad_patterns() -> None:
    assert worktree.excluder(("", "  ", "# a comment")) is None
    with pytest.raises(UserError, match=r"snapshot\.exclude"):
        worktree.excluder(("[z-a]",))


def test_bad_exclude_pattern_is_one_line_not_a_crash(repo: Path) -> None:
    git(repo, "config", "snapshot.exclude", "[z-a].txt")
    ran = gs(repo, rc=1)
    assert ran.err_lines == [ran.err.strip()] and "[z-a].txt" in ran.err


@pytest.mark.parametrize(
    ("within", "seconds"), [("14d", 14 * 86400), ("1d12h", 36 * 3600), ("2.weeks.ago", None)]
)
def test_keep_within_reads_units_and_gits_dates(
    repo: Path, within: str, seconds: int | None
) -> None:
    """snapshot.keepWithin: units read by worktree itself, git's date syntax through snapids
    (imported for that only); the policy's window either way."""
    git(repo, "config", "snapshot.keepWithin", within)
    cfg = worktree.settings(gitrepo.find_repo(str(repo)))
    before = time.time()
    got = cfg.policy().keep_within
    after = time.time()
    if seconds is not None:
        assert got == seconds
    else:  # (git's clock, in whole seconds, read during the call; see test_history)
        assert got is not None and 14 * 86400 <= got <= 14 * 86400 + (after - int(before))


def test_labels_digest_follows_gits_answers(repo: Path) -> None:
    """The digest the files cache keeps folders under (Options.rules) is made of git's two
    answers: the same in another process for the same answers, another one as soon as a label
    changes (git add; a new ignore rule), and the sets beside it are tracked() and ignored()."""
    write(repo / "new.txt", "n")
    write(repo / "junk.log", "j")
    write(repo / "build" / "out.o", "o")
    write(repo / ".gitignore", "build/\n")

    def labels() -> tuple[frozenset[bytes], frozenset[bytes], frozenset[bytes], str]:
        return gitrepo.labels(gitrepo.find_repo(str(repo)))

    tracked, files, dirs, digest = labels()
    r = gitrepo.find_repo(str(repo))
    assert tracked == gitrepo.tracked(r) and (files, dirs) == gitrepo.ignored(r)
    assert dirs == {b"build"} and b"new.txt" not in tracked
    code = "from git_snapshot import gitrepo; print(gitrepo.labels(gitrepo.find_repo('.'))[3])"
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == digest == labels()[3]  # hash randomisation plays no part
    git(repo, "add", "new.txt")
    added = labels()
    assert b"new.txt" in added[0] and added[3] != digest
    write(repo / ".gitignore", "build/\n*.log\n")
    ignored = labels()
    assert b"junk.log" in ignored[1] and ignored[3] not in (digest, added[3])
