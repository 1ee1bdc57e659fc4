"""Red team (session 28, RED28): a snapshot record's ``meta`` was checked only as a dict.
show, restore, run, diff, the hooks' summaries and the watcher read its ``skipped_paths``,
``changed_while_read``, ``unsettled``, ``head`` and ``branch`` unchecked, so a record of
another shape (a hand-made or tampered pack that a repair reads back) entered the index and
made each of them end in an internal error. ``records.decode_record`` now refuses it as it
refuses any other malformed field: the repair names the record's pack, the record is not
entered, and every command still answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from storehelpers import Crafter

from git_snapshot.store import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import RECORD
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.records import decode_record
from git_snapshot.store.records import encode_record

GOOD: dict[str, Any] = {
    "skipped_paths": [["a b", "unreadable: Permission denied"]],
    "changed_while_read": ["c"],
    "unsettled": {"since": 1.5, "dirs": ["d"]},
    "head": "0" * 40,
    "branch": "main",
}
BAD: list[dict[str, Any]] = [
    {"skipped_paths": "a"},
    {"skipped_paths": ["a"]},
    {"skipped_paths": [["a", "why", "more"]]},
    {"skipped_paths": [[1, "why"]]},
    {"skipped_paths": [["a", None]]},
    {"changed_while_read": "abc"},
    {"changed_while_read": [["a"]]},
    {"unsettled": ["d"]},
    {"unsettled": {"dirs": "d"}},
    {"unsettled": {"dirs": [1]}},
    {"unsettled": {"since": "yesterday"}},
    {"head": 7},
    {"branch": ["main"]},
]


def _record(meta: dict[str, Any], created: float | None = None) -> bytes:
    when = time.time() if created is None else created
    snap = Snapshot(0, "/r/.git", 1, when, "test", "", "/r", bytes(32), 0, 0, 0, 0, meta)
    return encode_record(snap, "/r")


def test_a_record_of_the_shapes_written_is_taken() -> None:
    snap, _ = decode_record(_record(GOOD))
    assert snap.meta == GOOD
    assert decode_record(_record({}))[0].meta == {}
    assert decode_record(_record({"unsettled": {"since": 2, "all": True}}))[0].meta


@pytest.mark.parametrize("meta", BAD, ids=[str(m) for m in BAD])
def test_a_record_of_another_shape_is_refused(meta: dict[str, Any]) -> None:
    with pytest.raises(CorruptObject, match="bad snapshot record"):
        decode_record(_record(meta))


# session 36: a creation time no clock gives (json reads NaN, Infinity and 1e999) made list,
# log, show --json and retention end in an internal error (datetime cannot hold it)
FAR = [float("nan"), float("inf"), 1e300, -1.0, 253_370_764_800.0]


@pytest.mark.parametrize("created", FAR, ids=[repr(c) for c in FAR])
def test_a_record_of_a_time_no_clock_gives_is_refused(created: float) -> None:
    with pytest.raises(CorruptObject, match="created out of range"):
        decode_record(_record({}, created))
    assert decode_record(_record({}, 253_370_764_799.0))[0].created == 253_370_764_799.0


def _git_snapshot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "git_snapshot", *args], cwd=cwd, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("meta", "created", "said"),
    [
        ({"skipped_paths": "f"}, None, "bad snapshot record: skipped_paths"),
        ({}, 1e300, "bad snapshot record: created out of range"),
    ],
)
def test_a_repair_leaves_a_hostile_record_out_and_every_command_answers(
    tmp_path: Path, store_dir: Path, meta: dict[str, Any], created: float | None, said: str
) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "f").write_text("mine\n")
    assert _git_snapshot("--message", "first", cwd=repo).returncode == 0
    with Store(str(store_dir)) as store:
        [first] = store.snapshots()
        crafter = Crafter(store)
        when = time.time() if created is None else created
        snap = Snapshot(
            0, first.source, 2, when, "test", "", first.worktree, first.root, 1, 5, 0, 1, meta,
        )  # fmt: skip
        crafter._object(RECORD, encode_record(snap, first.worktree))
        store.index.add_packs(crafter.writer.finish())
        index_path = store.index_path
    os.remove(index_path)
    ran = _git_snapshot("repair", cwd=repo)
    assert said in ran.stdout + ran.stderr, ran
    with Store(str(store_dir)) as store:
        assert [s.id for s in store.snapshots()] == [first.id]
    for args in (
        ["list"],
        ["list", "--json"],
        ["show", "1"],
        ["show", "--json", "1"],
        ["restore", "--dry-run", "1"],
        ["prune", "--dry-run", "--keep-daily", "1"],
    ):
        got = _git_snapshot(*args, cwd=repo)
        assert "Traceback" not in got.stderr and "internal error" not in got.stderr, got
        assert got.returncode == 0, (args, got)
