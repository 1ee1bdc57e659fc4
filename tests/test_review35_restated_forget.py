"""Review 35 (RR): a snapshot whose record was given anew (records.restate: a stopped
restore's note of what it wrote), then forgotten, stays forgotten through a repair, counted
once.

The restatement's tombstone of the old record was the very object a forget of that record
writes (the same bytes): a repair could not tell them apart. Killed between its pack and its
index transaction, the restatement's pack stayed (gc keeps it: it holds a record the index
lacks); the user then forgot the pre-restore snapshot, and a repair brought it back (with the
index: "recovered"; without it: listed again). Taken, then forgotten, a repair without the
index counted it forgotten twice.
"""

from __future__ import annotations

from pathlib import Path

from clihelpers import gs
from test_red34_stopped_record import BOTH
from test_red34_stopped_record import stopped  # noqa: F401 (the fixture)
from test_red35_restore_note import _ids
from test_red35_restore_note import _index_gone
from test_red35_restore_note import killed  # noqa: F401 (the fixture)

Killed = tuple[Path, int, int, list[int], list[int], list[Path]]


def test_a_forgotten_pre_restore_snapshot_stays_forgotten_after_a_repair(
    killed: Killed,  # noqa: F811
) -> None:
    r, _, p, _, _, packs = killed
    gs(r, "forget", str(p))
    listed = _ids(r)
    assert p not in [i for i, _ in listed]
    out = gs(r, "repair").out
    assert "recovered" not in out and "removed 1 pack(s) of a restore's note" in out, out
    assert _ids(r) == listed, out
    assert not packs[0].exists()


def test_a_forgotten_pre_restore_snapshot_stays_forgotten_without_the_index(
    killed: Killed,  # noqa: F811
    store_dir: Path,
) -> None:
    r, _, p, _, _, _ = killed
    gs(r, "forget", str(p))
    listed = _ids(r)
    _index_gone(store_dir, "lost")
    out = gs(r, "repair").out
    assert "; 1 forgotten snapshot(s) stay forgotten" in out, out
    assert _ids(r) == listed, out


@BOTH
def test_a_restated_snapshot_forgotten_counts_once_without_the_index(
    stopped: tuple[Path, int, int, list[int], list[int]],  # noqa: F811
    store_dir: Path,
) -> None:
    """Its note taken (the record given anew), then forgotten: one snapshot forgotten, not
    two (the old record is superseded, not forgotten)."""
    r, _, p, _, _ = stopped
    gs(r, "forget", str(p))
    listed = _ids(r)
    _index_gone(store_dir, "lost")
    out = gs(r, "repair").out
    assert "; 1 forgotten snapshot(s) stay forgotten" in out, out
    assert _ids(r) == listed, out
