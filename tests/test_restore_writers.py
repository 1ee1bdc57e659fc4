"""Writer processes of a whole restore are forked before the plan (session 10): forked after
it, each started as big as the restoring process with every checked tree and location in it
(peak RSS of a restore of L: 156 MB, a writer's; 59 MB forked first). The contents the plan
finds in more than one file reach them with each job."""

from __future__ import annotations

import os
from pathlib import Path

from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import restorer
from git_snapshot.store.restorer import Restorer


def test_writers_are_forked_before_the_plan_and_told_the_shared_contents(
    store: Store, tmp_path: Path, monkeypatch: object
) -> None:
    licence = b"the same text in every folder\n" * 30
    src = tmp_path / "src"
    build(
        src,
        D(
            {
                b"d%02d" % j: D(
                    {
                        b"LICENSE": F(licence),
                        **{b"f%02d" % i: F(os.urandom(900)) for i in range(30)},
                    }
                )
                for j in range(20)
            }
        ),
    )
    snap = take(store, "s", src)
    seen_at_plan: list[bool] = []
    prepare = Restorer._prepare
    members = Restorer._members
    told = tmp_path / "told"

    def spy_prepare(self: Restorer, *args: object) -> object:
        seen_at_plan.append(self.workers is not None)
        return prepare(self, *args)  # type: ignore[arg-type]

    def spy_members(self: Restorer, work: list[restorer._Work], *args: object) -> object:
        with open(told, "a") as f:  # in a writer process: what it knows is shared
            f.write(f"{sum(w[4] in self.shared for w in work)}\n")
        return members(self, work, *args)  # type: ignore[arg-type]

    Restorer._prepare = spy_prepare  # type: ignore[method-assign,assignment]
    Restorer._members = spy_members  # type: ignore[method-assign,assignment]
    try:
        out = tmp_path / "out"
        restore(store, snap, out, threads=2, processes=True)
    finally:
        Restorer._prepare = prepare  # type: ignore[method-assign]
        Restorer._members = members  # type: ignore[method-assign]
    assert seen_at_plan == [True]
    assert diff(scan(src), scan(out)) == []
    assert sum(map(int, told.read_text().split())) >= 19  # every LICENSE but the first
