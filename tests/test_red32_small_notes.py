"""RED32 A's smaller notes: ``show ID PATH`` ended with the whole snapshot's totals as if they
were the listed entries'; ``watch remove`` a second time said "no longer watching" again;
``hook`` with no name said its ARGs were required too."""

from __future__ import annotations

import re
from pathlib import Path

from clihelpers import gs

from git_snapshot.watch import registry


def test_show_with_paths_totals_what_it_listed(repo: Path) -> None:
    (repo / "d").mkdir()
    (repo / "d" / "one").write_text("12345\n")  # 6 B
    (repo / "big").write_text("x" * 100)
    gs(repo)
    last = gs(repo, "show", "1", "d").out.splitlines()[-1]
    assert re.match(r"1 file, 6 B shown; the snapshot holds 3 files, 112 B, 0 skipped", last), last
    whole = gs(repo, "show", "1").out.splitlines()[-1]
    assert whole == "3 files, 112 B, 0 skipped", whole


def test_watch_remove_twice_says_it_was_not_watched(repo: Path, store_dir: Path) -> None:
    gs(repo)  # makes the store
    registry.put(str(store_dir), str(repo), on=True, by="watch add")  # (no daemon started)
    assert "no longer watching" in gs(repo, "watch", "remove", ".").out
    again = gs(repo, "watch", "remove", ".", rc=1)
    assert "no longer watching" not in again.out and "not watched" in again.err, again.err
    assert registry.known(str(store_dir), str(repo))  # still kept off: hooks do not add it back
    assert registry.active(str(store_dir)) == []


def test_hook_without_a_name_names_only_the_name(repo: Path) -> None:
    ran = gs(repo, "hook", rc=2)
    assert "required: name" in ran.err and "args" not in ran.err, ran.err
