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
import subprocess
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import head
from hookhelpers import install
from hookhelpers import put_venv_on_path
from ownerhelpers import AS_A_USER
from ownerhelpers import NOBODY
from ownerhelpers import chown_all
from ownerhelpers import diverged
from ownerhelpers import needs_root

pytestmark = needs_root


def test_a_pre_hook_stops_git_when_a_part_of_the_users_store_is_another_users(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    install(repo)
    diverged(repo)
    before = json.loads(gs(repo, "list", "--json").out)
    side = head(repo)
    packs = store_dir / "packs"
    chown_all(packs, NOBODY)
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
        chown_all(packs, 0)
    assert json.loads(gs(repo, "list", "--json").out) == before
