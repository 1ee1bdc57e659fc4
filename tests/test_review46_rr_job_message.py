"""Review RR46 of 3207ef0 (jobs of 1024 files and 192 KB of names): a job goes to a writer
process as one SOCK_SEQPACKET message, and such a socket takes no message longer than its
send buffer (net.core.wmem_default: 212,992 bytes, a message at most 212,960), not MESSAGE
(1 MB), the bound test_restore_jobs checks. Each file costs ~110 bytes of the message besides
its name and key: 1024 files of names of 80 bytes made 219 KB, and a restore of a folder of
such files stopped ("Message too long") where 6bf139e's jobs of 256 files restored it. A job
longer than the socket takes goes in two (the sockets ask for a buffer of MESSAGE since
6570b3a: the split is driven here with a smaller MESSAGE, as a low net.core.wmem_max makes it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import Node
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import restore_write


@pytest.mark.parametrize("small", [False, True])
@pytest.mark.parametrize("length", [80, 140, 250])
def test_a_job_of_long_names_reaches_a_writer_process(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, length: int, small: bool
) -> None:
    if small:  # a send buffer of 128 KiB: every job of these names in two or more
        monkeypatch.setattr(restore_write, "MESSAGE", 128 << 10)
    t = 1_600_000_000_000_000_000
    many: dict[bytes, Node] = {
        (b"%05d-" % i + b"n" * length)[:length]: F(b"%d\n" % i, 0o644 if i % 3 else 0o755, t + i)
        for i in range(1100)
    }
    many[b"link-" + b"l" * 200] = L(b"t" * 4000, t)
    folders: dict[bytes, Node] = {
        b"d%03d" % i: D({(b"f" * 120) + b"%d" % i: F(b"x%d" % i)}, 0o750, t) for i in range(300)
    }
    src = tmp_path / "src"
    build(src, D({b"many": D(many, 0o755, t), b"small": D(folders, 0o755, t)}))
    snap = take(store, "s", src)
    report = restore(store, snap, tmp_path / "out", threads=2, processes=True)
    assert diff(scan(src), scan(tmp_path / "out")) == []
    assert report.files == 1101 + 300
    assert not report.unwritable and not report.damaged
