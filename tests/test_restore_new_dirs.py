"""The folders a full restore makes below a folder it made (_fill's plain case: _passed, then
_put_dir(new=True) for each): the same tree and report as every other way,
byte for byte (files' and folders' modes and mtimes, symlinks, set-gid and sticky folders,
a read-only folder with files in it), with the C gather and its Python twin, by writer
processes, threads or this one alone; a folder that came there meanwhile goes the careful
way (its contents kept, the snapshot's written into it, never counted created)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import Node
from storehelpers import Seen
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import restorer
from git_snapshot.store.restorer import Report
from git_snapshot.store.restorer import Restorer

T = 1_600_000_000_123_456_789


def _tree() -> D:
    folders: dict[bytes, Node] = {}
    for i in range(40):
        inner: dict[bytes, Node] = {
            b"f%d" % j: F(b"%d-%d\n" % (i, j) * (j + 1), 0o640 if j % 2 else 0o755, T + j)
            for j in range(i % 5)
        }
        if i % 6 == 0:
            inner[b"ln"] = L(b"f0", T + 5)
        deeper: dict[bytes, Node] = {b"z": F(b"z%d" % i, 0o600, T + 9)}
        inner[b"deep"] = D({b"er": D(deeper, 0o711, T + 8)}, 0o755, T + 7)
        modes = [0o755, 0o700, 0o750, 0o2775, 0o1777, 0o555, 0o775, 0o2755, 0o2777]
        folders[b"d%02d" % i] = D(inner, modes[i % len(modes)], T + 100 + i)
    folders[b"empty"] = D({}, 0o700, T + 1)
    return D({b"top": D(folders, 0o755, T + 2), b"x.txt": F(b"x\n", 0o644, T + 3)})


def _restored(src: Path) -> dict[bytes, Seen]:
    """*src* as a restore makes it: a folder others may write into is given no set-gid
    bit (restorer.restored_mode)."""
    want = scan(src)
    for k, s in want.items():
        if s.kind == "dir" and s.mode == 0o2777:
            want[k] = dataclasses.replace(s, mode=0o777)
    return want


def _report(r: Report) -> tuple[Any, ...]:
    return (
        sorted(r.created),
        sorted(r.updated),
        r.files,
        sorted(r.setid),
        r.damaged,
        r.unwritable,
        r.kept,
    )


@pytest.mark.parametrize("how", ["processes", "threads", "alone"])
def test_new_folders_restore_byte_exact_with_c_and_python_gather(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    snap = take(store, "s", src)
    kw: dict[str, Any] = {"threads": 1} if how == "alone" else {"threads": 2}
    kw["processes"] = how == "processes"
    want = _restored(src)
    got: list[tuple[Any, ...]] = []
    for gather in (restorer._gather, restorer._gather_py):
        monkeypatch.setattr(restorer, "_gather", gather)
        out = tmp_path / f"out-{len(got)}"
        report = restore(store, snap, out, **kw)
        assert diff(want, scan(out)) == []
        got.append(_report(report))
    assert got[0] == got[1]
    assert got[0][0] == sorted(want)  # every path made here: created
    assert got[0][3] == [b"top/d%02d" % i for i in range(8, 40, 9)]  # the 2777 folders
    assert got[0][2] == sum(1 for s in want.values() if s.kind != "dir")


def came_meanwhile(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, theirs: bool
) -> tuple[Path, Snapshot, Path]:
    """A snapshot of _tree() (its source, it) and a restore's target (returned last) where
    another process makes the folder top/d03/deep (holding a file "theirs" when *theirs*) just
    before the restore fills top/d03 (Restorer._fill patched)."""
    src = tmp_path / "src"
    build(src, _tree())
    snap = take(store, "s", src)
    out = tmp_path / "out"
    fill = Restorer._fill

    def meanwhile(self: Restorer, d: Any, tree: bytes, rel: bytes, fresh: bool = False) -> None:
        if rel == b"top/d03/":
            os.makedirs(out / "top/d03/deep")
            if theirs:
                (out / "top/d03/deep/theirs").write_bytes(b"theirs\n")
        fill(self, d, tree, rel, fresh)

    monkeypatch.setattr(Restorer, "_fill", meanwhile)
    return src, snap, out


def test_a_folder_that_came_meanwhile_goes_the_careful_way(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, snap, out = came_meanwhile(store, tmp_path, monkeypatch, theirs=True)
    report = restore(store, snap, out, threads=2, processes=True)
    want = _restored(src)
    got = scan(out)
    assert got.pop(b"top/d03/deep/theirs").data == b"theirs\n"  # not ours: kept
    assert diff(want, got) == []
    assert b"top/d03/deep" not in report.created  # there before it was made: not created
    assert b"top/d03/deep/er" in report.created
    assert b"top/d03/deep/er/z" in report.created
