"""Red team (session 9): one damaged folder listing does not hide a whole snapshot. ``show``
lists everything intact, names the damaged folder (its kind unknown), and exits 1, as
restore and export do."""

from __future__ import annotations

import json
from pathlib import Path

from clihelpers import gs
from storehelpers import damage_sub


def test_show_lists_what_is_intact_and_names_the_damaged_folder(
    repo: Path, store_dir: Path
) -> None:
    damage_sub(repo, store_dir)
    ran = gs(repo, "show", "1", rc=1)
    assert "other/c" in ran.out and "top" in ran.out and "README" in ran.out, ran.out
    assert "DAMAGED sub" in ran.out, ran.out
    assert len(ran.err_lines) == 1 and "damaged" in ran.err, ran.err
    sub = [ln for ln in ran.out.splitlines() if ln.endswith(" sub/")]
    assert sub and sub[0].startswith("unknown"), ran.out  # not 'untracked': nothing is known
    data = json.loads(gs(repo, "show", "1", "--json", rc=1).out)
    assert {e["path"] for e in data["entries"]} >= {"other/c", "top", "sub"}
    assert [d["path"] for d in data["damaged"]] == ["sub"]


def test_show_of_named_paths_beside_and_below_a_damaged_folder(repo: Path, store_dir: Path) -> None:
    damage_sub(repo, store_dir)
    ran = gs(repo, "show", "1", "other", "sub/deep", rc=1)
    assert "other/c" in ran.out, ran.out
    assert "DAMAGED sub/deep" in ran.out, ran.out
    assert "holds no" not in ran.err, ran.err  # not 'not in the snapshot': unreadable


def test_find_searches_every_snapshot_but_the_damaged_one_and_names_it(
    repo: Path, store_dir: Path
) -> None:
    """One damaged folder listing in snapshot 1 made find refuse everything: snapshot 2, intact,
    holds other/c and was not searched either."""
    damage_sub(repo, store_dir)
    (repo / "sub" / "a").write_text("changed\n")  # snapshot 2 gets a sub tree of its own
    gs(repo, "create")
    ran = gs(repo, "find", "c", rc=1)
    assert "other/c" in ran.out, ran.out
    assert "not searched: snapshot 1" in ran.err and "sub" in ran.err, ran.err
    assert len(ran.err_lines) == 2, ran.err
