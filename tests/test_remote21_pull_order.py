"""Remote (session 21): a ``pull`` into a store that already holds newer snapshots of the same
repository (the store was lost and the repository kept, then a snapshot was taken before the
pull; or two machines share the repository's path and id) gives the pulled, older snapshots
the next free numbers, above the newer local ones. Everything that means "the newest" went by
number: a hook's loss report named the pulled old snapshot ("an earlier version ... later
edits were not saved") while a newer local one held the exact version, and ``latest`` chose
the old one. "Newest" goes by when a snapshot was taken."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import VENV_BIN
from clihelpers import gs
from clihelpers import run
from conftest import committed_repo
from hypothesis import given
from hypothesis import strategies as st
from remotehelpers import machine
from remotehelpers import on

from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.index import in_time


@pytest.fixture(autouse=True)
def _config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(Path(os.environ["HOME"]) / "config"))


def _pulled_behind(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A repository whose snapshot 1 ("edit 1") was pushed, then its store lost: in a fresh
    store, local snapshot 1 ("edit 2") is taken, then the pull enters the old one as 2."""
    repo = committed_repo(tmp_path / "proj")
    (repo / "notes.txt").write_text("old\n")
    run(repo, "git", "add", "notes.txt")
    run(repo, "git", "commit", "-qm", "notes")
    (repo / "notes.txt").write_text("old\nedit 1\n")
    gs(repo, "-m", "pushed")
    url = f"file://{tmp_path}/remote"
    gs(repo, "remote", "add", "r", url)
    gs(repo, "push")

    # the store is lost; the repository (and its snapshot.repoId) stays
    fresh = machine(tmp_path, "fresh-store")
    fresh["HOME"] = os.environ["HOME"]
    key = Path(os.environ["XDG_CONFIG_HOME"]) / "git-snapshot" / "keys" / "r.key"
    on(fresh, repo, "remote", "add", "r", url, "--key", str(key))
    (repo / "notes.txt").write_text("old\nedit 1\nedit 2\n")
    assert "snapshot 1:" in on(fresh, repo, "-m", "local").out
    on(fresh, repo, "install")  # (after it: into a store with none, install takes the first)
    pulled = on(fresh, repo, "pull", "r")
    assert "proj:1 is proj:2 here" in pulled.out, pulled.out
    return repo, fresh


def test_pulled_older_snapshots_do_not_pass_for_the_newest(tmp_path: Path) -> None:
    repo, fresh = _pulled_behind(tmp_path)

    assert on(fresh, repo, "show", "latest").out.startswith("snapshot 1 "), "latest is local 1"
    assert on(fresh, repo, "show", "latest~1").out.startswith("snapshot 2 ")
    env = {**os.environ, **fresh, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    ran = run(repo, "git", "checkout", "--", "notes.txt", env=env)
    # (the first store is still there, so the command names this one: RED44 F1)
    assert "git snapshot restore --this-store 1 notes.txt" in ran.err, ran.err
    # snapshot 3: the hook's, after the checkout; the newest two are 3 and 1, not 3 and 2
    assert "forgot 1 snapshot(s): 2\n" in on(fresh, repo, "prune", "--keep-last", "2").out
    assert [line.split()[0] for line in on(fresh, repo, "list").out.splitlines()[1:]] == ["1", "3"]
    on(fresh, repo, "restore", "--newest", "notes.txt")
    assert (repo / "notes.txt").read_text() == "old\nedit 1\nedit 2\n"


def test_repair_keeps_the_numbers_a_pull_gave(tmp_path: Path) -> None:
    """A pull that found a number taken gave the snapshot the next one in its index row only;
    its record still says the number it had where it was taken. repair rebuilt the index from
    the records: the pulled old snapshot took number 1 back (and kept 2 as well) and the local
    snapshot 1 became 3, so a loss report's 'git snapshot restore 1 notes.txt' restored the old
    version. The rows of a readable old index keep their numbers and marks."""
    repo, fresh = _pulled_behind(tmp_path)
    repaired = on(fresh, repo, "repair").out
    assert "renumbered" not in repaired, repaired
    assert on(fresh, repo, "cat", "1", "notes.txt").out == "old\nedit 1\nedit 2\n"
    assert on(fresh, repo, "cat", "2", "notes.txt").out == "old\nedit 1\n"
    assert [line.split()[0] for line in on(fresh, repo, "list").out.splitlines()[1:]] == ["2", "1"]
    assert on(fresh, repo, "show", "latest").out.startswith("snapshot 1 ")


def test_many_old_pulled_rows_and_a_clock_set_back(store: Store) -> None:
    """50 own snapshots (the last taken with the clock set back, before the 49th), then a
    pull of 100 older ones (numbered 51-150): the newest is own 50, whatever the window."""
    for n in range(1, 51):
        created = 500 if n == 50 else 1000 + n
        store.index.enter_snapshot(_snap(n, created, False), "/w", handed_out=False)
    for n in range(1, 101):
        store.index.enter_snapshot(_snap(n, 100 + n, False), "/w", handed_out=True)
    assert [s.id for s in store.snapshots("src", "/", last=1)] == [50]
    assert [s.id for s in store.snapshots("src", "/", last=3)] == [48, 49, 50]
    everything = store.snapshots("src")
    assert [s.id for s in everything] == [*range(51, 151), *range(1, 51)]
    assert all(s.pulled is (s.id > 50) for s in everything)
    assert store.get("src", "latest").id == 50


def _snap(number: int, created: int, pulled: bool) -> Snapshot:
    meta = {"pulled": True} if pulled else {}
    return Snapshot(number, "src", number, float(created), "manual", "", "/", b"", 0, 0, 0, 0, meta)


@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), max_size=12))
def test_in_time_keeps_each_kind_in_number_order(items: list[tuple[int, bool]]) -> None:
    """Own and pulled snapshots each keep their number order (a clock set back reorders
    neither); a pulled one goes before the first own one taken after it (or after a pulled
    one numbered before it)."""
    snaps = [_snap(n, created, pulled) for n, (created, pulled) in enumerate(items, 1)]
    out = in_time(snaps)
    assert sorted(s.id for s in out) == [s.id for s in snaps]
    for kind in (True, False):
        ids = [s.id for s in out if s.pulled is kind]
        assert ids == sorted(ids)
    latest_pulled = -1.0
    for k, s in enumerate(out):
        if s.pulled:
            latest_pulled = max(latest_pulled, s.created)
            assert all(o.created <= latest_pulled for o in out[:k] if not o.pulled)
