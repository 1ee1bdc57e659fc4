"""Review 36: a repair meets, in a pack the index does not list, a tombstone giving a listed
snapshot's record anew without the record it names (no stopped restore writes one: the
record and its tombstone are one pack, records.restate; but an index put back from an
earlier copy, say, makes a pack of a later gc repack such an orphan).

repair._complete (RED36 B1) gave the row the meta of the record named, read from the pack,
and stopped with a KeyError (an internal error) when the pack did not hold it: the repair, the
tool a damaged store needs, could not run. Such a pack is not completed now: nothing to give
the row. The snapshot stays listed as it was.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from clihelpers import gs
from hookhelpers import snaps

from git_snapshot.store import Store
from git_snapshot.store.objects import FORGET
from git_snapshot.store.packs import PackWriter
from git_snapshot.store.records import encode_forget


def test_a_tombstone_giving_a_record_anew_without_it_does_not_stop_a_repair(
    repo: Path, store_dir: Path
) -> None:
    (repo / "a.txt").write_text("one\n")
    gs(repo, "create")
    listed = [s["id"] for s in snaps(repo)]
    with Store(str(store_dir)) as store:
        snap = store.snapshots()[-1]
        assert snap.record is not None
        tombstone = encode_forget([snap.record], by=hashlib.sha256(b"elsewhere").digest())
        writer = PackWriter(store.path)
        writer.add(FORGET, hashlib.sha256(tombstone).digest(), tombstone)
        writer.finish()  # on disk, in no index row
    ran = gs(repo, "repair", rc=None)
    assert ran.rc == 0 and "Traceback" not in ran.err and "internal" not in ran.err, ran.err
    assert "completed" not in ran.out, ran.out
    assert [s["id"] for s in snaps(repo)] == listed
    assert gs(repo, "verify").out.startswith("ok: ")
