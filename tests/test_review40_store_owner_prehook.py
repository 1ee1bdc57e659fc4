"""Review 40 (RC1) of RED40 C1 finding 4: a hook lets git go on when root's store check says
the store is another user's (root in a user's store: no process of root's can use it). But
the store of the user themself with a part another user owns (a `sudo git ...` left root's
pack folder: RED30) is fixed by the `sudo chown -R` the line gives; there a pre-hook that
cannot snapshot must still stop the git command, as the README says ("every command and
hook stops"), or the rebase destroys what no snapshot holds. 82487c0 let it go on.

The suite runs as root: the user is root without the two capabilities that bypass file
permissions (setpriv), as in tests/test_red30_store_owner.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from hookhelpers import head
from hookhelpers import install
from hookhelpers import put_venv_on_path

AS_A_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
NOBODY = 65534

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root (to give a part of the store to another user) and setpriv",
)


def test_a_pre_hook_stops_git_when_a_part_of_the_users_store_is_another_users(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    install(repo)
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "s.txt").write_text("side\n")
    git(repo, "add", "s.txt")
    git(repo, "commit", "-q", "-m", "side")
    git(repo, "checkout", "-q", "main")
    (repo / "m.txt").write_text("main\n")
    git(repo, "add", "m.txt")
    git(repo, "commit", "-q", "-m", "main")
    git(repo, "checkout", "-q", "side")
    before = json.loads(gs(repo, "list", "--json").out)
    side = head(repo)
    packs = store_dir / "packs"
    for p in [packs, *packs.iterdir()]:
        os.chown(p, NOBODY, -1, follow_symlinks=False)
    try:
        ran = subprocess.run(
            [*AS_A_USER, "git", "rebase", "-q", "main"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        assert ran.returncode != 0, ran.stderr  # pre-rebase: no snapshot, so no rebase
        assert "so git stopped it" in ran.stderr, ran.stderr
        assert "belongs to nobody" in ran.stderr and "sudo chown -R" in ran.stderr, ran.stderr
        assert head(repo) == side
    finally:
        for p in [packs, *packs.iterdir()]:
            os.chown(p, 0, -1, follow_symlinks=False)
    assert json.loads(gs(repo, "list", "--json").out) == before
