"""RED31 C1: a remote that is, holds or lies inside the local store (or the remote cache) was
accepted by ``remote add``; ``remote prune`` then took the store's own ``<hex>.pack`` files for
remote packs no snapshot names and deleted them (snapshots destroyed). Such a remote is now
refused at ``remote add`` and wherever one already configured is opened, and prune deletes only
names that have the shape of a remote object's (32 hex)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import gs
from conftest import committed_repo

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _config_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def _snapped(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    repo = committed_repo(tmp_path / "w")
    (repo / ".env").write_text("uncommitted secret\n")
    gs(repo, "-m", "first")
    store = Path(os.environ["GIT_SNAPSHOT_STORE"])
    packs = sorted(p.name for p in (store / "packs").iterdir())
    assert packs
    return repo, store, packs


def test_remote_add_refuses_the_store_what_holds_it_and_what_it_holds(tmp_path: Path) -> None:
    repo, store, packs = _snapped(tmp_path)
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "git-snapshot"
    for i, place in enumerate(
        [store, store / "packs", store / "packs" / "x", store.parent, cache, cache / "remotes"]
    ):
        r = gs(repo, "remote", "add", f"r{i}", f"file://{place}", rc=1)
        assert "inside" in r.err or "holds" in r.err or "is this machine" in r.err, r.err
        assert len(r.ours) == 1, r.err
    r = gs(repo, "remote", "add", "p", str(store / "packs"), rc=1)  # a path, not a URL
    assert "snapshot store" in r.err
    assert "no remotes" in gs(repo, "remote", "list").out
    assert sorted(p.name for p in (store / "packs").iterdir()) == packs
    assert not (store / "config").exists() and not (store / ".tmp").exists()
    gs(repo, "verify")


def test_a_configured_remote_inside_the_store_is_refused_not_pruned(tmp_path: Path) -> None:
    repo, store, packs = _snapped(tmp_path)
    gs(repo, "remote", "add", "usb", f"file://{tmp_path}/usb")
    conf = Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "remotes.json"
    doc = json.loads(conf.read_text())
    doc["remotes"]["usb"]["url"] = f"file://{store}"  # (an older version accepted it)
    conf.write_text(json.dumps(doc))
    for args in (["remote", "prune", "usb"], ["push", "usb"], ["list", "--remote", "usb"]):
        r = gs(repo, *args, rc=1)
        assert "snapshot store" in r.err, r.err
    assert sorted(p.name for p in (store / "packs").iterdir()) == packs
    assert gs(repo, "cat", "1", ".env").out == "uncommitted secret\n"


def test_prune_deletes_only_remote_object_names(tmp_path: Path) -> None:
    repo, _store, _packs = _snapped(tmp_path)
    remote = tmp_path / "usb"
    gs(repo, "remote", "add", "usb", f"file://{remote}")
    gs(repo, "push", "usb")
    foreign = [
        remote / "packs" / "notes.txt",
        remote / "packs" / ("ab" * 16 + ".pack"),
        remote / "index" / "sub" / ("cd" * 16),
        remote / "packs" / "sub" / ("ef" * 16),
    ]
    for f in foreign:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("not git-snapshot's\n")
    out = gs(repo, "remote", "prune", "usb").out
    assert "dropped 0 snapshot(s) and 0 pack(s)" in out, out
    assert all(f.exists() for f in foreign)
    gs(repo, "verify", "--remote", "usb", "--read-data")
