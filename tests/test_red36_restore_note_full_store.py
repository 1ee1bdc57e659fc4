"""RED36 B2: a restore's note on a full store disk survives a repair without the index.

A restore in place stopped part way notes what it wrote (restored.wrote): a pack of the
pre-restore snapshot's record given anew, then its index row (records.restate). When the
store's disk was full too (the usual case: the restore stopped because the disk filled, and
the store is on that disk), the pack could not be written and the note went into the index
row only: an index rebuilt from the packs alone (lost or damaged) then forgot it, and a
`git checkout -f` named the restore's source for the edits the restore never reached. Now the
note's pack may take the store's reserve (store/reserve.py), as gc's writes do.

Real git, the plain hooks installed as a user installs them; the store on a small ext4 file
system (tests/fullfs.py), filled to the last block when the restore stops.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from clihelpers import gs
from fullfs import fill
from fullfs import store_on_small_fs
from fullfs import unfill
from hookhelpers import snaps
from test_red34_stopped_record import FILES
from test_red34_stopped_record import _name
from test_red34_stopped_record import _stop_at
from test_red34_stopped_record import prepared
from test_red35_restore_note import _ids
from test_red35_restore_note import _index_gone
from test_red35_restore_note import _named_right

from git_snapshot.cli import main


def test_a_note_written_on_a_full_store_disk_survives_a_repair_without_the_index(
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with store_on_small_fs(tmp_path / "fs", monkeypatch) as store:
        mnt = store.parent
        s = prepared(repo, monkeypatch)
        assert (store / "reserve").exists()
        filled = [False]

        def full() -> None:  # the disk fills as the restore writes: the store's too
            if not filled[0]:
                fill(mnt)
                filled[0] = True
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        off = _stop_at(monkeypatch, full)
        rc = main(["-C", str(repo), "restore", str(s)])
        off()
        err = capsys.readouterr().err
        assert rc != 0 and filled[0], err
        p = snaps(repo)[-1]["id"]
        assert f"what was there before is in snapshot {p}" in err, err
        done = [i for i in range(FILES) if (repo / _name(i)).read_text() == f"in S {i}\n"]
        left = [i for i in range(FILES) if (repo / _name(i)).read_text() == f"edited {i}\n"]
        assert done and left and len(done) + len(left) == FILES, (done, left)
        unfill(mnt)  # the user frees space, as the line says; then the index is lost
        listed = _ids(repo)
        _index_gone(store, "lost")
        out = gs(repo, "repair").out
        assert "forgotten" not in out and "renumbered" not in out, out
        assert _ids(repo) == listed
        _named_right(repo, s, p, done, left)
