"""RED36 B3: verify names a restore's note killed before its index transaction for what it is.

The pack of a stopped restore's note (records.restate: the pre-restore snapshot's record given
anew and a tombstone of the old one) left by a kill between the pack and its index transaction
was worded "pack(s) hold snapshots the index lacks (a snapshot interrupted before it was
listed)": the advice (repair) is right, the words were not. Now it is named as an unfinished
restore's note, which a repair completes.
"""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import gs
from test_red36_restore_note_kill import Killed
from test_red36_restore_note_kill import killed  # noqa: F401 (the fixture)


def test_verify_names_a_killed_restore_note_and_repair_completes_it(
    killed: Killed,  # noqa: F811
    store_dir: Path,
) -> None:
    r = killed[0]
    out = gs(r, "verify").out
    assert "hold snapshots the index lacks" not in out, out
    assert (
        "1 pack(s) hold a stopped restore's note of what it wrote that the index has not "
        "taken (the restore was killed as it wrote it); complete it with: git snapshot repair"
    ) in out, out
    got = json.loads(gs(r, "verify", "--json").out)
    assert len(got["unfinished_restore_notes"]) == 1, got
    assert got["unindexed_packs"] == [] and got["ok"], got
    gs(r, "repair")
    out = gs(r, "verify").out
    assert "restore's note" not in out and out.startswith("ok: "), out
