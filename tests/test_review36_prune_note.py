"""Review 36: prune names a stopped restore's note killed before its index transaction for
what it is, as verify does (RED36 B3).

gc keeps such a pack (it holds a record the index lacks) and prune said "kept 1 pack(s) that
hold snapshots the index does not list; bring them back with: git snapshot repair": the advice
is right, the words were not. Now it says the pack is a restore's note that a repair completes.
"""

from __future__ import annotations

import json

from clihelpers import gs
from test_red36_restore_note_kill import Killed
from test_red36_restore_note_kill import killed  # noqa: F401 (the fixture)

NOTE = (
    "kept 1 pack(s) of a stopped restore's note of what it wrote that the index has not "
    "taken (the restore was killed as it wrote it); complete it with: git snapshot repair"
)


def test_prune_names_a_killed_restore_note_and_keeps_it_for_repair(
    killed: Killed,  # noqa: F811
) -> None:
    r = killed[0]
    for args in (["--dry-run"], []):
        out = gs(r, "prune", "--keep-last", "100", *args).out
        assert NOTE in out, out
        assert "hold snapshots the index does not list" not in out, out
    got = json.loads(gs(r, "prune", "--keep-last", "100", "--json").out)
    assert got["orphan_packs_kept"] == 1, got
    out = gs(r, "repair").out
    assert "completed 1 restore's note" in out, out
    out = gs(r, "prune", "--keep-last", "100").out
    assert "kept 1 pack(s)" not in out, out
