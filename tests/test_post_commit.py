"""post-commit, "if enabled" (DESIGN): `git config snapshot.postCommit true` before `git
snapshot install` makes the post-commit hook ask for it; each commit is then followed by a
snapshot with trigger post-commit. Off by default: a commit runs no snapshot (the hook is
there for cherry-pick and revert: test_red44_cherry_pick), and `install` after the key is
turned off makes the hook stop asking."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import git
from clihelpers import gs


def triggers(repo: Path) -> list[str]:
    return [s["trigger"] for s in json.loads(gs(repo, "list", "--json").out)]


def commit(repo: Path, name: str) -> None:
    (repo / name).write_text(f"{name}\n")
    (repo / "scratch.log").write_text(f"not committed, {name}\n")
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", name)


def test_off_by_default(repo: Path) -> None:
    out = gs(repo, "install").out  # (installed for cherry-pick and revert: red44 F5)
    assert "post-commit: installed" in out
    commit(repo, "a.txt")
    assert "post-commit" not in triggers(repo)


def test_enabled_then_disabled(repo: Path) -> None:
    git(repo, "config", "snapshot.postCommit", "yes")  # any of git's booleans
    assert "post-commit: installed" in gs(repo, "install").out
    commit(repo, "a.txt")
    assert triggers(repo).count("post-commit") == 1
    [snap] = [
        s for s in json.loads(gs(repo, "list", "--json").out) if s["trigger"] == "post-commit"
    ]
    assert gs(repo, "cat", str(snap["id"]), "scratch.log").out == "not committed, a.txt\n"

    git(repo, "config", "snapshot.postCommit", "false")
    commit(repo, "b.txt")  # the shim asks git config first: no snapshot
    assert triggers(repo).count("post-commit") == 1
    out = gs(repo, "install").out  # the shim no longer asks git config (pc=)
    assert "post-commit: updated" in out
    commit(repo, "c.txt")
    assert triggers(repo).count("post-commit") == 1
    assert "post-commit: removed" in gs(repo, "uninstall").out
    assert not (repo / ".git" / "hooks" / "post-commit").exists()


def test_a_post_commit_hook_already_there_is_chained(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_text('#!/bin/sh\necho mine >> "$(git rev-parse --git-dir)/ran"\n')
    hook.chmod(0o755)
    git(repo, "config", "snapshot.postCommit", "true")
    gs(repo, "install")
    commit(repo, "a.txt")
    assert (repo / ".git" / "ran").read_text() == "mine\n"
    assert triggers(repo).count("post-commit") == 1
    gs(repo, "uninstall")
    assert hook.read_text().startswith("#!/bin/sh\necho mine")
