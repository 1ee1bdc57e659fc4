"""verify looks each file content's stored size up once (verify._Checker.file), not once per
listing entry: each entry is still judged on its own recorded size, so one naming a content
with the wrong size is named wherever it comes (before or after right ones, in any
snapshot), and no other entry is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from storehelpers import Crafter

from git_snapshot.store import Store
from git_snapshot.store.index import Index
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import Entry
from git_snapshot.store.verify import verify


def test_every_entry_is_judged_on_its_own_size(store_dir: Path) -> None:
    data = b"the same bytes under four names\n"
    with Store(store_dir) as store:
        c = Crafter(store)
        right = c.file(b"a", data)
        wrong = Entry(b"b", FILE, 0o644, 10**18, len(data) + 1, right.ref)
        missing = Entry(b"c", FILE, 0o644, 10**18, 5, bytes(32))
        first = c.commit("s", [right, wrong, missing])
        again = c.commit("s", [right, c.dir(b"d", [right, wrong])])
        report = verify(store, read_data=True)
    got = sorted((p.snapshot, p.path, p.message) for p in report.problems)
    size = f"the snapshot records {len(data) + 1} bytes but the stored content has {len(data)}"
    assert got == [
        (first.id, "b", size),
        (first.id, "c", "content missing from the index"),
        (again.id, "d/b", size),
    ]


def test_each_content_is_looked_up_once(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file content that file() looked up (for its size) is not looked up again by blob(),
    nor a tree that blob() looked up by its read: one index query per object, however many
    entries and snapshots name it."""
    with Store(store_dir) as store:
        c = Crafter(store)
        a, b = c.file(b"a", b"one\n"), c.file(b"b", b"two\n")
        c.commit("s", [a, b, c.dir(b"d", [a, b])])
        c.commit("s", [a, c.dir(b"e", [b])])
        asked: list[bytes] = []
        locate = Index.locate

        def counted(self: Index, key: bytes) -> Any:
            asked.append(key)
            return locate(self, key)

        monkeypatch.setattr(Index, "locate", counted)
        report = verify(store, read_data=False)
    assert report.ok
    assert (asked.count(a.ref), asked.count(b.ref)) == (1, 1)
    assert len(asked) == len(set(asked)) == 8, asked  # 2 records, 2 roots, d, e, a, b
