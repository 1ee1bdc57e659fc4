"""RED40 C7: a store folder another user made beforehand (in a shared, sticky folder, or by an
admin) and left open to all (0777) was refused as "on a read-only file system", with the
advice to copy it to a writable disk: the EPERM of the chmod that makes it private fell into
that branch (check_yours, by access(2), lets a folder everyone may write pass). The marker
file was written into it first. Now the refusal names the owner and says a store must be a
folder of one's own, and nothing is written into it.

The suite runs as root, whom no permission stops: the command runs here without the
capabilities that bypass file permissions and ownership (setpriv), as
tests/test_red30_store_owner.py."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

from clihelpers import VENV_BIN
from ownerhelpers import NOBODY
from ownerhelpers import needs_root

AS_A_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
pytestmark = needs_root


def test_a_store_folder_another_user_made_is_refused_naming_its_owner(
    repo: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    store = shared / "alice-snapshots"
    store.mkdir()
    os.chown(store, NOBODY, NOBODY)
    store.chmod(0o777)
    (repo / ".env").write_text("SECRET=hunter2\n")
    ran = subprocess.run(
        [*AS_A_USER, str(VENV_BIN / "git-snapshot"), "-m", "first"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_SNAPSHOT_STORE": str(store)},
        check=False,
    )
    lines = ran.stderr.splitlines()
    assert ran.returncode == 1 and len(lines) == 1, ran.stderr
    assert "read-only" not in ran.stderr and "cp -a" not in ran.stderr, ran.stderr
    owner = pwd.getpwuid(NOBODY).pw_name
    assert f"belongs to {owner}" in ran.stderr and "your own" in ran.stderr, ran.stderr
    assert "GIT_SNAPSHOT_STORE" in ran.stderr, ran.stderr
    assert os.listdir(store) == []  # nothing of the user's was written there
