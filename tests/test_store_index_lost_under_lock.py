"""A store whose index goes missing while this process holds its exclusive lock says so.

Opening an index found missing waits for the store's lock once (a repair swaps the new index
in under it: RED32 C2). The same look runs again inside lock() (Store._same_index: the index
open may have been replaced); there, this process holds the lock itself, and a second flock on
another descriptor waited for it for ever: a prune or gc hung on its own lock, where the index
lost is one clear line ("... git snapshot repair").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clihelpers import gs

_LOCKED = r"""
import os, sys
from git_snapshot.errors import UserError
from git_snapshot.store import Store
s = Store(sys.argv[1])
os.unlink(os.path.join(sys.argv[1], "index.sqlite"))
try:
    with s.lock(exclusive=True):
        print("no error")
except UserError as exc:
    print(exc)
"""


def test_an_index_lost_under_the_exclusive_lock_is_said_not_waited_for(
    repo: Path, tmp_path: Path
) -> None:
    gs(repo)
    store = os.environ["GIT_SNAPSHOT_STORE"]
    assert os.path.exists(os.path.join(store, "index.sqlite"))
    ran = subprocess.run(
        [sys.executable, "-c", _LOCKED, store], capture_output=True, text=True, timeout=60
    )
    said = ran.stdout + ran.stderr
    assert "is missing" in ran.stdout and "git snapshot repair" in ran.stdout, said
