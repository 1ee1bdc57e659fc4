"""Review 35 (RR): a snapshot pushed, then its record given anew (records.restate: a restore
stopped part way notes what it wrote, while a push of its pre-restore snapshot ran), is not
pushed again: the remote listed it twice (another machine pulled it twice), and a pull here
said it left out a snapshot this store forgot. A remote prune of it holds for the new record;
forgotten here, a pull names it as forgotten once."""

from __future__ import annotations

import os
from pathlib import Path

from clihelpers import gs

from git_snapshot.store import Store
from git_snapshot.store import records


def _restate(store_dir: Path) -> None:
    st = Store(str(store_dir))
    try:
        with st.lock():
            (snap,) = st.snapshots()
            assert records.restate(st, snap, {**snap.meta, "note": 1})
    finally:
        st.close()


def _pushed(repo: Path, tmp_path: Path) -> Path:
    remote = tmp_path / "remote"
    gs(repo, "remote", "add", "nas", f"file://{remote}")
    (repo / "a.txt").write_text("a\n")
    gs(repo, "create")
    assert "pushed 1 snapshot(s)" in gs(repo, "push").out
    return remote


def test_a_restated_snapshot_is_not_pushed_again(
    repo: Path, tmp_path: Path, store_dir: Path
) -> None:
    remote = _pushed(repo, tmp_path)
    _restate(store_dir)
    out = gs(repo, "push").out
    assert "pushed 0 snapshot(s)" in out and "1 already there" in out, out
    assert len(os.listdir(remote / "snapshots")) == 1
    assert len(gs(repo, "list", "--remote", "nas").out.splitlines()) == 2  # header and one
    out = gs(repo, "pull", "nas").out
    assert "pulled 0 snapshot(s)" in out and "forgot" not in out, out
    (repo / "b.txt").write_text("b\n")
    gs(repo, "create")
    assert "pushed 1 snapshot(s)" in gs(repo, "push").out  # the next one still goes


def test_a_remote_prune_holds_for_a_restated_snapshot(
    repo: Path, tmp_path: Path, store_dir: Path
) -> None:
    remote = _pushed(repo, tmp_path)
    (repo / "b.txt").write_text("b\n")
    gs(repo, "create")
    gs(repo, "push")
    assert "dropped 1" in gs(repo, "remote", "prune", "nas", "--keep-last", "1").out
    st = Store(str(store_dir))
    try:
        with st.lock():
            snap = st.snapshots()[0]
            assert records.restate(st, snap, {**snap.meta, "note": 1})
    finally:
        st.close()
    out = gs(repo, "push").out
    assert "pushed 0 snapshot(s)" in out and "1 pruned" in out, out
    assert len(os.listdir(remote / "snapshots")) == 1


def test_a_restated_snapshot_forgotten_is_left_out_of_a_pull_as_forgotten(
    repo: Path, tmp_path: Path, store_dir: Path
) -> None:
    _pushed(repo, tmp_path)
    _restate(store_dir)
    gs(repo, "forget", "1")
    out = gs(repo, "pull", "nas").out
    assert "pulled 0 snapshot(s)" in out and "left out 1 snapshot(s) this store forgot" in out
