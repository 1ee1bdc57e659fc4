"""Red team (session 15, RED13): a run's store/temps record (leftovers.Run) is made of whole
lines. A short write on a nearly full store disk left part of a line, and the next line
was appended to it: a folder the run wrote in went unrecorded (its leftovers taken for the
user's) and the two halves read as one line naming another folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fullfs import fill
from fullfs import small_fs

from git_snapshot.store import leftovers

BLOCK = 4096


def whole_lines(data: bytes) -> list[list[bytes]]:
    data = data.removeprefix(b"\n")  # a record made unnamed starts with an empty line
    assert data == b"" or data.endswith(b"\n"), data[-80:]
    lines = [line.split(b" ") for line in data.split(b"\n")[:-1]]
    for words in lines:
        assert len(words) == 3 and words[0].isdigit() and words[1].isdigit(), words
        bytes.fromhex(words[2].decode())  # a whole path
    return lines


@pytest.mark.slow
def test_a_short_record_write_leaves_no_part_of_a_line(tmp_path: Path) -> None:
    with small_fs(tmp_path) as mnt:
        store_dir = mnt / "store"
        store_dir.mkdir()
        run = leftovers.Run(str(store_dir))
        record = store_dir / leftovers.RUNS / run.tag
        folders = tmp_path / "f"
        folders.mkdir()
        long = "d" * 200  # each line ~ 420 bytes: the last one crosses into a new block
        i = 0
        while True:
            size = record.stat().st_size
            if size and size % BLOCK > BLOCK - 420:
                break
            here = folders / f"{long}{i}"
            here.mkdir()
            fd = os.open(here, os.O_RDONLY)
            run.name(fd, b"x")
            os.close(fd)
            i += 1
        before = record.read_bytes()
        filler = fill(mnt)
        last = folders / f"{long}last"
        last.mkdir()
        fd = os.open(last, os.O_RDONLY)
        name = run.name(fd, b"x")  # the store's disk full: the restore goes on
        os.close(fd)
        assert name.startswith(leftovers._MARK)
        data = record.read_bytes()
        assert len(whole_lines(data)) in (i, i + 1)
        assert data.startswith(before)
        filler.unlink()
        then = folders / f"{long}then"
        then.mkdir()
        fd = os.open(then, os.O_RDONLY)
        run.name(fd, b"x")
        os.close(fd)
        whole_lines(record.read_bytes())
        run.close()
