"""Review RR46 of 3207ef0 (jobs of 1024 files): a writer process answers each job in one
SOCK_SEQPACKET message, which its socket took only up to its send buffer (212,992 bytes by
default). An answer naming every file of a job whose group is damaged (~190 bytes a file:
its key and why) came to ~209 KB for 1024 files: the writer died on EMSGSIZE and the
restore stopped with "Connection reset by peer", naming none of the damaged files, where
6bf139e's jobs of 256 named all 1100. The sockets ask for a send buffer of MESSAGE now."""

from __future__ import annotations

from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import Node
from storehelpers import build
from storehelpers import entry_of
from storehelpers import restore
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.restorer import Damaged


@pytest.mark.parametrize("processes", [True, False])
def test_every_file_of_a_damaged_group_is_named(
    store: Store, store_dir: Path, tmp_path: Path, processes: bool
) -> None:
    name = b"%05d-" + b"n" * 60
    many: dict[bytes, Node] = {name % i: F(b"content %d\n" % i * 3) for i in range(1100)}
    src = tmp_path / "src"
    build(src, D({b"many": D(many)}))
    snap = take(store, "s", src)
    keys = {e.ref for path, e in store.walk(snap.root) if path.startswith(b"many/")}
    loc = store.index.locate(entry_of(store, snap, b"many/" + name % 500).ref)
    assert loc is not None
    pack = store_dir / "packs" / loc.pack
    data = bytearray(pack.read_bytes())
    for at in {o.offset for o in scan_pack(store.pack_path(loc.pack)) if o.inner >= 0}:
        data[at + 40] ^= 0xFF  # every group of the pack
    pack.write_bytes(bytes(data))
    store.reader.close()
    with pytest.raises(Damaged) as exc:
        restore(store, snap, tmp_path / "out", threads=2, processes=processes)
    assert sorted(p for p, _ in exc.value.damaged) == sorted(b"many/" + n for n in many)
    # and the index records each as damaged (the next snapshot stores it afresh)
    assert len(keys) == len(many) and keys <= set(store.index.damaged())
