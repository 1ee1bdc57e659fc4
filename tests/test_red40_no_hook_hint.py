"""The hint for a loss no report names lists the commands git runs no hook for: `git restore
FILE` fires post-checkout (git 2.39: its discard is reported), `git restore -p` fires none
(README's table); the hint said plain `restore` (RED40 A, a note)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from clihelpers import git
from clihelpers import gs


def test_the_no_hook_hint_names_restore_p(repo: Path) -> None:
    gs(repo, "-m", "x")
    ran = gs(repo, "undo", rc=None)
    assert "reset --hard, clean, restore -p, stash, stash drop" in ran.err, ran.err


def test_git_restore_of_a_file_fires_post_checkout(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "post-checkout"
    hook.write_text("#!/bin/sh\necho fired >&2\n")
    hook.chmod(0o755)
    (repo / "f").write_bytes(b"a\n")
    git(repo, "add", "f")
    git(repo, "commit", "-qm", "f")
    (repo / "f").write_bytes(b"b\n")
    assert "fired" in git(repo, "restore", "f").err
    (repo / "f").write_bytes(b"c\n")
    res = subprocess.run(
        ["git", "restore", "-p", "f"], cwd=repo, input=b"y\n", capture_output=True, check=True
    )
    assert b"fired" not in res.stderr and (repo / "f").read_bytes() == b"a\n"
