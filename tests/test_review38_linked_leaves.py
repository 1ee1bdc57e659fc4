"""Review 38 (RA) of RED38 A1a: a folder leaves the dirty set's ``linked`` table (its file's
other name removed, found by the watcher's stat pass or a look at every folder) in one
transaction, and its mark (the signature that changed: the write through the other name, then
the unlink) came in the next one (``Daemon.flush_marks``: ``publish_linked`` before
``dirtyset.mark``). A hook that synced just before and read the dirty set between the two took
the folder as unchanged: the write made through the other name before its sync was in no
snapshot it took. A folder now leaves ``linked`` with a mark, in the same transaction."""

from __future__ import annotations

from pathlib import Path

from git_snapshot.watch import dirtyset


def test_a_folder_leaving_linked_is_marked_at_once(tmp_path: Path) -> None:
    store, top = str(tmp_path / "store"), tmp_path / "wt"
    (top / "src").mkdir(parents=True)
    (top / "cfg").mkdir()
    dirtyset.watching(store, str(top), linked=[str(top / "src"), str(top / "cfg")])
    begun = dirtyset.begin(store, str(top))
    assert begun is not None and begun.dirs == {b"src", b"cfg"}
    # what a hook reads between the daemon's two transactions: src no longer linked
    dirtyset.set_linked(store, str(top), [str(top / "cfg")])
    begun = dirtyset.begin(store, str(top))
    assert begun is not None
    assert b"src" in begun.dirs  # listed: its mark came with its leaving
    assert b"src" in begun.clean().listed
    # and nothing new is marked when the set grows or stays
    dirtyset.set_linked(store, str(top), [str(top / "cfg"), str(top / "src")])
    dirtyset.set_linked(store, str(top), [str(top / "cfg"), str(top / "src")])
    with dirtyset._db(store, str(top)) as con:
        marks = con.execute("SELECT dir, name FROM marks").fetchall()
    assert [(bytes(d), n) for d, n in marks] == [(b"src", None)]
