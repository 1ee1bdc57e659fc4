"""A first snapshot closes its groups at packs.GROUP_BYTES, a member and a page short of 4 MiB
(2 MiB before session 48): with the dictionary's frames seeing the whole group, M's groups
took ~94 MB instead of 107.6 for less CPU. Every file comes back byte for byte, a store
written with 2 MiB groups (every store before) restores as it did, under a snapshot by this
code, and a group's content stays below packs.SMALL_BLOCKS (malloc's arenas)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take
from test_packs_change_groups import group_sizes
from test_packs_change_groups import text_files
from test_packs_change_groups import write

import git_snapshot
from git_snapshot.store import Store
from git_snapshot.store import packs
from git_snapshot.store.verify import verify

OLD_GROUP = 2 << 20  # every store before session 48


def test_a_first_snapshot_closes_its_groups_near_4_mib(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = text_files(7, 4000, 2600)  # ~10.4 MB of small text files
    write(src, files)
    snap = take(store, "s", src)
    sizes = group_sizes(store, set(store.pack_names()))
    # closed once it holds GROUP_BYTES: past the old 2 MiB and one member, below 4 MiB
    assert max(sizes) > OLD_GROUP + packs.GROUP_OBJECT
    assert max(sizes) < packs.GROUP_BYTES + packs.GROUP_OBJECT < 4 << 20
    assert packs.GROUP_BYTES > 3 << 20
    assert packs.PREFIXED_ROOM >= packs.GROUP_BYTES + packs.GROUP_OBJECT
    assert snapshot_contents(store, snap) == scan(src)
    restore(store, snap, tmp_path / "out")
    assert scan(tmp_path / "out") == scan(src)
    assert verify(store, read_data=True).ok


def test_a_store_of_2_mib_groups_restores(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    files = text_files(8, 3000, 2600)
    write(src, files)
    with monkeypatch.context() as m:  # written as every store before session 48
        m.setattr(packs, "GROUP_BYTES", OLD_GROUP)
        old = take(store, "s", src)
    sizes = group_sizes(store, set(store.pack_names()))
    assert OLD_GROUP <= max(sizes) <= OLD_GROUP + packs.GROUP_OBJECT
    for rel, data in list(files.items())[::7]:  # then a snapshot by this code on top
        (src / rel.decode()).write_bytes(data + b"\n// changed\n")
    new = take(store, "s", src)
    assert snapshot_contents(store, new) == scan(src)
    restore(store, old, tmp_path / "old")
    assert {rel: (tmp_path / "old" / rel.decode()).read_bytes() for rel in files} == files
    restore(store, new, tmp_path / "new")
    assert scan(tmp_path / "new") == scan(src)
    assert verify(store, read_data=True).ok


# A restore's writer (restore_write.serve: give_back_big_blocks first) reading groups one after
# the other, as it does for a restore: each group's content decompressed into a new bytes
# object, the one before freed. Prints the page faults of the reads after the first.
_READ_GROUPS = """
import resource, sys
from git_snapshot.store import Store, packs
from git_snapshot.store.packs import scan_pack
packs.give_back_big_blocks()
with Store(sys.argv[1]) as store:
    groups = sorted({(n, o.offset, o.length) for n in store.pack_names()
                     for o in scan_pack(store.pack_path(n)) if o.inner >= 0})
    reader = store.reader
    reader.group(*groups[0])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(3):
        for g in groups:
            reader._local.groups.clear()  # (not kept: read again, as a group new to the writer)
            content = reader.group(*g)
            del content
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(faults, 3 * len(groups))
"""


def test_a_group_is_read_into_malloc_arenas_not_a_fresh_mapping_each(
    store: Store, tmp_path: Path
) -> None:
    """A group's content stays below packs.SMALL_BLOCKS, the size from which glibc maps a block
    of its own (give_back_big_blocks, in a first snapshot's writer and a restore's writers):
    groups of 4 MiB + a member (session 48) were each a fresh mapping, faulted in page by
    page (a full restore of M 30k -> 139k page faults, +0.18 s of CPU)."""
    src = tmp_path / "src"
    write(src, text_files(9, 5000, 2600))  # ~13 MB of small text files: full groups
    take(store, "s", src)
    sizes = group_sizes(store, set(store.pack_names()))
    assert max(sizes) >= packs.GROUP_BYTES  # full ones
    env = dict(os.environ, PYTHONPATH=str(Path(git_snapshot.__file__).parent.parent))
    ran = subprocess.run(
        [sys.executable, "-c", _READ_GROUPS, str(store.path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    faults, reads = map(int, ran.stdout.split())
    # a fresh mapping: ~1,000 faults a read (4 KiB pages); reused arena memory: a few
    assert faults < reads * (packs.GROUP_BYTES // 4096) // 8, (faults, reads)
    # the largest content a group can have, as a bytes object, below the threshold
    assert sys.getsizeof(b"") + packs.GROUP_BYTES - 1 + packs.GROUP_OBJECT < packs.SMALL_BLOCKS
