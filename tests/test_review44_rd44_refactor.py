"""Review RD44 of dup44's refactor (d2ea545: git's blob id once, in hashes.py).

- Cost: gitwrote._staged_converted hashed the LF form of every deleted CRLF file its size
  window let through (a staged size in [size/2, size)), where it hashed only those whose LF
  form is of a staged size (the old `len(lf) in staged` before the sha1): up to
  CONVERTED_AT_MOST (64 MiB) of SHA-1 for a file that cannot be a staged blob. The result
  was the same; the hook paid for it.

Real git; the snapshot's entries are read from the test's store.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clihelpers import gs
from hookhelpers import CRLF_RULE
from hookhelpers import commit
from hookhelpers import write

from git_snapshot import gitrepo
from git_snapshot import gitwrote
from git_snapshot import hashes
from git_snapshot.store import Store


def test_a_file_whose_lf_form_is_of_no_staged_size_is_not_hashed(
    repo: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit(repo, ".gitattributes", CRLF_RULE)
    write(repo / "d" / "x.txt", b"a\r\n" * 10)  # 30 bytes; its LF form: 20
    gs(repo, "create", "-m", "before")
    hashed: list[bytes] = []
    real = hashes.blob_id

    def counted(data: bytes) -> str:
        hashed.append(data)
        return real(data)

    monkeypatch.setattr(hashes, "blob_id", counted)
    with Store(store_dir) as store:
        (snap,) = store.snapshots()
        entries = {p: e for p, e in store.walk(snap.root) if p == b"d/x.txt"}
        assert entries
        r = gitrepo.find_repo(str(repo))
        # a staged size in its window [15, 30), but not 20: the file is read, not hashed
        assert gitwrote._staged_converted(store, r, entries, {25: {"f" * 40}}) == set()
        assert hashed == []
        # (a staged blob of its LF size: hashed, and named when it is that blob)
        lf = b"a\n" * 10
        staged = {20: {real(lf)}}
        assert gitwrote._staged_converted(store, r, entries, staged) == {b"d/x.txt"}
        assert hashed == [lf]
