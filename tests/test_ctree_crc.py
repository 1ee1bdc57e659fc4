"""The files cache's check by the C module (ctree.crc32: ``_ctree.crc32``, carry-less
multiplication where the CPU has it) is zlib.crc32's value for any bytes, start, length and
running value, so a file written with either is read with either; and a big cache with one
flipped bit is still discarded."""

from __future__ import annotations

import mmap
import os
import random
import zlib
from pathlib import Path

import pytest
from ctreehelp import native as _ctree
from ctreehelp import needs_c
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot.store import ctree
from git_snapshot.store import filescache


@needs_c
@settings(max_examples=300, deadline=None)
@given(
    head=st.binary(max_size=200),
    size=st.integers(0, 5000),  # (hypothesis' binary() alone seldom draws past the 64 a fold takes)
    seed=st.integers(0, 2**32),
    start=st.integers(0, 15),
    value=st.integers(0, 2**32 - 1),
)
def test_crc32_is_zlibs_at_any_start_length_and_running_value(
    head: bytes, size: int, seed: int, start: int, value: int
) -> None:
    data = head + random.Random(seed).randbytes(size)
    buf = bytearray(b"\x5a" * start + data)  # the data at an unaligned address
    with memoryview(buf) as view, view[start:] as piece:
        assert _ctree.crc32(piece, value) == zlib.crc32(data, value)
    assert _ctree.crc32(data) == zlib.crc32(data)


@needs_c
def test_crc32_on_big_buffers_and_the_lengths_around_its_folds() -> None:
    rng = random.Random(5)
    lengths = [*range(200), 1023, 1024, 1025, 65535, 65536, 65537, (1 << 20) + 13, 3 << 20]
    for n in lengths:
        data = rng.randbytes(n)
        value = rng.getrandbits(32)
        assert _ctree.crc32(data) == zlib.crc32(data), n
        assert _ctree.crc32(data, value) == zlib.crc32(data, value), n
        cut = n // 3  # a running sum, as the cache's writer keeps one
        assert _ctree.crc32(data[cut:], _ctree.crc32(data[:cut])) == zlib.crc32(data), n
    # values beyond 32 bits are taken modulo 2**32, as zlib takes them
    for value in (-1, 2**32, 2**40 + 5):
        assert _ctree.crc32(b"abc", value) == zlib.crc32(b"abc", value)


@needs_c
def test_crc32_takes_what_zlib_takes_and_refuses_the_rest(tmp_path: Path) -> None:
    data = os.urandom(100_000)
    path = tmp_path / "m"
    path.write_bytes(data)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        assert _ctree.crc32(m) == zlib.crc32(data)
    assert _ctree.crc32(bytearray(data)) == zlib.crc32(data)
    for bad in ("text", 5, None, memoryview(data)[::2]):
        with pytest.raises((TypeError, BufferError)):
            zlib.crc32(bad)  # type: ignore[arg-type]
        with pytest.raises((TypeError, BufferError)):
            _ctree.crc32(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _ctree.crc32()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _ctree.crc32(b"", 1, 2)  # type: ignore[call-arg]


def test_the_chooser_of_crc32() -> None:
    """ctree.crc32 is the C one where it is built and the CPU multiplies carry-less (CI: x86-64
    with PCLMULQDQ), zlib's otherwise and with the twin."""
    if ctree.NATIVE and _ctree is not None and _ctree.CRC32_CLMUL:
        assert ctree.crc32 is _ctree.crc32
    else:
        assert ctree.crc32 is zlib.crc32
    if os.environ.get("GIT_SNAPSHOT_REQUIRE_C") == "1" and "pclmulqdq" in _cpu_flags():
        assert ctree.crc32 is _ctree.crc32


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


@pytest.mark.parametrize("where", [8, 0.5, -9])
def test_a_big_cache_is_checked_as_zlib_would_and_one_flipped_bit_discards_it(
    tmp_path: Path, where: float
) -> None:
    """A cache past BIG_CHECK (summed by ctree.crc32): its check is zlib's CRC-32 of its body,
    it loads, and a bit flipped anywhere (the first record, the middle, the trailer's
    length) discards it whole."""
    path, tmp = str(tmp_path / "c.cache"), str(tmp_path)
    dirs = {b"d%05d" % i: bytes([i % 251]) * 1000 for i in range(3000)}  # ~3 MB
    filescache.save(path, "g", filescache.FilesCache(dict(dirs), {}, b"r" * 32), tmp)
    data = Path(path).read_bytes()
    assert len(data) > 2 * filescache.BIG_CHECK
    assert data[-8:] == zlib.crc32(data[:-8]).to_bytes(4, "little") + bytes(4)
    assert filescache.load(path, "g", lambda r: True).dirs == dirs
    at = int(len(data) * where) if isinstance(where, float) else where
    bad = bytearray(data)
    bad[at] ^= 0x04
    Path(path).write_bytes(bytes(bad))
    assert filescache.load(path, "g", lambda r: True).dirs == {}
