"""Group sizes (session 48): a store written with bigger groups (~4 MiB, as code of session 48
wrote for a while) restores byte for byte under a snapshot by this code, and a group's content
stays below packs.SMALL_BLOCKS (malloc's arenas)."""

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

BIG_GROUP = (4 << 20) - (256 << 10) - (4 << 10)  # a700608's groups


def test_a_store_of_bigger_groups_restores(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    files = text_files(8, 3000, 2600)
    write(src, files)
    with monkeypatch.context() as m:  # written as session 48's code did for a while
        m.setattr(packs, "GROUP_BYTES", BIG_GROUP)
        old = take(store, "s", src)
    sizes = group_sizes(store, set(store.pack_names()))
    assert BIG_GROUP <= max(sizes) <= BIG_GROUP + packs.GROUP_OBJECT
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
    groups of 4 MiB + a member (session 48, not kept) were each a fresh mapping, faulted in
    page by page (a full restore of M 30k -> 139k page faults, +0.18 s of CPU)."""
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
