"""gitrepo against real git in temporary repositories (and real pre-commit, marked slow)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from clihelpers import git
from conftest import init_repo

from git_snapshot import gitrepo
from git_snapshot.errors import UserError
from git_snapshot.gitrepo import GitError
from git_snapshot.gitrepo import Overlay
from git_snapshot.gitrepo import Repo

CAFE = b"caf\xe9.txt"  # not UTF-8
NEWLINE = b"new\nline.txt"


def gitb(cwd: Path | str, *args: str | bytes, input: bytes | None = None) -> bytes:
    """Real git with bytes in and out (for names that are not UTF-8)."""
    res = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=False)
    if res.returncode != 0:
        raise AssertionError(f"git {args!r} failed ({res.returncode}): {res.stderr!r}")
    return res.stdout


def write(root: Path, rel: bytes | str, data: bytes = b"x\n", mode: int | None = None) -> None:
    path = os.path.join(os.fsencode(root), os.fsencode(rel))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)


def read(root: Path | str, rel: bytes | str) -> bytes:
    with open(os.path.join(os.fsencode(root), os.fsencode(rel)), "rb") as f:
        return f.read()


def commit_all(repo: Path, msg: str = "c") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", msg)
    return git(repo, "rev-parse", "HEAD").strip()


# ------------------------------------------------------------------------------------------
# run_git


def test_run_git_returns_stdout_and_raises_git_error(repo: Path) -> None:
    assert gitrepo.run_git(str(repo), "rev-parse", "--is-inside-work-tree") == b"true\n"
    with pytest.raises(GitError) as exc:
        gitrepo.run_git(str(repo), "rev-parse", "--verify", "no-such-ref")
    msg = str(exc.value)
    assert isinstance(exc.value, UserError)
    assert "git rev-parse --verify no-such-ref" in msg
    assert "fatal: Needed a single revision" in msg
    assert "\n" not in msg
    assert gitrepo.run_git(str(repo), "rev-parse", "--verify", "x", check=False) == b""


def test_run_git_ignores_hook_environment(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = init_repo(tmp_path / "other")
    write(other, "other-only.txt")
    git(other, "add", "-A")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/index")  # relative, as in pre-merge-commit
    monkeypatch.setenv("GIT_COMMON_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(other / ".git" / "objects"))
    monkeypatch.setenv("GIT_PREFIX", "sub/")
    sub = repo / "sub"
    sub.mkdir()
    r = gitrepo.find_repo(str(sub))
    assert r.toplevel == os.path.realpath(repo)
    assert r.common_dir == os.path.realpath(repo / ".git")
    assert gitrepo.tracked(r) == {b"README"}
    assert gitrepo.head(r) is not None
    assert gitrepo.changed_paths(r, None, "HEAD") == [b"README"]


def test_git_sees_the_current_environment_less_the_repository_variables(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment git gets is os.environ as it is now (taken from its bytes, no copy
    kept), without the variables that point git elsewhere, with the two git-snapshot adds."""
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")  # set after import: seen all the same
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "alias.showenv")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "!env")
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/other-index")
    monkeypatch.setenv("GS_TEST_VALUE", "caf\u00e9 \udcff")  # not UTF-8: passed as bytes
    monkeypatch.delenv("GIT_TERMINAL_PROMPT", raising=False)
    out = gitrepo.run_git(str(repo), "showenv").split(b"\n")
    assert b"GIT_OPTIONAL_LOCKS=0" in out and b"GIT_TERMINAL_PROMPT=0" in out
    assert "GS_TEST_VALUE=caf\u00e9 \udcff".encode("utf-8", "surrogateescape") in out
    assert not [line for line in out if line.startswith(b"GIT_INDEX_FILE=")]


# ------------------------------------------------------------------------------------------
# find_repo


def test_find_repo_from_subdirectory(repo: Path) -> None:
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    r = gitrepo.find_repo(str(deep))
    real = os.path.realpath(repo)
    assert r == Repo(real, os.path.join(real, ".git"), os.path.join(real, ".git"))
    assert os.path.isabs(r.git_dir)


def test_find_repo_default_is_cwd(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    assert gitrepo.find_repo().toplevel == os.path.realpath(repo)


def test_find_repo_through_a_symlink_gives_real_paths(repo: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(repo)
    r = gitrepo.find_repo(str(link))
    assert r.toplevel == os.path.realpath(repo)
    assert r.common_dir == os.path.realpath(repo / ".git")


def test_find_repo_linked_worktree(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "side")
    (wt / "sub").mkdir()
    main = gitrepo.find_repo(str(repo))
    linked = gitrepo.find_repo(str(wt / "sub"))
    assert linked.common_dir == main.common_dir
    assert linked.toplevel == os.path.realpath(wt)
    assert linked.toplevel != main.toplevel
    assert linked.git_dir == os.path.join(main.common_dir, "worktrees", "wt")
    assert gitrepo.branch(linked) == "side"
    assert gitrepo.branch(main) == "main"


def test_find_repo_hostile_env_inside_worktree_add_hook(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hooks fired by `worktree add` get GIT_DIR=<main>/.git/worktrees/X and GIT_WORK_TREE=."""
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt))
    monkeypatch.setenv("GIT_DIR", str(repo / ".git" / "worktrees" / "wt"))
    monkeypatch.setenv("GIT_WORK_TREE", ".")
    monkeypatch.chdir(repo)
    r = gitrepo.find_repo(str(repo))
    assert r.git_dir == os.path.realpath(repo / ".git")
    assert r.toplevel == os.path.realpath(repo)


def test_not_a_repo_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(UserError) as exc:
        gitrepo.find_repo(str(plain))
    assert not isinstance(exc.value, GitError)
    assert str(exc.value) == (
        f"not a git repository: {plain} (run inside a worktree or pass -C PATH)"
    )
    with pytest.raises(UserError, match="no such directory"):
        gitrepo.find_repo(str(tmp_path / "missing"))


def test_bare_repo_and_git_dir_are_refused(repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    with pytest.raises(UserError, match="bare repository"):
        gitrepo.find_repo(str(bare))
    with pytest.raises(UserError, match="inside a git directory"):
        gitrepo.find_repo(str(repo / ".git"))


# ------------------------------------------------------------------------------------------
# head, branch, operation


def test_head_and_branch_unborn(tmp_path: Path) -> None:
    r0 = init_repo(tmp_path / "fresh")
    r = gitrepo.find_repo(str(r0))
    assert gitrepo.head(r) is None
    assert gitrepo.branch(r) == "main"


def test_head_and_branch_normal_packed_and_detached(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo))
    first = git(repo, "rev-parse", "HEAD").strip()
    assert gitrepo.head(r) == first
    assert gitrepo.branch(r) == "main"
    git(repo, "checkout", "-q", "-b", "feature/x")
    write(repo, "f")
    second = commit_all(repo)
    assert gitrepo.head(r) == second
    assert gitrepo.branch(r) == "feature/x"
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "feature" / "x").exists()
    assert gitrepo.head(r) == second
    git(repo, "checkout", "-q", "--detach", first)
    assert gitrepo.head(r) == first
    assert gitrepo.branch(r) is None


def test_head_falls_back_to_git_for_unusual_head(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo))
    sha = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "update-ref", "refs/remotes/x", sha)
    git(repo, "symbolic-ref", "HEAD", "refs/remotes/x")  # not under refs/heads
    assert gitrepo.head(r) == sha
    assert gitrepo.branch(r) is None


def _diverge(repo: Path) -> None:
    """main and 'other' both change README differently."""
    git(repo, "checkout", "-q", "-b", "other")
    write(repo, "README", b"other\n")
    commit_all(repo, "other")
    git(repo, "checkout", "-q", "main")
    write(repo, "README", b"main\n")
    commit_all(repo, "main")


def test_operation_none_and_conflicted_merge(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo))
    assert gitrepo.operation(r) is None
    _diverge(repo)
    git(repo, "merge", "other", rc=None)
    assert gitrepo.operation(r) == "merge"
    assert gitrepo.tracked(r) == {b"README"}  # three unmerged stages, one path
    git(repo, "merge", "--abort")
    assert gitrepo.operation(r) is None


def test_operation_stopped_rebase_cherry_pick_revert_bisect(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo))
    _diverge(repo)
    git(repo, "rebase", "other", rc=None)
    assert gitrepo.operation(r) == "rebase"
    git(repo, "rebase", "--abort")
    git(repo, "rebase", "--apply", "other", rc=None)
    assert gitrepo.operation(r) == "rebase"
    git(repo, "rebase", "--abort")
    git(repo, "cherry-pick", "other", rc=None)
    assert gitrepo.operation(r) == "cherry-pick"
    git(repo, "cherry-pick", "--abort")
    write(repo, "README", b"third\n")
    commit_all(repo)
    git(repo, "revert", "--no-edit", "HEAD~1", rc=None)
    assert gitrepo.operation(r) == "revert"
    git(repo, "revert", "--abort")
    assert gitrepo.operation(r) is None
    git(repo, "format-patch", "-1", "other", "-o", str(repo.parent / "mbox"))
    (mbox,) = (repo.parent / "mbox").iterdir()
    git(repo, "am", str(mbox), rc=None)
    assert gitrepo.operation(r) == "am"
    git(repo, "am", "--abort")
    git(repo, "bisect", "start")
    assert gitrepo.operation(r) == "bisect"
    git(repo, "bisect", "reset")
    assert gitrepo.operation(r) is None


def test_operation_is_per_worktree(repo: Path, tmp_path: Path) -> None:
    _diverge(repo)
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "--detach", str(wt), "main")
    git(repo, "merge", "other", rc=None)
    assert gitrepo.operation(gitrepo.find_repo(str(repo))) == "merge"
    assert gitrepo.operation(gitrepo.find_repo(str(wt))) is None


# ------------------------------------------------------------------------------------------
# tracked / ignored


def test_tracked_and_ignored_classification(repo: Path) -> None:
    write(repo, ".gitignore", b"build/\n*.log\n")
    write(repo, CAFE, b"cafe\n")
    write(repo, NEWLINE, b"nl\n")
    write(repo, "src/main.c")
    git(repo, "add", "-A")
    sha = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},vendor/lib")  # gitlink
    git(repo, "commit", "-q", "-m", "files")
    write(repo, "build/out.o")  # ignored directory
    write(repo, "build/deep/more.o")
    write(repo, "src/deep/trace.log")  # nested ignored file beside untracked stuff
    write(repo, "src/deep/notes.txt")  # untracked, not ignored
    write(repo, b"ign\xe9.log")  # ignored, not UTF-8
    write(repo, b"odd\nname.log")  # ignored, with a newline
    write(repo, "untracked.txt")
    r = gitrepo.find_repo(str(repo))
    assert gitrepo.tracked(r) == {
        b".gitignore",
        b"README",
        CAFE,
        NEWLINE,
        b"src/main.c",
        b"vendor/lib",
    }
    files, dirs = gitrepo.ignored(r)
    assert dirs == {b"build"}
    assert files == {b"src/deep/trace.log", b"ign\xe9.log", b"odd\nname.log"}


def test_ignored_empty(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo))
    assert gitrepo.ignored(r) == (frozenset(), frozenset())


# ------------------------------------------------------------------------------------------
# config


def test_config_multiple_values_and_none(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo))
    assert gitrepo.config(r) == {}
    git(repo, "config", "--add", "snapshot.exclude", "*.iso")
    git(repo, "config", "--add", "snapshot.exclude", "node_modules/ with space")
    git(repo, "config", "snapshot.keepLast", "20")
    git(repo, "config", "other.key", "no")
    with open(repo / ".git" / "config", "a") as f:
        f.write('[snapshot]\n\tflag\n\tmultiline = "a\\nb"\n')
    assert gitrepo.config(r) == {
        "snapshot.exclude": ["*.iso", "node_modules/ with space"],
        "snapshot.keeplast": ["20"],
        "snapshot.flag": ["true"],
        "snapshot.multiline": ["a\nb"],
    }


def test_config_respects_precedence_order(repo: Path) -> None:
    gitconfig = os.environ["GIT_CONFIG_GLOBAL"]
    with open(gitconfig, "a") as f:
        f.write("[snapshot]\n\tkeepLast = 5\n")
    git(repo, "config", "snapshot.keepLast", "9")
    r = gitrepo.find_repo(str(repo))
    assert gitrepo.config(r)["snapshot.keeplast"] == ["5", "9"]  # last one wins


# ------------------------------------------------------------------------------------------
# changed_paths / tree_entries


def test_changed_paths(repo: Path) -> None:
    write(repo, "keep.txt")
    write(repo, "mod.txt", b"1\n")
    write(repo, "gone.txt")
    write(repo, "run.sh", b"#!/bin/sh\n")
    old = commit_all(repo)
    write(repo, "mod.txt", b"2\n")
    os.unlink(repo / "gone.txt")
    os.chmod(repo / "run.sh", 0o755)
    write(repo, "dir/new.txt")
    write(repo, CAFE)
    new = commit_all(repo)
    r = gitrepo.find_repo(str(repo))
    assert sorted(gitrepo.changed_paths(r, old, new)) == sorted(
        [b"mod.txt", b"gone.txt", b"run.sh", b"dir/new.txt", CAFE]
    )
    everything = {b"README", b"keep.txt", b"mod.txt", b"run.sh", b"dir/new.txt", CAFE}
    assert set(gitrepo.changed_paths(r, None, new)) == everything
    assert set(gitrepo.changed_paths(r, "0" * 40, new)) == everything
    assert gitrepo.changed_paths(r, new, new) == []
    with pytest.raises(UserError, match="invalid revision"):
        gitrepo.changed_paths(r, "--output=/tmp/x", new)


def test_tree_entries(repo: Path) -> None:
    write(repo, "plain.txt", b"p\n")
    write(repo, "tool", b"#!/bin/sh\n", mode=0o755)
    os.symlink("plain.txt", repo / "link")
    write(repo, "d/inner.txt")
    write(repo, "*", b"star\n")
    write(repo, CAFE)
    rev = commit_all(repo)
    r = gitrepo.find_repo(str(repo))

    def oid(p: str) -> str:
        return git(repo, "rev-parse", f"{rev}:{p}").strip()

    got = gitrepo.tree_entries(r, rev, [b"plain.txt", b"tool", b"link", b"d", b"missing", CAFE])
    assert got == {
        b"plain.txt": (0o100644, oid("plain.txt")),
        b"tool": (0o100755, oid("tool")),
        b"link": (0o120000, oid("link")),
        CAFE: (0o100644, gitb(repo, "rev-parse", b"HEAD:" + CAFE).decode().strip()),
    }
    # Pathspec magic is not interpreted: '*' is only the file named '*'.
    assert set(gitrepo.tree_entries(r, rev, [b"*"])) == {b"*"}
    assert gitrepo.tree_entries(r, rev, [b":(glob)**"]) == {}
    assert gitrepo.tree_entries(r, rev, []) == {}


# ------------------------------------------------------------------------------------------
# hooks_dir


def test_hooks_dir(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt))
    main = gitrepo.find_repo(str(repo))
    linked = gitrepo.find_repo(str(wt))
    hooks = os.path.join(os.path.realpath(repo), ".git", "hooks")
    assert main.hooks_dir() == hooks
    assert linked.hooks_dir() == hooks  # hooks are shared by linked worktrees
    git(repo, "config", "core.hooksPath", "myhooks")
    assert main.hooks_dir() == os.path.join(main.toplevel, "myhooks")
    assert linked.hooks_dir() == os.path.join(linked.toplevel, "myhooks")
    absolute = tmp_path / "abs-hooks"
    git(repo, "config", "core.hooksPath", str(absolute))
    assert main.hooks_dir() == str(absolute)
    git(repo, "config", "core.hooksPath", "~/h")
    assert main.hooks_dir() == os.path.join(os.environ["HOME"], "h")


# ------------------------------------------------------------------------------------------
# overlays


def _tree_state(root: Path | str, paths: list[bytes]) -> dict[bytes, tuple[str, bytes, bool]]:
    """path -> (kind, content or link target, executable) for what exists under root."""
    out: dict[bytes, tuple[str, bytes, bool]] = {}
    for p in paths:
        full = os.path.join(os.fsencode(root), p)
        if not os.path.lexists(full):
            continue
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            out[p] = ("link", os.readlink(full), False)
        else:
            out[p] = ("file", read(root, p), bool(st.st_mode & 0o100))
    return out


def _dirty_worktree(repo: Path) -> list[bytes]:
    """Make every kind of change to tracked files; return the paths involved."""
    write(repo, "mod.txt", b"one\ntwo\n")
    write(repo, "gone.txt", b"bye\n")
    write(repo, "script.sh", b"#!/bin/sh\necho hi\n", mode=0o644)
    write(repo, "data.bin", bytes(range(256)) * 8)
    write(repo, CAFE, b"caf\xc3\xa9\n")
    os.symlink("mod.txt", repo / "link")
    commit_all(repo, "base")
    write(repo, "mod.txt", b"one\nTWO changed\nthree\n")  # modified
    os.unlink(repo / "gone.txt")  # deleted
    os.chmod(repo / "script.sh", 0o755)  # exec bit only
    write(repo, "data.bin", b"\x00\x01binary\xff" * 100)  # binary change
    write(repo, CAFE, b"caf\xc3\xa9 edited\n")  # non-UTF-8 name
    os.unlink(repo / "link")
    os.symlink("script.sh", repo / "link")  # symlink retargeted
    return [b"mod.txt", b"gone.txt", b"script.sh", b"data.bin", CAFE, b"link", b"README"]


def test_overlay_from_stash_reproduces_worktree(repo: Path, tmp_path: Path) -> None:
    paths = [*_dirty_worktree(repo), b"staged-new.txt"]
    write(repo, "staged-new.txt", b"brand new\n")
    git(repo, "add", "staged-new.txt")  # staged new file
    expected = _tree_state(repo, paths)
    stash = git(repo, "stash", "create").strip()
    assert stash
    git(repo, "reset", "-q", "--hard")  # what the autostash does to the worktree
    assert _tree_state(repo, paths) != expected
    r = gitrepo.find_repo(str(repo))
    dest = tmp_path / "overlay"
    ov = gitrepo.overlay_from_stash(r, stash, str(dest))
    assert isinstance(ov, Overlay)
    assert ov.root == str(dest)
    assert ov.deleted == {b"gone.txt"}
    assert ov.files == {b"mod.txt", b"script.sh", b"data.bin", CAFE, b"link", b"staged-new.txt"}
    got = _tree_state(dest, paths)
    want = {p: v for p, v in expected.items() if p in ov.files}
    assert got == want


def test_autostash_of_a_stopped_rebase(repo: Path, tmp_path: Path) -> None:
    write(repo, "dirty.txt", b"base\n")
    commit_all(repo)
    _diverge(repo)
    write(repo, "dirty.txt", b"uncommitted edit\n")
    r = gitrepo.find_repo(str(repo))
    assert gitrepo.autostash_commit(r) is None
    git(repo, "rebase", "--autostash", "other", rc=None)  # stops on README
    assert gitrepo.operation(r) == "rebase"
    assert read(repo, "dirty.txt") == b"base\n"  # the edit went into the autostash
    stash = gitrepo.autostash_commit(r)
    assert stash is not None
    ov = gitrepo.overlay_from_stash(r, stash, str(tmp_path / "ov"))
    assert ov.files == {b"dirty.txt"}
    assert read(ov.root, "dirty.txt") == b"uncommitted edit\n"
    git(repo, "rebase", "--abort")
    assert gitrepo.autostash_commit(r) is None


def test_autostash_of_a_conflicted_merge(repo: Path) -> None:
    _diverge(repo)
    write(repo, "dirty.txt", b"base\n")
    commit_all(repo)
    write(repo, "dirty.txt", b"edit\n")
    git(repo, "merge", "--autostash", "other", rc=None)
    r = gitrepo.find_repo(str(repo))
    stash = gitrepo.autostash_commit(r)
    assert stash is not None
    assert stash == (repo / ".git" / "MERGE_AUTOSTASH").read_text().strip()


def _precommit_style_patch(repo: Path, patch: Path) -> None:
    """Exactly what pre-commit's staged_files_only() does before running hooks."""
    tree = git(repo, "write-tree").strip()
    res = subprocess.run(
        [
            "git",
            "diff-index",
            "--ignore-submodules",
            "--binary",
            "--exit-code",
            "--no-color",
            "--no-ext-diff",
            tree,
            "--",
        ],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    assert res.returncode == 1 and res.stdout
    patch.write_bytes(res.stdout)
    git(repo, "-c", "submodule.recurse=0", "checkout", "--", ".")


def test_overlay_from_patch_reproduces_user_edits(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _dirty_worktree(repo)
    write(repo, NEWLINE, b"staged\n")
    git(repo, "add", "-A", "--", os.fsdecode(NEWLINE))
    write(repo, NEWLINE, b"staged then edited\n")  # staged and unstaged edits
    paths.append(NEWLINE)
    expected = _tree_state(repo, paths)
    patch = tmp_path / "patch1700000000-1"
    _precommit_style_patch(repo, patch)
    assert _tree_state(repo, paths) != expected
    assert read(repo, NEWLINE) == b"staged\n"
    # dest inside the repository, and an environment pointing git at it: git apply must not care.
    dest = repo / ".cache" / "overlay"
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(repo))
    monkeypatch.chdir(repo)
    r = gitrepo.find_repo(str(repo))
    before = git(repo, "status", "--porcelain", "--untracked-files=no")
    ov = gitrepo.overlay_from_patch(r, str(patch), str(dest))
    assert ov.root == os.path.realpath(dest)
    assert ov.deleted == {b"gone.txt"}
    assert ov.files == {b"mod.txt", b"script.sh", b"data.bin", CAFE, b"link", NEWLINE}
    got = _tree_state(dest, paths)
    assert got == {p: v for p, v in expected.items() if p in ov.files}
    # Neither the worktree nor the index was touched.
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == before
    assert read(repo, "mod.txt") == b"one\ntwo\n"


def test_overlay_from_patch_applies_to_index_version_not_worktree(
    repo: Path, tmp_path: Path
) -> None:
    """A hook that ran earlier (a formatter) may have changed the file on disk."""
    write(repo, "a.txt", b"1\n2\n3\n")
    commit_all(repo)
    write(repo, "a.txt", b"1\nTWO\n3\n")
    patch = tmp_path / "p"
    _precommit_style_patch(repo, patch)
    write(repo, "a.txt", b"reformatted\n")
    ov = gitrepo.overlay_from_patch(gitrepo.find_repo(str(repo)), str(patch), str(tmp_path / "d"))
    assert read(ov.root, "a.txt") == b"1\nTWO\n3\n"


def test_overlay_from_patch_bad_patch_names_what_the_snapshot_lacks(
    repo: Path, tmp_path: Path
) -> None:
    patch = tmp_path / "p"
    patch.write_bytes(
        b"diff --git a/README b/README\n--- a/README\n+++ b/README\n"
        b"@@ -1 +1 @@\n-not the content\n+x\n"
    )
    r = gitrepo.find_repo(str(repo))
    lacks = rf"lacks your unstaged edits to README: .* in {re.escape(str(patch))} .*README:1"
    with pytest.raises(UserError, match=lacks):
        gitrepo.overlay_from_patch(r, str(patch), str(tmp_path / "d"))
    with pytest.raises(UserError, match="is a git worktree"):
        gitrepo.overlay_from_patch(r, str(patch), str(repo))


# ------------------------------------------------------------------------------------------
# the real pre-commit framework

_HOOK = textwrap.dedent(
    """\
    #!{python}
    import json, os, sys
    from git_snapshot import gitrepo, precommit

    repo = gitrepo.find_repo(".")
    patch = precommit.patch()
    result = {{
        "ppid": os.getppid(),
        "patch": patch,
        "listing": sorted(os.listdir(precommit.patch_dir())),
        "worktree": open("dirty.txt").read(),
    }}
    if patch:
        ov = gitrepo.overlay_from_patch(repo, patch, os.environ["OVERLAY_DEST"])
        result["files"] = sorted(p.decode() for p in ov.files)
        result["deleted"] = sorted(p.decode() for p in ov.deleted)
        result["dirty"] = open(os.path.join(ov.root, "dirty.txt")).read()
    with open(os.environ["HOOK_OUT"], "a") as f:
        f.write(json.dumps(result) + "\\n")
    """
)


@pytest.mark.slow
def test_real_pre_commit_patch_is_found_from_the_hook(repo: Path, tmp_path: Path) -> None:
    pre_commit = Path(sys.executable).parent / "pre-commit"
    if not pre_commit.exists():
        pytest.skip("pre-commit is not installed in this environment")
    hook = repo / "snap_hook.py"
    hook.write_text(_HOOK.format(python=sys.executable))
    hook.chmod(0o755)
    (repo / ".pre-commit-config.yaml").write_text(
        textwrap.dedent(
            """\
            repos:
            - repo: local
              hooks:
              - id: snap
                name: snap
                entry: ./snap_hook.py
                language: system
                always_run: true
                pass_filenames: false
                stages: [post-checkout]
            """
        )
    )
    write(repo, "dirty.txt", b"committed\n")
    write(repo, "doomed.txt", b"will be deleted\n")
    commit_all(repo, "config")
    pch = tmp_path / "pre-commit-home"
    env = dict(os.environ, PRE_COMMIT_HOME=str(pch), HOOK_OUT=str(tmp_path / "out.jsonl"))
    env["OVERLAY_DEST"] = str(tmp_path / "overlay")
    env["PATH"] = f"{pre_commit.parent}{os.pathsep}{env['PATH']}"
    subprocess.run(
        [str(pre_commit), "install", "--hook-type", "post-checkout"],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )
    write(repo, "dirty.txt", b"uncommitted edit\n")
    os.unlink(repo / "doomed.txt")
    res = subprocess.run(
        ["git", "checkout", "-b", "x"], cwd=repo, env=env, capture_output=True, check=False
    )
    assert res.returncode == 0, res.stderr
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 1
    got = json.loads(lines[0])
    # pre-commit took the edit out of the worktree while the hook ran ...
    assert got["worktree"] == "committed\n"
    # ... and the patch it saved is named after the hook's parent, the pre-commit process.
    patches = [n for n in got["listing"] if n.startswith("patch")]
    assert len(patches) == 1
    assert patches[0].endswith(f"-{got['ppid']}")
    assert got["patch"] == os.path.join(os.path.realpath(pch), patches[0])
    assert got["files"] == ["dirty.txt"]
    assert got["deleted"] == ["doomed.txt"]
    assert got["dirty"] == "uncommitted edit\n"
    # pre-commit put the edits back afterwards.
    assert read(repo, "dirty.txt") == b"uncommitted edit\n"
    assert not (repo / "doomed.txt").exists()
    shutil.rmtree(tmp_path / "overlay")
