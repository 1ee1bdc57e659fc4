"""A snapshot that is not a first one (a walk's or a rebuild's changes) closes its groups at
archiver.CHANGES_GROUP (1 MiB), a first snapshot at packs.GROUP_BYTES (2 MiB): the last
groups of a walk are compressed while it waits, and a smaller one is a shorter job. Either
way every file comes back byte for byte."""

from __future__ import annotations

import random
from pathlib import Path

from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import packs
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.verify import verify

CHANGES = 1 << 20  # archiver.CHANGES_GROUP (checked at the end: the sizes fail first on 2 MiB)
WORDS = [bytes(random.Random(i).choices(b"abcdefghij", k=1 + i % 9)) for i in range(300)]


def text_files(seed: int, files: int, size: int) -> dict[bytes, bytes]:
    """*files* compressible text files of about *size* bytes each, in 6 folders."""
    rnd = random.Random(seed)
    return {
        b"d%d/f%04d.js" % (i % 6, i): b"%d\n" % i + b" ".join(rnd.choices(WORDS, k=size // 5))
        for i in range(files)
    }


def write(src: Path, files: dict[bytes, bytes]) -> None:
    folders: dict[bytes, dict[bytes, F]] = {}
    for rel, data in files.items():
        d, _, name = rel.partition(b"/")
        folders.setdefault(d, {})[name] = F(data)
    build(src, D({d: D(dict(fs)) for d, fs in folders.items()}))


def group_sizes(store: Store, names: set[str]) -> list[int]:
    """The raw bytes of each group in the packs *names*."""
    out: dict[tuple[str, int], int] = {}
    for n in names:
        for o in scan_pack(store.pack_path(n)):
            if o.inner >= 0:
                out[n, o.offset] = out.get((n, o.offset), 0) + o.size
    return list(out.values())


def test_a_snapshot_of_changes_closes_its_groups_at_changes_group(
    store: Store, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    files = text_files(1, 1300, 2600)  # ~3.4 MB of small files
    write(src, files)
    first = take(store, "s", src)
    before = set(store.pack_names())
    # a first snapshot's groups: up to GROUP_BYTES (and one member more)
    assert max(group_sizes(store, before)) > CHANGES + packs.GROUP_OBJECT
    for rel, data in files.items():  # each file a line longer
        (src / rel.decode()).write_bytes(data + b"\n// changed\n")
    second = take(store, "s", src)
    added = set(store.pack_names()) - before
    sizes = group_sizes(store, added)
    assert sum(sizes) >= 3 * CHANGES  # every file stored again, grouped
    # closed once it holds CHANGES_GROUP: at most that and one member (was 2 MiB and one)
    assert max(sizes) <= CHANGES + packs.GROUP_OBJECT
    assert snapshot_contents(store, second) == scan(src)
    restore(store, second, tmp_path / "out")
    assert scan(tmp_path / "out") == scan(src)
    restore(store, first, tmp_path / "out1")
    assert {rel: (tmp_path / "out1" / rel.decode()).read_bytes() for rel in files} == files
    assert verify(store, read_data=True).ok
    assert getattr(archiver, "CHANGES_GROUP", None) == CHANGES < packs.GROUP_BYTES
