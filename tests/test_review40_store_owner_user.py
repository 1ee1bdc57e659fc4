"""review40 RC3: RED40 C7's refusal of a store folder another user made beforehand, run as a
user. tests/test_red40_store_precreated.py runs it as root without the capabilities that
bypass permissions (setpriv): since RED40 C1 finding 4 root is refused by check_yours before
the chmod, so that test no longer reaches the branch a user meets (the chmod's EPERM, then
the owner named: Store.__init__, core._check_owner). Here user nobody runs it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from clihelpers import VENV_BIN
from conftest import committed_repo
from ownerhelpers import AS_NOBODY
from ownerhelpers import NOBODY
from ownerhelpers import needs_root

pytestmark = needs_root


def test_a_user_is_refused_a_store_folder_root_made_naming_root(open_tmp: Path) -> None:
    shared = open_tmp / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    store = shared / "snapshots"
    store.mkdir()
    store.chmod(0o777)
    home = open_tmp / "home"
    repo = committed_repo(home / "w")
    (repo / ".env").write_text("SECRET=hunter2\n")
    subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(home)], check=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / "state"),
        "GIT_SNAPSHOT_STORE": str(store),
        "GIT_SNAPSHOT_ALLOW_EPHEMERAL": "1",  # (under /tmp)
    }
    ran = subprocess.run(
        [*AS_NOBODY, str(VENV_BIN / "git-snapshot"), "-m", "first"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    lines = ran.stderr.splitlines()
    assert ran.returncode == 1 and len(lines) == 1, ran.stderr
    assert "read-only" not in ran.stderr and "cp -a" not in ran.stderr, ran.stderr
    assert "belongs to root" in ran.stderr and "your own" in ran.stderr, ran.stderr
    assert os.listdir(store) == []  # nothing of the user's was written there
