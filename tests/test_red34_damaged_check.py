"""RED34 D2: one damaged pack made a post-checkout's loss check give up whole.

Snapshot 1 holds the committed files; snapshot 2 adds an uncommitted edit of f3.txt (a pack of
its own). Snapshot 1's pack is then damaged. `git checkout -f x` destroys the edit, and writes
f1.txt (which x changes): to tell whether f1.txt held anything git cannot give back, the check
reads its copy, in the damaged pack. That one unreadable object made the hook say "could not
check what git checkout destroyed: object ... unreadable" and report nothing: f3.txt's edit,
intact in snapshot 2, went unnamed, and `undo` had nothing to undo. Now what can be read is
compared: f3.txt is reported (and undone), and one line names what could not be checked, and
why, without calling it lost.

Real git, the plain hooks installed as a user installs them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from clihelpers import git
from clihelpers import gs
from hookhelpers import install
from hookhelpers import write

from git_snapshot.store import Store

EDIT = b"my uncommitted edit\n"


def _pack_of(content: bytes) -> Path:
    """The pack file holding the blob of *content*."""
    with Store(os.environ["GIT_SNAPSHOT_STORE"]) as s:
        loc = s.index.locate(hashlib.sha256(content).digest())
        assert loc is not None
        return Path(s.pack_path(loc.pack))


def _damaged_checkout(repo: Path) -> tuple[str, str]:
    for i in range(1, 31):
        write(repo / f"f{i}.txt", f"t {i}\n".encode())
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "files")
    git(repo, "checkout", "-qb", "x")
    write(repo / "f1.txt", b"x\n")
    git(repo, "commit", "-qam", "x")
    git(repo, "checkout", "-q", "main")
    install(repo)
    gs(repo, "create", "-m", "one")
    write(repo / "f3.txt", EDIT)
    gs(repo, "create", "-m", "two")
    damaged = _pack_of(b"t 1\n")
    assert damaged != _pack_of(EDIT)
    damaged.write_bytes(b"")  # snapshot 1's pack, emptied
    ran = git(repo, "checkout", "-q", "-f", "x")
    return ran.err, gs(repo, "losses").out


def test_what_can_be_read_is_reported(repo: Path) -> None:
    err, listed = _damaged_checkout(repo)
    assert "could not check what git checkout destroyed" not in err, err
    (lost,) = [ln for ln in err.splitlines() if " destroyed " in ln]
    assert "f3.txt" in lost and "restore 2 f3.txt" in lost, err
    assert "f1.txt" not in lost, err  # not known lost
    (unchecked,) = [ln for ln in err.splitlines() if "f1.txt" in ln]
    assert "damaged" in unchecked and "snapshot 2" in unchecked, err
    assert "git snapshot verify" in unchecked, err
    assert "f3.txt" in listed, listed
    assert (repo / "f3.txt").read_bytes() == b"t 3\n"
    gs(repo, "undo")
    assert (repo / "f3.txt").read_bytes() == EDIT


def test_the_log_keeps_the_report(repo: Path) -> None:
    _damaged_checkout(repo)
    (item,) = json.loads(gs(repo, "losses", "--json").out)
    assert [x["path"] for x in item["lost"]] == ["f3.txt"], item
