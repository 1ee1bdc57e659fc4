"""hashes.blob_id, blob_id_of_chunks and blob_id_of_file: git's blob id, once (session 44:
it was written out ten times in hooks, losses, rebuild and patch); each agrees with
`git hash-object` on the same bytes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from clihelpers import git

from git_snapshot import hashes


def _git_id(tmp_path: Path, data: bytes) -> str:
    f = tmp_path / "blob"
    f.write_bytes(data)
    return git(tmp_path, "hash-object", "--no-filters", str(f)).strip()


@pytest.mark.parametrize("data", [b"", b"a\n", b"\0\r\n" * 1000, bytes(range(256)) * 5000])
def test_blob_id_is_gits(tmp_path: Path, data: bytes) -> None:
    want = _git_id(tmp_path, data)
    assert hashes.blob_id(data) == want
    chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    assert hashes.blob_id_of_chunks(len(data), chunks) == want
    assert hashes.blob_id_of_file(io.BytesIO(data), len(data)) == want
    with open(tmp_path / "blob", "rb") as f:
        assert hashes.blob_id_of_file(f, len(data)) == want


def test_blob_id_of_file_checks_the_size() -> None:
    """A file that held other than its stat's size (written while read) has no id."""
    assert hashes.blob_id_of_file(io.BytesIO(b"abc"), 2) is None
    assert hashes.blob_id_of_file(io.BytesIO(b"abc"), 4) is None
    # streamed chunks are hashed under the size given, as the callers' copies were
    assert hashes.blob_id_of_chunks(3, [b"ab", b"c"]) == hashes.blob_id(b"abc")
