"""RED36 B1: a restore's note killed between its pack and its index transaction.

A restore in place stopped part way notes what it wrote in its pre-restore snapshot's record
(restored.wrote, records.restate: a pack of the record given anew, then one index
transaction). A kill between the two (the pack on disk, the transaction never run) while the
index survives lost the note: the row still had the record as taken, so a `git checkout -f`
named the restore's source for the edits the restore never reached, undo wrote the source's
bytes, and a repair with the index removed the pack. Now the row takes the note first (as a
full disk's note is), and a repair completes such a restatement instead of removing it.

Real git, the plain hooks installed as a user installs them; the restore runs in a child
process stopped at a chosen write (test_red34_stopped_record._stop_at) and killed with
os._exit at the note's index transaction.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import snaps
from test_red34_stopped_record import FILES
from test_red34_stopped_record import STOP_AT
from test_red34_stopped_record import _name
from test_red34_stopped_record import prepared
from test_red35_restore_note import _ids
from test_red35_restore_note import _index_gone
from test_red35_restore_note import _named_right

# the restore, its STOP_AT-th rename into place failing with ENOSPC (the full disk), killed
# when the note's index transaction would enter the pack it wrote
_CHILD = """
import errno, os, sys
from git_snapshot.store.index import Index
from git_snapshot.cli import main

real_rename, seen = os.rename, [0]

def rename(*args, **kwargs):
    if b".gsnap-tmp-" in os.fsencode(args[0]):
        seen[0] += 1
        if seen[0] >= STOP_AT:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_rename(*args, **kwargs)

os.rename = rename
real_restate = Index.restate

def restate(self, snap, meta, record, packs):
    packs = list(packs)
    if packs:
        os._exit(9)  # the pack is on disk, the transaction never runs
    return real_restate(self, snap, meta, record, packs)

Index.restate = restate
sys.exit(main(["-C", sys.argv[1], "restore", sys.argv[2]]))
""".replace("STOP_AT", str(STOP_AT))

Killed = tuple[Path, int, int, list[int], list[int]]


@pytest.fixture
def killed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Killed:
    """Files committed, a snapshot S of other versions, the user's edits; a restore of S in
    place stopped part way, killed once its note's pack was written. Returns the worktree,
    S, the pre-restore snapshot P, the files restored and the files left with the edits."""
    s = prepared(repo, monkeypatch)
    packs = Path(os.environ["GIT_SNAPSHOT_STORE"]) / "packs"
    before = set(packs.rglob("*"))
    ran = subprocess.run(
        [sys.executable, "-c", _CHILD, str(repo), str(s)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 9, ran.stderr
    assert len(set(packs.rglob("*")) - before) >= 2, "no pack of the note"  # P's and the note's
    p = snaps(repo)[-1]["id"]
    assert p != s
    done = [i for i in range(FILES) if (repo / _name(i)).read_text() == f"in S {i}\n"]
    left = [i for i in range(FILES) if (repo / _name(i)).read_text() == f"edited {i}\n"]
    assert done and left and len(done) + len(left) == FILES, (done, left)
    return repo, s, p, done, left


def test_a_checkout_after_the_kill_names_the_edits_with_the_pre_restore_snapshot(
    killed: Killed,
) -> None:
    _named_right(*killed)


def test_a_repair_with_the_index_completes_the_note(killed: Killed, store_dir: Path) -> None:
    """The repair enters the pack and gives the row its record: an index rebuilt later from
    the packs alone still has the note, with the same snapshots and numbers."""
    r, s, p, done, left = killed
    listed = _ids(r)
    out = gs(r, "repair").out
    assert "completed 1 restore's note" in out, out
    assert "removed" not in out and "renumbered" not in out and "recovered" not in out, out
    assert _ids(r) == listed
    again = gs(r, "repair").out  # nothing left to say of it
    assert "restore's note" not in again, again
    _index_gone(store_dir, "lost")
    out = gs(r, "repair").out
    assert "forgotten" not in out and "renumbered" not in out, out
    assert _ids(r) == listed
    _named_right(r, s, p, done, left)


def test_a_note_killed_then_its_snapshot_forgotten_is_removed_by_a_repair(
    killed: Killed,
) -> None:
    """The snapshot it gives anew is no longer listed: nothing to complete (review 35)."""
    r, _, p, _, _ = killed
    gs(r, "forget", str(p))
    listed = _ids(r)
    out = gs(r, "repair").out
    assert "removed 1 pack(s) of a restore's note" in out and "recovered" not in out, out
    assert _ids(r) == listed
