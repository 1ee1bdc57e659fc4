"""pre-commit knowledge: its patch of unstaged edits, its variables (precommit.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from git_snapshot import precommit


def test_hook_argv_from_pre_commit_variables() -> None:
    env = {
        "PRE_COMMIT": "1",
        "PRE_COMMIT_FROM_REF": "a" * 40,
        "PRE_COMMIT_TO_REF": "b" * 40,
        "PRE_COMMIT_CHECKOUT_TYPE": "0",
    }
    assert precommit.active(env)
    assert precommit.hook_argv("post-checkout", env) == ["a" * 40, "b" * 40, "0"]
    assert precommit.hook_argv("post-merge", {"PRE_COMMIT_IS_SQUASH_MERGE": "1"}) == ["1"]
    assert precommit.hook_argv("post-rewrite", {"PRE_COMMIT_REWRITE_COMMAND": "amend"}) == ["amend"]
    # pre-commit passes the pre-rebase arguments only when git gave both
    both = {"PRE_COMMIT_PRE_REBASE_UPSTREAM": "main", "PRE_COMMIT_PRE_REBASE_BRANCH": "topic"}
    assert precommit.hook_argv("pre-rebase", both) == ["main", "topic"]
    assert precommit.hook_argv("pre-rebase", {"PRE_COMMIT_PRE_REBASE_UPSTREAM": "main"}) == []
    assert precommit.hook_argv("pre-merge-commit", env) == []
    assert precommit.own_checkout({"_PRE_COMMIT_SKIP_POST_CHECKOUT": "1"})
    assert not precommit.own_checkout({})


_CHILD = "from git_snapshot import precommit; print(precommit.patch())"


def _child(env: dict[str, str], shell: bool = False) -> str:
    cmd = [sys.executable, "-c", _CHILD]
    if shell:  # a grandchild: the test process is its grandparent
        cmd = ["sh", "-c", f'"{sys.executable}" -c "{_CHILD}"; true']
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return res.stdout.strip()


def test_precommit_patch_off_without_pre_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    home = tmp_path / "pch"
    home.mkdir()
    (home / f"patch{int(time.time())}-{os.getppid()}").write_bytes(b"x")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(home))
    assert precommit.patch() is None


def test_precommit_patch_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRE_COMMIT_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert precommit.patch_dir() == os.path.realpath(tmp_path / "xdg" / "pre-commit")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert precommit.patch_dir() == os.path.realpath(
        os.path.join(os.environ["HOME"], ".cache", "pre-commit")
    )
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pch"))
    assert precommit.patch_dir() == os.path.realpath(tmp_path / "pch")


def test_precommit_patch_found_by_parent_pid(tmp_path: Path) -> None:
    """The test process plays pre-commit: the child must find the patch named after it."""
    home = tmp_path / "pch"
    home.mkdir()
    now = int(time.time())
    me = os.getpid()
    (home / f"patch{now - 3}-{me}").write_bytes(b"older, same process")
    mine = home / f"patch{now}-{me}"
    mine.write_bytes(b"x")
    (home / f"patch{now + 1}-{me + 100000}").write_bytes(b"another pre-commit")
    (home / "README").write_text("pre-commit store")
    env = dict(os.environ, PRE_COMMIT="1", PRE_COMMIT_HOME=str(home))
    assert _child(env) == str(mine)
    assert _child(env, shell=True) == str(mine)  # found from a grandchild too
    assert _child(dict(env, PRE_COMMIT="")) == "None"


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_precommit_patch_ignores_unrelated_and_stale(tmp_path: Path) -> None:
    home = tmp_path / "pch"
    home.mkdir()
    now = int(time.time())
    # Another live process's recent patch (a concurrent pre-commit elsewhere) is not ours,
    # and a patch named after our pid but older than this process is from a reused pid.
    (home / f"patch{now}-1").write_bytes(b"x")
    (home / f"patch{now - 10**6}-{os.getpid()}").write_bytes(b"x")
    env = dict(os.environ, PRE_COMMIT="1", PRE_COMMIT_HOME=str(home))
    assert _child(env) == "None"
