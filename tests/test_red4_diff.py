"""Red team (session 10): one damaged folder listing no longer hides a whole diff. ``diff``
(against the worktree or another snapshot, plain, --json, --stat, -p, with paths) lists every
change it could compare, names the damaged folder, and exits 1, as show, find, restore and
export do."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import gs
from storehelpers import damage_sub
from storehelpers import entry_of
from storehelpers import flip_byte
from storehelpers import flip_stored
from storehelpers import take

from git_snapshot.commands.diff import json_items
from git_snapshot.store import Store
from git_snapshot.store import diff_levels as sdiff
from git_snapshot.store import forked
from git_snapshot.store.diff import diff_dir
from git_snapshot.store.diff import diff_trees
from git_snapshot.store.diff import diff_trees_text


def _damage_sub(repo: Path, store_dir: Path) -> None:
    """storehelpers.damage_sub, then the worktree changed in every folder."""
    damage_sub(repo, store_dir)
    (repo / "top").write_text("5\n")
    (repo / "other" / "c").write_text("6\n")
    (repo / "sub" / "a").write_text("7\n")


def test_diff_against_the_worktree_lists_the_intact_and_names_the_damaged(
    repo: Path, store_dir: Path
) -> None:
    _damage_sub(repo, store_dir)
    ran = gs(repo, "diff", "1", rc=1)
    assert "M other/c" in ran.out and "M top" in ran.out, ran.out
    assert "DAMAGED sub:" in ran.out, ran.out
    assert "sub/a" not in ran.out, ran.out  # not compared: nothing said of it
    assert len(ran.err_lines) == 1 and "damaged" in ran.err, ran.err
    data = json.loads(gs(repo, "diff", "1", "--json", rc=1).out)
    assert {c["path"] for c in data} == {"other/c", "top"}, data
    js = gs(repo, "diff", "1", "--json", rc=1)
    assert len(js.err_lines) == 1 and "sub" in js.err and "damaged" in js.err, js.err
    st = gs(repo, "diff", "1", "--stat", rc=1)
    assert "other/c" in st.out and "top" in st.out and "DAMAGED sub" in st.out, st.out
    p = gs(repo, "diff", "1", "-p", rc=1)
    assert "+6" in p.out and "+5" in p.out and "DAMAGED sub" in p.out, p.out


def test_diff_of_two_snapshots_names_the_damaged_side(repo: Path, store_dir: Path) -> None:
    _damage_sub(repo, store_dir)
    gs(repo, "create")
    ran = gs(repo, "diff", "1", "2", rc=1)
    assert "M other/c" in ran.out and "M top" in ran.out, ran.out
    assert "DAMAGED sub: folder listing unreadable in snapshot 1" in ran.out, ran.out
    data = json.loads(gs(repo, "diff", "2", "1", "--json", rc=1).out)
    assert {c["path"] for c in data} == {"other/c", "top"}, data


def test_diff_of_paths_at_and_below_a_damaged_folder(repo: Path, store_dir: Path) -> None:
    _damage_sub(repo, store_dir)
    assert "M other/c" in gs(repo, "diff", "1", "--", "other").out
    for path in ("sub", "sub/a"):
        ran = gs(repo, "diff", "1", "--", path, rc=1)
        assert "DAMAGED sub" in ran.out, ran.out
        assert len(ran.err_lines) == 1, ran.err


def test_diff_names_a_damaged_file_in_stat_and_patch(repo: Path, store_dir: Path) -> None:
    """A file whose stored content is damaged was counted as emptied by --stat (or refused
    the whole diff): it is named, and every other file is shown."""
    (repo / "a").write_text("one\n")
    (repo / "b").write_text("two\n" * 80_000)  # a frame of its own, not in a's group
    gs(repo, "create")
    with Store(store_dir) as s:
        loc = s.index.locate(entry_of(s, s.snapshots()[-1], b"a").ref)
        assert loc is not None  # its group's frame checksum (the middle is the members' keys)
        flip_byte(store_dir / "packs" / loc.pack, loc.offset + loc.length - 2)
    (repo / "a").write_text("one!\n")
    (repo / "b").write_text("two!\n" * 80_000)
    st = gs(repo, "diff", "1", "--stat", rc=1)
    assert " b " in st.out and "DAMAGED a: content unreadable" in st.out, st.out
    assert " a " not in st.out, st.out
    p = gs(repo, "diff", "1", "-p", rc=1)
    assert "+two!" in p.out and "-one" not in p.out and "DAMAGED a" in p.out, p.out


@pytest.mark.parametrize("text", [False, True])
def test_a_forked_child_meeting_the_damage_leaves_it_to_the_parent_which_names_it(
    store: Store, store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: bool
) -> None:
    """The child compares half of a wide level; the damage it meets must reach the parent's
    list (a child that noted it in its own copy of the list would answer without the folder,
    and the diff would skip it silently)."""
    monkeypatch.setattr(sdiff, "SHARE_AT", 2)
    monkeypatch.setattr(forked, "idle_core", lambda: True)  # whatever the machine's load
    wt = tmp_path / "wt"
    for i in range(8):
        (wt / f"d{i}" / "in").mkdir(parents=True)
        (wt / f"d{i}" / "in" / "f").write_text(f"{i}\n")
    a = take(store, "wt", wt)
    for i in range(8):
        (wt / f"d{i}" / "in" / "f").write_text(f"{i}!\n")
    b = take(store, "wt", wt)
    bad = entry_of(store, a, b"d1/in").ref  # d1 is the second folder: the child's
    flip_stored(store_dir, store, bad)
    for old, new, names in ((a.root, b.root, ("snapshot 1", "snapshot 2")),):
        damaged: list[tuple[bytes, str]] = []
        if text:
            got = "".join(
                diff_trees_text(
                    store, old, new, json_items, split=True, damaged=damaged, sides=names
                )
            )
            paths = [line.split('"')[3] for line in got.splitlines() if '"path"' in line]
        else:
            changes = diff_trees(store, old, new, split=True, damaged=damaged, sides=names)
            paths = [c.path.decode() for c in changes]
        assert paths == [f"d{i}/in/f" for i in range(8) if i != 1], paths
        assert [p for p, _ in damaged] == [b"d1/in"], damaged
        assert "unreadable in snapshot 1" in damaged[0][1]
        damaged = []
        disk = diff_dir(store, old, os.fsencode(wt), split=True, damaged=damaged)
        assert [c.path.decode() for c in disk] == [f"d{i}/in/f" for i in range(8) if i != 1]
        assert [p for p, _ in damaged] == [b"d1/in"], damaged
