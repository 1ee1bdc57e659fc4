"""Red team (session 10): one damaged folder listing in one snapshot made ``log PATH`` refuse
the path's whole history (one line, exit 1), though every other snapshot holds it intact.
It now lists every version it could read, names each snapshot it could not, and exits 1, as
show, find and diff do."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import gs
from storehelpers import entry_of
from storehelpers import flip_stored

from git_snapshot.store import Store


def _three_with_the_middle_damaged(repo: Path, store_dir: Path) -> None:
    for rel, data in (("sub/a", "1\n"), ("sub/deep/b", "2\n"), ("other/c", "3\n")):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(data)
    gs(repo, "create")
    (repo / "sub" / "a").write_text("changed\n")
    gs(repo, "create")
    (repo / "sub" / "a").write_text("changed again\n")
    gs(repo, "create")
    with Store(store_dir) as s:
        flip_stored(store_dir, s, entry_of(s, s.snapshots()[1], b"sub").ref)


def test_log_lists_the_readable_versions_and_names_the_damaged_snapshot(
    repo: Path, store_dir: Path
) -> None:
    _three_with_the_middle_damaged(repo, store_dir)
    ran = gs(repo, "log", "sub/a", rc=1)
    ids = [ln.split()[0] for ln in ran.out.splitlines()[1:]]
    assert ids == ["1", "3"], ran.out
    assert "not read: snapshot 2" in ran.err, ran.err
    assert len(ran.err_lines) == 2, ran.err
    data = json.loads(gs(repo, "log", "sub", "--json", rc=1).out)
    assert [v["id"] for v in data] == [1, 3], data
    assert gs(repo, "log", "other/c").rc == 0  # not below the damage: as before
