"""store/zstd.py: zstandard's C backend loaded without its package's __init__ (platform, re,
typing: 52 M instructions of every hook that stores or reads an object), the very module
a later ``import zstandard`` exposes."""

from __future__ import annotations

import subprocess
import sys

FAST = """
import sys
from git_snapshot.store import zstd
z = zstd.load()
assert z.__name__ == "zstandard.backend_c", z
assert not [m for m in ("zstandard", "platform", "typing", "re") if m in sys.modules]
data = b"git-snapshot " * 1000
frame = z.ZstdCompressor(level=3, write_checksum=True).compress(data)
assert z.ZstdDecompressor().decompress(frame) == data
import zstandard
assert zstandard.backend == "cext"
assert zstandard.ZstdCompressor is z.ZstdCompressor
assert zstandard.ZstdError is z.ZstdError
assert zstandard.ZstdDecompressor().decompress(frame) == data
assert zstd.load() is zstandard
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_the_backend_alone_is_what_the_package_exposes() -> None:
    ran = _run(FAST)
    assert (ran.returncode, ran.stderr) == (0, "")


def test_any_failure_takes_the_packages_own_import() -> None:
    code = """
import sys
from git_snapshot.store import zstd
def refuse():
    raise OSError("the fast load fails")
zstd._backend = refuse
z = zstd.load()
assert z.__name__ == "zstandard" and "platform" in sys.modules, z
assert z.ZstdDecompressor().decompress(z.ZstdCompressor().compress(b"x" * 99)) == b"x" * 99
"""
    ran = _run(code)
    assert (ran.returncode, ran.stderr) == (0, "")


def test_another_backend_asked_for_takes_the_packages_import() -> None:
    code = """
import os, sys
os.environ["PYTHON_ZSTANDARD_IMPORT_POLICY"] = "cext"
from git_snapshot.store import zstd
assert zstd.load().__name__ == "zstandard.backend_c"
del sys.modules["zstandard.backend_c"]
os.environ["PYTHON_ZSTANDARD_IMPORT_POLICY"] = "rust"
try:
    z = zstd.load()
except ImportError:  # this zstandard has no rust backend: the package said so itself
    z = None
assert "platform" in sys.modules
"""
    ran = _run(code)
    assert (ran.returncode, ran.stderr) == (0, "")
